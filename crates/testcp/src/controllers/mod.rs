//! kube-controller-manager's controllers that a join needs, as tasks over the store's change
//! feed.

pub mod bootstrap_signer;
mod resync;
pub mod token_cleaner;
