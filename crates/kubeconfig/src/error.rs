use std::fmt;
use std::path::PathBuf;

/// Where a kubeconfig being parsed came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// Bytes handed to [`crate::Config::from_bytes`].
    Bytes,
    /// A file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bytes => f.write_str("kubeconfig"),
            Self::File(path) => write!(f, "kubeconfig file {path:?}"),
        }
    }
}

/// Everything that can go wrong loading, resolving or saving a kubeconfig.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read kubeconfig file {path:?}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: kubetrust_fs::Error,
    },
    /// A directory was given where a kubeconfig file was expected.
    #[error("{path:?} is a directory, not a kubeconfig file")]
    IsADirectory {
        /// The directory.
        path: PathBuf,
    },
    /// The bytes are not UTF-8 text.
    #[error("{source_name}: not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Where the bytes came from.
        source_name: Source,
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The text is not valid YAML or JSON.
    #[error("{source_name}: not valid YAML or JSON: {message}")]
    Syntax {
        /// Where the text came from.
        source_name: Source,
        /// The parser's message, with the position.
        message: String,
    },
    /// The document is valid YAML but not a mapping (e.g. a list or a string).
    #[error("{source_name}: a kubeconfig must be a mapping, found {found}")]
    NotAMapping {
        /// Where the document came from.
        source_name: Source,
        /// What it was instead.
        found: &'static str,
    },
    /// A field has the wrong type or value (including an unsupported `apiVersion` or `kind`).
    #[error("{source_name}: field {field}: {message}")]
    Field {
        /// Where the document came from.
        source_name: Source,
        /// Path of the field, e.g. `clusters[0].cluster.insecure-skip-tls-verify`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// Two entries of a named list (`clusters`, `users`, `contexts`, any `extensions`) have
    /// the same name: client-go keeps them in maps and refuses the file.
    #[error("{source_name}: duplicate name {name:?} in {list}")]
    DuplicateName {
        /// Where the document came from.
        source_name: Source,
        /// Path of the list, e.g. `contexts` or `clusters[0].cluster.extensions`.
        list: String,
        /// The repeated name.
        name: String,
    },
    /// A `-data` field is not valid standard base64.
    #[error("{source_name}: field {field}: {reason}")]
    InvalidBase64 {
        /// Where the document came from.
        source_name: Source,
        /// Path of the field, e.g. `users[0].user.client-key-data`.
        field: String,
        /// Where the data went wrong.
        reason: String,
    },
    /// No context was named and `current-context` is empty.
    #[error("no context named and current-context is not set; name one with --context")]
    NoCurrentContext,
    /// The named context does not exist.
    #[error("context {name:?} not found (contexts: {available:?})")]
    UnknownContext {
        /// The context asked for.
        name: String,
        /// The contexts the kubeconfig has.
        available: Vec<String>,
    },
    /// A context names a cluster the kubeconfig does not define.
    #[error("context {context:?} refers to cluster {cluster:?}, which is not defined")]
    UnknownCluster {
        /// The context.
        context: String,
        /// The missing cluster.
        cluster: String,
    },
    /// A context names a user the kubeconfig does not define.
    #[error("context {context:?} refers to user {user:?}, which is not defined")]
    UnknownUser {
        /// The context.
        context: String,
        /// The missing user.
        user: String,
    },
    /// A file the kubeconfig refers to could not be read.
    #[error("cannot read {field} file {path:?}")]
    ReferencedFile {
        /// The field holding the path, e.g. `certificate-authority`.
        field: &'static str,
        /// The path, resolved against the kubeconfig's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: kubetrust_fs::Error,
    },
    /// A path in the kubeconfig names a directory, not a file.
    #[error("{field} {path:?} is a directory, not a file")]
    ReferencedDirectory {
        /// The field holding the path.
        field: &'static str,
        /// The path, resolved against the kubeconfig's directory.
        path: PathBuf,
    },
    /// Certificate or key data is not the PEM it must be.
    #[error("{field} of {owner:?} is not valid PEM: {reason}")]
    InvalidPem {
        /// `certificate-authority`, `client-certificate` or `client-key`.
        field: &'static str,
        /// The cluster or user it belongs to.
        owner: String,
        /// What is wrong.
        reason: crate::pem::PemError,
    },
    /// A user has a client certificate without a key, or a key without a certificate.
    #[error("user {user:?} has only half a client certificate: {missing} (or {missing}-data) is missing")]
    IncompleteClientCertificate {
        /// The user.
        user: String,
        /// `client-key` or `client-certificate`.
        missing: &'static str,
    },
    /// Flattening found a file path next to data already embedded for the same item;
    /// client-go's `FlattenConfig` refuses it rather than pick one.
    #[error("cannot flatten {field} of {owner:?}: both {field} and {field}-data are set; keep one")]
    PathAndData {
        /// `certificate-authority`, `client-certificate` or `client-key`.
        field: &'static str,
        /// The cluster or user it belongs to.
        owner: String,
    },
    /// The `tokenFile` does not hold text.
    #[error("tokenFile {path:?} does not hold UTF-8 text")]
    TokenFileNotText {
        /// The token file.
        path: PathBuf,
    },
    /// Writing the kubeconfig failed; the previous file, if any, is unchanged.
    #[error("cannot save kubeconfig")]
    Write(#[source] kubetrust_fs::Error),
    /// The model could not be converted into another representation.
    #[error("cannot convert kubeconfig: {0}")]
    Convert(String),
}
