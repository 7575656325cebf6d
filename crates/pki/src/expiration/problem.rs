//! What the inventory finds wrong with a certificate: one variant per check, so a caller can
//! act on it; `Display` is the text of the `[check-expiration] WARNING` lines.

use std::fmt;
use std::path::PathBuf;

use crate::Error;

/// One thing wrong with an inventory row.
#[derive(Debug)]
#[non_exhaustive]
pub enum Problem {
    /// The certificate, key or kubeconfig cannot be read or parsed.
    Unreadable(Error),
    /// Past NotAfter.
    Expired,
    /// Before NotBefore.
    NotYetValid,
    /// A CA row whose certificate is not a CA.
    NotACa,
    /// The certificate's key file is missing.
    KeyMissing {
        /// The key file.
        path: PathBuf,
    },
    /// The key file does not hold the certificate's key.
    KeyMismatch {
        /// The key file.
        path: PathBuf,
    },
    /// A kubeconfig's `client-key-data` is not its certificate's key.
    ClientKeyMismatch,
    /// The issuing CA is missing, so the chain cannot be checked.
    CaMissing {
        /// The CA's name.
        ca: String,
    },
    /// The certificate does not chain to its CA.
    NotSignedBy {
        /// The CA's name.
        ca: String,
    },
    /// A serving certificate does not cover a SAN this node needs.
    MissingSan(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(error) => write!(f, "{error}"),
            Self::Expired => f.write_str("expired"),
            Self::NotYetValid => f.write_str("not valid yet"),
            Self::NotACa => f.write_str("not a CA (BasicConstraints CA:TRUE missing)"),
            Self::KeyMissing { path } => write!(f, "key {} is missing", path.display()),
            Self::KeyMismatch { path } => {
                write!(f, "key {} does not match the certificate", path.display())
            }
            Self::ClientKeyMismatch => f.write_str("client-key-data does not match the certificate"),
            Self::CaMissing { ca } => write!(f, "CA {ca} is missing, so the chain cannot be checked"),
            Self::NotSignedBy { ca } => write!(f, "not signed by {ca}"),
            Self::MissingSan(san) => write!(f, "missing SAN {san}"),
        }
    }
}
