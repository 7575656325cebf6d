//! Bootstrap tokens: detached-JWS sign and verify of a 2 KiB `cluster-info` payload, with the
//! reference they are held to in the same group (target: each ≤ 1.5 × HMAC-SHA256 of the same
//! signing input, already encoded, by the `hmac` crate), and token parsing (target ≤ 100 ns).
//! Run: `cargo bench -p kubetrust --bench bootstrap_token`.

// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use kubetrust_bootstrap_token::{BootstrapToken, TokenSpec, authenticate, jws};
use sha2::Sha256;

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
    // `BASE64URL(header) "." BASE64URL(payload)`: what the MAC covers, materialised once.
    let signing_input = format!(
        "{}.{}",
        jws::header_b64(token.id()),
        URL_SAFE_NO_PAD.encode(&payload)
    );
    let key = token.secret().expose_secret().as_bytes();

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
    group.bench_function("reference: HMAC-SHA256 of the encoded signing input", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha256>::new_from_slice(black_box(key)).unwrap();
            mac.update(black_box(signing_input.as_bytes()));
            mac.finalize().into_bytes()
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
