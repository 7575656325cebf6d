//! Private keys: generation, kubeadm's PEM encodings, signing.
//!
//! kubeadm writes RSA keys as PKCS#1 (`RSA PRIVATE KEY`) and ECDSA keys as SEC1
//! (`EC PRIVATE KEY`, with the curve OID and public key); it reads those and PKCS#8. Ed25519,
//! which kubeadm lacks, is written as PKCS#8 (`PRIVATE KEY`), its only standard form.
//! RSA keys come from the `rsa` crate (the fastest generator measured here); everything else,
//! and all signing, is aws-lc-rs.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::{AsDer, EcPrivateKeyRfc5915Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use der::Decode;
use der::asn1::ObjectIdentifier;
use zeroize::Zeroizing;

use crate::Error;
use crate::pem::{self, PemError, PemLabel};

/// The key types kubetrust generates: kubeadm's `encryptionAlgorithm` values plus Ed25519.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA 2048-bit, e = 65537: kubeadm's default.
    #[default]
    Rsa2048,
    /// RSA 3072-bit.
    Rsa3072,
    /// RSA 4096-bit.
    Rsa4096,
    /// ECDSA on P-256, signing with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384, signing with SHA-384 (kubeadm 1.34+).
    EcdsaP384,
    /// Ed25519 (not in kubeadm; Go and OpenSSL read it).
    Ed25519,
}

impl KeyAlgorithm {
    /// Every algorithm, in kubeadm's documentation order.
    pub const ALL: [KeyAlgorithm; 6] = [
        Self::Rsa2048,
        Self::Rsa3072,
        Self::Rsa4096,
        Self::EcdsaP256,
        Self::EcdsaP384,
        Self::Ed25519,
    ];

    /// The `encryptionAlgorithm` spelling: `RSA-2048`, `ECDSA-P256`, `ED25519`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "RSA-2048",
            Self::Rsa3072 => "RSA-3072",
            Self::Rsa4096 => "RSA-4096",
            Self::EcdsaP256 => "ECDSA-P256",
            Self::EcdsaP384 => "ECDSA-P384",
            Self::Ed25519 => "ED25519",
        }
    }

    fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
            Self::Rsa4096 => Some(4096),
            _ => None,
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = Error;

    /// Parses kubeadm's spelling; an empty string means the default, as in kubeadm.
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.is_empty() {
            return Ok(Self::default());
        }
        Self::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownKeyAlgorithm { value: s.to_owned() })
    }
}

/// The parsed key, ready to sign.
enum Signer {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key. Its encoded form is zeroized on drop; `Debug` shows only the algorithm.
///
/// aws-lc-rs holds the parsed key in C memory and clears it when freed (`BN_clear_free`).
pub struct PrivateKey {
    algorithm: KeyAlgorithm,
    signer: Signer,
    /// The key as kubeadm writes it: PKCS#1, SEC1, or PKCS#8 for Ed25519.
    der: Zeroizing<Vec<u8>>,
    /// The DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .field("key", &"[redacted]")
            .finish()
    }
}

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

