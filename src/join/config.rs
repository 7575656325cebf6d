//! What a join needs: where to discover the control plane, which tokens, the node's name and
//! where the kubelet's files go — built from flags or from kubeadm's `JoinConfiguration`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::{DEFAULT_DISCOVERY_TIMEOUT, DiscoveryConfig, DiscoveryMethod, JoinToken, Trust};
use kubetrust_kubeadm_config::ConfigFile;
use kubetrust_pki::upload_certs::{CertificateKey, Etcd};
use kubetrust_pki::{Dirs, KeyAlgorithm};

use super::JoinError;

/// The kubelet's default TLS bootstrap wait (the kubelet gives up after an hour).
pub const DEFAULT_TLS_BOOTSTRAP_TIMEOUT: Duration = Duration::from_secs(3600);

/// The kubelet directory's file names: `kubelet.conf` and the client certificate store.
pub const KUBELET_CONF: &str = "kubelet.conf";
/// The certificate store's directory under the kubelet directory.
pub const KUBELET_PKI: &str = "pki";

/// kubeadm's API server port (`localAPIEndpoint.bindPort`).
pub const DEFAULT_BIND_PORT: u16 = 6443;

/// The control-plane half of `kubeadm join --control-plane --certificate-key K`: what this
/// node needs to take the shared CAs from `kubeadm-certs` and make its own certificates.
///
/// `Debug` shows the key as `CertificateKey([redacted])`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ControlPlane {
    /// `--certificate-key`: decrypts the `kubeadm-certs` Secret.
    pub certificate_key: CertificateKey,
    /// `--apiserver-advertise-address`: this node's API server address, in its certificate.
    pub advertise_address: IpAddr,
    /// `localAPIEndpoint.bindPort` ([`DEFAULT_BIND_PORT`]): the port of the local endpoint in
    /// controller-manager.conf and scheduler.conf.
    pub bind_port: u16,
    /// `--cert-dir`: the shared CAs and this node's certificates (`/etc/kubernetes/pki`).
    pub cert_dir: PathBuf,
    /// `--kubeconfig-dir`: admin.conf, controller-manager.conf, scheduler.conf
    /// (`/etc/kubernetes`).
    pub kubeconfig_dir: PathBuf,
    /// Stacked etcd (the default: the etcd CA is shared) or external etcd (its client files
    /// are shared, written where these paths say).
    pub etcd: Etcd,
}

impl ControlPlane {
    /// A control-plane join with kubeadm's directories, port and stacked etcd.
    pub fn new(certificate_key: CertificateKey, advertise_address: IpAddr) -> Self {
        let dirs = Dirs::default();
        Self {
            certificate_key,
            advertise_address,
            bind_port: DEFAULT_BIND_PORT,
            cert_dir: dirs.cert_dir,
            kubeconfig_dir: dirs.kubeconfig_dir,
            etcd: Etcd::Local,
        }
    }

    /// Sets the cert dir and the kubeconfig dir.
    pub fn with_dirs(mut self, dirs: Dirs) -> Self {
        self.cert_dir = dirs.cert_dir;
        self.kubeconfig_dir = dirs.kubeconfig_dir;
        self
    }

    /// Sets the API server's bind port.
    pub fn with_bind_port(mut self, port: u16) -> Self {
        self.bind_port = port;
        self
    }

    /// Sets where etcd's CA (or external etcd's client files) come from.
    pub fn with_etcd(mut self, etcd: Etcd) -> Self {
        self.etcd = etcd;
        self
    }

    /// Reads `JoinConfiguration.controlPlane`: `certificateKey` and
    /// `localAPIEndpoint.advertiseAddress` are required (kubetrust neither copies certificates
    /// by hand nor guesses the default route's address), `bindPort` defaults to 6443; the
    /// cert dir is `ClusterConfiguration.certificatesDir` when the file has one.
    fn from_config(file: &ConfigFile) -> Result<Option<Self>, JoinError> {
        let Some(join) = file.join.as_ref().and_then(|join| join.control_plane.as_ref()) else {
            return Ok(None);
        };
        let invalid =
            |reason: String| JoinError::Config(kubetrust_discovery::Error::InvalidConfig { reason });
        let key = join.certificate_key.expose_secret();
        if key.is_empty() {
            return Err(invalid("controlPlane.certificateKey is required".into()));
        }
        let certificate_key = key
            .parse::<CertificateKey>()
            .map_err(|e| invalid(format!("controlPlane.certificateKey: {e}")))?;
        let endpoint = &join.local_api_endpoint;
        let advertise_address = endpoint
            .advertise_address
            .ok_or_else(|| invalid("controlPlane.localAPIEndpoint.advertiseAddress is required".into()))?;
        let mut control_plane = Self::new(certificate_key, advertise_address)
            .with_bind_port(endpoint.bind_port.unwrap_or(DEFAULT_BIND_PORT));
        if let Some(dir) = file
            .cluster
            .as_ref()
            .map(|cluster| cluster.certificates_dir.as_str())
            .filter(|dir| !dir.is_empty())
        {
            control_plane.cert_dir = dir.into();
        }
        Ok(Some(control_plane))
    }
}

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
    /// Set for `--control-plane`: the node also becomes a control-plane node.
    pub control_plane: Option<ControlPlane>,
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

    /// A join by a one-string [`JoinToken`]: token discovery trusted through the token's own
    /// pins, at `endpoint` when given, else at the endpoint the token carries.
    ///
    /// # Errors
    /// [`JoinError::Config`] with [`JoinTokenNoEndpoint`](kubetrust_discovery::Error::JoinTokenNoEndpoint)
    /// when there is no endpoint, or [`JoinTokenEndpoint`](kubetrust_discovery::Error::JoinTokenEndpoint)
    /// when `endpoint` is not `host:port`.
    pub fn join_token(
        join_token: &JoinToken,
        endpoint: Option<&str>,
        node_name: impl Into<String>,
        kubelet_dir: impl Into<PathBuf>,
    ) -> Result<Self, JoinError> {
        let join_token = match endpoint {
            Some(endpoint) => join_token.clone().with_endpoint(endpoint),
            None => Ok(join_token.clone()),
        }
        .map_err(JoinError::Config)?;
        let endpoint = join_token
            .endpoint()
            .ok_or(JoinError::Config(kubetrust_discovery::Error::JoinTokenNoEndpoint))?;
        Ok(Self::token(
            endpoint,
            join_token.token().clone(),
            join_token.trust(),
            node_name,
            kubelet_dir,
        ))
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
            control_plane: None,
        }
    }

    /// Reads kubeadm's `JoinConfiguration` (v1beta4 or v1beta3) from a config file: discovery,
    /// tokens, `nodeRegistration.name` (else `node_name`), the discovery timeout and
    /// `controlPlane` (see [`ControlPlane`]).
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
        let control_plane = ControlPlane::from_config(&file)?;
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
        config.control_plane = control_plane;
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

    /// Makes this a control-plane join (`--control-plane`).
    pub fn with_control_plane(mut self, control_plane: ControlPlane) -> Self {
        self.control_plane = Some(control_plane);
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
