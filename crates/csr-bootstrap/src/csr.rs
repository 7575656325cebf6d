//! The node's side of the request: the kubelet client CSR and the `CertificateSigningRequest`
//! object carrying it, byte for byte as the kubelet builds them, so the upstream approver, a
//! kubeadm cluster and our own [`policy`](crate::policy) treat a kubetrust node as a kubelet.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubetrust_kubeadm_config::net::is_dns1123_subdomain;
use kubetrust_pki::{AltNames, CertificateRequest, KeyAlgorithm, PrivateKey, Subject};
use sha2::{Digest, Sha512_256};

use crate::Error;
use crate::policy::usage::{CLIENT_AUTH, DIGITAL_SIGNATURE, KEY_ENCIPHERMENT};
use crate::policy::{NODE_USER_PREFIX, NODES_GROUP, client};

/// The prefix of a CSR name derived from its content (a key kept across attempts).
pub const DIGEST_NAME_PREFIX: &str = "node-csr-";
/// The `generateName` of a CSR for a fresh key (the kubelet's certificate manager).
pub const GENERATE_NAME: &str = "csr-";
/// The API's floor for `spec.expirationSeconds`.
pub const MIN_EXPIRATION_SECONDS: i32 = 600;

/// How the CSR object is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Naming {
    /// `node-csr-<digest>` of key, subject and usages: the key is kept until the certificate
    /// arrives, so a restarted client finds its own CSR again (the kubelet's bootstrap path).
    Digest,
    /// `generateName: csr-`: a fresh key per attempt (the kubelet's rotation path).
    Generated,
}

/// The usages the current kubelet requests for a client certificate: RSA keys add
/// `key encipherment`. The order is the kubelet's; it feeds the [`Naming::Digest`] name.
pub fn client_usages(algorithm: KeyAlgorithm) -> Result<&'static [&'static str], Error> {
    match algorithm {
        KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => Ok(&[DIGITAL_SIGNATURE, CLIENT_AUTH]),
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => {
            Ok(&[DIGITAL_SIGNATURE, CLIENT_AUTH, KEY_ENCIPHERMENT])
        }
        other => Err(Error::UnsupportedKey { algorithm: other }),
    }
}

/// The kubelet's `digestedName`: SHA-512/256 over the base64url (unpadded) encodings of the
/// SPKI DER, the CN, each O and each usage, each followed by `|` (outside the alphabet, so no
/// two field lists hash alike); `node-csr-` + the base64url digest, 52 characters.
pub fn digest_name(public_key_der: &[u8], subject: &Subject, usages: &[&str]) -> String {
    let mut hash = Sha512_256::new();
    let mut feed = |field: &[u8]| {
        hash.update(URL_SAFE_NO_PAD.encode(field));
        hash.update(b"|");
    };
    feed(public_key_der);
    feed(subject.common_name.as_bytes());
    subject.organizations.iter().for_each(|o| feed(o.as_bytes()));
    usages.iter().for_each(|u| feed(u.as_bytes()));
    format!("{DIGEST_NAME_PREFIX}{}", URL_SAFE_NO_PAD.encode(hash.finalize()))
}

/// The subject of a node's client certificate: `O=system:nodes, CN=system:node:<name>`.
pub fn node_subject(node_name: &str) -> Subject {
    Subject::new(format!("{NODE_USER_PREFIX}{node_name}")).with_organization(NODES_GROUP)
}

/// The `CertificateSigningRequest` a kubelet sends for its client certificate: PKCS#10 with
/// the node's subject and no SANs, signer `kubernetes.io/kube-apiserver-client-kubelet`, the
/// kubelet's usages for the key type, named per `naming`, with an optional requested lifetime
/// (`expiration_seconds`, at least 600). The requester fields stay empty: the API server fills
/// them from the credentials that create the object.
///
/// ```
/// use kubetrust_csr_bootstrap::csr::{Naming, client_csr};
/// use kubetrust_pki::{KeyAlgorithm, PrivateKey};
/// let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
/// let csr = client_csr("worker-1", &key, Naming::Digest, None)?;
/// assert!(csr.metadata.name.as_deref().is_some_and(|n| n.starts_with("node-csr-")));
/// assert_eq!(csr.spec.signer_name, "kubernetes.io/kube-apiserver-client-kubelet");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client_csr(
    node_name: &str,
    key: &PrivateKey,
    naming: Naming,
    expiration_seconds: Option<i32>,
) -> Result<CertificateSigningRequest, Error> {
    if !is_dns1123_subdomain(node_name) {
        return Err(Error::InvalidNodeName {
            name: node_name.to_owned(),
        });
    }
    check_expiration(expiration_seconds)?;
    let usages = client_usages(key.algorithm())?;
    let subject = node_subject(node_name);
    let request = CertificateRequest::new(&subject, &AltNames::default(), key)
        .map_err(|e| Error::BuildRequest(Box::new(e)))?;
    let name = match naming {
        Naming::Digest => Some(digest_name(key.public_key_der(), &subject, usages)),
        Naming::Generated => None,
    };
    Ok(csr_object(
        name,
        &request,
        client::SIGNER,
        usages,
        expiration_seconds,
    ))
}

/// A `CertificateSigningRequest` for `request`: named `name`, or `generateName: csr-` when
/// `None`; requester fields and status left to the server.
pub(crate) fn csr_object(
    name: Option<String>,
    request: &CertificateRequest,
    signer: &str,
    usages: &[&str],
    expiration_seconds: Option<i32>,
) -> CertificateSigningRequest {
    let metadata = ObjectMeta {
        generate_name: name.is_none().then(|| GENERATE_NAME.to_owned()),
        name,
        ..ObjectMeta::default()
    };
    CertificateSigningRequest {
        metadata,
        spec: CertificateSigningRequestSpec {
            request: ByteString(request.to_pem().into_bytes()),
            signer_name: signer.to_owned(),
            usages: Some(usages.iter().map(|u| (*u).to_owned()).collect()),
            expiration_seconds,
            ..CertificateSigningRequestSpec::default()
        },
        status: None,
    }
}

/// Rejects a requested lifetime under the API's floor before anything is sent.
pub(crate) fn check_expiration(expiration_seconds: Option<i32>) -> Result<(), Error> {
    match expiration_seconds.filter(|s| *s < MIN_EXPIRATION_SECONDS) {
        Some(seconds) => Err(Error::ExpirationTooShort { seconds }),
        None => Ok(()),
    }
}
