//! Faults under load (issue 14, item 3): 1000 nodes bootstrap at once (the csr-bootstrap client
//! in one runtime, each with its own API client and kubelet directory) against one testcp that
//! answers 500s, then 429s with `Retry-After`, ends every watch after one event, drops
//! connections, and restarts mid-run. Every join must end within its timeout, in success (the
//! client's retries cover these faults) or in a typed error that is counted and printed; every
//! node's certificate is for its own key and name; no CSR is left pending.
//! `KUBETRUST_LOAD_NODES` changes the number of nodes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Api;
use kubetrust::csr_bootstrap::Error as BootstrapError;
use kubetrust::csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap};
use kubetrust::csr_bootstrap::client::Options;
use kubetrust::csr_bootstrap::flow::Layout;
use kubetrust::csr_bootstrap::store::{CertStore, Current};
use kubetrust::kubeconfig::Config as Kubeconfig;
use kubetrust::pki::{Certificate, CertificateRequest};
use support::Cluster;

/// The whole request of one node (create to certificate), as the client bounds it.
const JOIN_TIMEOUT: Duration = Duration::from_secs(120);
/// A join that has not ended this long after its own timeout hangs.
const HANG: Duration = Duration::from_secs(30);

fn nodes() -> usize {
    std::env::var("KUBETRUST_LOAD_NODES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
}

fn options(dir: &std::path::Path) -> BootstrapOptions {
    BootstrapOptions::default()
        .with_layout(
            Layout::default()
                .with_cert_dir(dir.join("pki"))
                .with_kubeconfig(dir.join("kubelet.conf")),
        )
        .with_request(
            Options::default()
                .with_timeout(JOIN_TIMEOUT)
                .with_retry_backoff(Duration::from_millis(50), Duration::from_secs(1))
                .with_poll_interval(Duration::from_millis(250)),
        )
}

/// One node's bootstrap, bounded: `Err` with the typed error, or a panic if it hangs.
async fn join_one(
    kubeconfig: Arc<Kubeconfig>,
    root: std::path::PathBuf,
    n: usize,
) -> Result<(), BootstrapError> {
    let dir = root.join(format!("worker-{n}"));
    let (options, name) = (options(&dir), format!("worker-{n}"));
    let mut quiet = |_| {};
    let run = bootstrap(&kubeconfig, &name, &options, &mut quiet);
    tokio::time::timeout(JOIN_TIMEOUT + HANG, run)
        .await
        .unwrap_or_else(|_| panic!("worker-{n} hangs past its timeout"))
}

/// Injects the faults as the joins progress: 500s from the start, 429s with `Retry-After`
/// after a quarter is done, a restart at half, dropped connections at three quarters. Every
/// watch ends after one event throughout.
async fn inject(cluster: &Cluster, done: &AtomicUsize, total: usize) -> Vec<&'static str> {
    let faults = cluster.plane.faults();
    faults.only_paths(Some("/apis/certificates.k8s.io/"));
    faults.close_watches_after(Some(1));
    faults.fail_next(200);
    let mut injected = vec!["500 x200", "watches closed after 1 event"];
    let wait_for = |share: usize| async move {
        while done.load(Ordering::Relaxed) * 4 < total * share {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    wait_for(1).await;
    faults.throttle_next(200, 1);
    injected.push("429 Retry-After: 1 x200");
    wait_for(2).await;
    cluster.plane.restart().await.unwrap();
    injected.push("restart");
    wait_for(3).await;
    faults.drop_next(100);
    injected.push("dropped connections x100");
    injected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_joins_survive_faults_and_a_restart() {
    let total = nodes();
    let cluster = Cluster::start().await;
    let kubeconfig = Arc::new(cluster.bootstrap_kubeconfig());
    let root = tempfile::tempdir().unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let joins: Vec<_> = (0..total)
        .map(|n| {
            let (kubeconfig, root, done) =
                (Arc::clone(&kubeconfig), root.path().to_owned(), Arc::clone(&done));
            tokio::spawn(async move {
                let result = join_one(kubeconfig, root, n).await;
                done.fetch_add(1, Ordering::Relaxed);
                result
            })
        })
        .collect();
    let collect = async {
        let mut results = Vec::with_capacity(total);
        for handle in joins {
            results.push(handle.await.unwrap());
        }
        results
    };
    let (results, injected) = tokio::join!(collect, inject(&cluster, &done, total));
    let elapsed = started.elapsed();
    cluster.plane.faults().clear();

    let failures: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(n, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("worker-{n}: {}", error_chain(e)))
        })
        .collect();
    println!(
        "{total} joins under faults ({}): {} succeeded, {} failed, in {elapsed:?}",
        injected.join(", "),
        total - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "failed joins:\n{}", failures.join("\n"));

    // Every node holds a certificate for its own key and name, signed by the cluster CA.
    let mut keys = BTreeSet::new();
    for n in 0..total {
        let store = CertStore::kubelet_client(root.path().join(format!("worker-{n}/pki")));
        let Current::Valid(pair) = store.current(SystemTime::now()).unwrap() else {
            panic!("worker-{n}: no valid current pair")
        };
        let leaf = &pair.chain[0];
        assert!(
            leaf.matches_key(&pair.key),
            "worker-{n}: certificate for another key"
        );
        assert_eq!(leaf.subject().common_name, format!("system:node:worker-{n}"));
        assert!(
            cluster.plane.ca().verifies(leaf, &[]),
            "worker-{n}: not signed by the CA"
        );
        assert!(
            keys.insert(leaf.public_key_der().to_vec()),
            "worker-{n}: a key another node also holds"
        );
    }

    // No CSR is left pending: each one was approved and issued for its own request's key.
    let csrs: Api<CertificateSigningRequest> = Api::all(cluster.admin.clone());
    let list = csrs.list(&Default::default()).await.unwrap().items;
    assert_eq!(list.len(), total, "one CSR per node (retries adopt their own)");
    for csr in &list {
        let name = csr.metadata.name.clone().unwrap_or_default();
        let status = csr.status.clone().unwrap_or_default();
        let approved = status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Approved" && c.status == "True");
        let Some(issued) = status.certificate.filter(|_| approved) else {
            panic!("{name} is left pending")
        };
        let request = CertificateRequest::from_pem(&csr.spec.request.0).unwrap();
        let cert = Certificate::from_pem(&issued.0).unwrap();
        assert_eq!(
            cert.public_key_der(),
            request.public_key_der(),
            "{name}: issued for another key"
        );
        assert_eq!(
            cert.subject().common_name,
            request.subject().common_name,
            "{name}"
        );
    }
    cluster.plane.shutdown().await.unwrap();
}

/// An error and its sources, so a failure names the failed check.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
