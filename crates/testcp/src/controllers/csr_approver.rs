//! kube-controller-manager's `csrapproving`: approves kubelet client CSRs that the requester is
//! allowed to have approved, asking the same RBAC the API enforces through a
//! SubjectAccessReview; never denies. The decisions are `kubetrust_csr_bootstrap::policy::client`'s.

use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_csr_bootstrap::policy::{Decision, client};

use super::csr_object::{for_each_csr, update};
use crate::rbac;
use crate::store::Store;

/// How often pending CSRs are looked at again without an event (RBAC may have changed).
const PERIOD: Duration = Duration::from_millis(500);

/// Starts the approver on `store`; it runs until the task is aborted.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(for_each_csr(store, PERIOD, async |store: &Store, csr| {
        approve(store, csr)
    }))
}

fn approve(store: &Store, csr: &CertificateSigningRequest) {
    let mut decision = match client::evaluate(csr) {
        Ok(decision) => decision,
        Err(error) => return tracing::debug!(%error, "csr approver: unreadable request"),
    };
    // Each question the policy asks is answered by the authorizer, until it decides.
    while let Decision::AskAccessReview(review) = &decision {
        let allowed = rbac::review(store, &review.to_subject_access_review().spec).allowed;
        decision = match client::decide(csr, review, allowed) {
            Ok(next) => next,
            Err(error) => return tracing::warn!(%error, "csr approver: policy error"),
        };
    }
    let Some(condition) = decision.condition() else {
        return;
    };
    let mut csr = csr.clone();
    csr.status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new)
        .push(condition);
    if let Err(error) = update(store, &csr, "approval") {
        tracing::debug!(%error, "csr approver: error updating approval for csr");
    }
}
