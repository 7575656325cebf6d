//! kubeadm discovery, the node's half of the join's trust: is this `cluster-info` signed
//! with my bootstrap token, and is its CA the one I pinned?
//!
//! [`validate`] is the whole decision as a pure function — no I/O, no clock, no tokio — so a
//! tool can run it on a ConfigMap it fetched any way it likes. Each failed check is its own
//! [`Error`] variant; [`Error::is_retryable`] says whether polling again can help. That one
//! [`Error`] serves the whole crate: the checks of [`validate`] (no feature needed), and with
//! the `kube` feature the network steps of token discovery and of file / HTTPS discovery. Trust is
//! either a non-empty [`PinSet`] or the explicit [`Trust::UnsafeSkipCaVerification`]: an
//! empty pin list is an error, never a silent skip.
//!
//! With the `kube` feature, `token` runs kubeadm's token discovery over the network and
//! `file` its file / HTTPS discovery; [`DiscoveryConfig`] reads the `discovery` section of a
//! kubeadm JoinConfiguration.
#![cfg_attr(feature = "kube", doc = "\nSee [`token`] and [`file`](mod@file).")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod config;
mod error;
#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod file;
mod join_token;
mod k3s_token;
#[cfg(feature = "kube")]
mod timing;
#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod token;
mod trust;
mod validate;

pub use config::{DEFAULT_DISCOVERY_TIMEOUT, DiscoveryConfig, DiscoveryMethod};
pub use error::Error;
pub use join_token::{JOIN_TOKEN_PREFIX, JoinToken, MAX_JOIN_TOKEN_PINS};
pub use k3s_token::{K3sCredentials, K3sToken};
#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub use timing::{DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETRY_INTERVAL, DEFAULT_TIMEOUT, Timing};
pub use trust::{PinSet, Trust};
pub use validate::{
    CaCertificate, ClusterInfoData, JWS_KEY_PREFIX, KUBECONFIG_KEY, ValidatedClusterInfo, validate,
};
