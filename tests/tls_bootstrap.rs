//! The node's TLS bootstrap end to end against testcp: each test starts a fresh control plane,
//! creates a bootstrap token through the API and joins `worker-N` from a kubelet directory of
//! its own — the happy path, every way the wait can end badly, the faults it must survive,
//! manual approval with the real kubectl, a restarted client, rotation and serving
//! certificates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Api;
use kube::api::{DeleteParams, ListParams};
use kubetrust::bootstrap_token::api::disable_node_client_auto_approval;
use kubetrust::csr_bootstrap::Error;
use kubetrust::csr_bootstrap::client::{self, Options};
use kubetrust::csr_bootstrap::outcome::CsrState;
use kubetrust::csr_bootstrap::policy::DENY_REASON;
use kubetrust::csr_bootstrap::renew::{Credentials, Kind, KubeRenewer};
use kubetrust::csr_bootstrap::rotation::{Clock, Manager, RotationEvent};
use kubetrust::csr_bootstrap::store::{CertStore, Current};
use kubetrust::discovery::token::TokenDiscovery;
use kubetrust::discovery::{PinSet, Timing, Trust};
use kubetrust::pki::{Certificate, KeyAlgorithm, PrivateKey};
use kubetrust_testcp::Config;
use support::{Cluster, Node, address, condition};

const BOOTSTRAP_USER: &str = "system:bootstrap:abcdef";

fn short() -> Duration {
    Duration::from_secs(5)
}

/// A control plane whose kubelet client CSRs wait for a human (or the test) to approve them.
async fn manual_approval_cluster() -> Cluster {
    let cluster = Cluster::start().await;
    disable_node_client_auto_approval(&cluster.admin).await.unwrap();
    cluster
}

/// Asserts that `error` is the timeout of a CSR nobody approved.
fn assert_timed_out_pending(error: &Error) {
    assert!(
        matches!(
            error,
            Error::Timeout {
                state: CsrState::Pending,
                ..
            }
        ),
        "{error:?}"
    );
}

