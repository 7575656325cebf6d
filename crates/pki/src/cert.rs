//! A parsed X.509 certificate with the questions kubeadm asks of one: who, for which names,
//! until when, signed by whom, with which key.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, SubjectAltName, SubjectKeyIdentifier,
};

use crate::pem::{self, PemError};
use crate::{ExtKeyUsage, KeyUsage, PrivateKey, Subject};

/// One certificate, kept as its exact DER bytes plus a parsed view.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    /// Where the SubjectPublicKeyInfo sits in `der`: pins hash these exact bytes, as Go's
    /// `RawSubjectPublicKeyInfo`.
    spki: std::ops::Range<usize>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.parsed.tbs_certificate().subject().to_string())
            .field("issuer", &self.parsed.tbs_certificate().issuer().to_string())
            .field(
                "not_after",
                &self.parsed.tbs_certificate().validity().not_after.to_string(),
            )
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

/// Why bytes are not a usable certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// The file is not well-formed PEM.
    #[error("not valid PEM: {0}")]
    Pem(PemError),
    /// No `CERTIFICATE` block without headers.
    #[error("no CERTIFICATE block found")]
    NoCertificate,
    /// The DER does not parse as an X.509 certificate.
    #[error("not a valid X.509 certificate: {0}")]
    Der(String),
}

