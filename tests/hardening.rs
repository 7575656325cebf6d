//! kubeadm's hardening steps, run verbatim with the real kubectl and testcp's `admin.conf`
//! (<https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/#securing-more>):
//! without `kubeadm:node-autoapprove-bootstrap` a join waits for `kubectl certificate approve`;
//! without `kubeadm:bootstrap-signer-clusterinfo` token discovery is refused while file
//! discovery still works. And what a bootstrap token may do: create CSRs, not read Secrets.
//! Each test says why and passes when there is no kubectl, except under `CI=true`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::PathBuf;
use std::time::Duration;

use kubetrust::discovery::file::FileDiscovery;
use kubetrust::discovery::token::TokenDiscovery;
use kubetrust::discovery::{PinSet, Timing, Trust};
use support::{Cluster, Node};

/// A cluster, a directory, and its `admin.conf` there; `None` without kubectl.
async fn admin() -> Option<(Cluster, tempfile::TempDir, PathBuf)> {
    support::kubectl::finder::kubectl()?;
    let cluster = Cluster::start().await;
    let dir = tempfile::tempdir().unwrap();
    let admin = cluster.save_admin_kubeconfig(dir.path());
    Some((cluster, dir, admin))
}

/// `kubectl --kubeconfig <kubeconfig> args...`, which must succeed; its stdout.
async fn kubectl_ok(kubeconfig: &std::path::Path, args: &[&str]) -> String {
    support::ok(&support::kubectl(kubeconfig, args).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_node_autoapprove_bootstrap_a_join_waits_for_kubectl_certificate_approve() {
    let Some((cluster, _dir, admin)) = admin().await else {
        return;
    };
    let deleted = kubectl_ok(
        &admin,
        &[
            "delete",
            "clusterrolebinding",
            "kubeadm:node-autoapprove-bootstrap",
        ],
    )
    .await;
    assert!(deleted.contains("deleted"), "{deleted}");

    let node = Node::new(1);
    let approve = async {
        let csr = cluster.csr_of("system:bootstrap:abcdef").await;
        let name = csr.metadata.name.unwrap();
        // Well past the approver's first look and its 500 ms resync: still pending.
        tokio::time::sleep(Duration::from_millis(800)).await;
        let pending = cluster.csrs().get(&name).await.unwrap();
        assert!(
            pending.status.and_then(|s| s.conditions).is_none(),
            "nobody may decide it"
        );
        let listed = kubectl_ok(&admin, &["get", "csr", &name]).await;
        assert!(listed.contains("Pending"), "{listed}");
        let approved = kubectl_ok(&admin, &["certificate", "approve", &name]).await;
        assert!(approved.contains("approved"), "{approved}");
    };
    let (result, ()) = tokio::join!(node.join(&cluster, Duration::from_secs(5)), approve);
    result.unwrap();
    assert!(node.kubelet_conf().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_public_cluster_info_token_discovery_is_refused_and_file_discovery_works() {
    let Some((cluster, dir, admin)) = admin().await else {
        return;
    };
    // The docs: save cluster-info's kubeconfig as the discovery file first.
    let kubeconfig = kubectl_ok(
        &admin,
        &[
            "-n",
            "kube-public",
            "get",
            "cm",
            "cluster-info",
            "-o",
            "jsonpath={.data.kubeconfig}",
        ],
    )
    .await;
    let discovery_file = dir.path().join("discovery.conf");
    std::fs::write(&discovery_file, kubeconfig).unwrap();
    let deleted = kubectl_ok(
        &admin,
        &[
            "-n",
            "kube-public",
            "delete",
            "rolebinding",
            "kubeadm:bootstrap-signer-clusterinfo",
        ],
    )
    .await;
    assert!(deleted.contains("deleted"), "{deleted}");

    let timing = Timing::default()
        .with_timeout(Duration::from_millis(600))
        .with_retry_interval(Duration::from_millis(100));
    let trust = Trust::Pinned(PinSet::parse([cluster.pin()]).unwrap());
    let error = TokenDiscovery::new(cluster.endpoint(), cluster.token.clone(), trust)
        .with_timing(timing)
        .discover()
        .await
        .unwrap_err();
    // It names the check (the anonymous first fetch) and the 403 behind it.
    let message = error.to_string();
    assert!(
        message.contains("failed to request the cluster-info ConfigMap")
            && message.contains("(first fetch, TLS not verified)")
            && message.contains("waiting for a readable cluster-info ConfigMap")
            && !message.contains("JWS signature"),
        "{message}"
    );
    let chain = error_chain(&error);
    assert!(
        chain.contains("code: 403") && chain.contains("is forbidden: User \"system:anonymous\""),
        "{chain}"
    );

    let discovered = FileDiscovery::new(discovery_file.to_str().unwrap())
        .with_tls_bootstrap_token(cluster.token.clone())
        .with_timing(timing)
        .discover()
        .await
        .unwrap();
    assert!(discovered.cluster_info_forbidden());
    let node = Node::new(2);
    node.bootstrap(
        discovered.bootstrap_kubeconfig(),
        &node.options(Duration::from_secs(5)),
    )
    .await
    .unwrap();
}

/// `error` and its sources, one per line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push('\n');
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_token_may_create_csrs_but_not_read_secrets() {
    let Some((cluster, dir, admin)) = admin().await else {
        return;
    };
    let token_conf = dir.path().join("bootstrap-kubelet.conf");
    cluster.bootstrap_kubeconfig().save(&token_conf).unwrap();

    let key = kubetrust::pki::PrivateKey::generate(kubetrust::pki::KeyAlgorithm::EcdsaP256).unwrap();
    let csr = kubetrust::csr_bootstrap::csr::client_csr(
        "worker-3",
        &key,
        kubetrust::csr_bootstrap::csr::Naming::Digest,
        None,
    )
    .unwrap();
    let name = csr.metadata.name.clone().unwrap();
    let manifest = dir.path().join("csr.json");
    std::fs::write(&manifest, serde_json::to_vec(&csr).unwrap()).unwrap();
    let created = kubectl_ok(&token_conf, &["create", "-f", manifest.to_str().unwrap()]).await;
    assert!(created.contains(&name), "{created}");

    let refused = support::kubectl(&token_conf, &["get", "secrets", "-n", "kube-system"])
        .await
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("Error from server (Forbidden)"), "{stderr}");
    assert!(stderr.contains("system:bootstrap:abcdef"), "{stderr}");

    let as_token = [
        "--as",
        "system:bootstrap:abcdef",
        "--as-group",
        "system:bootstrappers",
        "--as-group",
        "system:bootstrappers:kubeadm:default-node-token",
    ];
    let can_i = |verb: &'static str, resource: &'static str| {
        let admin = admin.clone();
        async move {
            let mut args = vec!["auth", "can-i", verb, resource];
            args.extend(as_token);
            let output = support::kubectl(&admin, &args).await.unwrap();
            String::from_utf8_lossy(&output.stdout).trim().to_owned()
        }
    };
    assert_eq!(can_i("create", "certificatesigningrequests").await, "yes");
    assert_eq!(can_i("get", "secrets").await, "no");
}
