//! Controllers stand-in: none run. The lead's module (bootstrap signer, token cleaner, CSR
//! approver, signer, cleaner) replaces it with the same signatures.

use std::sync::Arc;

use kubetrust_pki::CertificateAuthority;

use crate::faults::Faults;
use crate::store::Store;

/// What every controller works with.
pub struct Controllers {
    /// The objects.
    pub store: Store,
    /// The cluster CA, which signs CSRs.
    pub ca: Arc<CertificateAuthority>,
    /// Injected faults (e.g. the signing delay).
    pub faults: Faults,
}

/// Starts every controller; the handles end when the control plane stops.
pub fn spawn_all(_context: &Controllers) -> Vec<tokio::task::JoinHandle<()>> {
    Vec::new()
}
