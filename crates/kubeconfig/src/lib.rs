//! The kubeconfig file, as client-go defines it, without losing anything.
//!
//! kubetrust reads users' kubeconfigs and writes kubeadm's. This crate models the whole
//! clientcmd v1 schema ([`Config`]) and:
//!
//! - **loads** YAML or JSON leniently, as client-go does, and keeps fields it does not know
//!   (kubectl drops them); errors name the file and the field ([`Config::from_bytes`],
//!   [`Config::from_file`], [`Config::from_files`] for `KUBECONFIG` lists);
//! - **resolves** a context to its cluster and user with referenced files read in and checked
//!   ([`Config::resolve`]), and does `kubectl config view --minify --flatten`
//!   ([`Config::minify`], [`Config::flatten`], [`view`]);
//! - **builds** the shapes kubeadm and the kubelet write ([`Config::for_user`],
//!   [`Config::bootstrap_token`], [`Config::cluster_info`], [`Config::kubelet_rotating`],
//!   [`Config::kubelet_bootstrapped`]);
//! - **saves** deterministic YAML, byte for byte what client-go writes, atomically with mode
//!   0600 ([`Config::save`]);
//! - converts into `kube::config::Kubeconfig` with the `kube` feature (`Config::to_kube`).
//!
//! Tokens, passwords and keys are held in [`SecretString`] / [`SecretBytes`]: zeroized on drop,
//! `[redacted]` in `Debug`.
//!
//! ```
//! use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretBytes};
//! # let dir = tempfile::tempdir().unwrap();
//! let endpoint = ClusterEndpoint::new("https://10.0.0.10:6443", b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n".to_vec());
//! let credentials = ClientCredentials::EmbeddedCertificate {
//!     certificate_pem: b"-----BEGIN CERTIFICATE-----\nBAUG\n-----END CERTIFICATE-----\n".to_vec(),
//!     key_pem: SecretBytes::new(b"-----BEGIN EC PRIVATE KEY-----\nBwgJ\n-----END EC PRIVATE KEY-----\n".to_vec()),
//! };
//! let admin = Config::for_user(&endpoint, "kubernetes-admin", credentials);
//! admin.save(dir.path().join("admin.conf"))?;
//!
//! let loaded = Config::from_file(dir.path().join("admin.conf"))?;
//! assert_eq!(loaded, admin);
//! let resolved = loaded.resolve(None)?;
//! assert_eq!(resolved.context_name, "kubernetes-admin@kubernetes");
//! # Ok::<(), kubetrust_kubeconfig::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builders;
mod error;
mod fast_yaml;
mod general_yaml;
mod json;
#[cfg(feature = "kube")]
mod kube;
mod load;
mod model;
pub mod pem;
mod resolve;
mod save;
mod secret;
mod serde_util;
mod view;
mod yaml;

pub use builders::{
    BOOTSTRAP_TOKEN_USER, ClientCredentials, ClusterEndpoint, DEFAULT_CLUSTER_NAME, KUBELET_CLIENT_CURRENT,
    KUBELET_CLIENT_CURRENT_FILE, KUBELET_PKI_DIR,
};
pub use error::{Error, Source};
pub use model::{
    AuthInfo, AuthProviderConfig, Cluster, Config, Context, ExecConfig, ExecEnvVar, NamedAuthInfo,
    NamedCluster, NamedContext, NamedExtension, Preferences, UnknownFields,
};
pub use resolve::Resolved;
pub use secret::{SecretBytes, SecretString};
pub use view::{OutputFormat, ViewOptions, view};
