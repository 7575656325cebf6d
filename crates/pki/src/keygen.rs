//! Key generation spread over the machine's cores: an RSA-2048 key takes tens of
//! milliseconds and a control-plane node needs sixteen (eleven for the tree, five for its
//! kubeconfigs), so they are made in parallel batches, ideally one.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{Error, KeyAlgorithm, PrivateKey};

/// Keys of one algorithm made ahead of use: [`reserve`](Self::reserve) fills the supply in one
/// parallel batch, [`take`](Self::take) hands out one key (making it on the spot if the supply
/// ran short). A caller that knows all it will need reserves once, so every key of a whole
/// task comes from a single batch across all cores instead of one batch per step.
pub(crate) struct KeySupply {
    algorithm: KeyAlgorithm,
    keys: Vec<PrivateKey>,
}

impl KeySupply {
    pub(crate) fn new(algorithm: KeyAlgorithm) -> Self {
        Self {
            algorithm,
            keys: Vec::new(),
        }
    }

    /// Makes sure at least `count` keys are at hand, generating the missing ones at once.
    pub(crate) fn reserve(&mut self, count: usize) -> Result<(), Error> {
        let missing = count.saturating_sub(self.keys.len());
        if missing > 0 {
            self.keys.extend(generate(self.algorithm, missing)?);
        }
        Ok(())
    }

    /// One key from the supply, or a new one when it is empty.
    pub(crate) fn take(&mut self) -> Result<PrivateKey, Error> {
        match self.keys.pop() {
            Some(key) => Ok(key),
            None => PrivateKey::generate(self.algorithm),
        }
    }
}

/// Generates `count` keys of `algorithm` on up to `available_parallelism` threads.
fn generate(algorithm: KeyAlgorithm, count: usize) -> Result<Vec<PrivateKey>, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_fills_once_and_take_goes_on_when_empty() {
        let mut supply = KeySupply::new(KeyAlgorithm::EcdsaP256);
        supply.reserve(3).unwrap();
        assert_eq!(supply.keys.len(), 3);
        supply.reserve(2).unwrap();
        assert_eq!(supply.keys.len(), 3, "enough at hand: nothing generated");
        let mut public_keys = Vec::new();
        for _ in 0..4 {
            public_keys.push(supply.take().unwrap().public_key_der().to_vec());
        }
        assert!(supply.keys.is_empty());
        public_keys.sort();
        public_keys.dedup();
        assert_eq!(public_keys.len(), 4, "every key handed out is a different key");
    }
}
