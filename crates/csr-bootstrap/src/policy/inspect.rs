//! The parts of a PKCS#10 request that `kubetrust-pki`'s parser does not expose: email and URI
//! SANs (which it refuses to parse), `basicConstraints` in the extension request, the key type.

use std::fmt;

use der::Decode;
use der::asn1::ObjectIdentifier;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};

const OID_EXTENSION_REQUEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");
const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The type of the key a request certifies.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA, any size.
    Rsa,
    /// ECDSA on P-256 (the kubelet's default).
    EcdsaP256,
    /// ECDSA on P-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// Anything else, by algorithm OID (and curve OID for other EC curves).
    Other(String),
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa => f.write_str("RSA"),
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
            Self::EcdsaP384 => f.write_str("ECDSA P-384"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::Other(oid) => write!(f, "key algorithm {oid}"),
        }
    }
}

/// What [`inspect`] found.
#[derive(Debug)]
pub(crate) struct Extras {
    pub(crate) email_sans: bool,
    pub(crate) uri_sans: bool,
    pub(crate) ca: bool,
    pub(crate) key: KeyKind,
}

/// Reads the extras from a request's DER; the self-signature is not checked here.
pub(crate) fn inspect(der: &[u8]) -> Result<Extras, der::Error> {
    let request = x509_cert::request::CertReq::from_der(der)?;
    let mut extras = Extras {
        email_sans: false,
        uri_sans: false,
        ca: false,
        key: key_kind(&request.info.public_key.algorithm)?,
    };
    for attribute in request
        .info
        .attributes
        .iter()
        .filter(|a| a.oid == OID_EXTENSION_REQUEST)
    {
        for value in attribute.values.iter() {
            let extensions: Vec<x509_cert::ext::Extension> = value.decode_as()?;
            for ext in &extensions {
                if ext.extn_id == OID_SUBJECT_ALT_NAME {
                    for name in SubjectAltName::from_der(ext.extn_value.as_bytes())?.0 {
                        match name {
                            GeneralName::Rfc822Name(_) => extras.email_sans = true,
                            GeneralName::UniformResourceIdentifier(_) => extras.uri_sans = true,
                            _ => {}
                        }
                    }
                } else if ext.extn_id == OID_BASIC_CONSTRAINTS {
                    extras.ca |= BasicConstraints::from_der(ext.extn_value.as_bytes())?.ca;
                }
            }
        }
    }
    Ok(extras)
}

fn key_kind(algorithm: &x509_cert::spki::AlgorithmIdentifierOwned) -> Result<KeyKind, der::Error> {
    Ok(match algorithm.oid {
        OID_RSA => KeyKind::Rsa,
        OID_ED25519 => KeyKind::Ed25519,
        OID_EC => {
            let curve: ObjectIdentifier = match &algorithm.parameters {
                Some(any) => any.decode_as()?,
                None => return Ok(KeyKind::Other(OID_EC.to_string())),
            };
            match curve {
                OID_P256 => KeyKind::EcdsaP256,
                OID_P384 => KeyKind::EcdsaP384,
                other => KeyKind::Other(format!("{OID_EC} curve {other}")),
            }
        }
        other => KeyKind::Other(other.to_string()),
    })
}
