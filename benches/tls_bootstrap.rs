//! The node's TLS bootstrap against an in-process testcp with auto-approval: one bootstrap from
//! a fresh kubelet directory to `kubelet.conf` written (target ≤ 50 ms), and 1000 nodes
//! bootstrapping at once (target ≤ 5 s wall on 2 cores). Run: `cargo bench --bench tls_bootstrap`.

// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use kubetrust::bootstrap_token::api::create_token;
use kubetrust::bootstrap_token::{BootstrapToken, TokenSpec};
use kubetrust::csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap};
use kubetrust::csr_bootstrap::client::Options;
use kubetrust::csr_bootstrap::flow::Layout;
use kubetrust::kubeconfig::{Config as Kubeconfig, SecretString};
use kubetrust_testcp::{Config, TestControlPlane};

const NODES: usize = 1000;

/// A control plane with a bootstrap token, and the token's bootstrap kubeconfig.
async fn plane() -> (TestControlPlane, Kubeconfig) {
    let plane = TestControlPlane::start(Config::default()).await.unwrap();
    let token: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
    let admin = plane.client().await.unwrap();
    create_token(&admin, &TokenSpec::new(token.clone()), SystemTime::now())
        .await
        .unwrap();
    let kubeconfig = Kubeconfig::bootstrap_token(
        plane.url(),
        plane.ca_pem().into_bytes(),
        SecretString::new(token.expose_secret().as_str()),
    );
    (plane, kubeconfig)
}

/// One node's whole bootstrap in a fresh directory under `root`.
async fn join(root: &std::path::Path, kubeconfig: &Kubeconfig, node: usize) {
    let dir = root.join(format!("worker-{node}"));
    let options = BootstrapOptions::default()
        .with_layout(
            Layout::default()
                .with_cert_dir(dir.join("pki"))
                .with_kubeconfig(dir.join("kubelet.conf")),
        )
        .with_request(
            Options::default()
                .with_timeout(Duration::from_secs(30))
                .with_retry_backoff(Duration::from_millis(50), Duration::from_millis(500)),
        );
    bootstrap(kubeconfig, &format!("worker-{node}"), &options, &mut |_| {})
        .await
        .unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn one(c: &mut Criterion) {
    let rt = runtime();
    let (plane, kubeconfig) = rt.block_on(plane());
    let root = tempfile::tempdir().unwrap();
    let mut node = 0;
    let mut group = c.benchmark_group("tls_bootstrap");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("one node, auto-approved", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    node += 1;
                    join(root.path(), &kubeconfig, node).await;
                }
                started.elapsed()
            })
        })
    });
    group.finish();
    rt.block_on(plane.shutdown()).unwrap();
}

fn concurrent(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("tls_bootstrap");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("1000 nodes at once", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A fresh plane per round, so every round starts from the same store.
                let (plane, kubeconfig) = rt.block_on(plane());
                let root = tempfile::tempdir().unwrap();
                total += rt.block_on(async {
                    let started = Instant::now();
                    let joins = (0..NODES).map(|node| {
                        let (root, kubeconfig) = (root.path().to_owned(), kubeconfig.clone());
                        tokio::spawn(async move { join(&root, &kubeconfig, node).await })
                    });
                    for handle in joins.collect::<Vec<_>>() {
                        handle.await.unwrap();
                    }
                    started.elapsed()
                });
                rt.block_on(plane.shutdown()).unwrap();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, one, concurrent);
criterion_main!(benches);
