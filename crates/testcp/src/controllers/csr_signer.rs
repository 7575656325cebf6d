//! kube-controller-manager's `csrsigning`: issues approved CSRs of the kubelet-client,
//! kubelet-serving and kube-apiserver-client signers with the cluster CA, or marks them
//! `Failed`; the decisions are `kubetrust_csr_bootstrap::policy::signer`'s.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_csr_bootstrap::policy::signer::{self, Outcome, SignerConfig};
use kubetrust_pki::CertificateAuthority;

use super::csr_object::{for_each_csr, update};
use crate::store::Store;

/// How often approved CSRs are looked at again without an event (a signing error retries).
const PERIOD: Duration = Duration::from_millis(500);

/// What the signer needs: the CA, its settings, and how long to wait before each signature
/// (a fault tests set to make clients wait).
#[derive(Clone)]
pub struct Signer {
    /// The signing CA (kubeadm passes the cluster CA).
    pub ca: Arc<CertificateAuthority>,
    /// `--cluster-signing-duration` and friends.
    pub config: SignerConfig,
    /// Read before each signature; zero signs at once.
    pub delay: Arc<dyn Fn() -> Duration + Send + Sync>,
}

/// Starts the signer on `store`; it runs until the task is aborted.
pub fn spawn(store: Store, signer: Signer) -> tokio::task::JoinHandle<()> {
    tokio::spawn(for_each_csr(store, PERIOD, async move |store: &Store, csr| {
        sign(store, &signer, csr).await;
    }))
}

async fn sign(store: &Store, signer: &Signer, csr: &CertificateSigningRequest) {
    let now = store.clock().now();
    let outcome = match signer::sign(csr, &signer.ca, &signer.config, now) {
        Ok(Outcome::Skip(_)) => return,
        Ok(outcome) => outcome,
        Err(error) => return tracing::warn!(%error, "csr signer: cannot sign yet"),
    };
    let mut csr = csr.clone();
    let status = csr.status.get_or_insert_with(Default::default);
    match outcome {
        Outcome::Issue(pem) => {
            let delay = (signer.delay)();
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            status.certificate = Some(ByteString(pem.into_bytes()));
        }
        Outcome::Fail(condition) => status.conditions.get_or_insert_with(Vec::new).push(condition),
        _ => return,
    }
    if let Err(error) = update(store, &csr, "status") {
        tracing::debug!(%error, "csr signer: error updating signature for csr");
    }
}