impl Certificate {
    /// Parses one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, CertError> {
        let parsed = x509_cert::Certificate::from_der(der).map_err(|e| CertError::Der(e.to_string()))?;
        let spki =
            spki_range(der).ok_or_else(|| CertError::Der("cannot locate the SubjectPublicKeyInfo".into()))?;
        Ok(Self {
            der: der.to_vec(),
            parsed,
            spki,
        })
    }

    /// Every `CERTIFICATE` block of a PEM file, in order; at least one. The first is the
    /// certificate itself, the rest its intermediates or, in `ca.crt`, the rest of the bundle.
    pub fn chain_from_pem(pem_bytes: &[u8]) -> Result<Vec<Self>, CertError> {
        let ders = pem::certificates(pem_bytes).map_err(CertError::Pem)?;
        if ders.is_empty() {
            return Err(CertError::NoCertificate);
        }
        ders.iter().map(|d| Self::from_der(d)).collect()
    }

    /// The first certificate of a PEM file.
    pub fn from_pem(pem_bytes: &[u8]) -> Result<Self, CertError> {
        Self::chain_from_pem(pem_bytes)?
            .into_iter()
            .next()
            .ok_or(CertError::NoCertificate)
    }

    /// The DER bytes, exactly as issued or read.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM `CERTIFICATE`.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }

    fn tbs(&self) -> &x509_cert::TbsCertificate {
        self.parsed.tbs_certificate()
    }

    /// Subject CN and O values (the only attributes kubeadm sets or reads).
    pub fn subject(&self) -> Subject {
        subject_of(self.tbs().subject())
    }

    /// The subject as OpenSSL-style text, for messages.
    pub fn subject_text(&self) -> String {
        self.tbs().subject().to_string()
    }

    /// The issuer as OpenSSL-style text, for messages.
    pub fn issuer_text(&self) -> String {
        self.tbs().issuer().to_string()
    }

    /// Raw DER of the subject name.
    pub(crate) fn subject_der(&self) -> Vec<u8> {
        self.tbs().subject().to_der().unwrap_or_default()
    }

    /// Start of validity.
    pub fn not_before(&self) -> SystemTime {
        self.tbs().validity().not_before.to_system_time()
    }

    /// End of validity.
    pub fn not_after(&self) -> SystemTime {
        self.tbs().validity().not_after.to_system_time()
    }

    /// The serial number's big-endian bytes.
    pub fn serial(&self) -> &[u8] {
        self.tbs().serial_number().as_bytes()
    }

    /// Whether BasicConstraints says CA:TRUE.
    pub fn is_ca(&self) -> bool {
        matches!(self.tbs().get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca)
    }

    /// DNS names of the SAN extension.
    pub fn dns_names(&self) -> Vec<String> {
        self.general_names()
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::DnsName(s) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }

    /// IP addresses of the SAN extension.
    pub fn ip_addresses(&self) -> Vec<IpAddr> {
        self.general_names()
            .into_iter()
            .filter_map(|n| match n {
                GeneralName::IpAddress(o) => ip_from_bytes(o.as_bytes()),
                _ => None,
            })
            .collect()
    }

    fn general_names(&self) -> Vec<GeneralName> {
        match self.tbs().get_extension::<SubjectAltName>() {
            Ok(Some((_, san))) => san.0,
            _ => Vec::new(),
        }
    }

    /// The extended key usages; OIDs outside [`ExtKeyUsage`] are left out.
    pub fn ext_key_usages(&self) -> Vec<ExtKeyUsage> {
        let Ok(Some((_, eku))) = self.tbs().get_extension::<ExtendedKeyUsage>() else {
            return Vec::new();
        };
        eku.0.iter().filter_map(ExtKeyUsage::from_oid).collect()
    }

    /// The Key Usage bits; empty when the extension is absent.
    pub fn key_usage(&self) -> KeyUsage {
        const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
        self.tbs()
            .extensions()
            .into_iter()
            .flatten()
            .find(|e| e.extn_id == OID_KEY_USAGE)
            .and_then(|e| der::asn1::BitString::from_der(e.extn_value.as_bytes()).ok())
            .map_or_else(KeyUsage::default, |bits| {
                KeyUsage::from_bit_string(bits.raw_bytes())
            })
    }

    /// The DER SubjectPublicKeyInfo exactly as it appears in the certificate (what pins hash).
    pub fn public_key_der(&self) -> &[u8] {
        self.der.get(self.spki.clone()).unwrap_or_default()
    }

    /// The subject key id extension, if present.
    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        match self.tbs().get_extension::<SubjectKeyIdentifier>() {
            Ok(Some((_, skid))) => Some(skid.0.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// The authority key id's key identifier, if present.
    pub fn authority_key_id(&self) -> Option<Vec<u8>> {
        match self.tbs().get_extension::<AuthorityKeyIdentifier>() {
            Ok(Some((_, akid))) => akid.key_identifier.map(|k| k.as_bytes().to_vec()),
            _ => None,
        }
    }

    /// Whether `key` is the private half of this certificate's public key.
    pub fn matches_key(&self, key: &PrivateKey) -> bool {
        self.public_key_der() == key.public_key_der()
    }

    /// Whether `issuer` named and signed this certificate: the issuer name equals the
    /// issuer's subject and the signature verifies under the issuer's key.
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        self.tbs().issuer() == issuer.tbs().subject() && self.signature_verifies_with(issuer)
    }

    fn signature_verifies_with(&self, issuer: &Certificate) -> bool {
        let Ok(tbs) = self.tbs().to_der() else {
            return false;
        };
        let Some(signature) = self.parsed.signature().as_bytes() else {
            return false;
        };
        signature_verifies(
            &self.parsed.signature_algorithm().oid,
            issuer.tbs().subject_public_key_info(),
            &tbs,
            signature,
        )
    }

    /// Whether `now` lies inside NotBefore..=NotAfter.
    pub fn is_valid_at(&self, now: SystemTime) -> bool {
        self.not_before() <= now && now <= self.not_after()
    }
}

/// Whether `cert` chains to one of `roots`: signed by a root directly or through CA
/// certificates from `intermediates` (the rest of the leaf's file, as kubeadm reads it).
pub fn verify_chain(cert: &Certificate, intermediates: &[Certificate], roots: &[Certificate]) -> bool {
    let mut current = cert;
    // Each step consumes one intermediate at most, so the walk is bounded.
    for _ in 0..=intermediates.len() {
        if roots.iter().any(|root| current.is_signed_by(root)) {
            return true;
        }
        match intermediates
            .iter()
            .find(|i| i.is_ca() && current.is_signed_by(i))
        {
            Some(next) => current = next,
            None => return false,
        }
    }
    false
}

