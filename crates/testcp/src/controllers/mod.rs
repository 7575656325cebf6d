//! kube-controller-manager's controllers that a join needs, as tasks over the store's change
//! feed: the bootstrap signer and token cleaner, and the CSR approver, signer and cleaner;
//! optionally a secure approver of kubelet serving CSRs.

pub mod bootstrap_signer;
pub mod csr_approver;
pub mod csr_cleaner;
mod csr_object;
pub mod csr_signer;
mod resync;
pub mod serving_approver;
pub mod token_cleaner;

#[cfg(test)]
mod csr_tests;

use std::sync::Arc;

use kubetrust_csr_bootstrap::policy::signer::SignerConfig;
use kubetrust_pki::CertificateAuthority;

use crate::faults::Faults;
use crate::store::Store;

/// What every controller works with.
pub struct Controllers {
    /// The objects.
    pub store: Store,
    /// The cluster CA, which signs CSRs.
    pub ca: Arc<CertificateAuthority>,
    /// Injected faults (the signing delay).
    pub faults: Faults,
    /// Whether the serving approver runs.
    pub serving_approver: bool,
    /// Whether the kubelet client approver runs.
    pub client_approver: bool,
}

/// Starts every controller; the handles end when the control plane stops.
pub fn spawn_all(context: &Controllers) -> Vec<tokio::task::JoinHandle<()>> {
    let store = &context.store;
    let faults = context.faults.clone();
    let signer = csr_signer::Signer {
        ca: context.ca.clone(),
        config: SignerConfig::default(),
        delay: Arc::new(move || faults.signing_delay()),
    };
    let mut handles = vec![
        bootstrap_signer::spawn(store.clone()),
        token_cleaner::spawn(store.clone()),
        csr_signer::spawn(store.clone(), signer),
        csr_cleaner::spawn(store.clone()),
    ];
    if context.client_approver {
        handles.push(csr_approver::spawn(store.clone()));
    }
    if context.serving_approver {
        handles.push(serving_approver::spawn(store.clone()));
    }
    handles
}
