//! `kubetrust::csr_bootstrap::approver` against testcp (its own serving approver off): the
//! manifest `deploy/approver.yaml` applied by the real kubectl, the approver running with exactly
//! that manifest's RBAC (as its service account), approvals, denials for a foreign IP, Events,
//! CSRs of other signers left alone, and two replicas electing a leader through a Lease, with
//! the leader killed mid-decision.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestSpec};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{ListParams, PostParams};
use kubetrust::csr_bootstrap::Error;
use kubetrust::csr_bootstrap::approver::{self, ApproverConfig, LeaseConfig};
use kubetrust::csr_bootstrap::client::{self, Issued, Options, Request};
use kubetrust::csr_bootstrap::policy::DENY_REASON;
use kubetrust::kubeconfig::Config as Kubeconfig;
use kubetrust::pki::{KeyAlgorithm, PrivateKey};
use support::{Cluster, Node, address};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const SERVICE_ACCOUNT: &str = "system:serviceaccount:kube-system:kubetrust-approver";
const LEASE: &str = "kubetrust-approver";

/// Applies `deploy/approver.yaml` with the real kubectl as the admin; `false` when there is no
/// kubectl here (the finder says why, and fails under `CI=true`).
async fn apply_manifest(cluster: &Cluster, dir: &Path) -> bool {
    let admin = cluster.save_admin_kubeconfig(dir);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/approver.yaml");
    let Some(out) = support::kubectl(&admin, &["apply", "-f", manifest.to_str().unwrap()]).await else {
        return false;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kubectl apply failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    for created in [
        "serviceaccount/kubetrust-approver created",
        "clusterrole.rbac.authorization.k8s.io/kubetrust:approver created",
        "rolebinding.rbac.authorization.k8s.io/kubetrust:approver:leader-election created",
        "deployment.apps/kubetrust-approver created",
    ] {
        assert!(stdout.contains(created), "{created:?} not in\n{stdout}");
    }
    true
}

/// A client that is the approver's service account (the admin impersonating it), so every
/// call is checked against the manifest's RBAC.
async fn service_account_client(cluster: &Cluster) -> kube::Client {
    let mut kubeconfig: Kubeconfig = cluster.plane.admin_kubeconfig();
    for user in &mut kubeconfig.users {
        user.user.impersonate = SERVICE_ACCOUNT.into();
        user.user.impersonate_groups = vec![
            "system:serviceaccounts".into(),
            "system:serviceaccounts:kube-system".into(),
        ];
    }
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig.to_kube().unwrap(), &options)
        .await
        .unwrap();
    kube::Client::try_from(config).unwrap()
}

/// A running approver and the switch that stops it gracefully.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), Error>>,
}

fn spawn(client: kube::Client, config: ApproverConfig) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(approver::run(client, config, async move {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

impl Running {
    async fn stop(self) -> Result<(), Error> {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the approver stops within 10 s")
            .unwrap()
    }
}

/// Requests `node`'s serving certificate for `addresses`, as the node.
async fn request_serving(
    cluster: &Cluster,
    node: &Node,
    client: &kube::Client,
    addresses: &[k8s_openapi::api::core::v1::NodeAddress],
) -> Result<Issued, Error> {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let request = node.serving_request(cluster, &key, addresses);
    client::request_certificate(
        client,
        &request,
        &Options::default().with_timeout(Duration::from_secs(10)),
    )
    .await
}

/// The conditions' `(type, reason)` of CSR `name`.
async fn conditions(cluster: &Cluster, name: &str) -> Vec<(String, String)> {
    let csr = cluster.csrs().get(name).await.unwrap();
    csr.status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.type_, c.reason.unwrap_or_default()))
        .collect()
}

/// The Events recorded about CSR `name`.
async fn events_about(cluster: &Cluster, name: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(cluster.admin.clone(), "default");
    events
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(name))
        .collect()
}

