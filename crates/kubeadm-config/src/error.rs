//! The crate's one error type: one variant per failed check. No variant quotes the file's text:
//! kubeadm config files hold bootstrap tokens and certificate keys.

use std::path::PathBuf;

/// Why a kubeadm config file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read kubeadm config {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS reason.
        source: std::io::Error,
    },
    /// An error in a named file (the other variants, with the path in front).
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        source: Box<Error>,
    },
    /// Not YAML or JSON. The reason gives the position, never the text around it.
    #[error("not YAML or JSON: {reason}")]
    Syntax {
        /// The parser's reason and position.
        reason: String,
    },
    /// A document without `apiVersion` or `kind` (kubeadm's "mandatory information").
    #[error("document {document}: kind and apiVersion is mandatory information that must be specified")]
    MissingTypeMeta {
        /// The document's number in the file, from 1.
        document: usize,
    },
    /// An API version kubeadm no longer reads.
    #[error(
        "your configuration file uses an old API spec: {api_version:?}; migrate it with \
         'kubeadm config migrate' to kubeadm.k8s.io/v1beta4"
    )]
    OldApiVersion {
        /// The document's `apiVersion`.
        api_version: String,
    },
    /// A `kubeadm.k8s.io` version this crate does not know.
    #[error("unknown kubeadm API version {api_version:?}: want kubeadm.k8s.io/v1beta4 or v1beta3")]
    UnknownApiVersion {
        /// The document's `apiVersion`.
        api_version: String,
    },
    /// A kubeadm kind this crate does not read (`UpgradeConfiguration`, `ResetConfiguration`...).
    #[error("kind {kind:?} of {api_version} is not a kubeadm configuration kubetrust reads")]
    UnknownKind {
        /// The document's `kind`.
        kind: String,
        /// The document's `apiVersion`.
        api_version: String,
    },
    /// The same kind twice.
    #[error("invalid configuration: kind {kind:?} is specified twice in YAML file")]
    DuplicateKind {
        /// The repeated kind.
        kind: String,
    },
    /// A field with the wrong type or an invalid value.
    #[error("{kind}.{field}: {reason}")]
    Field {
        /// The document's kind.
        kind: &'static str,
        /// The field's path, e.g. `discovery.bootstrapToken.apiServerEndpoint`.
        field: String,
        /// What is wrong (never the value of a secret field).
        reason: String,
    },
}

impl Error {
    pub(crate) fn in_file(self, path: PathBuf) -> Self {
        match self {
            Self::Read { .. } | Self::InFile { .. } => self,
            other => Self::InFile {
                path,
                source: Box::new(other),
            },
        }
    }
}
