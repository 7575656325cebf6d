//! k3s join tokens, read for migration: `K10<CA hash>::<credentials>`, as k3s's
//! `pkg/clientaccess/token.go` parses them (a bare password or bootstrap token is accepted too,
//! with no CA hash).
//!
//! What the k3s hash means for trust: it is SHA-256 over the bytes of the CA *file* the server
//! hands out at `/cacerts` (for a single certificate, the PEM text itself; for a bundle, the
//! DER of the root that the bundle's first certificate chains to). It is not a key pin:
//! re-encoding the same certificate (line endings, a comment, re-issuing the CA with the same
//! key) changes the hash, and the node must download the file before it can check anything.
//! A kubeadm pin covers the SubjectPublicKeyInfo alone. So a k3s token cannot be turned into
//! pins by itself: [`K3sToken::to_join_token`] takes the CA bundle, checks it against the
//! token's hash exactly as k3s does, and only then pins the keys of that bundle. The trust is
//! the same at that moment; afterwards the pins survive a re-encoded or re-issued CA with the
//! same key, where the k3s hash would not.

use std::fmt;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_pki::{CaCertHash, Certificate, verify_chain};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, JoinToken, PinSet};

const PREFIX: &str = "K10";
const HASH_HEX_LEN: usize = 64;

/// A parsed k3s token. No `Display`; `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct K3sToken {
    ca_hash: Option<String>,
    credentials: K3sCredentials,
}

/// What a k3s token authenticates with.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum K3sCredentials {
    /// A kubeadm-style bootstrap token `id.secret` (`k3s token create`): usable for a
    /// kubeadm-style join.
    BootstrapToken(BootstrapToken),
    /// k3s's own `user:password` (the server token): meaningful only to a k3s supervisor.
    Password {
        /// The user name (empty for a bare password).
        user: String,
        /// The password.
        password: Zeroizing<String>,
    },
}

impl K3sToken {
    /// The CA hash, lower-case hex, when the token carries one.
    pub fn ca_hash(&self) -> Option<&str> {
        self.ca_hash.as_deref()
    }

    /// The credentials.
    pub fn credentials(&self) -> &K3sCredentials {
        &self.credentials
    }

    /// k3s's `hashCA` of a CA bundle file: SHA-256 of the file's bytes when it holds one
    /// certificate, else of the DER of the root its first certificate chains to (the raw
    /// bytes again when it chains to none), in lower-case hex.
    ///
    /// # Errors
    /// [`Error::K3sCaBundle`] when the file holds no parsable certificate.
    pub fn hash_ca(bundle_pem: &[u8]) -> Result<String, Error> {
        let certs = Certificate::chain_from_pem(bundle_pem).map_err(Error::K3sCaBundle)?;
        let hashed = match certs.split_first() {
            Some((first, rest)) if !rest.is_empty() => {
                root_of(first, rest).map_or(bundle_pem, Certificate::der)
            }
            _ => bundle_pem,
        };
        Ok(Sha256::digest(hashed)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect())
    }

    /// The one-string join token for this k3s token and the cluster's CA bundle: the bundle
    /// must match the token's CA hash (k3s's own check), the credentials must be a bootstrap
    /// token, and the pins are those of every certificate in the bundle.
    ///
    /// # Errors
    /// [`Error::K3sNoCaHash`] (nothing to check the bundle against),
    /// [`Error::K3sPasswordCredentials`], [`Error::K3sCaBundle`],
    /// [`Error::K3sCaHashMismatch`].
    pub fn to_join_token(&self, bundle_pem: &[u8]) -> Result<JoinToken, Error> {
        let expected = self.ca_hash.as_deref().ok_or(Error::K3sNoCaHash)?;
        let K3sCredentials::BootstrapToken(token) = &self.credentials else {
            return Err(Error::K3sPasswordCredentials);
        };
        let found = Self::hash_ca(bundle_pem)?;
        if found != expected {
            return Err(Error::K3sCaHashMismatch {
                expected: expected.to_owned(),
                found,
            });
        }
        let certs = Certificate::chain_from_pem(bundle_pem).map_err(Error::K3sCaBundle)?;
        let pins = PinSet::new(certs.iter().map(CaCertHash::of_certificate))?;
        Ok(JoinToken::new(token.clone(), pins))
    }
}

/// The first of `rest` that is a root (no authority key id, or its own) and that `first`
/// chains to, through the others; k3s asks Go's `x509.Verify` the same.
fn root_of<'a>(first: &Certificate, rest: &'a [Certificate]) -> Option<&'a Certificate> {
    let is_root = |cert: &Certificate| {
        let authority = cert.authority_key_id();
        authority.is_none() || authority == cert.subject_key_id()
    };
    let (roots, intermediates): (Vec<&Certificate>, Vec<&Certificate>) =
        rest.iter().partition(|c| is_root(c));
    let intermediates: Vec<Certificate> = intermediates.into_iter().cloned().collect();
    roots
        .into_iter()
        .find(|root| verify_chain(first, &intermediates, std::slice::from_ref(*root)))
}

impl std::str::FromStr for K3sToken {
    type Err = Error;

    /// k3s's parse: `K10<64 hex or nothing>::<credentials>`, or bare credentials; the
    /// credentials are a bootstrap token if they parse as one, else `user:password` with a
    /// non-empty password. No error repeats the input.
    fn from_str(text: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::K3sToken { reason };
        if text.is_empty() {
            return Err(invalid("the token is empty"));
        }
        let Some(rest) = text.strip_prefix(PREFIX) else {
            // Without the prefix k3s takes the whole text as a bootstrap token or, failing
            // that, as a password with an empty user (even when it holds a colon).
            let credentials = match text.parse::<BootstrapToken>() {
                Ok(token) => K3sCredentials::BootstrapToken(token),
                Err(_) => K3sCredentials::Password {
                    user: String::new(),
                    password: Zeroizing::new(text.to_owned()),
                },
            };
            return Ok(Self {
                ca_hash: None,
                credentials,
            });
        };
        let (ca_hash, credentials) = rest.split_once("::").unwrap_or(("", rest));
        let ca_hash = match ca_hash {
            "" => None,
            hash if hash.len() == HASH_HEX_LEN && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(hash.to_ascii_lowercase())
            }
            _ => return Err(invalid("the CA hash is not 64 hexadecimal digits")),
        };
        let credentials = match credentials.parse::<BootstrapToken>() {
            Ok(token) => K3sCredentials::BootstrapToken(token),
            Err(_) => match credentials.split_once(':') {
                Some((user, password)) if !password.is_empty() => K3sCredentials::Password {
                    user: user.to_owned(),
                    password: Zeroizing::new(password.to_owned()),
                },
                _ => {
                    return Err(invalid(
                        "the credentials are neither a bootstrap token nor user:password",
                    ));
                }
            },
        };
        Ok(Self { ca_hash, credentials })
    }
}

impl fmt::Debug for K3sToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("K3sToken")
            .field("ca_hash", &self.ca_hash)
            .field("credentials", &self.credentials)
            .finish()
    }
}

impl fmt::Debug for K3sCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BootstrapToken(token) => f.debug_tuple("BootstrapToken").field(token).finish(),
            Self::Password { user, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}
