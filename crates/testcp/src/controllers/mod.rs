//! kube-controller-manager's controllers that a join needs, as tasks over the store's change
//! feed.

pub mod csr_approver;
pub mod csr_cleaner;
mod csr_object;
pub mod csr_signer;
