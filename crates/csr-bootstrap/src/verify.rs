//! The check an issued certificate must pass before anything is written: the API server hands
//! back whatever a signer (or anyone with `update` on `certificatesigningrequests/status`) put
//! there, so a node must not trust it blindly. A certificate that fails here would either be
//! unusable (wrong key, expired) or let the node act under an identity it did not ask for.

use std::time::SystemTime;

use kubetrust_pki::{Certificate, ExtKeyUsage, PrivateKey, Subject, verify_chain};

/// What the issued certificate must be.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// The key the CSR was made for.
    pub key: &'a PrivateKey,
    /// The cluster CA bundle (the roots the certificate must chain to).
    pub ca: &'a [Certificate],
    /// The subject the CSR asked for, exactly.
    pub subject: &'a Subject,
    /// The extended key usage the certificate must carry (client auth or server auth).
    pub usage: ExtKeyUsage,
}

/// Why an issued certificate was refused; each variant names the failed check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// `status.certificate` is not a PEM list of certificates, or is empty.
    #[error("issued certificate check \"parse\": {reason}")]
    Unparsable {
        /// What the parser rejected.
        reason: String,
    },
    /// The leaf's public key is not our key's.
    #[error("issued certificate check \"key\": the certificate is not for our private key")]
    KeyMismatch,
    /// The leaf does not chain to the cluster CA (through the intermediates that follow it).
    #[error(
        "issued certificate check \"chain\": the certificate (issuer {issuer:?}) does not chain to the cluster CA"
    )]
    UntrustedIssuer {
        /// The leaf's issuer, for the operator.
        issuer: String,
    },
    /// The leaf's subject is not the one requested.
    #[error("issued certificate check \"subject\": expected {expected:?}, got {actual:?}")]
    SubjectMismatch {
        /// The requested subject.
        expected: String,
        /// The certificate's subject.
        actual: String,
    },
    /// The leaf lacks the extended key usage it was requested for.
    #[error("issued certificate check \"usage\": the certificate lacks {usage:?}")]
    MissingUsage {
        /// The missing usage.
        usage: ExtKeyUsage,
    },
    /// `now` is outside the leaf's validity period.
    #[error("issued certificate check \"validity\": not valid now (valid {not_before} to {not_after})")]
    NotValidNow {
        /// NotBefore, RFC 3339.
        not_before: String,
        /// NotAfter, RFC 3339.
        not_after: String,
    },
}

/// Checks `status.certificate` (leaf first, then intermediates) against what was requested and
/// returns the parsed chain. The checks run in the order of [`VerifyError`]'s variants.
pub fn verify_issued(
    pem: &[u8],
    expected: &Expected<'_>,
    now: SystemTime,
) -> Result<Vec<Certificate>, VerifyError> {
    let chain = Certificate::chain_from_pem(pem).map_err(|e| VerifyError::Unparsable {
        reason: e.to_string(),
    })?;
    let (leaf, intermediates) = chain.split_first().ok_or_else(|| VerifyError::Unparsable {
        reason: "no CERTIFICATE block".to_owned(),
    })?;
    if !leaf.matches_key(expected.key) {
        return Err(VerifyError::KeyMismatch);
    }
    if !verify_chain(leaf, intermediates, expected.ca) {
        return Err(VerifyError::UntrustedIssuer {
            issuer: leaf.issuer_text(),
        });
    }
    let actual = leaf.subject();
    if actual != *expected.subject {
        return Err(VerifyError::SubjectMismatch {
            expected: describe(expected.subject),
            actual: describe(&actual),
        });
    }
    if !leaf.ext_key_usages().contains(&expected.usage) {
        return Err(VerifyError::MissingUsage {
            usage: expected.usage,
        });
    }
    if !leaf.is_valid_at(now) {
        return Err(VerifyError::NotValidNow {
            not_before: rfc3339(leaf.not_before()),
            not_after: rfc3339(leaf.not_after()),
        });
    }
    Ok(chain)
}

/// `O=a, O=b, CN=c`, the order Go writes the RDNs in.
pub(crate) fn describe(subject: &Subject) -> String {
    subject
        .organizations
        .iter()
        .map(|o| format!("O={o}"))
        .chain(std::iter::once(format!("CN={}", subject.common_name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A time as RFC 3339 (UTC), or the debug form when out of jiff's range.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time).map_or_else(|_| format!("{time:?}"), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::time::Duration;

    use kubetrust_pki::{CertProfile, CertificateAuthority, KeyAlgorithm, Validity};

    use super::*;
    use crate::csr::node_subject;

    struct Fixture {
        ca: CertificateAuthority,
        key: PrivateKey,
        subject: Subject,
        now: SystemTime,
    }

    fn fixture() -> Fixture {
        let now = SystemTime::now();
        let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let ca = CertificateAuthority::self_signed(
            "kubernetes",
            ca_key,
            Validity::kubeadm(now, Duration::from_secs(86400)),
        )
        .unwrap();
        Fixture {
            ca,
            key: PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
            subject: node_subject("worker-1"),
            now,
        }
    }

    impl Fixture {
        fn issue(&self, profile: &CertProfile, key: &PrivateKey) -> Vec<u8> {
            self.ca
                .issue(profile, key.public_key_der())
                .unwrap()
                .to_pem()
                .into_bytes()
        }
        fn check(&self, pem: &[u8], usage: ExtKeyUsage) -> Result<Vec<Certificate>, VerifyError> {
            let ca = [self.ca.certificate().clone()];
            let expected = Expected {
                key: &self.key,
                ca: &ca,
                subject: &self.subject,
                usage,
            };
            verify_issued(pem, &expected, self.now)
        }
    }

    #[test]
    fn accepts_the_right_certificate() {
        let f = fixture();
        let pem = f.issue(&CertProfile::client(f.subject.clone(), f.now), &f.key);
        assert_eq!(f.check(&pem, ExtKeyUsage::ClientAuth).unwrap().len(), 1);
    }

    #[test]
    fn refuses_each_failed_check() {
        let f = fixture();
        let client = CertProfile::client(f.subject.clone(), f.now);
        let other_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        assert_eq!(
            f.check(&f.issue(&client, &other_key), ExtKeyUsage::ClientAuth),
            Err(VerifyError::KeyMismatch)
        );
        let other = fixture();
        let foreign = other.issue(&client, &f.key);
        assert!(matches!(
            f.check(&foreign, ExtKeyUsage::ClientAuth),
            Err(VerifyError::UntrustedIssuer { .. })
        ));
        let wrong_subject = CertProfile::client(node_subject("worker-2"), f.now);
        assert!(matches!(
            f.check(&f.issue(&wrong_subject, &f.key), ExtKeyUsage::ClientAuth),
            Err(VerifyError::SubjectMismatch { .. })
        ));
        assert_eq!(
            f.check(&f.issue(&client, &f.key), ExtKeyUsage::ServerAuth),
            Err(VerifyError::MissingUsage {
                usage: ExtKeyUsage::ServerAuth
            })
        );
        let expired = CertProfile::client(f.subject.clone(), f.now - Duration::from_secs(2 * 365 * 86400));
        let error = f.check(&f.issue(&expired, &f.key), ExtKeyUsage::ClientAuth);
        assert!(matches!(error, Err(VerifyError::NotValidNow { .. })), "{error:?}");
        assert!(matches!(
            f.check(b"", ExtKeyUsage::ClientAuth),
            Err(VerifyError::Unparsable { .. })
        ));
    }
}
