//! The crate's one error type: each variant names the Secret (and data key) or file that
//! failed, never its content.

use std::path::PathBuf;

/// Why a Cluster API PKI operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Secret that must exist is not among those given.
    #[error("Secret {name} not found")]
    MissingSecret {
        /// The Secret's name.
        name: String,
    },
    /// The Secret lacks a required data key.
    #[error("Secret {secret} has no data key {key:?}")]
    MissingData {
        /// The Secret's name.
        secret: String,
        /// The missing key (`tls.crt`, `tls.key`, `value`).
        key: &'static str,
    },
    /// A data key that should hold PEM certificates does not.
    #[error("Secret {secret} key {key:?}: unreadable certificate PEM")]
    Certificate {
        /// The Secret's name.
        secret: String,
        /// The data key.
        key: &'static str,
        /// Why it does not parse.
        #[source]
        source: kubetrust_pki::CertError,
    },
    /// A data key that should hold a private key PEM does not (the key is never quoted).
    #[error("Secret {secret} key {key:?}: unreadable private key PEM")]
    PrivateKey {
        /// The Secret's name.
        secret: String,
        /// The data key.
        key: &'static str,
        /// Why it does not load.
        #[source]
        source: kubetrust_pki::KeyError,
    },
    /// The service-account Secret's `tls.crt` is not a `PUBLIC KEY` PEM.
    #[error("Secret {secret} key {key:?}: no PUBLIC KEY PEM block")]
    PublicKey {
        /// The Secret's name.
        secret: String,
        /// The data key.
        key: &'static str,
    },
    /// The first certificate of `tls.crt` is not a CA certificate.
    #[error("Secret {secret} key {key:?}: the first certificate ({subject}) is not a CA")]
    NotACa {
        /// The Secret's name.
        secret: String,
        /// The data key.
        key: &'static str,
        /// The certificate's subject.
        subject: String,
    },
    /// `tls.key` is not the key of `tls.crt` (its certificate, or its public key for `sa`).
    #[error("Secret {secret}: {TLS_KEY:?} does not match {TLS_CRT:?}", TLS_KEY = crate::TLS_KEY, TLS_CRT = crate::TLS_CRT)]
    KeyMismatch {
        /// The Secret's name.
        secret: String,
    },
    /// The kubeconfig in a Secret does not load.
    #[error("Secret {secret} key {key:?}: unreadable kubeconfig")]
    Kubeconfig {
        /// The Secret's name.
        secret: String,
        /// The data key.
        key: &'static str,
        /// Why it does not load.
        #[source]
        source: Box<kubetrust_kubeconfig::Error>,
    },
    /// A user's embedded client certificate in the kubeconfig does not parse.
    #[error("Secret {secret}: user {user:?} has an unreadable client certificate")]
    ClientCertificate {
        /// The Secret's name.
        secret: String,
        /// The kubeconfig user.
        user: String,
        /// Why it does not parse.
        #[source]
        source: kubetrust_pki::CertError,
    },
    /// `sa.pub` is not the public key of `sa.key`.
    #[error("{pub_path:?} is not the public key of {key_path:?}")]
    SaPubMismatch {
        /// `sa.pub`.
        pub_path: PathBuf,
        /// `sa.key`.
        key_path: PathBuf,
    },
    /// A file to write exists with other content; it is never overwritten.
    #[error("{path:?} exists with different content; refusing to overwrite it")]
    FileDiffers {
        /// The existing file.
        path: PathBuf,
    },
    /// Secrets could not be written as YAML.
    #[error("cannot render Secrets as YAML: {0}")]
    Yaml(String),
    /// A PKI operation (key generation, signing, loading from files) failed.
    #[error(transparent)]
    Pki(Box<kubetrust_pki::Error>),
    /// A file-system operation failed.
    #[error(transparent)]
    Fs(#[from] kubetrust_fs::Error),
}

impl From<kubetrust_pki::Error> for Error {
    fn from(error: kubetrust_pki::Error) -> Self {
        Self::Pki(Box::new(error))
    }
}
