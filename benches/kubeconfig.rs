//! Load + resolve of a realistic kubeconfig (3 contexts, 5.4 KiB, CA data embedded).
//! Target: ≤ 50 µs median. Run: `cargo bench --bench kubeconfig`.
// Benchmarks, like tests, fail by panicking.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kubetrust::kubeconfig::Config;

const KUBECONFIG: &[u8] = include_bytes!("../testdata/kubeconfig/bench-3-contexts.yaml");

fn load_and_resolve(c: &mut Criterion) {
    let mut group = c.benchmark_group("kubeconfig");
    group.bench_function("load+resolve 3 contexts 5.4 KiB", |b| {
        b.iter(|| {
            let config = Config::from_bytes(black_box(KUBECONFIG)).unwrap();
            black_box(config.resolve(None).unwrap())
        })
    });
    group.bench_function("load", |b| {
        b.iter(|| Config::from_bytes(black_box(KUBECONFIG)).unwrap())
    });
    let config = Config::from_bytes(KUBECONFIG).unwrap();
    group.bench_function("resolve", |b| {
        b.iter(|| black_box(&config).resolve(None).unwrap())
    });
    group.bench_function("save (to_yaml)", |b| {
        b.iter(|| black_box(&config).to_yaml().unwrap())
    });
    group.finish();
}

criterion_group!(benches, load_and_resolve);
criterion_main!(benches);
