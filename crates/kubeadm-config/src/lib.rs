//! kubeadm's config API, read once for the whole workspace.
//!
//! An installer hands kubeadm a `--config` file; kubetrust reads the same file. This crate is
//! the one reader of it — `InitConfiguration`, `JoinConfiguration`, `ClusterConfiguration` in
//! `kubeadm.k8s.io/v1beta4` or `v1beta3`, YAML or JSON, one or several `---`-separated
//! documents — and the one home of the field rules that several crates apply: `host:port`
//! endpoints and DNS-1123 names ([`net`]) and Go durations ([`parse_duration`]). The PKI crate
//! turns a [`ConfigFile`] into its tree settings, the discovery crate into its discovery
//! settings; both get the same answer for the same field.
//!
//! Errors name the document kind and the field, and never quote the file: its lines hold
//! bootstrap tokens and certificate keys.
//!
//! ```
//! use kubetrust_kubeadm_config::ConfigFile;
//! let file = ConfigFile::from_text(
//!     "apiVersion: kubeadm.k8s.io/v1beta4
//! kind: JoinConfiguration
//! discovery:
//!   bootstrapToken:
//!     apiServerEndpoint: 10.0.0.10:6443
//!     token: abcdef.0123456789abcdef
//!     caCertHashes: [sha256:0123]
//! ",
//! )?;
//! let join = file.join.expect("a JoinConfiguration");
//! let endpoint = join.discovery.bootstrap_token.and_then(|b| b.api_server_endpoint);
//! assert_eq!(endpoint.map(|e| e.to_string()).as_deref(), Some("10.0.0.10:6443"));
//! # Ok::<(), kubetrust_kubeadm_config::Error>(())
//! ```

#![forbid(unsafe_code)]

mod document;
mod duration;
mod error;
pub mod net;
mod types;

use std::path::Path;

pub use document::GROUP;
pub use duration::{DurationError, parse_duration};
pub use error::Error;
pub use types::{
    ApiEndpoint, ApiServer, BootstrapTokenDiscovery, ClusterConfiguration, Discovery, Etcd, FileDiscovery,
    GoDuration, InitConfiguration, JoinConfiguration, JoinControlPlane, LocalEtcd, Networking,
    NodeRegistration,
};

/// The kubeadm API versions this crate reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiVersion {
    /// `kubeadm.k8s.io/v1beta3` (kubeadm 1.22 – 1.30 writes it; still read).
    V1beta3,
    /// `kubeadm.k8s.io/v1beta4` (kubeadm 1.31 and later).
    #[default]
    V1beta4,
}

/// The kubeadm documents of one config file. Kinds of other API groups are skipped; each
/// kubeadm kind may appear once.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ConfigFile {
    /// The `InitConfiguration`, if the file has one.
    pub init: Option<InitConfiguration>,
    /// The `JoinConfiguration`, if the file has one.
    pub join: Option<JoinConfiguration>,
    /// The `ClusterConfiguration`, if the file has one.
    pub cluster: Option<ClusterConfiguration>,
}

impl ConfigFile {
    /// Reads a kubeadm config file; errors name the file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_text(&text).map_err(|e| e.in_file(path.to_owned()))
    }

    /// Parses kubeadm config documents (YAML or JSON).
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let mut file = Self::default();
        for document in document::split(text)? {
            let version = document.version;
            match document.kind.as_str() {
                "InitConfiguration" => {
                    let mut init: InitConfiguration = document::decode("InitConfiguration", document.body)?;
                    init.api_version = version;
                    file.init = Some(init);
                }
                "JoinConfiguration" => {
                    let join: JoinConfiguration = document::decode("JoinConfiguration", document.body)?;
                    file.join = Some(join.normalize(version));
                }
                "ClusterConfiguration" => {
                    let cluster: ClusterConfiguration =
                        document::decode("ClusterConfiguration", document.body)?;
                    file.cluster = Some(cluster.normalize(version));
                }
                // kubeadm's other kinds configure commands kubetrust does not have.
                "UpgradeConfiguration" | "ResetConfiguration" => {}
                _ => {
                    return Err(Error::UnknownKind {
                        kind: document.kind,
                        api_version: format!("{GROUP}/{}", version.as_str()),
                    });
                }
            }
        }
        Ok(file)
    }

    /// Whether the file holds none of the three kinds kubetrust reads.
    pub fn is_empty(&self) -> bool {
        self.init.is_none() && self.join.is_none() && self.cluster.is_none()
    }
}

impl ApiVersion {
    /// `v1beta3` or `v1beta4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1beta3 => "v1beta3",
            Self::V1beta4 => "v1beta4",
        }
    }
}
