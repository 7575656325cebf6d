//! The kubeadm PKI: the whole tree plus five kubeconfig files (RSA-2048 target: a fifth of the
//! openssl CLI script's wall time; ECDSA-P256 ≤ 20 ms), one leaf from an RSA-2048 CA
//! (≤ 0.5 ms), the pin of a certificate (≤ 2 µs). Run: `cargo bench --bench pki`.

// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use kubetrust::pki::kubeconfigs::{self, KUBECONFIG_FILES};
use kubetrust::pki::tree::{self, TreeConfig};
use kubetrust::pki::{
    CaCertHash, CertProfile, Certificate, CertificateAuthority, Dirs, KeyAlgorithm, PrivateKey, Subject,
};

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
                    let pki = dir.path().join("pki");
                    tree::create(&pki, &config, now).unwrap();
                    kubeconfigs::create(&Dirs::new(&pki, dir.path()), &config, &KUBECONFIG_FILES, now)
                        .unwrap();
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
    let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::Rsa2048, now).unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let profile = CertProfile::client(
        Subject::new("kube-apiserver-kubelet-client").with_organization("kubeadm:cluster-admins"),
        now,
    );
    c.bench_function("pki/leaf from RSA-2048 CA", |b| {
        b.iter(|| {
            ca.issue(black_box(&profile), black_box(key.public_key_der()))
                .unwrap()
        })
    });
    let cert: Certificate = ca.certificate().clone();
    c.bench_function("pki/pin of a certificate", |b| {
        b.iter(|| CaCertHash::of_certificate(black_box(&cert)))
    });
    let pem = cert.to_pem();
    c.bench_function("pki/pin of a PEM file", |b| {
        b.iter(|| CaCertHash::of_pem_bundle(black_box(pem.as_bytes())).unwrap())
    });
}

criterion_group!(benches, whole_tree, leaf_and_pin);
criterion_main!(benches);
