//! The `TestControlPlane` handle: PKI, HTTPS server, the state `kubeadm init` leaves, and the
//! controllers, started in one call.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use k8s_openapi::api::core::v1::ConfigMap;
//! use kubetrust_testcp::{Config, TestControlPlane};
//!
//! let plane = TestControlPlane::start(Config::default()).await?;
//! let client = plane.client().await?;
//! let maps: kube::Api<ConfigMap> = kube::Api::namespaced(client, "kube-public");
//! assert!(maps.get("cluster-info").await.is_ok());
//! plane.admin_kubeconfig().save("/tmp/admin.conf")?; // for the real kubectl
//! plane.shutdown().await?;
//! # Ok(()) }
//! ```

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, SecretBytes};
use kubetrust_pki::{AltNames, CertProfile, CertificateAuthority, KeyAlgorithm, Subject};
use serde_json::json;
use tokio::sync::Mutex;

use crate::api::Api;
use crate::clock::Clock;
use crate::controllers::{self, Controllers};
use crate::faults::Faults;
use crate::persist::{self, PersistError};
use crate::server::{self, Running};
use crate::status::ApiError;
use crate::store::{Resource, Store};

/// The admin user of `admin.conf` (kubeadm ≥ 1.29).
pub const ADMIN_USER: &str = "kubernetes-admin";
/// The admin group, bound to `cluster-admin` by a ClusterRoleBinding of the same name.
pub const ADMIN_GROUP: &str = "kubeadm:cluster-admins";

/// How to start a control plane.
#[derive(Debug)]
#[non_exhaustive]
pub struct Config {
    /// Port on 127.0.0.1; 0 for an ephemeral one.
    pub port: u16,
    /// Key algorithm of the generated CA and certificates.
    pub key_algorithm: KeyAlgorithm,
    /// An existing CA to use instead of generating one.
    pub ca: Option<Arc<CertificateAuthority>>,
    /// Whether to create what `kubeadm init` adds (cluster-info, the node bootstrap RBAC);
    /// the apiserver's own defaults (RBAC policy, namespaces) are always there.
    pub kubeadm_state: bool,
    /// Where the objects (and a generated CA) persist, so a control plane started again on
    /// the same directory — and the same port, which cluster-info names — carries on.
    pub state_dir: Option<PathBuf>,
    /// Whether to run the secure kubelet-serving approver (off by default, as in a cluster).
    pub serving_approver: bool,
    /// Whether to run kube-controller-manager's kubelet client approver (`csrapproving`; on by
    /// default, as in a cluster): off, client CSRs wait for another approver.
    pub client_approver: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            port: 0,
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ca: None,
            kubeadm_state: true,
            state_dir: None,
            serving_approver: false,
            client_approver: true,
        }
    }
}

impl Config {
    /// Serve on `port` (0: ephemeral).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Generate keys with `algorithm`.
    pub fn with_key_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.key_algorithm = algorithm;
        self
    }

    /// Use `ca` as the cluster CA.
    pub fn with_ca(mut self, ca: CertificateAuthority) -> Self {
        self.ca = Some(Arc::new(ca));
        self
    }

    /// Whether to set up kubeadm's state on start.
    pub fn with_kubeadm_state(mut self, enabled: bool) -> Self {
        self.kubeadm_state = enabled;
        self
    }

    /// Whether to approve or deny kubelet serving CSRs against their Node
    /// ([`controllers::serving_approver`]).
    pub fn with_serving_approver(mut self, enabled: bool) -> Self {
        self.serving_approver = enabled;
        self
    }

    /// Whether to approve kubelet client CSRs as kube-controller-manager does
    /// ([`controllers::csr_approver`]).
    pub fn with_client_approver(mut self, enabled: bool) -> Self {
        self.client_approver = enabled;
        self
    }

    /// Persist state in `dir`.
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
}

