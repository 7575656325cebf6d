//! What the end-to-end tests share: a fresh control plane with a bootstrap token created
//! through the API, a node with its own kubelet directory, acting on CSRs as an admin, and the
//! real kubectl (testcp's finder, reused).
// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

#[path = "../../crates/testcp/tests/support/kubectl.rs"]
pub(crate) mod kubectl;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use k8s_openapi::api::core::v1::{Node as NodeObject, NodeAddress, NodeStatus};
use kube::Api;
use kube::api::{ListParams, PostParams};
use kubetrust::bootstrap_token::api::create_token;
use kubetrust::bootstrap_token::{BootstrapToken, TokenSpec};
use kubetrust::csr_bootstrap::Error;
use kubetrust::csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap};
use kubetrust::csr_bootstrap::client::{Options, Request};
use kubetrust::csr_bootstrap::flow::Layout;
use kubetrust::kubeconfig::{Config as Kubeconfig, SecretString};
use kubetrust::pki::{CaCertHash, PrivateKey};
use kubetrust_testcp::{Config, TestControlPlane};

/// The token every test cluster has (tests need a known id for `--as system:bootstrap:abcdef`).
pub(crate) const TOKEN: &str = "abcdef.0123456789abcdef";

/// A started control plane, its admin client, and a bootstrap token stored in it.
pub(crate) struct Cluster {
    pub(crate) plane: TestControlPlane,
    pub(crate) admin: kube::Client,
    pub(crate) token: BootstrapToken,
}

impl Cluster {
    /// testcp with kubeadm's state and [`TOKEN`].
    pub(crate) async fn start() -> Self {
        Self::with_config(Config::default()).await
    }

    /// testcp started with `config`, and [`TOKEN`] created as `kubeadm token create` does.
    pub(crate) async fn with_config(config: Config) -> Self {
        let plane = TestControlPlane::start(config).await.unwrap();
        let admin = plane.client().await.unwrap();
        let token: BootstrapToken = TOKEN.parse().unwrap();
        create_token(&admin, &TokenSpec::new(token.clone()), SystemTime::now())
            .await
            .unwrap();
        Self { plane, admin, token }
    }

    /// `bootstrap-kubelet.conf` for the token: the plane's URL and CA.
    pub(crate) fn bootstrap_kubeconfig(&self) -> Kubeconfig {
        Kubeconfig::bootstrap_token(
            self.plane.url(),
            self.plane.ca_pem().into_bytes(),
            SecretString::new(self.token.expose_secret().as_str()),
        )
    }

    /// The CA pin (`sha256:...`) a join command carries.
    pub(crate) fn pin(&self) -> String {
        CaCertHash::of_certificate(self.plane.ca().certificate()).to_string()
    }

    /// `127.0.0.1:<port>`, the endpoint token discovery dials.
    pub(crate) fn endpoint(&self) -> String {
        self.plane.url().trim_start_matches("https://").to_owned()
    }

    /// The CSR API as the admin.
    pub(crate) fn csrs(&self) -> Api<CertificateSigningRequest> {
        Api::all(self.admin.clone())
    }

    /// Waits (up to 5 s) until a CSR whose requester is `username` exists, and returns it.
    pub(crate) async fn csr_of(&self, username: &str) -> CertificateSigningRequest {
        for _ in 0..250 {
            let list = self.csrs().list(&ListParams::default()).await.unwrap();
            let found = list
                .items
                .into_iter()
                .find(|csr| csr.spec.username.as_deref() == Some(username));
            if let Some(csr) = found {
                return csr;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no CSR of {username} within 5 s")
    }

    /// Adds `condition` to `csr` through `subresource` (`approval` or `status`) as the admin.
    pub(crate) async fn add_condition(
        &self,
        csr: &CertificateSigningRequest,
        subresource: &str,
        condition: CertificateSigningRequestCondition,
    ) {
        let mut csr = csr.clone();
        csr.status
            .get_or_insert_with(Default::default)
            .conditions
            .get_or_insert_with(Vec::new)
            .push(condition);
        let name = csr.metadata.name.clone().unwrap();
        self.csrs()
            .replace_subresource(subresource, &name, &PostParams::default(), &csr)
            .await
            .unwrap();
    }

    /// Saves the admin kubeconfig for kubectl.
    pub(crate) fn save_admin_kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("admin.conf");
        self.plane.admin_kubeconfig().save(&path).unwrap();
        path
    }
}

/// A Node address of `type_` (`InternalIP`, `Hostname`, ...).
pub(crate) fn address(type_: &str, address: &str) -> NodeAddress {
    NodeAddress {
        type_: type_.into(),
        address: address.into(),
    }
}

/// A condition of `type_` with `reason` and `message`.
pub(crate) fn condition(type_: &str, reason: &str, message: &str) -> CertificateSigningRequestCondition {
    CertificateSigningRequestCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        ..Default::default()
    }
}

/// A joining node: its name and a kubelet directory of its own.
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) dir: tempfile::TempDir,
}