impl PrivateKey {
    /// Generates a fresh key from the operating system's CSPRNG.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, Error> {
        let failed = |_| Error::KeyGeneration { algorithm };
        if let Some(bits) = algorithm.rsa_bits() {
            use rsa::pkcs1::EncodeRsaPrivateKey;
            let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits)
                .map_err(|_| Error::KeyGeneration { algorithm })?;
            let pkcs1 = key
                .to_pkcs1_der()
                .map_err(|_| Error::KeyGeneration { algorithm })?;
            return Self::from_pkcs1(pkcs1.as_bytes()).map_err(failed);
        }
        let rng = SystemRandom::new();
        let pkcs8 = match algorithm {
            KeyAlgorithm::EcdsaP256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            }
            KeyAlgorithm::EcdsaP384 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P384_SHA384_ASN1_SIGNING, &rng)
            }
            _ => Ed25519KeyPair::generate_pkcs8v1(&rng),
        }
        .map_err(|_| Error::KeyGeneration { algorithm })?;
        Self::from_pkcs8(pkcs8.as_ref()).map_err(failed)
    }

    /// Loads the first private key of a PEM file: `RSA PRIVATE KEY`, `EC PRIVATE KEY` or
    /// `PRIVATE KEY`. Other blocks (such as `EC PARAMETERS`) and blocks with headers are
    /// skipped, as client-go does.
    pub fn from_pem(pem_bytes: &[u8]) -> Result<Self, KeyError> {
        let blocks = pem::parse(pem_bytes).map_err(KeyError::Pem)?;
        for block in blocks.iter().filter(|b| !b.has_headers) {
            let parsed = match PemLabel::of(&block.label) {
                Some(PemLabel::RsaPrivateKey) => Self::from_pkcs1(&block.der),
                Some(PemLabel::EcPrivateKey) => Self::from_sec1(&block.der),
                Some(PemLabel::PrivateKey) => Self::from_pkcs8(&block.der),
                _ => continue,
            };
            return parsed;
        }
        Err(KeyError::NoPrivateKey)
    }

    /// Loads a key file; the error names the file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, Error> {
        Self::from_pem(&crate::read::file(path)?).map_err(|source| Error::Key {
            path: path.to_owned(),
            source,
        })
    }

    fn from_pkcs1(der: &[u8]) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::from_der(der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        let algorithm = match pair.public_modulus_len() * 8 {
            2048 => KeyAlgorithm::Rsa2048,
            3072 => KeyAlgorithm::Rsa3072,
            4096 => KeyAlgorithm::Rsa4096,
            bits => return Err(KeyError::UnsupportedRsaSize { bits }),
        };
        let spki = spki_of(pair.public_key().as_der())?;
        Ok(Self {
            algorithm,
            signer: Signer::Rsa(pair),
            der: Zeroizing::new(der.to_vec()),
            spki,
        })
    }

    fn from_sec1(der: &[u8]) -> Result<Self, KeyError> {
        let curve = sec1_curve(der)?;
        let (algorithm, alg) = ecdsa_for_curve(curve)?;
        let pair =
            EcdsaKeyPair::from_private_key_der(alg, der).map_err(|e| KeyError::Rejected(e.to_string()))?;
        Self::from_ecdsa(algorithm, pair)
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8_algorithm(der)?;
        match info {
            // PKCS#8 wraps the PKCS#1 structure kubeadm writes: keep that.
            (oid, _) if oid == OID_RSA => Self::from_pkcs1(&Zeroizing::new(pkcs8_inner_key(der)?)),
            (oid, Some(curve)) if oid == OID_EC => {
                let (algorithm, alg) = ecdsa_for_curve(curve)?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(alg, der).map_err(|e| KeyError::Rejected(e.to_string()))?;
                Self::from_ecdsa(algorithm, pair)
            }
            (oid, _) if oid == OID_ED25519 => {
                let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                    .map_err(|e| KeyError::Rejected(e.to_string()))?;
                let spki = spki_of(pair.public_key().as_der())?;
                // Re-encode as PKCS#8 v1 so the file form does not depend on the input's version.
                let v1 = pair
                    .to_pkcs8v1()
                    .map_err(|_| KeyError::Rejected("cannot encode Ed25519".into()))?;
                Ok(Self {
                    algorithm: KeyAlgorithm::Ed25519,
                    signer: Signer::Ed25519(pair),
                    der: Zeroizing::new(v1.as_ref().to_vec()),
                    spki,
                })
            }
            (oid, _) => Err(KeyError::UnsupportedAlgorithm { oid: oid.to_string() }),
        }
    }

    fn from_ecdsa(algorithm: KeyAlgorithm, pair: EcdsaKeyPair) -> Result<Self, KeyError> {
        let sec1: EcPrivateKeyRfc5915Der<'static> = pair
            .private_key()
            .as_der()
            .map_err(|_| KeyError::Rejected("cannot encode SEC1".into()))?;
        let spki = spki_of(pair.public_key().as_der())?;
        Ok(Self {
            algorithm,
            der: Zeroizing::new(sec1.as_ref().to_vec()),
            signer: Signer::Ecdsa(pair),
            spki,
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The DER SubjectPublicKeyInfo of the public half (what pins and key ids hash).
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki
    }

    /// The public key as PEM `PUBLIC KEY` (the form of `sa.pub`).
    pub fn public_key_pem(&self) -> String {
        pem::encode("PUBLIC KEY", &self.spki)
    }

    /// The private key in kubeadm's file form. The returned buffer is zeroized on drop.
    pub fn to_pem(&self) -> Zeroizing<String> {
        let label = match self.signer {
            Signer::Rsa(_) => "RSA PRIVATE KEY",
            Signer::Ecdsa(_) => "EC PRIVATE KEY",
            Signer::Ed25519(_) => "PRIVATE KEY",
        };
        Zeroizing::new(pem::encode(label, &self.der))
    }

    /// Signs `message` with the algorithm X.509 uses for this key type: PKCS#1 v1.5 with
    /// SHA-256 for RSA, ECDSA with SHA-256 (P-256) or SHA-384 (P-384) in DER, or Ed25519.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::Signing {
            algorithm: self.algorithm,
        };
        match &self.signer {
            Signer::Rsa(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut sig,
                )
                .map_err(failed)?;
                Ok(sig)
            }
            Signer::Ecdsa(pair) => Ok(pair
                .sign(&SystemRandom::new(), message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            Signer::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }

    /// The DER AlgorithmIdentifier of the signatures this key makes.
    pub(crate) fn signature_algorithm_der(&self) -> &'static [u8] {
        crate::x509::signature_algorithm_der(self.algorithm)
    }
}

