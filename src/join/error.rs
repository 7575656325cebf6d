//! Why a join failed: which phase, and that phase's own typed error naming the failed check.

use std::fmt;
use std::path::PathBuf;

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
    /// A control-plane join: the shared CAs and keys from `kubeadm-certs`, then this node's
    /// certificates and kubeconfig files.
    ControlPlanePrepare,
    /// The TLS bootstrap: CSR, approval, certificate, `kubelet.conf`.
    KubeletStart,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Config => "config",
            Self::Preflight => "preflight",
            Self::Discovery => "discovery",
            Self::ControlPlanePrepare => "control-plane-prepare",
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
    /// The control-plane certificates could not be prepared; nothing of that phase was left
    /// on disk.
    #[error("[control-plane-prepare] the control-plane certificates could not be prepared")]
    ControlPlanePrepare(#[source] Box<ControlPlaneError>),
    /// The TLS bootstrap failed: no certificate was issued, or it was refused.
    #[error("[kubelet-start] the TLS bootstrap failed")]
    TlsBootstrap(#[source] kubetrust_csr_bootstrap::Error),
}

impl JoinError {
    /// The phase that failed.
    pub fn phase(&self) -> Phase {
        match self {
            Self::Config(_) => Phase::Config,
            Self::Preflight(_) => Phase::Preflight,
            Self::Discovery(_) => Phase::Discovery,
            Self::ControlPlanePrepare(_) => Phase::ControlPlanePrepare,
            Self::TlsBootstrap(_) => Phase::KubeletStart,
        }
    }
}

/// Why the `kubeadm-certs` upload or the control-plane part of a join failed: one variant per
/// failed check. The certificate key and the decrypted files never appear here.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ControlPlaneError {
    /// The key does not open the Secret's values (authentication failed).
    #[error(
        "the certificate key does not decrypt kubeadm-certs: use the key printed by upload-certs, \
         or upload again with a new key"
    )]
    WrongKey(#[source] kubetrust_pki::Error),
    /// The Secret does not exist: never uploaded, or deleted with its token.
    #[error(
        "Secret kube-system/kubeadm-certs not found: it expires 2 h after upload-certs; on a \
         control-plane node run `kubetrust init phase upload-certs --kubeconfig F --cert-dir DIR` \
         (kubeadm: `kubeadm init phase upload-certs --upload-certs`) and join with the key it prints"
    )]
    SecretNotFound,
    /// The bootstrap token may not read the Secret.
    #[error(
        "the bootstrap token may not get Secret kube-system/kubeadm-certs (403): the RoleBinding \
         kubeadm:kubeadm-certs grants it to group system:bootstrappers:kubeadm:default-node-token; \
         re-run upload-certs and join with a token in that group"
    )]
    Forbidden(#[source] Box<kube::Error>),
    /// The Secret's `ca.crt` is not the CA discovery trusted.
    #[error(
        "Secret kube-system/kubeadm-certs belongs to another cluster: its ca.crt is not the CA \
         that discovery trusted"
    )]
    OtherCluster,
    /// The Secret lacks an entry or holds a malformed value.
    #[error("Secret kube-system/kubeadm-certs cannot be used")]
    Download(#[source] kubetrust_pki::Error),
    /// A shared file already exists with other contents.
    #[error("{path:?} already exists with other contents than kubeadm-certs holds (nothing was written)")]
    ExistingFileDiffers {
        /// The file.
        path: PathBuf,
    },
    /// An existing shared file cannot be read for the comparison.
    #[error("cannot read the existing {path:?}")]
    ReadExisting {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `kube-system/kubeadm-config` does not exist (kubeadm: "unable to fetch the kubeadm-config
    /// ConfigMap").
    #[error(
        "unable to fetch the kubeadm-config ConfigMap: ConfigMap kube-system/kubeadm-config not found \
         (or it has no ClusterConfiguration); `kubeadm init` uploads it (phase upload-config kubeadm)"
    )]
    KubeadmConfigNotFound,
    /// The bootstrap token may not read `kube-system/kubeadm-config`.
    #[error(
        "the bootstrap token may not get ConfigMap kube-system/kubeadm-config (403): the RoleBinding \
         kubeadm:nodes-kubeadm-config grants it to group system:bootstrappers:kubeadm:default-node-token; \
         join with a token in that group"
    )]
    KubeadmConfigForbidden(#[source] kubetrust_bootstrap_token::Error),
    /// `kube-system/kubeadm-config` could not be read.
    #[error("unable to fetch the kubeadm-config ConfigMap")]
    KubeadmConfigRead(#[source] kubetrust_bootstrap_token::Error),
    /// Its ClusterConfiguration cannot be used.
    #[error("ConfigMap kube-system/kubeadm-config holds no usable ClusterConfiguration")]
    KubeadmConfigInvalid(#[source] kubetrust_pki::Error),
    /// The discovered API server URL has no usable `host:port` for the certificates.
    #[error("the API server URL {server:?} has no https host:port to use as the control-plane endpoint")]
    Endpoint {
        /// The URL.
        server: String,
    },
    /// The bootstrap kubeconfig from discovery cannot be used.
    #[error("the bootstrap kubeconfig cannot be used")]
    BootstrapKubeconfig(#[source] kubetrust_kubeconfig::Error),
    /// No API client could be built from the bootstrap kubeconfig.
    #[error("cannot build an API client from the bootstrap kubeconfig")]
    Client(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An API call failed.
    #[error("{action} failed")]
    Api {
        /// The call.
        action: String,
        /// Why.
        source: Box<kube::Error>,
    },
    /// The token that owns `kubeadm-certs` could not be created.
    #[error("cannot create the bootstrap token that owns kubeadm-certs")]
    Token(#[source] kubetrust_bootstrap_token::Error),
    /// The files to upload cannot be read.
    #[error("cannot read the certificates to upload")]
    ReadCerts(#[source] kubetrust_pki::Error),
    /// Writing a shared file failed.
    #[error("cannot write the shared certificates and keys")]
    Write(#[source] kubetrust_fs::Error),
    /// This node's certificates could not be created (or existing ones do not fit).
    #[error("[certs] this node's certificates")]
    Certs(#[source] kubetrust_pki::Error),
    /// This node's kubeconfig files could not be created (or existing ones do not fit).
    #[error("[kubeconfig] this node's kubeconfig files")]
    Kubeconfigs(#[source] kubetrust_pki::Error),
}
