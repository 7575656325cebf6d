//! The check an issued certificate must pass before anything is written: the API server hands
//! back whatever a signer (or anyone with `update` on `certificatesigningrequests/status`) put
//! there, so a node must not trust it blindly. A certificate that fails here would either be
//! unusable (wrong key, expired) or let the node act under an identity it did not ask for.

use std::time::SystemTime;

use kubetrust_pki::{Certificate, ExtKeyUsage, PrivateKey, Subject, verify_chain};

use crate::Error;

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

/// Checks `status.certificate` (leaf first, then intermediates) against what was requested and
/// returns the parsed chain. The checks run in the order of the `Issued*` variants of [`Error`].
pub fn verify_issued(
    pem: &[u8],
    expected: &Expected<'_>,
    now: SystemTime,
) -> Result<Vec<Certificate>, Error> {
    let chain = Certificate::chain_from_pem(pem).map_err(|e| Error::IssuedUnparsable {
        reason: e.to_string(),
    })?;
    let (leaf, intermediates) = chain.split_first().ok_or_else(|| Error::IssuedUnparsable {
        reason: "no CERTIFICATE block".to_owned(),
    })?;
    if !leaf.matches_key(expected.key) {
        return Err(Error::IssuedKeyMismatch);
    }
    if !verify_chain(leaf, intermediates, expected.ca) {
        return Err(Error::IssuedUntrusted {
            issuer: leaf.issuer_text(),
        });
    }
    let actual = leaf.subject();
    if actual != *expected.subject {
        return Err(Error::IssuedSubjectMismatch {
            expected: describe(expected.subject),
            actual: describe(&actual),
        });
    }
    if !leaf.ext_key_usages().contains(&expected.usage) {
        return Err(Error::IssuedMissingUsage {
            usage: expected.usage,
        });
    }
    if !leaf.is_valid_at(now) {
        return Err(Error::IssuedNotValidNow {
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
        fn check(&self, pem: &[u8], usage: ExtKeyUsage) -> Result<Vec<Certificate>, Error> {
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
        assert!(matches!(
            f.check(&f.issue(&client, &other_key), ExtKeyUsage::ClientAuth),
            Err(Error::IssuedKeyMismatch)
        ));
        let other = fixture();
        let foreign = other.issue(&client, &f.key);
        assert!(matches!(
            f.check(&foreign, ExtKeyUsage::ClientAuth),
            Err(Error::IssuedUntrusted { .. })
        ));
        let wrong_subject = CertProfile::client(node_subject("worker-2"), f.now);
        assert!(matches!(
            f.check(&f.issue(&wrong_subject, &f.key), ExtKeyUsage::ClientAuth),
            Err(Error::IssuedSubjectMismatch { .. })
        ));
        assert!(matches!(
            f.check(&f.issue(&client, &f.key), ExtKeyUsage::ServerAuth),
            Err(Error::IssuedMissingUsage {
                usage: ExtKeyUsage::ServerAuth
            })
        ));
        let expired = CertProfile::client(f.subject.clone(), f.now - Duration::from_secs(2 * 365 * 86400));
        let error = f.check(&f.issue(&expired, &f.key), ExtKeyUsage::ClientAuth);
        assert!(matches!(error, Err(Error::IssuedNotValidNow { .. })), "{error:?}");
        assert!(matches!(
            f.check(b"", ExtKeyUsage::ClientAuth),
            Err(Error::IssuedUnparsable { .. })
        ));
    }
}