/// The byte range of the SubjectPublicKeyInfo: the seventh element of the TBSCertificate, or
/// the sixth when the optional `[0]` version is absent. `der` has already parsed as X.509.
fn spki_range(der: &[u8]) -> Option<std::ops::Range<usize>> {
    let (_, certificate) = tlv(der, 0)?;
    let (_, tbs) = tlv(der, certificate.start)?;
    let mut at = tbs.start;
    if der.get(at) == Some(&0xa0) {
        at = tlv(der, at)?.1.end;
    }
    // serialNumber, signature, issuer, validity, subject
    for _ in 0..5 {
        at = tlv(der, at)?.1.end;
    }
    let (start, content) = tlv(der, at)?;
    Some(start..content.end)
}

/// The element at `at`: its start and its content range (definite-length DER only).
fn tlv(der: &[u8], at: usize) -> Option<(usize, std::ops::Range<usize>)> {
    let first_len = *der.get(at + 1)?;
    let (len, header) = if first_len < 0x80 {
        (usize::from(first_len), 2)
    } else {
        let count = usize::from(first_len & 0x7f);
        let bytes = der.get(at + 2..at + 2 + count)?;
        (
            bytes.iter().try_fold(0usize, |acc, b| {
                acc.checked_mul(256)?.checked_add(usize::from(*b))
            })?,
            2 + count,
        )
    };
    let start = at.checked_add(header)?;
    let end = start.checked_add(len)?;
    (end <= der.len()).then_some((at, start..end))
}

/// Whether `signature` over `message` verifies under `key` with the named algorithm.
pub(crate) fn signature_verifies(
    algorithm: &ObjectIdentifier,
    key: &spki::SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Some(verifier) = verification_algorithm(algorithm, &key.algorithm) else {
        return false;
    };
    UnparsedPublicKey::new(verifier, key.subject_public_key.raw_bytes())
        .verify(message, signature)
        .is_ok()
}

/// CN and O values of a name (the only attributes kubeadm sets or reads).
pub(crate) fn subject_of(name: &x509_cert::name::Name) -> Subject {
    let mut subject = Subject::default();
    for atv in name.iter() {
        let Some(value) = directory_string(&atv.value) else {
            continue;
        };
        if atv.oid == const_oid::db::rfc4519::CN {
            subject.common_name = value;
        } else if atv.oid == const_oid::db::rfc4519::O {
            subject.organizations.push(value);
        }
    }
    subject
}

/// The verifier for a signature algorithm and issuer key type, or `None` when unsupported.
fn verification_algorithm(
    signature_oid: &ObjectIdentifier,
    issuer_key: &spki::AlgorithmIdentifierOwned,
) -> Option<&'static dyn VerificationAlgorithm> {
    use const_oid::db::rfc5912 as oids;
    let curve = issuer_key
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let p256 = curve == Some(oids::SECP_256_R_1);
    let p384 = curve == Some(oids::SECP_384_R_1);
    Some(match *signature_oid {
        oids::SHA_256_WITH_RSA_ENCRYPTION => &signature::RSA_PKCS1_2048_8192_SHA256,
        oids::SHA_384_WITH_RSA_ENCRYPTION => &signature::RSA_PKCS1_2048_8192_SHA384,
        oids::SHA_512_WITH_RSA_ENCRYPTION => &signature::RSA_PKCS1_2048_8192_SHA512,
        oids::ECDSA_WITH_SHA_256 if p256 => &signature::ECDSA_P256_SHA256_ASN1,
        oids::ECDSA_WITH_SHA_256 if p384 => &signature::ECDSA_P384_SHA256_ASN1,
        oids::ECDSA_WITH_SHA_384 if p256 => &signature::ECDSA_P256_SHA384_ASN1,
        oids::ECDSA_WITH_SHA_384 if p384 => &signature::ECDSA_P384_SHA384_ASN1,
        const_oid::db::rfc8410::ID_ED_25519 => &signature::ED25519,
        _ => return None,
    })
}

fn directory_string(value: &der::Any) -> Option<String> {
    use der::asn1::{PrintableStringRef, TeletexStringRef, Utf8StringRef};
    value
        .decode_as::<Utf8StringRef<'_>>()
        .map(|s| s.to_string())
        .or_else(|_| value.decode_as::<PrintableStringRef<'_>>().map(|s| s.to_string()))
        .or_else(|_| value.decode_as::<TeletexStringRef<'_>>().map(|s| s.to_string()))
        .ok()
}

pub(crate) fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}