/// The Events about CSR `name` once there is one (the approver records it after writing the
/// decision, which the requester may see first); empty after 5 s without.
async fn recorded_events(cluster: &Cluster, name: &str) -> Vec<Event> {
    for _ in 0..100 {
        let events = events_about(cluster, name).await;
        if !events.is_empty() {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Vec::new()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_its_manifests_rbac_the_approver_approves_own_addresses_and_denies_a_foreign_ip() {
    let cluster = Cluster::start().await;
    let dir = tempfile::tempdir().unwrap();
    if !apply_manifest(&cluster, dir.path()).await {
        return;
    }
    let running = spawn(service_account_client(&cluster).await, ApproverConfig::default());

    // A node asking for its own addresses gets its certificate.
    let good = Node::new(31);
    let own = [
        address("InternalIP", "10.0.0.31"),
        address("Hostname", "worker-31"),
    ];
    let good_client = good.with_addresses(&cluster, &own).await;
    let issued = request_serving(&cluster, &good, &good_client, &own)
        .await
        .unwrap();
    assert_eq!(issued.chain[0].dns_names(), ["worker-31"]);
    assert_eq!(
        conditions(&cluster, &issued.name).await,
        [("Approved".to_owned(), "KubetrustServingApproved".to_owned())]
    );

    // A node claiming another's IP is denied, the foreign address named.
    let bad = Node::new(32);
    let bad_own = [address("InternalIP", "10.0.0.32")];
    let bad_client = bad.with_addresses(&cluster, &bad_own).await;
    let claimed = [bad_own[0].clone(), address("InternalIP", "10.0.0.31")];
    let error = request_serving(&cluster, &bad, &bad_client, &claimed)
        .await
        .unwrap_err();
    let Error::Denied {
        name: denied,
        reason,
        message,
    } = &error
    else {
        panic!("expected a denial, got {error:?}")
    };
    assert_eq!(reason, DENY_REASON);
    assert!(
        message.contains("10.0.0.31") && !message.contains("10.0.0.32"),
        "{message}"
    );

    // Each decision is an Event from the approver.
    let approved = recorded_events(&cluster, &issued.name).await;
    assert_eq!(approved.len(), 1, "{approved:?}");
    assert_eq!(approved[0].type_.as_deref(), Some("Normal"));
    assert_eq!(approved[0].reason.as_deref(), Some("KubetrustServingApproved"));
    assert_eq!(
        approved[0].reporting_controller.as_deref(),
        Some("kubetrust-approver")
    );
    let denials = recorded_events(&cluster, denied).await;
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0].type_.as_deref(), Some("Warning"));
    assert!(
        denials[0]
            .note
            .as_deref()
            .unwrap_or_default()
            .contains("10.0.0.31")
    );

    // A CSR of another signer is never touched, however long the approver runs.
    let other = other_signer_csr(&cluster, &good, "example.com/serving").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(conditions(&cluster, &other).await, []);
    assert!(events_about(&cluster, &other).await.is_empty());

    running.stop().await.unwrap();
}

/// A CSR for `signer` with a serving request of `node`, created by the admin.
async fn other_signer_csr(cluster: &Cluster, node: &Node, signer: &str) -> String {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let request = node.serving_request(cluster, &key, &[address("InternalIP", "10.0.0.31")]);
    let csr = CertificateSigningRequest {
        metadata: kube::api::ObjectMeta {
            generate_name: Some("other-".into()),
            ..Default::default()
        },
        spec: CertificateSigningRequestSpec {
            signer_name: signer.into(),
            request: ByteString(request.csr().spec.request.0.clone()),
            usages: Some(vec!["digital signature".into(), "server auth".into()]),
            ..Default::default()
        },
        status: None,
    };
    let created = cluster.csrs().create(&PostParams::default(), &csr).await.unwrap();
    created.metadata.name.unwrap()
}

/// Short Lease timing, so a takeover happens in seconds.
fn lease(identity: &str) -> LeaseConfig {
    LeaseConfig::new("kube-system", LEASE, identity).with_timing(
        Duration::from_secs(2),
        Duration::from_millis(1500),
        Duration::from_millis(200),
    )
}

async fn holder(cluster: &Cluster) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(cluster.admin.clone(), "kube-system");
    leases
        .get_opt(LEASE)
        .await
        .unwrap()
        .and_then(|l| l.spec?.holder_identity)
}

