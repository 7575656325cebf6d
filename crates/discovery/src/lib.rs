//! kubeadm discovery, the node's half of the join's trust: is this `cluster-info` signed
//! with my bootstrap token, and is its CA the one I pinned?
//!
//! [`validate`] is the whole decision as a pure function — no I/O, no clock, no tokio — so a
//! tool can run it on a ConfigMap it fetched any way it likes. Each failed check is its own
//! [`Error`] variant; [`Error::is_retryable`] says whether polling again can help. Trust is
//! either a non-empty [`PinSet`] or the explicit [`Trust::UnsafeSkipCaVerification`]: an
//! empty pin list is an error, never a silent skip.
#![forbid(unsafe_code)]

mod config;
mod error;
#[cfg(feature = "kube")]
pub mod token;
mod trust;
mod validate;

pub use config::{DEFAULT_DISCOVERY_TIMEOUT, DiscoveryConfig, DiscoveryMethod};
pub use error::Error;
pub use trust::{PinSet, Trust};
pub use validate::{
    CaCertificate, ClusterInfoData, JWS_KEY_PREFIX, KUBECONFIG_KEY, ValidatedClusterInfo, validate,
};
