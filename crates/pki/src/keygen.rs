//! Key generation on all cores, ahead of use: an RSA-2048 key takes tens of milliseconds and a
//! control-plane node needs sixteen (eleven for the tree, five for its kubeconfig files). A
//! caller reserves every key it will need at once; worker threads make them in the background
//! while the caller signs and writes with the keys already made.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use crate::{Error, KeyAlgorithm, PrivateKey};

type Made = Result<PrivateKey, Error>;

/// Keys of one algorithm made ahead of use. [`reserve`](Self::reserve) starts making them on
/// up to `available_parallelism` threads and returns at once; [`take`](Self::take) hands out
/// the next key as soon as one is made (or makes one on the spot when none is on its way).
/// Reserving everything a task needs in one call keeps every core busy until the last key,
/// instead of one batch per step each waiting for its slowest key. Dropping the supply stops
/// the workers after the key each is making; unused keys are dropped (and zeroized).
pub(crate) struct KeySupply {
    algorithm: KeyAlgorithm,
    /// Keys made or being made that `take` has not handed out yet.
    expected: usize,
    sender: Sender<Made>,
    receiver: Receiver<Made>,
    workers: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl KeySupply {
    pub(crate) fn new(algorithm: KeyAlgorithm) -> Self {
        let (sender, receiver) = mpsc::channel();
        Self {
            algorithm,
            expected: 0,
            sender,
            receiver,
            workers: Vec::new(),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Starts making keys until `count` are made or on their way. A machine that cannot start
    /// a thread makes them later, in `take`.
    pub(crate) fn reserve(&mut self, count: usize) {
        let missing = count.saturating_sub(self.expected);
        if missing == 0 {
            return;
        }
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(missing);
        let to_make = Arc::new(AtomicUsize::new(missing));
        let mut started = 0;
        for _ in 0..threads {
            let (algorithm, sender) = (self.algorithm, self.sender.clone());
            let (to_make, stop) = (Arc::clone(&to_make), Arc::clone(&self.stop));
            let worker = std::thread::Builder::new()
                .name("kubetrust-keygen".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed)
                        && to_make
                            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                            .is_ok()
                    {
                        if sender.send(PrivateKey::generate(algorithm)).is_err() {
                            break;
                        }
                    }
                });
            if let Ok(worker) = worker {
                self.workers.push(worker);
                started += 1;
            }
        }
        if started > 0 {
            self.expected += missing;
        }
    }

    /// The next key made ahead, waiting for it if it is on its way; a new one otherwise.
    pub(crate) fn take(&mut self) -> Result<PrivateKey, Error> {
        if self.expected > 0
            && let Ok(made) = self.receiver.recv()
        {
            self.expected -= 1;
            return made;
        }
        PrivateKey::generate(self.algorithm)
    }
}

impl Drop for KeySupply {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_makes_ahead_and_take_goes_on_when_none_is_on_its_way() {
        let mut supply = KeySupply::new(KeyAlgorithm::EcdsaP256);
        supply.reserve(3);
        assert_eq!(supply.expected, 3);
        supply.reserve(2);
        assert_eq!(supply.expected, 3, "enough on the way: nothing more started");
        let mut public_keys = Vec::new();
        for _ in 0..4 {
            public_keys.push(supply.take().unwrap().public_key_der().to_vec());
        }
        assert_eq!(supply.expected, 0);
        public_keys.sort();
        public_keys.dedup();
        assert_eq!(public_keys.len(), 4, "every key handed out is a different key");
    }

    #[test]
    fn dropping_a_supply_with_keys_on_their_way_stops_its_workers() {
        let mut supply = KeySupply::new(KeyAlgorithm::EcdsaP256);
        supply.reserve(1000);
        let _ = supply.take().unwrap();
        drop(supply); // joins the workers: returns only once they stopped
    }
}
