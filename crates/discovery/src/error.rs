//! Why a `cluster-info` was not trusted: one variant per check, in the order they run.

use kubetrust_pki::CaCertHash;

/// A failed discovery check. Messages start with kubeadm's text for the same check and add
/// what kubeadm hides; [`Error::is_retryable`] says whether polling again can help.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Token discovery without pins, and no explicit unsafe skip.
    #[error(
        "using token-based discovery without caCertHashes can be unsafe: give at least one --discovery-token-ca-cert-hash, or choose Trust::UnsafeSkipCaVerification explicitly"
    )]
    NoPins,
    /// A pin that does not parse (kubeadm's text inside).
    #[error("invalid discovery token CA certificate hash: {0}")]
    InvalidPin(#[source] kubetrust_pki::Error),
    /// A JoinConfiguration whose discovery section kubeadm would refuse (kubeadm's text).
    #[error("invalid discovery configuration: {reason}")]
    InvalidConfig {
        /// Which rule it breaks.
        reason: String,
    },
    /// The ConfigMap has no `kubeconfig` entry.
    #[error(
        "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect"
    )]
    NoKubeconfig,
    /// No `jws-kubeconfig-<id>` entry for this token. The signer may not have run yet (retry),
    /// or the token does not exist or has expired here.
    #[error("token id {token_id:?} is invalid for this cluster or it has expired: cluster-info has no jws-kubeconfig-{token_id} signature{}. Use \"kubeadm token create\" on the control-plane node to create a new valid token", signed_ids_suffix(.signed_ids))]
    NoSignatureForToken {
        /// The token's id.
        token_id: String,
        /// The ids that do have signatures.
        signed_ids: Vec<String>,
    },
    /// The signature does not verify: the token is wrong, or the content was changed.
    #[error(
        "failed to verify JWS signature of received cluster info object, can't trust this API Server: {reason}"
    )]
    InvalidSignature {
        /// The token's id.
        token_id: String,
        /// Which part of the detached JWS differs (header, form or MAC).
        reason: String,
    },
    /// The signed kubeconfig does not parse.
    #[error("couldn't parse the kubeconfig file in the cluster-info ConfigMap: {reason}")]
    MalformedKubeconfig {
        /// The parser's message.
        reason: String,
    },
    /// The signed kubeconfig must hold exactly one cluster.
    #[error(
        "expected the kubeconfig file in the cluster-info ConfigMap to have a single cluster, but it had {count}"
    )]
    ClusterCount {
        /// How many it has.
        count: usize,
    },
    /// The cluster's `certificate-authority-data` is missing or not certificates.
    #[error("failed to parse cluster CA from the cluster-info ConfigMap: {reason}")]
    InvalidCa {
        /// What is wrong with it.
        reason: String,
    },
    /// No CA certificate matches any pin: the server is not the cluster you pinned.
    #[error("cluster CA found in cluster-info ConfigMap is invalid: none of the public keys {:?} are pinned (expected one of {})", join(.observed, ":"), join(.expected, ", "))]
    PinMismatch {
        /// Pins of the CA certificates cluster-info carries.
        observed: Vec<CaCertHash>,
        /// The pins you trust.
        expected: Vec<CaCertHash>,
    },
}

impl Error {
    /// Whether asking the API server again can change the outcome: only a missing signature
    /// (the bootstrap signer runs asynchronously). Every other failure is terminal, as in
    /// kubeadm, so an attacker cannot probe by making a node retry.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::NoSignatureForToken { .. })
    }
}

fn join(pins: &[CaCertHash], separator: &str) -> String {
    pins.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

fn signed_ids_suffix(ids: &[String]) -> String {
    if ids.is_empty() {
        " (it has no signatures at all)".to_owned()
    } else {
        format!(" (it has signatures for token ids {})", ids.join(", "))
    }
}
