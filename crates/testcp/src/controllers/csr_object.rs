//! What the CSR controllers share: the loop that hands them one CSR at a time, their
//! identity, and writing through the API's update paths (so the strategy, validation and
//! admission see exactly what a real controller's PUT would get).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use serde::Deserialize;
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
/// access review is asked again later). Ends when the store's feed closes. Each stored
/// version of a CSR is decoded once, not again on every period.
pub(super) async fn for_each_csr(
    store: Store,
    period: Duration,
    mut handle: impl AsyncFnMut(&Store, &CertificateSigningRequest),
) {
    let mut feed = store.subscribe();
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut decoded = Decoded::default();
    loop {
        let objects: Vec<Arc<Value>> = tokio::select! {
            event = feed.recv() => match event {
                Ok(event) if event.key.resource != csrs() => continue,
                Ok(event) if event.kind == EventType::Deleted => {
                    decoded.forget(&event.key.name);
                    continue;
                }
                Ok(event) => vec![event.object],
                Err(RecvError::Lagged(_)) => decoded.keep_only(store.list(&csrs(), &Filter::default()).0),
                Err(RecvError::Closed) => return,
            },
            _ = ticks.tick() => decoded.keep_only(store.list(&csrs(), &Filter::default()).0),
        };
        for object in objects {
            // A CSR that does not even decode is the API's business, not the controllers'.
            if let Some(csr) = decoded.get(&object) {
                handle(&store, &csr).await;
            }
        }
    }
}

/// The CSRs a controller has decoded, by name, each with the stored version it came from
/// (the store keeps one `Arc` per version, so the same `Arc` is the same version).
#[derive(Default)]
struct Decoded(HashMap<String, (Arc<Value>, Arc<CertificateSigningRequest>)>);

impl Decoded {
    /// `object` as a CSR: the one decoded before when it is the same stored version.
    fn get(&mut self, object: &Arc<Value>) -> Option<Arc<CertificateSigningRequest>> {
        let name = object.pointer("/metadata/name").and_then(Value::as_str)?;
        if let Some((seen, csr)) = self.0.get(name)
            && Arc::ptr_eq(seen, object)
        {
            return Some(Arc::clone(csr));
        }
        let csr = Arc::new(CertificateSigningRequest::deserialize(object.as_ref()).ok()?);
        self.0
            .insert(name.to_owned(), (Arc::clone(object), Arc::clone(&csr)));
        Some(csr)
    }

    fn forget(&mut self, name: &str) {
        self.0.remove(name);
    }

    /// Forgets the CSRs that `listed` (every CSR there is) no longer holds; returns `listed`.
    fn keep_only(&mut self, listed: Vec<Arc<Value>>) -> Vec<Arc<Value>> {
        let names: HashSet<&str> = listed
            .iter()
            .filter_map(|o| o.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        self.0.retain(|name, _| names.contains(name.as_str()));
        listed
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn stored(name: &str, version: &str) -> Arc<Value> {
        Arc::new(json!({
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": name, "resourceVersion": version},
            "spec": {"request": "", "signerName": "kubernetes.io/kube-apiserver-client-kubelet"},
        }))
    }

    #[test]
    fn a_stored_version_is_decoded_once_and_forgotten_when_gone() {
        let mut decoded = Decoded::default();
        let (a1, b1) = (stored("a", "1"), stored("b", "2"));
        let first = decoded.get(&a1).unwrap();
        assert!(
            Arc::ptr_eq(&first, &decoded.get(&a1).unwrap()),
            "same version decoded again"
        );
        let a3 = stored("a", "3");
        let newer = decoded.get(&a3).unwrap();
        assert!(
            !Arc::ptr_eq(&first, &newer),
            "a new version reused the old decode"
        );
        assert_eq!(newer.metadata.resource_version.as_deref(), Some("3"));
        decoded.get(&b1).unwrap();
        let listed = decoded.keep_only(vec![Arc::clone(&b1)]);
        assert_eq!(listed.len(), 1);
        assert_eq!(decoded.0.keys().collect::<Vec<_>>(), ["b"]);
        decoded.forget("b");
        assert!(decoded.0.is_empty());
        assert!(
            decoded
                .get(&Arc::new(json!({"metadata": {"name": "x"}, "spec": 1})))
                .is_none()
        );
    }
}