/// Why the control plane could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Generating the CA or a certificate failed.
    #[error("generating the control plane's PKI: {0}")]
    Pki(#[from] kubetrust_pki::Error),
    /// The TLS configuration was refused.
    #[error("configuring TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// Binding or serving the port failed.
    #[error("serving on 127.0.0.1: {0}")]
    Io(#[from] std::io::Error),
    /// Building the admin client failed.
    #[error("building the admin client: {0}")]
    Client(String),
    /// Writing the initial state failed.
    #[error("creating the initial state: {0}")]
    Setup(#[from] ApiError),
    /// The kubeadm setup calls failed.
    #[error("setting up kubeadm's state: {0}")]
    Bootstrap(#[from] kubetrust_bootstrap_token::Error),
    /// The state directory could not be read or written.
    #[error(transparent)]
    Persist(#[from] PersistError),
}

/// A running control plane. Dropping it stops the server without waiting for it;
/// [`TestControlPlane::shutdown`] waits.
pub struct TestControlPlane {
    address: SocketAddr,
    ca: Arc<CertificateAuthority>,
    admin_certificate_pem: String,
    admin_key_pem: SecretBytes,
    tls: Arc<rustls::ServerConfig>,
    api: Api,
    server: Mutex<Option<Running>>,
    controllers: Vec<tokio::task::JoinHandle<()>>,
    state_dir: Option<PathBuf>,
}

impl TestControlPlane {
    /// Generates the PKI, serves, sets up kubeadm's state (unless told not to) and starts the
    /// controllers.
    pub async fn start(config: Config) -> Result<Self, Error> {
        let now = SystemTime::now();
        let ca = match (config.ca, &config.state_dir) {
            (Some(ca), _) => ca,
            (None, Some(dir)) => Arc::new(persist::load_or_create_ca(dir, config.key_algorithm, now)?),
            (None, None) => Arc::new(CertificateAuthority::generate(
                "kubernetes",
                config.key_algorithm,
                now,
            )?),
        };
        let names = [
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
        ];
        let alt_names = AltNames::from_parts(names.map(String::from), [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        let (serving, serving_key) = ca.issue_with_new_key(
            &CertProfile::server(Subject::new("kube-apiserver"), alt_names, now),
            config.key_algorithm,
        )?;
        let admin = Subject::new(ADMIN_USER).with_organization(ADMIN_GROUP);
        let (admin_cert, admin_key) =
            ca.issue_with_new_key(&CertProfile::client(admin, now), config.key_algorithm)?;
        let tls = server::tls_config(serving.to_pem().as_bytes(), serving_key.to_pem().as_bytes())?;
        let store = Store::new(Clock::default());
        let faults = Faults::default();
        let api = Api {
            store: store.clone(),
            client_ca: ca.bundle().to_vec(),
            faults: faults.clone(),
            stopping: tokio::sync::watch::channel(false).1,
        };
        let listener = server::listen(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))?;
        let running = Running::start(listener, Arc::clone(&tls), api.clone())?;
        let mut plane = Self {
            address: running.address(),
            ca: Arc::clone(&ca),
            admin_certificate_pem: admin_cert.to_pem(),
            admin_key_pem: SecretBytes::new(admin_key.to_pem().as_bytes().to_vec()),
            tls,
            api,
            server: Mutex::new(Some(running)),
            controllers: Vec::new(),
            state_dir: None,
        };
        let restored = match &config.state_dir {
            Some(dir) => persist::load(&store, dir)?,
            None => false,
        };
        if let Some(dir) = &config.state_dir {
            plane
                .controllers
                .push(persist::spawn_saver(store.clone(), dir.clone()));
        }
        plane.state_dir = config.state_dir;
        if !restored {
            plane.set_up_apiserver_state()?;
            if config.kubeadm_state {
                plane.set_up_kubeadm_state(config.key_algorithm).await?;
            }
        }
        plane.controllers.extend(controllers::spawn_all(&Controllers {
            store,
            ca,
            faults,
            serving_approver: config.serving_approver,
            client_approver: config.client_approver,
        }));
        Ok(plane)
    }

    /// What kube-apiserver creates itself: the default RBAC policy and the four namespaces;
    /// plus the binding that makes the handle's admin (kubeadm's `admin.conf` user) an admin.
    fn set_up_apiserver_state(&self) -> Result<(), Error> {
        let store = &self.api.store;
        for (resource, object) in crate::rbac::bootstrap_policy() {
            store.create(&resource, "", with_type(&resource, object))?;
        }
        let namespaces = Resource::new("", "namespaces");
        for name in ["kube-system", "kube-public", "default", "kube-node-lease"] {
            let namespace = json!({"metadata": {"name": name}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
            store.create(&namespaces, "", with_type(&namespaces, namespace))?;
        }
        let bindings = Resource::new("rbac.authorization.k8s.io", "clusterrolebindings");
        let admins = json!({
            "metadata": {"name": ADMIN_GROUP},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": ADMIN_GROUP}],
        });
        store.create(&bindings, "", with_type(&bindings, admins))?;
        Ok(())
    }

    /// What `kubeadm init` adds: cluster-info, the node bootstrap RBAC and the `kubeadm-config`
    /// ConfigMap (kubeadm's default ClusterConfiguration, with this control plane's key
    /// algorithm) readable by bootstrap tokens, through the same calls that set up a real
    /// cluster.
    async fn set_up_kubeadm_state(&self, key_algorithm: KeyAlgorithm) -> Result<(), Error> {
        let client = self.client().await?;
        kubetrust_bootstrap_token::api::setup_cluster_info(
            &client,
            &self.url(),
            self.ca.bundle_pem().as_bytes(),
        )
        .await?;
        kubetrust_bootstrap_token::api::setup_node_bootstrap_rbac(&client).await?;
        let cluster_configuration = format!(
            "apiServer: {{}}\napiVersion: kubeadm.k8s.io/v1beta4\ncaCertificateValidityPeriod: 87600h0m0s\ncertificateValidityPeriod: 8760h0m0s\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrollerManager: {{}}\ndns: {{}}\nencryptionAlgorithm: {key_algorithm}\netcd:\n  local:\n    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: v1.33.0\nnetworking:\n  dnsDomain: cluster.local\n  serviceSubnet: 10.96.0.0/12\nproxy: {{}}\nscheduler: {{}}\n"
        );
        kubetrust_bootstrap_token::api::upload_kubeadm_config(&client, &cluster_configuration).await?;
        Ok(())
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://{}", self.address)
    }

    /// The cluster CA bundle (PEM), what clients trust.
    pub fn ca_pem(&self) -> String {
        self.ca.bundle_pem()
    }

    /// The cluster CA, so tests can issue certificates.
    pub fn ca(&self) -> &Arc<CertificateAuthority> {
        &self.ca
    }

    /// kubeadm's `admin.conf` for this control plane (user `kubernetes-admin`, group
    /// `kubeadm:cluster-admins`, embedded certificate).
    pub fn admin_kubeconfig(&self) -> kubetrust_kubeconfig::Config {
        let endpoint = ClusterEndpoint::new(self.url(), self.ca_pem().into_bytes());
        let credentials = ClientCredentials::EmbeddedCertificate {
            certificate_pem: self.admin_certificate_pem.clone().into_bytes(),
            key_pem: self.admin_key_pem.clone(),
        };
        kubetrust_kubeconfig::Config::for_user(&endpoint, ADMIN_USER, credentials)
    }

    /// A `kube::Client` authenticated as the admin.
    pub async fn client(&self) -> Result<kube::Client, Error> {
        let kubeconfig = self
            .admin_kubeconfig()
            .to_kube()
            .map_err(|e| Error::Client(e.to_string()))?;
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| Error::Client(e.to_string()))?;
        kube::Client::try_from(config).map_err(|e| Error::Client(e.to_string()))
    }

    /// The object store (read or seed objects directly).
    pub fn store(&self) -> &Store {
        &self.api.store
    }

    /// The control plane's clock, which tests advance.
    pub fn clock(&self) -> &Clock {
        self.api.store.clock()
    }

    /// The fault switches.
    pub fn faults(&self) -> &Faults {
        &self.api.faults
    }

    /// Stops serving and serves again on the same port, keeping the store (what a restart of
    /// kube-apiserver looks like to clients: connections and watches break).
    pub async fn restart(&self) -> Result<(), Error> {
        let mut server = self.server.lock().await;
        if let Some(running) = server.take() {
            running.stop().await;
        }
        let listener = server::listen(self.address)?;
        *server = Some(Running::start(listener, Arc::clone(&self.tls), self.api.clone())?);
        Ok(())
    }

    /// Stops the server (ending watches, letting requests in flight finish) and the
    /// controllers, and saves the state when it persists.
    ///
    /// # Errors
    /// When the final save of the state fails (the server is stopped all the same).
    pub async fn shutdown(self) -> Result<(), Error> {
        if let Some(running) = self.server.lock().await.take() {
            running.stop().await;
        }
        for controller in &self.controllers {
            controller.abort();
        }
        if let Some(dir) = &self.state_dir {
            persist::save(&self.api.store, dir)?;
        }
        Ok(())
    }
}

/// `object` with the `kind` and `apiVersion` of `resource`.
fn with_type(resource: &Resource, mut object: serde_json::Value) -> serde_json::Value {
    let served = crate::api::resources::find(&resource.group, "v1", &resource.resource);
    if let (Some(served), Some(map)) = (served, object.as_object_mut()) {
        map.insert("kind".into(), json!(served.kind));
        map.insert("apiVersion".into(), json!(served.api_version()));
    }
    object
}
