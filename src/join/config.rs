//! What a join needs: where to discover the control plane, which tokens, the node's name and
//! where the kubelet's files go — built from flags or from kubeadm's `JoinConfiguration`.

use std::path::PathBuf;
use std::time::Duration;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::{DEFAULT_DISCOVERY_TIMEOUT, DiscoveryConfig, DiscoveryMethod, Trust};
use kubetrust_kubeadm_config::ConfigFile;
use kubetrust_pki::KeyAlgorithm;

use super::JoinError;

/// The kubelet's default TLS bootstrap wait (the kubelet gives up after an hour).
pub const DEFAULT_TLS_BOOTSTRAP_TIMEOUT: Duration = Duration::from_secs(3600);

/// The kubelet directory's file names: `kubelet.conf` and the client certificate store.
pub const KUBELET_CONF: &str = "kubelet.conf";
/// The certificate store's directory under the kubelet directory.
pub const KUBELET_PKI: &str = "pki";

/// How the node finds and trusts the control plane.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Discovery {
    /// Token discovery: the JWS-signed `cluster-info` at `endpoint`, trusted through `trust`.
    Token {
        /// `host:port` of the API server.
        endpoint: String,
        /// The discovery token (`--discovery-token`, or `--token`).
        token: BootstrapToken,
        /// The CA pins, or the explicit unsafe skip.
        trust: Trust,
        /// Whether to check the server URL that cluster-info names (kubeadm does not).
        server_check: bool,
    },
    /// File discovery: a kubeconfig at a local path or an `https://` URL.
    File {
        /// The path or URL.
        location: String,
    },
}

/// Everything [`join`](super::join) needs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct JoinConfig {
    /// How to find and trust the control plane.
    pub discovery: Discovery,
    /// The token the CSR is sent with (`--tls-bootstrap-token`); the discovery token by default.
    pub tls_bootstrap_token: Option<BootstrapToken>,
    /// The node's name; its certificate says `system:node:<name>`.
    pub node_name: String,
    /// Where `kubelet.conf` and `pki/kubelet-client-current.pem` go (kubeadm: `/etc/kubernetes`
    /// and `/var/lib/kubelet/pki`; one directory here).
    pub kubelet_dir: PathBuf,
    /// How long discovery may take (kubeadm's `timeouts.discovery`, 5 min).
    pub discovery_timeout: Duration,
    /// How long the CSR may wait for approval and signing (1 h).
    pub tls_bootstrap_timeout: Duration,
    /// The key algorithm of the node's client key (the kubelet's: ECDSA P-256).
    pub key_algorithm: KeyAlgorithm,
}

impl JoinConfig {
    /// A join by token discovery.
    pub fn token(
        endpoint: impl Into<String>,
        token: BootstrapToken,
        trust: Trust,
        node_name: impl Into<String>,
        kubelet_dir: impl Into<PathBuf>,
    ) -> Self {
        let discovery = Discovery::Token {
            endpoint: endpoint.into(),
            token,
            trust,
            server_check: true,
        };
        Self::new(discovery, node_name.into(), kubelet_dir.into())
    }

    /// A join by file discovery (a path or an `https://` URL); the CSR is sent with
    /// `tls_bootstrap_token` when given, else with the file's own credentials.
    pub fn file(
        location: impl Into<String>,
        node_name: impl Into<String>,
        kubelet_dir: impl Into<PathBuf>,
    ) -> Self {
        let discovery = Discovery::File {
            location: location.into(),
        };
        Self::new(discovery, node_name.into(), kubelet_dir.into())
    }

    fn new(discovery: Discovery, node_name: String, kubelet_dir: PathBuf) -> Self {
        Self {
            discovery,
            tls_bootstrap_token: None,
            node_name,
            kubelet_dir,
            discovery_timeout: DEFAULT_DISCOVERY_TIMEOUT,
            tls_bootstrap_timeout: DEFAULT_TLS_BOOTSTRAP_TIMEOUT,
            key_algorithm: KeyAlgorithm::EcdsaP256,
        }
    }

    /// Reads kubeadm's `JoinConfiguration` (v1beta4 or v1beta3) from a config file: discovery,
    /// tokens, `nodeRegistration.name` (else `node_name`) and the discovery timeout.
    ///
    /// # Errors
    /// [`JoinError::Config`] with the config's own error.
    pub fn from_config_file(
        file: ConfigFile,
        node_name: impl Into<String>,
        kubelet_dir: impl Into<PathBuf>,
    ) -> Result<Self, JoinError> {
        let configured_name = file
            .join
            .as_ref()
            .map(|join| join.node_registration.name.clone())
            .filter(|name| !name.is_empty());
        let discovery = DiscoveryConfig::from_config_file(file).map_err(JoinError::Config)?;
        let source = match discovery.method {
            DiscoveryMethod::BootstrapToken {
                api_server_endpoint,
                token,
                trust,
            } => Discovery::Token {
                endpoint: api_server_endpoint,
                token,
                trust,
                server_check: true,
            },
            DiscoveryMethod::File { kube_config_path } => Discovery::File {
                location: kube_config_path,
            },
            _ => {
                return Err(JoinError::Config(kubetrust_discovery::Error::InvalidConfig {
                    reason: "the discovery method is not supported by this version".into(),
                }));
            }
        };
        let mut config = Self::new(
            source,
            configured_name.unwrap_or_else(|| node_name.into()),
            kubelet_dir.into(),
        );
        config.tls_bootstrap_token = discovery.tls_bootstrap_token;
        config.discovery_timeout = discovery.timeout;
        Ok(config)
    }

    /// Sends the CSR with this token instead of the discovery token.
    pub fn with_tls_bootstrap_token(mut self, token: BootstrapToken) -> Self {
        self.tls_bootstrap_token = Some(token);
        self
    }

    /// Sets how long discovery may take.
    pub fn with_discovery_timeout(mut self, timeout: Duration) -> Self {
        self.discovery_timeout = timeout;
        self
    }

    /// Sets how long the CSR may wait.
    pub fn with_tls_bootstrap_timeout(mut self, timeout: Duration) -> Self {
        self.tls_bootstrap_timeout = timeout;
        self
    }

    /// Sets the node key's algorithm.
    pub fn with_key_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.key_algorithm = algorithm;
        self
    }

    /// Turns token discovery's check of cluster-info's server URL on or off.
    pub fn with_server_check(mut self, check: bool) -> Self {
        if let Discovery::Token { server_check, .. } = &mut self.discovery {
            *server_check = check;
        }
        self
    }

    /// `<kubelet dir>/kubelet.conf`.
    pub fn kubelet_conf(&self) -> PathBuf {
        self.kubelet_dir.join(KUBELET_CONF)
    }

    /// `<kubelet dir>/pki`.
    pub fn kubelet_pki(&self) -> PathBuf {
        self.kubelet_dir.join(KUBELET_PKI)
    }
}
