//! The kubeconfig shapes kubetrust writes, each exactly as kubeadm or the kubelet writes it
//! (spec `pki-kubeconfig.md` §5.2, §5.4; `discovery-token.md` §2.2).

use std::path::{Path, PathBuf};

use crate::{AuthInfo, Cluster, Config, Context, NamedAuthInfo, NamedCluster, NamedContext, Preferences};
use crate::{SecretBytes, SecretString};

/// kubeadm's default cluster name (v1beta4 `clusterName`).
pub const DEFAULT_CLUSTER_NAME: &str = "kubernetes";

/// The user name of the bootstrap kubeconfig (`bootstrap-kubelet.conf`).
pub const BOOTSTRAP_TOKEN_USER: &str = "tls-bootstrap-token-user";

// Each literal once; `concat!` takes only literals, so the path is built from these.
macro_rules! kubelet_pki_dir {
    () => {
        "/var/lib/kubelet/pki"
    };
}
macro_rules! kubelet_client_current_file {
    () => {
        "kubelet-client-current.pem"
    };
}

/// The kubelet's certificate directory (`--cert-dir`'s default).
pub const KUBELET_PKI_DIR: &str = kubelet_pki_dir!();
/// The name of the kubelet's symlink to its current client certificate and key, in
/// [`KUBELET_PKI_DIR`] (the kubelet's certificate store swaps it atomically).
pub const KUBELET_CLIENT_CURRENT_FILE: &str = kubelet_client_current_file!();
/// [`KUBELET_CLIENT_CURRENT_FILE`] in [`KUBELET_PKI_DIR`]: what `kubelet.conf` points at.
pub const KUBELET_CLIENT_CURRENT: &str = concat!(kubelet_pki_dir!(), "/", kubelet_client_current_file!());

/// The cluster half of a kubeconfig: name, API server URL and the CA to trust.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterEndpoint {
    /// The cluster's name in the kubeconfig.
    pub name: String,
    /// `https://host:port`.
    pub server: String,
    /// The CA certificate(s), PEM; kubeadm embeds the first certificate of `ca.crt`.
    pub ca_pem: Vec<u8>,
}

impl ClusterEndpoint {
    /// A cluster named [`DEFAULT_CLUSTER_NAME`].
    pub fn new(server: impl Into<String>, ca_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            name: DEFAULT_CLUSTER_NAME.to_owned(),
            server: server.into(),
            ca_pem: ca_pem.into(),
        }
    }

    /// The same endpoint under another cluster name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    fn to_named_cluster(&self) -> NamedCluster {
        NamedCluster {
            name: self.name.clone(),
            cluster: Cluster {
                server: self.server.clone(),
                certificate_authority_data: self.ca_pem.clone(),
                ..Cluster::default()
            },
            ..NamedCluster::default()
        }
    }
}

/// How a kubeconfig's user proves who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientCredentials {
    /// Certificate and key embedded as `client-certificate-data` / `client-key-data`.
    EmbeddedCertificate {
        /// PEM certificate (chain).
        certificate_pem: Vec<u8>,
        /// PEM private key.
        key_pem: SecretBytes,
    },
    /// Certificate and key referenced by path (they may be the same file).
    CertificateFiles {
        /// Path of the PEM certificate.
        certificate: PathBuf,
        /// Path of the PEM private key.
        key: PathBuf,
    },
    /// A bearer token.
    Token(SecretString),
}

impl ClientCredentials {
    fn to_auth_info(&self) -> AuthInfo {
        let mut user = AuthInfo::default();
        match self {
            Self::EmbeddedCertificate {
                certificate_pem,
                key_pem,
            } => {
                user.client_certificate_data = certificate_pem.clone();
                user.client_key_data = key_pem.clone();
            }
            Self::CertificateFiles { certificate, key } => {
                user.client_certificate = certificate.to_string_lossy().into_owned();
                user.client_key = key.to_string_lossy().into_owned();
            }
            Self::Token(token) => user.token = token.clone(),
        }
        user
    }
}

