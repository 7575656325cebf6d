//! An optional approver of kubelet *serving* CSRs (`kubernetes.io/kubelet-serving`), which
//! kube-controller-manager never approves: each one is decided by
//! `kubetrust_csr_bootstrap::policy::serving` against the Node its requester
//! (`system:node:<name>`) names, and `Approved` or `Denied` is written through `/approval`.
//! A CSR whose Node does not exist (yet) stays pending and is looked at again.
//!
//! It runs as its own service account, bound to a ClusterRole that may approve only that
//! signer — what a cluster would grant such an approver — so the API's admission checks it.

use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Node;
use kubetrust_csr_bootstrap::policy::{NODE_USER_PREFIX, serving};
use serde_json::{Value, json};

use super::csr_object::{for_each_csr, update_as};
use crate::identity::{AUTHENTICATED_GROUP, UserInfo};
use crate::rbac::RBAC_GROUP;
use crate::store::{ObjectKey, Resource, Store};

/// How often pending CSRs are looked at again without an event (their Node may appear).
const PERIOD: Duration = Duration::from_millis(500);
/// The approver's service account in `kube-system`.
pub const SERVICE_ACCOUNT: &str = "kubelet-serving-approver";
/// The ClusterRole (and ClusterRoleBinding) that lets it read Nodes and approve the signer.
pub const CLUSTER_ROLE: &str = "kubetrust:kubelet-serving-approver";

/// Grants the approver its permissions (kept if they exist) and starts it on `store`; it runs
/// until the task is aborted.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    for (resource, object) in rbac_objects() {
        if let Err(error) = store.create(&resource, "", object)
            && error.reason != "AlreadyExists"
        {
            tracing::warn!(%error, "serving approver: cannot create its RBAC");
        }
    }
    tokio::spawn(for_each_csr(store, PERIOD, async |store: &Store, csr| {
        decide(store, csr)
    }))
}

fn decide(store: &Store, csr: &CertificateSigningRequest) {
    if csr.spec.signer_name != serving::SIGNER {
        return;
    }
    let Some(node) = requester_node(store, csr) else {
        return;
    };
    let decision = match serving::evaluate(csr, &node) {
        Ok(decision) => decision,
        Err(error) => return tracing::debug!(%error, "serving approver: unreadable request"),
    };
    let Some(condition) = decision.condition() else {
        return;
    };
    let mut csr = csr.clone();
    csr.status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new)
        .push(condition);
    if let Err(error) = update_as(store, &csr, "approval", &approver_user()) {
        tracing::debug!(%error, "serving approver: error updating approval for csr");
    }
}

/// The Node named by a `system:node:<name>` requester; `None` for another requester (the
/// policy would deny it, but only a Node gives it something to decide against) or a missing
/// Node.
fn requester_node(store: &Store, csr: &CertificateSigningRequest) -> Option<Node> {
    let name = csr.spec.username.as_deref()?.strip_prefix(NODE_USER_PREFIX)?;
    let key = ObjectKey {
        resource: Resource::new("", "nodes"),
        namespace: String::new(),
        name: name.into(),
    };
    let object = store.get(&key).ok()?;
    serde_json::from_value(object.as_ref().clone()).ok()
}

fn approver_user() -> UserInfo {
    UserInfo {
        name: format!("system:serviceaccount:kube-system:{SERVICE_ACCOUNT}"),
        groups: vec![
            "system:serviceaccounts".into(),
            "system:serviceaccounts:kube-system".into(),
            AUTHENTICATED_GROUP.into(),
        ],
        ..UserInfo::default()
    }
}

/// The approver's ClusterRole and its binding to the service account.
fn rbac_objects() -> [(Resource, Value); 2] {
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": CLUSTER_ROLE},
        "rules": [
            {"verbs": ["get", "list", "watch"], "apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"]},
            {"verbs": ["update"], "apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"]},
            {"verbs": ["approve"], "apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "resourceNames": [serving::SIGNER]},
            {"verbs": ["get", "list", "watch"], "apiGroups": [""], "resources": ["nodes"]},
        ],
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": CLUSTER_ROLE},
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": CLUSTER_ROLE},
        "subjects": [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT, "namespace": "kube-system"}],
    });
    [
        (Resource::new(RBAC_GROUP, "clusterroles"), role),
        (Resource::new(RBAC_GROUP, "clusterrolebindings"), binding),
    ]
}
