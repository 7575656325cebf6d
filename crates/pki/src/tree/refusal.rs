//! Why the plan refuses an existing certificate, key or `sa` pair: one variant per failed
//! check, so a caller can act on it; `Display` gives kubeadm's wording where it has one.

use std::fmt;
use std::path::PathBuf;

use crate::Error;

/// Why existing files cannot be used as they are.
#[derive(Debug)]
#[non_exhaustive]
pub enum Refusal {
    /// A certificate or key file that cannot be read or parsed.
    Unreadable(Error),
    /// The CA certificate is not a CA.
    NotACa {
        /// kubeadm's file base name (`ca`, `etcd/ca`, ...).
        base_name: &'static str,
    },
    /// The CA key is not the CA certificate's key.
    CaKeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
    /// A leaf is missing and its CA has no key here, so it cannot be generated.
    MissingUnderExternalCa {
        /// The CA's name.
        ca: &'static str,
        /// The certificate to provide.
        cert: PathBuf,
        /// The key to provide.
        key: PathBuf,
    },
    /// The leaf's key is not its certificate's key.
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
    },
    /// A leaf exists but its CA does not, so it cannot have been signed by the CA to come.
    CaToBeCreated {
        /// The CA's name.
        ca: &'static str,
    },
    /// A leaf to create alone whose CA is missing or refused, so nothing can sign it.
    CaUnusable {
        /// The CA's name.
        ca: &'static str,
    },
    /// The leaf does not chain to its CA.
    NotSignedByCa {
        /// kubeadm's file base name.
        base_name: &'static str,
    },
    /// The leaf does not cover a SAN the config requires.
    MissingSan {
        /// kubeadm's file base name.
        base_name: &'static str,
        /// The first DNS name or IP not covered.
        san: String,
    },
    /// `sa.pub` exists without `sa.key`.
    SaPubWithoutKey,
    /// `sa.key` exists but cannot be read or parsed.
    SaKeyUnloadable(Error),
    /// `sa.pub` is not the public half of `sa.key`.
    SaPubMismatch,
    /// `sa.key` exists but `sa.pub` cannot be read.
    SaPubUnreadable(Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(error) => write!(f, "{error}"),
            Self::NotACa { base_name } => write!(f, "certificate {base_name} is not a CA"),
            Self::CaKeyMismatch { key, cert } => write!(
                f,
                "{} does not match the public key of {}",
                key.display(),
                cert.display()
            ),
            Self::MissingUnderExternalCa { ca, cert, key } => write!(
                f,
                "missing, and its CA {ca} has no key (external CA mode): provide {} and {} signed by the external CA",
                cert.display(),
                key.display()
            ),
            Self::KeyMismatch { cert } => {
                write!(f, "the key does not match the public key of {}", cert.display())
            }
            Self::CaToBeCreated { ca } => write!(
                f,
                "exists but its CA {ca} is about to be created, so it cannot be signed by it; remove it or provide the CA"
            ),
            Self::CaUnusable { ca } => write!(
                f,
                "its CA {ca} is missing or unusable; create it first (`init phase certs {ca}`)"
            ),
            Self::NotSignedByCa { base_name } => {
                write!(f, "certificate {base_name} is not signed by corresponding CA")
            }
            Self::MissingSan { base_name, san } => {
                write!(f, "certificate {base_name} is invalid: it is not valid for {san}")
            }
            Self::SaPubWithoutKey => f.write_str("sa.pub exists without sa.key; remove it or provide sa.key"),
            Self::SaKeyUnloadable(_) => {
                f.write_str("file sa.key existed but it could not be loaded properly")
            }
            Self::SaPubMismatch => f.write_str("sa.pub is not the public key of sa.key"),
            Self::SaPubUnreadable(_) => {
                f.write_str("sa.pub is missing or unreadable; kubeadm needs both sa.key and sa.pub")
            }
        }
    }
}
