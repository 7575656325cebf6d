//! Bootstrap tokens: detached-JWS sign and verify of a 2 KiB `cluster-info` payload (target
//! ≤ 3 µs median each; HMAC-SHA256 of 2 KiB alone is 1.36 µs here) and token parsing (target
//! ≤ 100 ns). Run: `cargo bench --bench bootstrap_token`.

// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kubetrust_bootstrap_token::{BootstrapToken, TokenSpec, authenticate};

const KUBECONFIG: &str = include_str!("../testdata/discovery/cluster-info-kubeconfig.txt");
const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";

/// A 2 KiB payload: the real cluster-info kubeconfig, repeated and cut to 2048 bytes.
fn payload_2k() -> Vec<u8> {
    KUBECONFIG.bytes().cycle().take(2048).collect()
}

fn jws(c: &mut Criterion) {
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let payload = payload_2k();
    let signature = token.sign_jws(&payload);

    let mut group = c.benchmark_group("bootstrap-token/jws");
    group.throughput(Throughput::Bytes(payload.len() as u64));
    group.bench_function("sign 2 KiB", |b| {
        b.iter(|| black_box(&token).sign_jws(black_box(&payload)))
    });
    group.bench_function("verify 2 KiB", |b| {
        b.iter(|| {
            black_box(&token)
                .verify_jws(black_box(&signature), black_box(&payload))
                .unwrap()
        })
    });
    group.finish();
}

fn token(c: &mut Criterion) {
    let mut group = c.benchmark_group("bootstrap-token/token");
    group.bench_function("parse", |b| {
        b.iter(|| black_box(TOKEN).parse::<BootstrapToken>().unwrap())
    });
    group.bench_function("parse (invalid, diagnosed)", |b| {
        b.iter(|| {
            black_box("7h3k9q.x2m5p8r1t4w7z0c3\n")
                .parse::<BootstrapToken>()
                .unwrap_err()
        })
    });
    group.bench_function("generate (OS CSPRNG)", |b| {
        b.iter(|| BootstrapToken::generate().unwrap())
    });

    let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let secret = TokenSpec::new(token.clone()).to_secret(now).unwrap();
    group.bench_function("authenticate", |b| {
        b.iter(|| authenticate(black_box(&token), black_box(&secret), now).unwrap())
    });
    group.finish();
}

criterion_group!(benches, jws, token);
criterion_main!(benches);
