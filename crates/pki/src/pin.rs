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
        Self::of_public_key(cert.public_key_der())
    }

    /// One pin per certificate of a PEM bundle, in file order.
    pub fn of_pem_bundle(pem: &[u8]) -> Result<Vec<Self>, Error> {
        let certs = Certificate::chain_from_pem(pem).map_err(|source| Error::Certificate {
            what: "CA bundle",
            source,
        })?;
        Ok(certs.iter().map(Self::of_certificate).collect())
    }

    /// A pin from its 32 hash bytes (as carried in a join token).
    pub const fn from_bytes(digest: [u8; 32]) -> Self {
        Self(digest)
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

    /// Parses `sha256:<64 hex digits>` exactly as kubeadm's `pubkeypin.Set.Allow` does
    /// (format and hex in any case, nothing else), with kubeadm's error texts.
    fn from_str(s: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidCaCertHash {
            value: s.to_owned(),
            reason,
        };
        let mut parts = s.split(':');
        let (Some(format), Some(hex), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid(
                "invalid hash, expected \"format:hex-value\". Known format(s) are: sha256".into(),
            ));
        };
        if !format.eq_ignore_ascii_case("sha256") {
            return Err(invalid(format!(
                "unknown hash format {format:?}. Known format(s) are: sha256"
            )));
        }
        if hex.len() / 2 != 32 {
            return Err(invalid(format!(
                "invalid hash {s:?}, expected a 32 byte SHA-256 hash, found {} bytes",
                hex.len() / 2
            )));
        }
        decode_hex(hex).map(Self).map_err(|hex_error| {
            invalid(format!(
                "invalid hash {s:?}, could not decode SHA-256 from hex: {hex_error}"
            ))
        })
    }
}

/// Go's `hex.Decode` into 32 bytes: the first invalid byte of each pair is reported before
/// an odd length.
fn decode_hex(hex: &str) -> Result<[u8; 32], HexError> {
    let nibble = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let mut out = [0u8; 32];
    let (pairs, odd) = hex.as_bytes().as_chunks::<2>();
    for (dst, &[hi, lo]) in out.iter_mut().zip(pairs) {
        let hi = nibble(hi).ok_or(HexError::InvalidByte(hi))?;
        let lo = nibble(lo).ok_or(HexError::InvalidByte(lo))?;
        *dst = hi << 4 | lo;
    }
    if let Some(&last) = odd.first() {
        return Err(match nibble(last) {
            None => HexError::InvalidByte(last),
            Some(_) => HexError::OddLength,
        });
    }
    Ok(out)
}

/// Why Go's `encoding/hex` refuses input; `Display` is Go's text.
enum HexError {
    InvalidByte(u8),
    OddLength,
}

impl fmt::Display for HexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidByte(b) => write!(f, "encoding/hex: invalid byte: {}", go_unicode_verb(*b)),
            Self::OddLength => f.write_str("encoding/hex: odd length hex string"),
        }
    }
}

/// Go's `%#U` of a byte: `U+0067 'g'`, or `U+000A` when not printable.
fn go_unicode_verb(b: u8) -> String {
    let c = char::from(b);
    let printable = (0x20..0x7f).contains(&b) || (b >= 0xa1 && b != 0xad);
    if printable {
        format!("U+{b:04X} '{c}'")
    } else {
        format!("U+{b:04X}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_and_display() {
        let a = CaCertHash::of_public_key(b"a");
        assert_eq!(a.to_string().parse::<CaCertHash>().unwrap(), a);
        assert_ne!(a, CaCertHash::of_public_key(b"b"));
    }
}