/// Why a private key could not be loaded. The key material is never part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file is not well-formed PEM.
    #[error("not valid PEM: {0}")]
    Pem(PemError),
    /// No `RSA PRIVATE KEY`, `EC PRIVATE KEY` or `PRIVATE KEY` block.
    #[error("no private key block (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY) found")]
    NoPrivateKey,
    /// The key structure is malformed or inconsistent.
    #[error("the private key is malformed or inconsistent: {0}")]
    Rejected(String),
    /// An algorithm other than RSA, ECDSA P-256/P-384 or Ed25519.
    #[error("unsupported key algorithm {oid}: want RSA, ECDSA P-256/P-384 or Ed25519")]
    UnsupportedAlgorithm {
        /// The algorithm or curve OID.
        oid: String,
    },
    /// An RSA size other than 2048, 3072 or 4096 bits.
    #[error("unsupported RSA key size {bits} bits: want 2048, 3072 or 4096")]
    UnsupportedRsaSize {
        /// The modulus size.
        bits: usize,
    },
}

fn spki_of(
    der: Result<PublicKeyX509Der<'static>, aws_lc_rs::error::Unspecified>,
) -> Result<Vec<u8>, KeyError> {
    der.map(|d| d.as_ref().to_vec())
        .map_err(|_| KeyError::Rejected("cannot encode the public key".into()))
}

fn ecdsa_for_curve(
    curve: ObjectIdentifier,
) -> Result<(KeyAlgorithm, &'static signature::EcdsaSigningAlgorithm), KeyError> {
    if curve == OID_P256 {
        Ok((
            KeyAlgorithm::EcdsaP256,
            &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        ))
    } else if curve == OID_P384 {
        Ok((
            KeyAlgorithm::EcdsaP384,
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        ))
    } else {
        Err(KeyError::UnsupportedAlgorithm {
            oid: curve.to_string(),
        })
    }
}

/// The curve named in a SEC1 `ECPrivateKey` (`parameters [0]` must be present: without it the
/// curve is unknown, and kubeadm's writers always include it).
fn sec1_curve(der: &[u8]) -> Result<ObjectIdentifier, KeyError> {
    #[derive(der::Sequence)]
    struct EcPrivateKey<'a> {
        _version: u8,
        _private_key: der::asn1::AnyRef<'a>,
        #[asn1(context_specific = "0", optional = "true")]
        parameters: Option<ObjectIdentifier>,
        #[asn1(context_specific = "1", optional = "true")]
        _public_key: Option<der::asn1::BitStringRef<'a>>,
    }
    let key = EcPrivateKey::from_der(der).map_err(|e| KeyError::Rejected(format!("SEC1: {e}")))?;
    key.parameters
        .ok_or_else(|| KeyError::Rejected("SEC1 key without curve parameters".into()))
}

