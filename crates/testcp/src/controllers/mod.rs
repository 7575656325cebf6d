//! kube-controller-manager's controllers that a join needs, as tasks over the store's change
//! feed.

pub mod bootstrap_signer;
pub mod csr_approver;
pub mod csr_cleaner;
mod csr_object;
pub mod csr_signer;
mod resync;
pub mod token_cleaner;

#[cfg(test)]
mod csr_tests;
