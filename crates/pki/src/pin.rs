//! `sha256:<hex>` public-key pins, the `--discovery-token-ca-cert-hash` values of `kubeadm join`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Certificate, Error};

/// SHA-256 of a certificate's DER SubjectPublicKeyInfo. It pins the key, not the
/// certificate, so a re-issued CA certificate with the same key keeps its pin.
///
/// ```
/// use kubetrust_pki::CaCertHash;
/// let pin: CaCertHash = "SHA256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef".parse()?;
/// assert_eq!(pin.to_string(), "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
/// # Ok::<(), kubetrust_pki::Error>(())
/// ```
#[derive(Clone, Copy, Eq)]
pub struct CaCertHash([u8; 32]);

impl CaCertHash {
    /// The pin of a DER SubjectPublicKeyInfo.
    pub fn of_public_key(spki_der: &[u8]) -> Self {
        Self(Sha256::digest(spki_der).into())
    }

    /// The pin of a certificate's public key.
    pub fn of_certificate(cert: &Certificate) -> Self {
        Self::of_public_key(&cert.public_key_der())
    }

    /// One pin per certificate of a PEM bundle, in file order.
    pub fn of_pem_bundle(pem: &[u8]) -> Result<Vec<Self>, Error> {
        let certs = Certificate::chain_from_pem(pem).map_err(|source| Error::Certificate {
            what: "CA bundle".into(),
            source,
        })?;
        Ok(certs.iter().map(Self::of_certificate).collect())
    }

    /// The 32 hash bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for CaCertHash {
    /// Constant time: pins are compared against attacker-chosen keys.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::hash::Hash for CaCertHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for CaCertHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for CaCertHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CaCertHash({self})")
    }
}

impl FromStr for CaCertHash {
    type Err = Error;

    /// Accepts `sha256:` + 64 hex digits, any case. kubeadm's other formats do not exist:
    /// anything else is an error that says what is wrong.
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidCaCertHash {
            value: s.to_owned(),
            reason,
        };
        let (kind, hex) = s
            .split_once(':')
            .ok_or_else(|| invalid("missing the \"sha256:\" prefix".into()))?;
        if !kind.eq_ignore_ascii_case("sha256") {
            return Err(invalid(format!(
                "unsupported hash type {kind:?}; only sha256 is supported"
            )));
        }
        if hex.len() != 64 {
            return Err(invalid(format!(
                "want 64 hex digits after \"sha256:\", got {}",
                hex.len()
            )));
        }
        let prefix_len = kind.len() + 1;
        let mut bytes = [0u8; 32];
        for (at, c) in hex.bytes().enumerate() {
            let nibble = (c as char).to_digit(16).ok_or_else(|| {
                invalid(format!(
                    "{:?} at position {} is not a hex digit",
                    c as char,
                    prefix_len + at
                ))
            })?;
            if let Some(byte) = bytes.get_mut(at / 2) {
                *byte = (*byte << 4) | u8::try_from(nibble).unwrap_or_default();
            }
        }
        Ok(Self(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_problem() {
        let cases = [
            ("0123", "missing the \"sha256:\" prefix"),
            ("md5:00", "unsupported hash type \"md5\""),
            ("sha256:00", "want 64 hex digits after \"sha256:\", got 2"),
        ];
        for (input, want) in cases {
            let err = input.parse::<CaCertHash>().unwrap_err().to_string();
            assert!(err.contains(want), "{input}: {err}");
        }
        let bad = format!("sha256:{}g{}", "0".repeat(10), "0".repeat(53));
        let err = bad.parse::<CaCertHash>().unwrap_err().to_string();
        assert!(err.contains("'g' at position 17 is not a hex digit"), "{err}");
    }

    #[test]
    fn equality_and_display() {
        let a = CaCertHash::of_public_key(b"a");
        assert_eq!(a.to_string().parse::<CaCertHash>().unwrap(), a);
        assert_ne!(a, CaCertHash::of_public_key(b"b"));
    }
}
