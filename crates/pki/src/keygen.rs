//! Key generation spread over the machine's cores: an RSA-2048 key takes tens of
//! milliseconds and a tree needs up to sixteen.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{Error, KeyAlgorithm, PrivateKey};

/// Generates `count` keys of `algorithm` on up to `available_parallelism` threads.
pub(crate) fn generate(algorithm: KeyAlgorithm, count: usize) -> Result<Vec<PrivateKey>, Error> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count);
    if threads <= 1 {
        return (0..count).map(|_| PrivateKey::generate(algorithm)).collect();
    }
    let next = AtomicUsize::new(0);
    let keys = Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    let key = PrivateKey::generate(algorithm);
                    if let Ok(mut keys) = keys.lock() {
                        keys.push(key);
                    }
                }
            });
        }
    });
    keys.into_inner()
        .map_err(|_| Error::KeyGeneration { algorithm })?
        .into_iter()
        .collect()
}
