//! `discovery::validate()` of a realistic cluster-info (RSA-2048 CA, two signatures):
//! target ≤ 20 µs median, with its parts measured alone for the breakdown in BENCHMARKS.md.
//! Run: `cargo bench --bench discovery`.

// Bench code: a panic is a failed run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kubetrust::bootstrap_token::BootstrapToken;
use kubetrust::discovery::{PinSet, Trust, validate};
use kubetrust::kubeconfig::Config;
use kubetrust::pki::{CaCertHash, Certificate};

const KUBECONFIG: &str = include_str!("../testdata/discovery/cluster-info-kubeconfig.txt");
const PIN: &str = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";

fn cluster_info() -> (BTreeMap<String, String>, BootstrapToken) {
    let token: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse().unwrap();
    let other: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
    let data = BTreeMap::from([
        ("kubeconfig".to_owned(), KUBECONFIG.to_owned()),
        (
            "jws-kubeconfig-7h3k9q".to_owned(),
            token.sign_jws(KUBECONFIG.as_bytes()),
        ),
        (
            "jws-kubeconfig-abcdef".to_owned(),
            other.sign_jws(KUBECONFIG.as_bytes()),
        ),
    ]);
    (data, token)
}

fn discovery(c: &mut Criterion) {
    let (data, token) = cluster_info();
    let trust = Trust::Pinned(PinSet::parse([PIN]).unwrap());
    c.bench_function("discovery/validate", |b| {
        b.iter(|| validate(black_box(&data), black_box(&token), black_box(&trust)).unwrap())
    });

    // The parts, alone.
    let jws = &data["jws-kubeconfig-7h3k9q"];
    c.bench_function("discovery/part: JWS verify", |b| {
        b.iter(|| {
            token
                .verify_jws(black_box(jws), black_box(KUBECONFIG.as_bytes()))
                .unwrap()
        })
    });
    c.bench_function("discovery/part: kubeconfig YAML parse", |b| {
        b.iter(|| Config::from_bytes(black_box(KUBECONFIG.as_bytes())).unwrap())
    });
    let config = Config::from_bytes(KUBECONFIG.as_bytes()).unwrap();
    let ca_pem = &config.clusters[0].cluster.certificate_authority_data;
    c.bench_function("discovery/part: CA PEM decode", |b| {
        b.iter(|| kubetrust::kubeconfig::pem::parse(black_box(ca_pem)).unwrap())
    });
    c.bench_function("discovery/part: CA PEM + X.509 parse", |b| {
        b.iter(|| Certificate::chain_from_pem(black_box(ca_pem)).unwrap())
    });
    let ca = Certificate::from_pem(ca_pem).unwrap();
    c.bench_function("discovery/part: SPKI pin", |b| {
        b.iter(|| CaCertHash::of_certificate(black_box(&ca)))
    });
}

criterion_group!(benches, discovery);
criterion_main!(benches);