impl Node {
    /// `worker-<n>` with an empty directory.
    pub(crate) fn new(n: u32) -> Self {
        Self {
            name: format!("worker-{n}"),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// `system:node:worker-<n>`.
    pub(crate) fn user(&self) -> String {
        format!("system:node:{}", self.name)
    }

    /// The kubelet's PKI directory.
    pub(crate) fn pki(&self) -> PathBuf {
        self.dir.path().join("pki")
    }

    /// `kubelet.conf`.
    pub(crate) fn kubelet_conf(&self) -> PathBuf {
        self.dir.path().join("kubelet.conf")
    }

    /// `bootstrap-kubelet.conf`, removed after success.
    pub(crate) fn bootstrap_conf(&self) -> PathBuf {
        self.dir.path().join("bootstrap-kubelet.conf")
    }

    /// Options with the whole request bounded by `timeout` and fast retries.
    pub(crate) fn options(&self, timeout: Duration) -> BootstrapOptions {
        BootstrapOptions::default()
            .with_layout(
                Layout::default()
                    .with_cert_dir(self.pki())
                    .with_kubeconfig(self.kubelet_conf())
                    .with_remove_after(self.bootstrap_conf()),
            )
            .with_request(
                Options::default()
                    .with_timeout(timeout)
                    .with_retry_backoff(Duration::from_millis(20), Duration::from_millis(200))
                    .with_poll_interval(Duration::from_millis(100)),
            )
    }

    /// Writes `bootstrap-kubelet.conf` as kubeadm does and bootstraps from it.
    pub(crate) async fn bootstrap(
        &self,
        kubeconfig: &Kubeconfig,
        options: &BootstrapOptions,
    ) -> Result<(), Error> {
        kubeconfig.save(self.bootstrap_conf()).unwrap();
        let loaded = Kubeconfig::from_file(self.bootstrap_conf()).unwrap();
        bootstrap(&loaded, &self.name, options, &mut |_| {}).await
    }

    /// [`Node::bootstrap`] with `cluster`'s bootstrap kubeconfig, bounded by `timeout`.
    pub(crate) async fn join(&self, cluster: &Cluster, timeout: Duration) -> Result<(), Error> {
        self.bootstrap(&cluster.bootstrap_kubeconfig(), &self.options(timeout))
            .await
    }

    /// The file names in the PKI directory, sorted (empty when it does not exist).
    pub(crate) fn pki_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.pki())
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Asserts that no certificate and no `kubelet.conf` were written (a pending key may be).
    pub(crate) fn assert_nothing_written(&self) {
        assert!(!self.kubelet_conf().exists(), "kubelet.conf was written");
        let files = self.pki_files();
        assert!(
            files.iter().all(|f| f == "kubelet-client.key.tmp"),
            "files were written: {files:?}"
        );
    }

    /// Joins, then registers this node's Node object listing `addresses`; a client as the node.
    pub(crate) async fn with_addresses(&self, cluster: &Cluster, addresses: &[NodeAddress]) -> kube::Client {
        self.join(cluster, Duration::from_secs(5)).await.unwrap();
        let nodes: Api<NodeObject> = Api::all(cluster.admin.clone());
        let mut object = NodeObject::default();
        object.metadata.name = Some(self.name.clone());
        let mut created = nodes.create(&PostParams::default(), &object).await.unwrap();
        created.status = Some(NodeStatus {
            addresses: Some(addresses.to_vec()),
            ..NodeStatus::default()
        });
        nodes
            .replace_status(&self.name, &PostParams::default(), &created)
            .await
            .unwrap();
        self.client().await
    }

    /// This node's serving certificate request for `addresses`, checked against the plane's CA.
    pub(crate) fn serving_request<'a>(
        &self,
        cluster: &Cluster,
        key: &'a PrivateKey,
        addresses: &[NodeAddress],
    ) -> Request<'a> {
        let ca = vec![cluster.plane.ca().certificate().clone()];
        Request::kubelet_serving(&self.name, key, addresses, None, ca).unwrap()
    }

    /// A client authenticated by `kubelet.conf`.
    pub(crate) async fn client(&self) -> kube::Client {
        let kubeconfig = Kubeconfig::from_file(self.kubelet_conf())
            .unwrap()
            .to_kube()
            .unwrap();
        let options = kube::config::KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }
}

/// Runs the real `kubectl` with `kubeconfig` (off the runtime's threads), or `None` when there
/// is none here (the finder says why, and fails under `CI=true`).
pub(crate) async fn kubectl(kubeconfig: &Path, args: &[&str]) -> Option<Output> {
    let binary = kubectl::finder::kubectl()?;
    let cache = kubeconfig.with_extension("cache");
    let mut command = Command::new(binary);
    command
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--request-timeout=20s")
        .args(args)
        .env_remove("KUBECONFIG");
    Some(
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap(),
    )
}

/// stdout of a kubectl run that must succeed.
pub(crate) fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
