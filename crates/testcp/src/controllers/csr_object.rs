//! What the CSR controllers share: the loop that hands them one CSR at a time, their
//! identity, and writing through the API's update paths (so the strategy, validation and
//! admission see exactly what a real controller's PUT would get).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::MissedTickBehavior;

use crate::identity::{AUTHENTICATED_GROUP, UserInfo};
use crate::status::ApiError;
use crate::store::{EventType, Filter, ObjectKey, Resource, Store};
use crate::strategy;

pub(super) fn csrs() -> Resource {
    Resource::new("certificates.k8s.io", "certificatesigningrequests")
}

pub(super) fn key(name: &str) -> ObjectKey {
    ObjectKey {
        resource: csrs(),
        namespace: String::new(),
        name: name.into(),
    }
}

/// kube-controller-manager's certificate controllers act as this service account (what
/// `--use-service-account-credentials` makes them), bound to
/// `system:controller:certificate-controller` by the default policy.
pub(super) fn controller_user() -> UserInfo {
    UserInfo {
        name: "system:serviceaccount:kube-system:certificate-controller".into(),
        groups: vec![
            "system:serviceaccounts".into(),
            "system:serviceaccounts:kube-system".into(),
            AUTHENTICATED_GROUP.into(),
        ],
        ..UserInfo::default()
    }
}

/// Runs `handle` for every CSR now, for each added or changed CSR as it changes, and for
/// every CSR again each `period` (what upstream's requeue-with-backoff achieves: a refused
/// access review is asked again later). Ends when the store's feed closes.
pub(super) async fn for_each_csr(
    store: Store,
    period: Duration,
    mut handle: impl AsyncFnMut(&Store, CertificateSigningRequest),
) {
    let mut feed = store.subscribe();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let objects: Vec<Arc<Value>> = tokio::select! {
            event = feed.recv() => match event {
                Ok(event) if event.key.resource == csrs() && event.kind != EventType::Deleted => vec![event.object],
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => store.list(&csrs(), &Filter::default()).0,
                Err(RecvError::Closed) => return,
            },
            _ = ticks.tick() => store.list(&csrs(), &Filter::default()).0,
        };
        for object in objects {
            // A CSR that does not even decode is the API's business, not the controllers'.
            if let Ok(csr) = serde_json::from_value::<CertificateSigningRequest>(object.as_ref().clone()) {
                handle(&store, csr).await;
            }
        }
    }
}

/// Writes `csr` as the controller's PUT to `subresource` would, against the version it was
/// read at (409 Conflict when someone changed it since: the next event brings it back).
pub(super) fn update(
    store: &Store,
    csr: &CertificateSigningRequest,
    subresource: &str,
) -> Result<(), ApiError> {
    update_as(store, csr, subresource, &controller_user())
}

/// [`update`] as `user`, for a controller with its own identity and RBAC.
pub(super) fn update_as(
    store: &Store,
    csr: &CertificateSigningRequest,
    subresource: &str,
    user: &UserInfo,
) -> Result<(), ApiError> {
    let name = csr.metadata.name.as_deref().unwrap_or_default();
    let key = key(name);
    let old = store.get(&key)?;
    let mut new = serde_json::to_value(csr).map_err(|e| ApiError::internal(e.to_string()))?;
    strategy::before_update(&csrs(), subresource, &old, &mut new, user, store)?;
    store.update(&key, new)?;
    Ok(())
}