async fn wait_for_holder(cluster: &Cluster, identity: &str) {
    for _ in 0..100 {
        if holder(cluster).await.as_deref() == Some(identity) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{identity} did not take the lease within 10 s (holder: {:?})",
        holder(cluster).await
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_elect_one_leader_and_a_leader_killed_mid_decision_is_replaced() {
    let cluster = Cluster::start().await;
    let dir = tempfile::tempdir().unwrap();
    if !apply_manifest(&cluster, dir.path()).await {
        return;
    }
    let config = |identity| ApproverConfig::default().with_leader_election(lease(identity));
    let a = spawn(service_account_client(&cluster).await, config("replica-a"));
    wait_for_holder(&cluster, "replica-a").await;
    let b = spawn(service_account_client(&cluster).await, config("replica-b"));

    // The leader decides; the candidate does not.
    let first = Node::new(41);
    let first_own = [address("InternalIP", "10.0.0.41")];
    let first_client = first.with_addresses(&cluster, &first_own).await;
    let issued = request_serving(&cluster, &first, &first_client, &first_own)
        .await
        .unwrap();
    let events = recorded_events(&cluster, &issued.name).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].reporting_instance.as_deref(), Some("replica-a"));

    // kill -9 of the leader while a CSR waits for its decision: no release, no goodbye.
    let second = Node::new(42);
    let second_own = [address("InternalIP", "10.0.0.42")];
    let second_client = second.with_addresses(&cluster, &second_own).await;
    let ca = vec![cluster.plane.ca().certificate().clone()];
    let pending = tokio::spawn(async move {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let request = Request::kubelet_serving(&second.name, &key, &second_own, None, ca).unwrap();
        let options = Options::default().with_timeout(Duration::from_secs(15));
        client::request_certificate(&second_client, &request, &options)
            .await
            .map(|issued| issued.name)
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    a.task.abort();

    // The candidate waits the lease out, takes over and decides — exactly once.
    let name = pending.await.unwrap().unwrap();
    wait_for_holder(&cluster, "replica-b").await;
    assert_eq!(
        conditions(&cluster, &name).await,
        [("Approved".to_owned(), "KubetrustServingApproved".to_owned())]
    );
    let leases: Api<Lease> = Api::namespaced(cluster.admin.clone(), "kube-system");
    let spec = leases.get(LEASE).await.unwrap().spec.unwrap();
    assert!(spec.lease_transitions.unwrap() >= 1, "{spec:?}");

    // A clean stop hands the Lease back at once.
    b.stop().await.unwrap();
    assert_eq!(holder(&cluster).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_whose_lease_is_taken_stops_with_leadership_lost() {
    let cluster = Cluster::start().await;
    let running = spawn(
        cluster.admin.clone(),
        ApproverConfig::default().with_leader_election(lease("replica-a")),
    );
    wait_for_holder(&cluster, "replica-a").await;

    // Someone else writes itself into the Lease (an operator, or a replica with a bad clock).
    let leases: Api<Lease> = Api::namespaced(cluster.admin.clone(), "kube-system");
    let mut taken = leases.get(LEASE).await.unwrap();
    taken.spec.as_mut().unwrap().holder_identity = Some("intruder".into());
    leases
        .replace(LEASE, &PostParams::default(), &taken)
        .await
        .unwrap();

    let result = tokio::time::timeout(Duration::from_secs(10), running.task)
        .await
        .unwrap()
        .unwrap();
    let Err(Error::LeadershipLost { lease, identity, .. }) = &result else {
        panic!("expected leadership lost, got {result:?}")
    };
    assert_eq!(
        (lease.as_str(), identity.as_str()),
        ("kube-system/kubetrust-approver", "replica-a")
    );
    assert_eq!(holder(&cluster).await.as_deref(), Some("intruder"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inconsistent_lease_timing_is_refused() {
    let cluster = Cluster::start().await;
    let timing = LeaseConfig::new("kube-system", LEASE, "a").with_timing(
        Duration::from_secs(2),
        Duration::from_secs(3),
        Duration::from_secs(1),
    );
    let result = approver::run(
        cluster.admin.clone(),
        ApproverConfig::default().with_leader_election(timing),
        std::future::pending(),
    )
    .await;
    assert!(
        matches!(result, Err(Error::InvalidLeaseConfig { .. })),
        "{result:?}"
    );
}

/// With `client_csrs`, kubelet client CSRs are decided as kube-controller-manager's
/// `csrapproving` decides them (its own approver off here): a bootstrap-token join is approved
/// after a SubjectAccessReview, and once kubeadm's auto-approval binding is removed, the review
/// says no and the CSR is left pending (never denied).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_csrs_are_approved_only_when_the_access_review_allows() {
    let cluster = Cluster::with_config(kubetrust_testcp::Config::default().with_client_approver(false)).await;
    let running = spawn(
        cluster.admin.clone(),
        ApproverConfig::default().with_client_csrs(true),
    );
    let node = Node::new(51);
    node.join(&cluster, Duration::from_secs(10)).await.unwrap();
    let csr = cluster
        .csr_of(&format!("system:bootstrap:{}", cluster.token.id()))
        .await;
    let name = csr.metadata.name.unwrap();
    assert_eq!(
        conditions(&cluster, &name).await,
        [("Approved".to_owned(), "AutoApproved".to_owned())]
    );
    assert_eq!(recorded_events(&cluster, &name).await.len(), 1);

    kubetrust::bootstrap_token::api::disable_node_client_auto_approval(&cluster.admin)
        .await
        .unwrap();
    let refused = Node::new(52);
    let error = refused
        .join(&cluster, Duration::from_millis(1500))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    running.stop().await.unwrap();
}
