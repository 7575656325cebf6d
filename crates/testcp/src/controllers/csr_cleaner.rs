//! kube-controller-manager's `csrcleaner`: deletes finished and stale CSRs on the control
//! plane's clock, by `kubetrust_csr_bootstrap::policy::cleaner`'s rules.

use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_csr_bootstrap::policy::cleaner;

use super::csr_object::{for_each_csr, key};
use crate::store::Store;

/// Upstream looks hourly; tests move the clock by hours and should not wait long.
const PERIOD: Duration = Duration::from_millis(250);

/// Starts the cleaner on `store`; it runs until the task is aborted.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(for_each_csr(store, PERIOD, async |store: &Store, csr| {
        clean(store, csr)
    }))
}

fn clean(store: &Store, csr: &CertificateSigningRequest) {
    let Some(why) = cleaner::expiry(csr, store.clock().now()) else {
        return;
    };
    let name = csr.metadata.name.as_deref().unwrap_or_default();
    // Only the object judged: a CSR recreated under the same name is not deleted.
    match store.delete(&key(name), csr.metadata.uid.as_deref()) {
        Ok(_) => tracing::info!(csr = name, ?why, "csr cleaner: deleted"),
        Err(error) => tracing::debug!(csr = name, %error, "csr cleaner: not deleted"),
    }
}