impl Config {
    /// kubeadm's kubeconfig for one user: one cluster, one user, one context named
    /// `<user>@<cluster>` without namespace, and that context current. This is the shape of
    /// `admin.conf`, `super-admin.conf`, `controller-manager.conf`, `scheduler.conf`,
    /// `kubelet.conf` and `kubeadm kubeconfig user`.
    ///
    /// ```
    /// use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretString};
    /// let endpoint = ClusterEndpoint::new("https://10.0.0.10:6443", b"-----BEGIN CERTIFICATE-----...".to_vec());
    /// let config = Config::for_user(&endpoint, "ci-bot", ClientCredentials::Token(SecretString::new("t0ken")));
    /// assert_eq!(config.current_context, "ci-bot@kubernetes");
    /// ```
    pub fn for_user(endpoint: &ClusterEndpoint, user: &str, credentials: ClientCredentials) -> Config {
        let context = format!("{user}@{}", endpoint.name);
        Config {
            preferences: Some(Preferences::default()),
            clusters: vec![endpoint.to_named_cluster()],
            users: vec![NamedAuthInfo {
                name: user.to_owned(),
                user: credentials.to_auth_info(),
                ..NamedAuthInfo::default()
            }],
            contexts: vec![NamedContext {
                name: context.clone(),
                context: Context {
                    cluster: endpoint.name.clone(),
                    user: user.to_owned(),
                    ..Context::default()
                },
                ..NamedContext::default()
            }],
            current_context: context,
            ..Config::default()
        }
    }

    /// `bootstrap-kubelet.conf`: the discovered server and CA with user
    /// [`BOOTSTRAP_TOKEN_USER`] holding the bootstrap token. The cluster is always named
    /// `kubernetes`, whatever the cluster's configured name, as in kubeadm.
    pub fn bootstrap_token(
        server: impl Into<String>,
        ca_pem: impl Into<Vec<u8>>,
        token: SecretString,
    ) -> Config {
        Config::for_user(
            &ClusterEndpoint::new(server, ca_pem),
            BOOTSTRAP_TOKEN_USER,
            ClientCredentials::Token(token),
        )
    }

    /// The kubeconfig that `kube-public/cluster-info` carries: one unnamed cluster with server
    /// and CA data, nothing else (no preferences, no users, no contexts).
    pub fn cluster_info(server: impl Into<String>, ca_pem: impl Into<Vec<u8>>) -> Config {
        Config {
            clusters: vec![
                ClusterEndpoint::new(server, ca_pem)
                    .with_name("")
                    .to_named_cluster(),
            ],
            ..Config::default()
        }
    }

    /// `kubelet.conf` as kubeadm's `kubelet-finalize` phase rewrites it: user
    /// `system:node:<node_name>` with certificate and key both pointing at the kubelet's
    /// rotating `current_pem` (normally [`KUBELET_CLIENT_CURRENT`]).
    pub fn kubelet_rotating(endpoint: &ClusterEndpoint, node_name: &str, current_pem: &Path) -> Config {
        Config::for_user(
            endpoint,
            &format!("system:node:{node_name}"),
            ClientCredentials::CertificateFiles {
                certificate: current_pem.to_path_buf(),
                key: current_pem.to_path_buf(),
            },
        )
    }

    /// `kubelet.conf` as the kubelet itself writes it after TLS bootstrap: cluster
    /// `default-cluster`, user `default-auth` pointing at `current_pem`, context
    /// `default-context` with namespace `default`.
    pub fn kubelet_bootstrapped(
        server: impl Into<String>,
        ca_pem: impl Into<Vec<u8>>,
        current_pem: &Path,
    ) -> Config {
        let endpoint = ClusterEndpoint::new(server, ca_pem).with_name("default-cluster");
        let credentials = ClientCredentials::CertificateFiles {
            certificate: current_pem.to_path_buf(),
            key: current_pem.to_path_buf(),
        };
        let mut config = Config::for_user(&endpoint, "default-auth", credentials);
        for named in &mut config.contexts {
            named.name = "default-context".to_owned();
            named.context.namespace = "default".to_owned();
        }
        config.current_context = "default-context".to_owned();
        config
    }
}