#[derive(der::Sequence)]
struct Pkcs8<'a> {
    _version: u8,
    algorithm: spki::AlgorithmIdentifierRef<'a>,
    private_key: der::asn1::AnyRef<'a>,
}

/// The algorithm OID and, for EC keys, the curve OID of a PKCS#8 key.
fn pkcs8_algorithm(der: &[u8]) -> Result<(ObjectIdentifier, Option<ObjectIdentifier>), KeyError> {
    let info = Pkcs8::from_der_partial(der)?;
    let curve = info
        .algorithm
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    Ok((info.algorithm.oid, curve))
}

fn pkcs8_inner_key(der: &[u8]) -> Result<Vec<u8>, KeyError> {
    Ok(Pkcs8::from_der_partial(der)?.private_key.value().to_vec())
}

impl<'a> Pkcs8<'a> {
    /// PKCS#8 v2 adds optional trailing fields; only the first three matter here.
    fn from_der_partial(der: &'a [u8]) -> Result<Self, KeyError> {
        let err = |e: der::Error| KeyError::Rejected(format!("PKCS#8: {e}"));
        let mut reader = der::SliceReader::new(der).map_err(err)?;
        use der::Reader;
        reader
            .sequence(|r: &mut der::SliceReader<'a>| {
                let version = u8::decode(r)?;
                let algorithm = spki::AlgorithmIdentifierRef::decode(r)?;
                let private_key = der::asn1::AnyRef::decode(r)?;
                r.read_slice(r.remaining_len())?;
                Ok(Self {
                    _version: version,
                    algorithm,
                    private_key,
                })
            })
            .map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_round_trip_and_empty_is_default() {
        for alg in KeyAlgorithm::ALL {
            assert_eq!(alg.as_str().parse::<KeyAlgorithm>().unwrap(), alg);
        }
        assert_eq!("".parse::<KeyAlgorithm>().unwrap(), KeyAlgorithm::Rsa2048);
        let err = "RSA-1024".parse::<KeyAlgorithm>().unwrap_err();
        assert!(err.to_string().contains("\"RSA-1024\""), "{err}");
    }

    #[test]
    fn every_algorithm_generates_saves_loads_and_signs() {
        for alg in [
            KeyAlgorithm::Rsa2048,
            KeyAlgorithm::EcdsaP256,
            KeyAlgorithm::EcdsaP384,
            KeyAlgorithm::Ed25519,
        ] {
            let key = PrivateKey::generate(alg).unwrap();
            assert_eq!(key.algorithm(), alg);
            let pem = key.to_pem();
            let label = match alg {
                KeyAlgorithm::Ed25519 => "-----BEGIN PRIVATE KEY-----",
                KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => "-----BEGIN EC PRIVATE KEY-----",
                _ => "-----BEGIN RSA PRIVATE KEY-----",
            };
            assert!(pem.starts_with(label), "{alg}: {}", &pem[..40]);
            let again = PrivateKey::from_pem(pem.as_bytes()).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.public_key_der(), key.public_key_der());
            assert_eq!(*again.to_pem(), *pem, "{alg}: save is stable");
            assert!(!key.sign(b"message").unwrap().is_empty());
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let debug = format!("{key:?}");
        assert_eq!(debug, "PrivateKey { algorithm: EcdsaP256, key: \"[redacted]\" }");
    }

    #[test]
    fn garbage_is_a_typed_error() {
        assert_eq!(PrivateKey::from_pem(b"").unwrap_err(), KeyError::NoPrivateKey);
        let bad = pem::encode("RSA PRIVATE KEY", b"\x30\x03\x02\x01\x00");
        assert!(matches!(
            PrivateKey::from_pem(bad.as_bytes()).unwrap_err(),
            KeyError::Rejected(_)
        ));
        let cert_only = pem::encode("CERTIFICATE", b"\x30\x00");
        assert_eq!(
            PrivateKey::from_pem(cert_only.as_bytes()).unwrap_err(),
            KeyError::NoPrivateKey
        );
    }
}
