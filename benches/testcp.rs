//! testcp: start-up until it answers plus shutdown (PKI given: target ≤ 50 ms; PKI generated,
//! reported apart), and 1000 kubelet client CSRs created concurrently through the HTTP API
//! with the admin client until the approver and signer have issued every one (target ≤ 2 s
//! on 2 cores, for an ECDSA-P256 and an RSA-2048 CA). Run: `cargo bench --bench testcp`.

// Bench code: a panic is a failed run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestSpec};
use kube::api::{ObjectMeta, PostParams};
use kubetrust::pki::{AltNames, CertificateAuthority, CertificateRequest, KeyAlgorithm, PrivateKey, Subject};
use kubetrust_testcp::store::{Filter, Resource};
use kubetrust_testcp::{Config, TestControlPlane};

/// CSRs per measured cycle.
const CSRS: usize = 1000;
/// Creations in flight at once.
const CONCURRENCY: usize = 64;
/// How often the bench looks for the last certificate.
const POLL: Duration = Duration::from_millis(2);
/// A cycle that takes longer has failed.
const CYCLE_LIMIT: Duration = Duration::from_secs(120);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn config_with(ca: &Arc<CertificateAuthority>) -> Config {
    let mut config = Config::default();
    config.ca = Some(Arc::clone(ca));
    config
}

/// Starts, answers one request (`/version` with the admin client), stops.
async fn start_answer_stop(config: Config) {
    let plane = TestControlPlane::start(config).await.unwrap();
    plane.client().await.unwrap().apiserver_version().await.unwrap();
    plane.shutdown().await.unwrap();
}

fn start_up(c: &mut Criterion) {
    let runtime = runtime();
    let ca = Arc::new(
        CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap(),
    );
    let mut group = c.benchmark_group("testcp/start-up");
    group.sample_size(30);
    group.bench_function("start + /version + shutdown, PKI given (P-256)", |b| {
        b.iter(|| runtime.block_on(start_answer_stop(config_with(&ca))));
    });
    group.bench_function("start + /version + shutdown, CA generated (P-256)", |b| {
        b.iter(|| runtime.block_on(start_answer_stop(Config::default())));
    });
    group.finish();
}

/// A kubelet's client CSR for node `i`, from its own P-256 key.
fn kubelet_csr(i: usize) -> CertificateSigningRequest {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let subject = Subject::new(format!("system:node:worker-{i}")).with_organization("system:nodes");
    let request = CertificateRequest::new(&subject, &AltNames::default(), &key).unwrap();
    CertificateSigningRequest {
        metadata: ObjectMeta {
            name: Some(format!("node-csr-{i}")),
            ..ObjectMeta::default()
        },
        spec: CertificateSigningRequestSpec {
            request: ByteString(request.to_pem().into_bytes()),
            signer_name: "kubernetes.io/kube-apiserver-client-kubelet".into(),
            usages: Some(vec!["digital signature".into(), "client auth".into()]),
            ..CertificateSigningRequestSpec::default()
        },
        ..CertificateSigningRequest::default()
    }
}

/// How many CSRs have a certificate (read from the store: cheaper than listing 1000 issued
/// objects over HTTP every few milliseconds, so the polling does not slow what it measures).
fn issued(plane: &TestControlPlane) -> usize {
    let csrs = Resource::new("certificates.k8s.io", "certificatesigningrequests");
    let (items, _) = plane.store().list(&csrs, &Filter::default());
    items
        .iter()
        .filter(|csr| csr.pointer("/status/certificate").is_some())
        .count()
}

/// Creates every CSR (at most `CONCURRENCY` in flight) and waits until all are issued; the
/// time from the first request to the last certificate.
async fn cycle(plane: &TestControlPlane, csrs: &Arc<Vec<CertificateSigningRequest>>) -> Duration {
    let client = plane.client().await.unwrap();
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let api: kube::Api<CertificateSigningRequest> = kube::Api::all(client.clone());
        let (next, csrs) = (Arc::clone(&next), Arc::clone(csrs));
        workers.spawn(async move {
            while let Some(csr) = csrs.get(next.fetch_add(1, Ordering::Relaxed)) {
                api.create(&PostParams::default(), csr).await.unwrap();
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    while issued(plane) < csrs.len() {
        assert!(
            start.elapsed() < CYCLE_LIMIT,
            "only {} of {} CSRs issued",
            issued(plane),
            csrs.len()
        );
        tokio::time::sleep(POLL).await;
    }
    start.elapsed()
}

fn csr_cycles(c: &mut Criterion) {
    let runtime = runtime();
    let csrs = Arc::new((0..CSRS).map(kubelet_csr).collect::<Vec<_>>());
    let mut group = c.benchmark_group("testcp/1000 CSR create-approve-sign");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(20));
    for (label, algorithm) in [
        ("ECDSA-P256 CA", KeyAlgorithm::EcdsaP256),
        ("RSA-2048 CA", KeyAlgorithm::Rsa2048),
    ] {
        let ca =
            Arc::new(CertificateAuthority::generate("kubernetes", algorithm, SystemTime::now()).unwrap());
        group.bench_function(label, |b| {
            b.iter_custom(|iterations| {
                runtime.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iterations {
                        let plane = TestControlPlane::start(config_with(&ca)).await.unwrap();
                        total += cycle(&plane, &csrs).await;
                        plane.shutdown().await.unwrap();
                    }
                    total
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, start_up, csr_cycles);
criterion_main!(benches);