/// The leaf of `kubelet-client-current.pem`, checked to chain to the plane's CA.
fn current_leaf(cluster: &Cluster, node: &Node) -> Certificate {
    let pem = std::fs::read(node.pki().join("kubelet-client-current.pem")).unwrap();
    let chain = Certificate::chain_from_pem(&pem).unwrap();
    let leaf = chain[0].clone();
    assert!(leaf.is_signed_by(cluster.plane.ca().certificate()));
    leaf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_from_token_discovery_to_a_working_kubelet_conf() {
    let cluster = Cluster::start().await;
    let node = Node::new(1);
    let trust = Trust::Pinned(PinSet::parse([cluster.pin()]).unwrap());
    let discovered = TokenDiscovery::new(cluster.endpoint(), cluster.token.clone(), trust)
        // The bootstrap signer adds the token's signature shortly after the token appears.
        .with_timing(
            Timing::default()
                .with_timeout(short())
                .with_retry_interval(Duration::from_millis(100)),
        )
        .discover()
        .await
        .unwrap();

    node.bootstrap(&discovered.bootstrap_kubeconfig(), &node.options(short()))
        .await
        .unwrap();

    // The files as the kubelet writes them: one timestamped pair, `current` pointing at it.
    let files = node.pki_files();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files[0].starts_with("kubelet-client-2") && files[0].ends_with(".pem"));
    assert_eq!(files[1], "kubelet-client-current.pem");
    let target = std::fs::read_link(node.pki().join("kubelet-client-current.pem")).unwrap();
    assert_eq!(target.file_name().unwrap().to_str(), Some(files[0].as_str()));
    assert!(
        !node.bootstrap_conf().exists(),
        "the bootstrap kubeconfig is removed"
    );
    let leaf = current_leaf(&cluster, &node);
    assert_eq!(leaf.subject().common_name, "system:node:worker-1");
    assert_eq!(leaf.subject().organizations, ["system:nodes"]);

    // kubelet.conf authenticates as the node: it reads the CSR that made it.
    let csr = cluster.csr_of(BOOTSTRAP_USER).await;
    let name = csr.metadata.name.unwrap();
    assert!(name.starts_with("node-csr-"), "{name}");
    let as_node: Api<CertificateSigningRequest> = Api::all(node.client().await);
    let own = as_node.get(&name).await.unwrap();
    assert!(own.status.unwrap().certificate.is_some());

    // And the real kubectl with kubelet.conf is `system:node:worker-1`: a CSR it creates
    // names that requester.
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut request = kubetrust::csr_bootstrap::csr::client_csr(
        "worker-1",
        &key,
        kubetrust::csr_bootstrap::csr::Naming::Digest,
        None,
    )
    .unwrap();
    request.metadata.name = Some("kubectl-as-node".into());
    let manifest = node.dir.path().join("csr.json");
    std::fs::write(&manifest, serde_json::to_vec(&request).unwrap()).unwrap();
    let kubelet_conf = node.kubelet_conf();
    let Some(created) = support::kubectl(&kubelet_conf, &["create", "-f", manifest.to_str().unwrap()]).await
    else {
        return;
    };
    support::ok(&created);
    let requester = support::kubectl(
        &kubelet_conf,
        &["get", "csr", "kubectl-as-node", "-o", "jsonpath={.spec.username}"],
    )
    .await
    .unwrap();
    assert_eq!(support::ok(&requester), "system:node:worker-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_csr_fails_with_its_reason_and_writes_nothing() {
    let cluster = manual_approval_cluster().await;
    let node = Node::new(2);
    let deny = async {
        let csr = cluster.csr_of(BOOTSTRAP_USER).await;
        let denied = condition("Denied", "NotInInventory", "worker-2 is not in the inventory");
        cluster.add_condition(&csr, "approval", denied).await;
    };
    let (result, ()) = tokio::join!(node.join(&cluster, short()), deny);
    let error = result.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");
    assert!(
        message.contains("denied, reason: NotInInventory, message: worker-2 is not in the inventory"),
        "{message}"
    );
    node.assert_nothing_written();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csr_the_signer_fails_ends_the_wait_and_writes_nothing() {
    let cluster = manual_approval_cluster().await;
    let node = Node::new(3);
    // The admin approves, then marks it Failed through /status as a signer does (the admin
    // may `sign` for every signer); the real signer leaves a Failed CSR alone.
    let fail = async {
        let csr = cluster.csr_of(BOOTSTRAP_USER).await;
        let failed = condition("Failed", "SignerValidationFailure", "the CA refuses this request");
        cluster.add_condition(&csr, "status", failed).await;
    };
    let (result, ()) = tokio::join!(node.join(&cluster, short()), fail);
    let error = result.unwrap_err();
    assert!(matches!(error, Error::Failed { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("failed, reason: SignerValidationFailure, message: the CA refuses this request"),
        "{error}"
    );
    node.assert_nothing_written();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csr_deleted_mid_wait_ends_it() {
    let cluster = manual_approval_cluster().await;
    let node = Node::new(4);
    let delete = async {
        let csr = cluster.csr_of(BOOTSTRAP_USER).await;
        let name = csr.metadata.name.unwrap();
        cluster
            .csrs()
            .delete(&name, &DeleteParams::default())
            .await
            .unwrap();
        name
    };
    let (result, name) = tokio::join!(node.join(&cluster, short()), delete);
    let error = result.unwrap_err();
    assert!(
        matches!(&error, Error::Deleted { name: deleted } if *deleted == name),
        "{error:?}"
    );
    node.assert_nothing_written();
}

/// Approves the bootstrap CSR as the admin once it exists.
async fn approve_when_created(cluster: &Cluster) {
    let csr = cluster.csr_of(BOOTSTRAP_USER).await;
    let approved = condition("Approved", "ManualApproval", "approved by the test");
    cluster.add_condition(&csr, "approval", approved).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_dropped_mid_wait_is_resumed() {
    let cluster = manual_approval_cluster().await;
    // Every watch ends after one event: the approval arrives on one, the certificate on the
    // next, resumed from the last resourceVersion.
    cluster.plane.faults().close_watches_after(Some(1));
    let node = Node::new(5);
    let (result, ()) = tokio::join!(node.join(&cluster, short()), approve_when_created(&cluster));
    result.unwrap();
    current_leaf(&cluster, &node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_until_success() {
    let cluster = Cluster::start().await;
    cluster
        .plane
        .faults()
        .only_paths(Some("/apis/certificates.k8s.io/"));
    cluster.plane.faults().fail_next(3);
    let node = Node::new(6);
    node.join(&cluster, short()).await.unwrap();
    current_leaf(&cluster, &node);
    // All three 500s were spent on the bootstrap's calls.
    assert_eq!(
        cluster.plane.faults().verdict("/apis/certificates.k8s.io/v1"),
        kubetrust_testcp::faults::Verdict::Serve
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_restarted_mid_wait_is_survived() {
    let cluster = Cluster::start().await;
    cluster
        .plane
        .faults()
        .set_signing_delay(Duration::from_millis(500));
    let node = Node::new(7);
    let restart = async {
        let csr = cluster.csr_of(BOOTSTRAP_USER).await;
        assert!(csr.status.and_then(|s| s.certificate).is_none(), "still signing");
        cluster.plane.restart().await.unwrap();
    };
    let (result, ()) = tokio::join!(node.join(&cluster, short()), restart);
    result.unwrap();
    current_leaf(&cluster, &node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_approval_the_real_kubectl_approves() {
    let cluster = Cluster::start().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = cluster.save_admin_kubeconfig(dir.path());
    if support::kubectl::finder::kubectl().is_none() {
        return;
    }
    assert!(disable_node_client_auto_approval(&cluster.admin).await.unwrap());
    let node = Node::new(8);
    let approve = async {
        // Pending until someone approves it.
        let csr = cluster.csr_of(BOOTSTRAP_USER).await;
        let name = csr.metadata.name.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let listed = support::ok(&support::kubectl(&admin, &["get", "csr", &name]).await.unwrap());
        assert!(listed.contains("Pending"), "{listed}");
        let approved = support::kubectl(&admin, &["certificate", "approve", &name]).await;
        support::ok(&approved.unwrap())
    };
    let (result, said) = tokio::join!(node.join(&cluster, short()), approve);
    result.unwrap();
    assert!(said.contains("approved"), "{said}");
    current_leaf(&cluster, &node);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_names_the_wait_and_the_pending_state() {
    let cluster = manual_approval_cluster().await;
    let node = Node::new(9);
    let error = node
        .bootstrap(
            &cluster.bootstrap_kubeconfig(),
            &node.options(Duration::from_millis(500)),
        )
        .await
        .unwrap_err();
    assert_timed_out_pending(&error);
    let message = error.to_string();
    assert!(
        message.contains("timed out after")
            && message.contains("waiting for certificate signing request \"node-csr-"),
        "{message}"
    );
    assert!(message.ends_with("(pending approval)"), "{message}");
    node.assert_nothing_written();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_client_reuses_its_pending_key_and_csr() {
    let cluster = manual_approval_cluster().await;
    let node = Node::new(10);
    let kubeconfig = cluster.bootstrap_kubeconfig();
    let first = node
        .bootstrap(&kubeconfig, &node.options(Duration::from_millis(500)))
        .await
        .unwrap_err();
    let Error::Timeout { name, .. } = first else {
        panic!("the first run should time out")
    };
    let pending = std::fs::read(node.pki().join("kubelet-client.key.tmp")).unwrap();
    let pending = PrivateKey::from_pem(&pending).unwrap();

    let (result, ()) = tokio::join!(node.join(&cluster, short()), approve_when_created(&cluster));
    result.unwrap();
    let csrs = cluster.csrs().list(&ListParams::default()).await.unwrap();
    let names: Vec<_> = csrs
        .items
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    assert_eq!(names, [name], "the second run adopted the first run's CSR");
    let leaf = current_leaf(&cluster, &node);
    assert!(leaf.matches_key(&pending), "issued for the first run's key");
    assert!(!node.pki().join("kubelet-client.key.tmp").exists());
}

/// A clock that starts now and jumps forward instead of sleeping.
#[derive(Clone, Default)]
struct TestClock {
    offset: Arc<Mutex<Duration>>,
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + *self.offset.lock().unwrap()
    }

    async fn sleep(&self, duration: Duration) {
        *self.offset.lock().unwrap() += duration;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_lived_certificate_is_rotated_through_selfnodeclient() {
    let cluster = Cluster::start().await;
    let node = Node::new(11);
    let options = node.options(short()).with_expiration_seconds(600);
    node.bootstrap(&cluster.bootstrap_kubeconfig(), &options)
        .await
        .unwrap();
    let first = current_leaf(&cluster, &node);
    let lifetime = first.not_after().duration_since(SystemTime::now()).unwrap();
    assert!(lifetime <= Duration::from_secs(600), "{lifetime:?}");
    assert!(lifetime > Duration::from_secs(590), "{lifetime:?}");

    let clock = TestClock::default();
    let ca = vec![cluster.plane.ca().certificate().clone()];
    let renewer = KubeRenewer::new(
        Credentials::Kubeconfig(node.kubelet_conf()),
        "worker-11",
        Kind::Client,
        ca,
    )
    .with_options(Options::default().with_timeout(short()));
    let manager =
        Manager::new(CertStore::kubelet_client(node.pki()), clock.clone(), renewer).with_jitter(|| 0.0);
    let mut events = Vec::new();
    let path = manager
        .rotate_once(&mut |event| events.push(event))
        .await
        .unwrap();

    // It waited (on the test clock) until 70 % of the lifetime, then rotated once.
    let waited = *clock.offset.lock().unwrap();
    assert!(waited > Duration::from_secs(300), "{waited:?}");
    assert!(
        matches!(&events[..], [RotationEvent::Scheduled { .. }, RotationEvent::Rotated { path: p }] if *p == path),
        "{events:?}"
    );
    let second = current_leaf(&cluster, &node);
    assert_ne!(second.serial(), first.serial());
    assert_eq!(second.subject().common_name, "system:node:worker-11");

    // The renewal was requested by the node itself and approved as a self renewal.
    let csr = cluster.csr_of("system:node:worker-11").await;
    let approved = csr
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Approved")
        .unwrap();
    assert_eq!(
        approved.message.as_deref(),
        Some("Auto approving self kubelet client certificate after SubjectAccessReview.")
    );
    // kubelet.conf still points at `current`, now the new pair, and still works.
    let Current::Valid(_) = CertStore::kubelet_client(node.pki())
        .current(SystemTime::now())
        .unwrap()
    else {
        panic!("the rotated pair is not valid")
    };
    let as_node: Api<CertificateSigningRequest> = Api::all(node.client().await);
    as_node.list(&ListParams::default()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secure_approver_approves_a_serving_certificate_for_the_nodes_addresses() {
    let cluster = Cluster::with_config(Config::default().with_serving_approver(true)).await;
    let node = Node::new(12);
    let addresses = [
        address("InternalIP", "10.0.0.12"),
        address("Hostname", "worker-12"),
    ];
    let client = node.with_addresses(&cluster, &addresses).await;

    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let request = node.serving_request(&cluster, &key, &addresses);
    let issued = client::request_certificate(&client, &request, &Options::default().with_timeout(short()))
        .await
        .unwrap();
    let leaf = &issued.chain[0];
    assert_eq!(leaf.dns_names(), ["worker-12"]);
    assert_eq!(
        leaf.ip_addresses(),
        ["10.0.0.12".parse::<std::net::IpAddr>().unwrap()]
    );
    let csr = cluster.csrs().get(&issued.name).await.unwrap();
    let reasons: Vec<_> = csr
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .filter_map(|c| c.reason)
        .collect();
    assert_eq!(reasons, ["KubetrustServingApproved"]);

    // Stored as the kubelet stores it.
    let store = CertStore::kubelet_server(node.pki());
    store.update(&issued.chain, &key, SystemTime::now()).unwrap();
    assert!(matches!(
        store.current(SystemTime::now()).unwrap(),
        Current::Valid(_)
    ));
    assert!(node.pki().join("kubelet-server-current.pem").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secure_approver_denies_a_serving_certificate_for_a_foreign_ip() {
    let cluster = Cluster::with_config(Config::default().with_serving_approver(true)).await;
    let node = Node::new(13);
    let own = [
        address("InternalIP", "10.0.0.13"),
        address("Hostname", "worker-13"),
    ];
    let client = node.with_addresses(&cluster, &own).await;

    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let claimed = [own[0].clone(), address("InternalIP", "10.0.0.99")];
    let request = node.serving_request(&cluster, &key, &claimed);
    let error = client::request_certificate(&client, &request, &Options::default().with_timeout(short()))
        .await
        .unwrap_err();
    let Error::Denied { reason, message, .. } = &error else {
        panic!("expected a denial, got {error:?}")
    };
    assert_eq!(reason, DENY_REASON);
    assert!(message.contains("10.0.0.99"), "{message}");
    assert!(
        !message.contains("10.0.0.13"),
        "only the foreign address is a reason: {message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_its_node_a_serving_csr_stays_pending() {
    let cluster = Cluster::with_config(Config::default().with_serving_approver(true)).await;
    let node = Node::new(14);
    node.join(&cluster, short()).await.unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let addresses = [address("InternalIP", "10.0.0.14")];
    let request = node.serving_request(&cluster, &key, &addresses);
    let options = Options::default().with_timeout(Duration::from_millis(1500));
    let error = client::request_certificate(&node.client().await, &request, &options)
        .await
        .unwrap_err();
    assert_timed_out_pending(&error);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_serving_csrs_are_left_to_a_human() {
    let cluster = Cluster::start().await;
    let node = Node::new(15);
    let addresses = [address("InternalIP", "10.0.0.15")];
    let client = node.with_addresses(&cluster, &addresses).await;
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let request = node.serving_request(&cluster, &key, &addresses);
    let options = Options::default().with_timeout(Duration::from_millis(1500));
    let error = client::request_certificate(&client, &request, &options)
        .await
        .unwrap_err();
    assert_timed_out_pending(&error);
}
