//! The node's TLS bootstrap against an in-process testcp with auto-approval: one bootstrap from
//! a fresh kubelet directory to `kubelet.conf` written (target ≤ 50 ms), and 1000 nodes
//! bootstrapping at once (target ≤ 5 s wall on 2 cores), each round also printing its failures
//! and the CPU time of the nodes' threads (target ≤ 1 ms per bootstrap) and of the control
//! plane's. Run: `cargo bench --bench tls_bootstrap`.

// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::path::Path;
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
/// The name of the control plane's threads.
const PLANE_THREADS: &str = "kt-plane";
/// The name of the nodes' threads (the 1000-node bench runs them apart from the plane's).
const NODE_THREADS: &str = "kt-node";

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

/// One node's whole bootstrap in a fresh directory under `root`; the error's text on failure.
async fn join(root: &Path, kubeconfig: &Kubeconfig, node: usize) -> Result<(), String> {
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
        .map_err(|e| e.to_string())
}

/// A 2-worker runtime whose threads (workers and blocking pool) are called `name`, so that
/// their CPU time can be told apart; blocking threads are kept alive so none of them takes
/// its CPU time with it between two readings.
fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .unwrap()
}

/// What the scheduler counted for one thread: nanoseconds on a CPU, and nanoseconds runnable
/// but waiting for one (other processes on a busy host).
#[derive(Clone, Copy, Default)]
struct Sched {
    run: u64,
    wait: u64,
}

/// [`Sched`] so far (`/proc/self/task/*/schedstat`) of each live thread called `name`.
fn sched_of_threads(name: &str) -> HashMap<String, Sched> {
    let mut times = HashMap::new();
    for task in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let path = task.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let schedstat = std::fs::read_to_string(path.join("schedstat")).unwrap_or_default();
        let mut fields = schedstat.split(' ').map(|t| t.parse().ok());
        if let (Some(Some(run)), Some(Some(wait))) = (fields.next(), fields.next()) {
            times.insert(
                task.file_name().to_string_lossy().into_owned(),
                Sched { run, wait },
            );
        }
    }
    times
}

/// The CPU time and the run-queue wait of the threads called `name` since `before`.
fn sched_since(name: &str, before: &HashMap<String, Sched>) -> (Duration, Duration) {
    let (mut run, mut wait) = (0, 0);
    for (tid, now) in sched_of_threads(name) {
        let then = before.get(&tid).copied().unwrap_or_default();
        run += now.run.saturating_sub(then.run);
        wait += now.wait.saturating_sub(then.wait);
    }
    (Duration::from_nanos(run), Duration::from_nanos(wait))
}

fn one(c: &mut Criterion) {
    let rt = runtime(PLANE_THREADS);
    let (plane, kubeconfig) = rt.block_on(plane());
    let root = tempfile::tempdir().unwrap();
    let (mut node, mut failed) = (0, 0);
    let mut group = c.benchmark_group("tls_bootstrap");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    group.bench_function("one node, auto-approved", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    node += 1;
                    if let Err(error) = join(root.path(), &kubeconfig, node).await {
                        failed += 1;
                        eprintln!("one node: worker-{node} failed: {error}");
                    }
                }
                started.elapsed()
            })
        })
    });
    group.finish();
    eprintln!("one node: {failed} of {node} bootstraps failed");
    rt.block_on(plane.shutdown()).unwrap();
}

/// Where the 1000 nodes keep their files: tmpfs when there is one. Real nodes each write to
/// their own disk; 1000 of them fsyncing on one shared disk would measure that disk's
/// flushes, not the control plane or the clients.
fn nodes_root() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    }
}

fn concurrent(c: &mut Criterion) {
    // Two runtimes, as two machines would be: the control plane's and the nodes'.
    let plane_rt = runtime(PLANE_THREADS);
    let nodes_rt = runtime(NODE_THREADS);
    let mut group = c.benchmark_group("tls_bootstrap");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    group.bench_function("1000 nodes at once", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // A fresh plane per round, so every round starts from the same store.
                let (plane, kubeconfig) = plane_rt.block_on(plane());
                let root = nodes_root();
                let (plane_before, nodes_before) = (sched_of_threads(PLANE_THREADS), sched_of_threads(NODE_THREADS));
                let started = Instant::now();
                let results = nodes_rt.block_on(async {
                    let joins: Vec<_> = (0..NODES)
                        .map(|node| {
                            let (root, kubeconfig) = (root.path().to_owned(), kubeconfig.clone());
                            tokio::spawn(async move { join(&root, &kubeconfig, node).await })
                        })
                        .collect();
                    let mut results = Vec::with_capacity(NODES);
                    for handle in joins {
                        results.push(handle.await.map_err(|e| e.to_string()).and_then(|r| r));
                    }
                    results
                });
                let wall = started.elapsed();
                total += wall;
                let (plane_cpu, plane_wait) = sched_since(PLANE_THREADS, &plane_before);
                let (nodes_cpu, nodes_wait) = sched_since(NODE_THREADS, &nodes_before);
                let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
                eprintln!(
                    "1000 nodes at once: wall {wall:.2?}, {} failed{}; CPU: nodes {nodes_cpu:.2?} ({:.2?} per bootstrap), control plane {plane_cpu:.2?}; runnable but waiting for a CPU: {:.2?}",
                    failures.len(),
                    failures.first().map(|e| format!(" (first: {e})")).unwrap_or_default(),
                    nodes_cpu / NODES as u32,
                    nodes_wait + plane_wait,
                );
                plane_rt.block_on(plane.shutdown()).unwrap();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, one, concurrent);
criterion_main!(benches);
