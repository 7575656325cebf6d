//! The node's CSR: the kubelet's digest name (vector), subject, usages per key type, naming,
//! the upstream approver's view of it, and openssl's.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::Command;

use base64::Engine as _;
use kubetrust_csr_bootstrap::Error;
use kubetrust_csr_bootstrap::csr::{Naming, client_csr, client_usages, digest_name, node_subject};
use kubetrust_csr_bootstrap::policy::{Decision, client};
use kubetrust_pki::{CertificateRequest, KeyAlgorithm, PrivateKey};

#[derive(serde::Deserialize)]
struct DigestVector {
    public_key_spki_der_b64: String,
    common_name: String,
    organizations: Vec<String>,
    cases: Vec<DigestCase>,
}

#[derive(serde::Deserialize)]
struct DigestCase {
    usages: Vec<String>,
    expected_name: String,
}

#[test]
fn digest_names_match_the_kubelets() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/csr/digest-name.json");
    let vector: DigestVector = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let spki = base64::engine::general_purpose::STANDARD
        .decode(&vector.public_key_spki_der_b64)
        .unwrap();
    let node = vector.common_name.strip_prefix("system:node:").unwrap();
    let subject = node_subject(node);
    assert_eq!(subject.common_name, vector.common_name);
    assert_eq!(subject.organizations, vector.organizations);
    for case in &vector.cases {
        let usages: Vec<&str> = case.usages.iter().map(String::as_str).collect();
        assert_eq!(digest_name(&spki, &subject, &usages), case.expected_name);
    }
}

#[test]
fn client_csrs_per_key_type() {
    for (algorithm, usages) in [
        (KeyAlgorithm::EcdsaP256, &["digital signature", "client auth"][..]),
        (KeyAlgorithm::EcdsaP384, &["digital signature", "client auth"][..]),
        (
            KeyAlgorithm::Rsa2048,
            &["digital signature", "client auth", "key encipherment"][..],
        ),
    ] {
        let key = PrivateKey::generate(algorithm).unwrap();
        let csr = client_csr("worker-1", &key, Naming::Digest, None).unwrap();
        assert_eq!(client_usages(algorithm).unwrap(), usages);
        assert_eq!(csr.spec.usages.as_deref().unwrap(), usages);
        assert_eq!(csr.spec.signer_name, client::SIGNER);
        assert_eq!(csr.spec.expiration_seconds, None);
        assert_eq!(csr.spec.username, None, "the API server fills the requester");
        let name = csr.metadata.name.clone().unwrap();
        assert_eq!(
            name,
            digest_name(key.public_key_der(), &node_subject("worker-1"), usages)
        );
        assert_eq!(name.len(), 52);
        assert!(csr.metadata.generate_name.is_none());

        let request = CertificateRequest::from_pem(&csr.spec.request.0).unwrap();
        assert_eq!(request.subject().common_name, "system:node:worker-1");
        assert_eq!(request.subject().organizations, ["system:nodes"]);
        assert!(request.alt_names().dns_names().is_empty() && request.alt_names().ip_addresses().is_empty());
        assert_eq!(request.public_key_der(), key.public_key_der());
    }
}

#[test]
fn the_same_key_gives_the_same_name_and_a_new_key_another() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let name = |key: &PrivateKey| {
        client_csr("worker-1", key, Naming::Digest, None)
            .unwrap()
            .metadata
            .name
    };
    assert_eq!(name(&key), name(&key), "a restarted client finds its CSR again");
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert_ne!(name(&key), name(&other));
    let generated = client_csr("worker-1", &key, Naming::Generated, Some(600)).unwrap();
    assert_eq!(generated.metadata.name, None);
    assert_eq!(generated.metadata.generate_name.as_deref(), Some("csr-"));
    assert_eq!(generated.spec.expiration_seconds, Some(600));
}

#[test]
fn refusals_before_any_request() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    for bad in ["", "Worker-1", "worker_1", "a..b"] {
        let err = client_csr(bad, &key, Naming::Digest, None).unwrap_err();
        assert!(matches!(err, Error::InvalidNodeName { .. }), "{bad:?}: {err:?}");
    }
    let err = client_csr("worker-1", &key, Naming::Generated, Some(599)).unwrap_err();
    assert!(
        matches!(err, Error::ExpirationTooShort { seconds: 599 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("less than 600 seconds"), "{err}");
    let ed25519 = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
    let err = client_csr("worker-1", &ed25519, Naming::Digest, None).unwrap_err();
    assert!(matches!(err, Error::UnsupportedKey { .. }), "{err:?}");
}

/// The upstream approver's rules, as our policy implements them, recognise our CSR as a
/// kubelet's: a bootstrap-token requester gets the `nodeclient` question, the node itself
/// (rotation) the `selfnodeclient` one, and either answer `yes` approves.
#[test]
fn the_approver_recognises_our_csr() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    for (requester, groups, subresource) in [
        ("system:bootstrap:abcdef", "system:bootstrappers", "nodeclient"),
        ("system:node:worker-1", "system:nodes", "selfnodeclient"),
    ] {
        let mut csr = client_csr("worker-1", &key, Naming::Digest, None).unwrap();
        csr.spec.username = Some(requester.into());
        csr.spec.groups = Some(vec![groups.into()]);
        let Decision::AskAccessReview(review) = client::evaluate(&csr).unwrap() else {
            panic!("{requester}: expected an access review");
        };
        assert_eq!(review.subresource.as_str(), subresource);
        assert!(matches!(
            client::decide(&csr, &review, true).unwrap(),
            Decision::Approve(_)
        ));
    }
}

/// openssl verifies the self-signature and reads the subject in Go's order (O before CN).
#[test]
fn openssl_reads_our_csr() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = client_csr("worker-1", &key, Naming::Digest, None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.csr");
    std::fs::write(&path, &csr.spec.request.0).unwrap();
    let output = match Command::new("openssl")
        .args([
            "req", "-verify", "-noout", "-subject", "-nameopt", "RFC2253", "-in",
        ])
        .arg(&path)
        .output()
    {
        Ok(output) => output,
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipping: openssl not found ({e})");
            return;
        }
        Err(e) => panic!("openssl is required under CI=true: {e}"),
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("verify OK") || text.contains("Certificate request self-signature verify OK"),
        "{text}"
    );
    // RFC 2253 prints the last RDN first: CN, then O.
    assert!(
        text.contains("subject=CN=system:node:worker-1,O=system:nodes"),
        "{text}"
    );
}
