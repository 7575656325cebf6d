//! The kubeadm PKI: the whole tree plus five kubeconfig files through `pki::init` (ECDSA-P256
//! ≤ 20 ms; the RSA-2048 tree's targets are set against other programs as processes, in
//! `benches/report.py`), one leaf from an RSA-2048 and from a P-256 CA (against `openssl speed`'s
//! signature, same report), the pin of a certificate (≤ 2 µs) beside SHA-256 of the same bytes,
//! and one key of each kind. Run: `cargo bench --bench pki`.

// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kubetrust::pki::init;
use kubetrust::pki::kubeconfigs::KUBECONFIG_FILES;
use kubetrust::pki::tree::TreeConfig;
use kubetrust::pki::{
    CaCertHash, CertProfile, Certificate, CertificateAuthority, Dirs, KeyAlgorithm, PrivateKey, Subject,
};
use sha2::{Digest, Sha256};

fn whole_tree(c: &mut Criterion) {
    let mut group = c.benchmark_group("pki/tree+kubeconfigs");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for algorithm in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let config =
            TreeConfig::new("node1", "10.0.0.10".parse().unwrap()).with_encryption_algorithm(algorithm);
        group.bench_function(algorithm.as_str(), |b| {
            b.iter_batched(
                || tempfile::tempdir().unwrap(),
                |dir| {
                    let now = SystemTime::now();
                    let dirs = Dirs::new(dir.path().join("pki"), dir.path());
                    init::create(&dirs, &config, &KUBECONFIG_FILES, now).unwrap();
                    dir
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

fn leaf_and_pin(c: &mut Criterion) {
    let now = SystemTime::now();
    let profile = CertProfile::client(
        Subject::new("kube-apiserver-kubelet-client").with_organization("kubeadm:cluster-admins"),
        now,
    );
    // The leaf's own key is RSA-2048 (kubeadm's default) whatever signs it: the CA's algorithm
    // is what is measured.
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mut rsa_ca = None;
    for (algorithm, name) in [
        (KeyAlgorithm::Rsa2048, "pki/leaf from RSA-2048 CA"),
        (KeyAlgorithm::EcdsaP256, "pki/leaf from ECDSA-P256 CA"),
    ] {
        let ca = CertificateAuthority::generate("kubernetes", algorithm, now).unwrap();
        c.bench_function(name, |b| {
            b.iter(|| {
                ca.issue(black_box(&profile), black_box(key.public_key_der()))
                    .unwrap()
            })
        });
        rsa_ca.get_or_insert(ca);
    }
    let cert: Certificate = rsa_ca.unwrap().certificate().clone();
    c.bench_function("pki/pin of a certificate", |b| {
        b.iter(|| CaCertHash::of_certificate(black_box(&cert)))
    });
    // The pin's reference: SHA-256 alone over the same SubjectPublicKeyInfo bytes.
    c.bench_function("pki/reference: SHA-256 of the SPKI bytes", |b| {
        b.iter(|| Sha256::digest(black_box(cert.public_key_der())))
    });
    let pem = cert.to_pem();
    c.bench_function("pki/pin of a PEM file", |b| {
        b.iter(|| CaCertHash::of_pem_bundle(black_box(pem.as_bytes())).unwrap())
    });
}

/// One key at a time, as a step that needs a single key waits for it (the tree generates its
/// keys in parallel batches instead).
fn key_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("pki/key");
    // RSA key generation is a random search: its time per key varies several-fold, so take
    // many samples over a long window.
    group.sample_size(50).measurement_time(Duration::from_secs(20));
    group.bench_function("RSA-2048", |b| {
        b.iter(|| PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap())
    });
    group.finish();
    c.bench_function("pki/key/ECDSA-P256", |b| {
        b.iter(|| PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap())
    });
}

criterion_group!(benches, whole_tree, leaf_and_pin, key_generation);
criterion_main!(benches);
