//! Why a join failed: which phase, and that phase's own typed error naming the failed check.

use std::fmt;
use std::path::PathBuf;

use kubetrust_csr_bootstrap::bootstrap::BootstrapError;

/// The phases of a join, named as kubeadm's phase lines name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading the configuration.
    Config,
    /// Checks before anything touches the network or the disk.
    Preflight,
    /// Finding and trusting the control plane.
    Discovery,
    /// The TLS bootstrap: CSR, approval, certificate, `kubelet.conf`.
    KubeletStart,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Config => "config",
            Self::Preflight => "preflight",
            Self::Discovery => "discovery",
            Self::KubeletStart => "kubelet-start",
        })
    }
}

/// A failed preflight check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// The node name cannot become `system:node:<name>`.
    #[error("node name {name:?} is not a lowercase RFC 1123 subdomain")]
    InvalidNodeName {
        /// The name.
        name: String,
    },
    /// kubeadm's `FileAvailable` check: a join never overwrites a kubelet's credentials.
    #[error("{path:?} already exists: this node has joined before (run reset first)")]
    AlreadyJoined {
        /// The existing `kubelet.conf`.
        path: PathBuf,
    },
}

/// Why a join failed. Nothing credential-bearing is left behind: no `kubelet.conf`, no stored
/// certificate, no pending key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JoinError {
    /// The JoinConfiguration is invalid.
    #[error("[config] invalid join configuration")]
    Config(#[source] kubetrust_discovery::Error),
    /// A preflight check failed.
    #[error("[preflight] {0}")]
    Preflight(#[from] PreflightError),
    /// Discovery failed: the control plane was not found or not trusted.
    #[error("[discovery] the control plane could not be discovered and trusted")]
    Discovery(#[source] kubetrust_discovery::Error),
    /// The TLS bootstrap failed: no certificate was issued, or it was refused.
    #[error("[kubelet-start] the TLS bootstrap failed")]
    TlsBootstrap(#[source] BootstrapError),
}

impl JoinError {
    /// The phase that failed.
    pub fn phase(&self) -> Phase {
        match self {
            Self::Config(_) => Phase::Config,
            Self::Preflight(_) => Phase::Preflight,
            Self::Discovery(_) => Phase::Discovery,
            Self::TlsBootstrap(_) => Phase::KubeletStart,
        }
    }
}
