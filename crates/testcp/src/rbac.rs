//! Authorization stand-in: allows everything. The real RBAC evaluator replaces this file (or
//! becomes `rbac/mod.rs`) with the same signatures.

use k8s_openapi::api::authorization::v1::{SubjectAccessReviewSpec, SubjectAccessReviewStatus};
use serde_json::{Value, json};

use crate::identity::UserInfo;
use crate::store::{Resource, Store};

/// What a request wants to do, as kube-apiserver's `authorizer.Attributes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Who asks.
    pub user: UserInfo,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, or
    /// the lower-case HTTP method for non-resource paths.
    pub verb: String,
    /// Whether this is an API resource request (otherwise a non-resource path).
    pub resource_request: bool,
    /// API group, empty for core.
    pub api_group: String,
    /// API version.
    pub api_version: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource (`approval`, `status`), or empty.
    pub subresource: String,
    /// Namespace, empty for cluster scope.
    pub namespace: String,
    /// Object name, empty for collections.
    pub name: String,
    /// The request path.
    pub path: String,
}

impl Attributes {
    /// The apiserver's reason for a denial: `User "x" cannot list resource "r" in API group
    /// "g" at the cluster scope` (or `in the namespace "ns"`, or `cannot get path "/p"`).
    pub fn denial_message(&self) -> String {
        if !self.resource_request {
            return format!(
                "User {:?} cannot {} path {:?}",
                self.user.name, self.verb, self.path
            );
        }
        let resource = if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        let scope = if self.namespace.is_empty() {
            "at the cluster scope".to_owned()
        } else {
            format!("in the namespace {:?}", self.namespace)
        };
        format!(
            "User {:?} cannot {} resource {resource:?} in API group {:?} {scope}",
            self.user.name, self.verb, self.api_group
        )
    }
}

/// An authorization decision.
pub struct Authorization {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Why (may be empty).
    pub reason: String,
}

/// Decides whether `attributes` are allowed; the stand-in allows everything.
pub fn authorize(_store: &Store, _attributes: &Attributes) -> Authorization {
    Authorization {
        allowed: true,
        reason: String::new(),
    }
}

/// The default ClusterRoles and ClusterRoleBindings a fresh cluster has.
pub fn bootstrap_policy() -> Vec<(Resource, Value)> {
    let roles = Resource::new("rbac.authorization.k8s.io", "clusterroles");
    let bindings = Resource::new("rbac.authorization.k8s.io", "clusterrolebindings");
    vec![
        (
            roles.clone(),
            json!({"metadata": {"name": "cluster-admin"},
                   "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                             {"nonResourceURLs": ["*"], "verbs": ["*"]}]}),
        ),
        (
            roles,
            json!({"metadata": {"name": "system:public-info-viewer"},
                   "rules": [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]}]}),
        ),
        (
            bindings,
            json!({"metadata": {"name": "system:public-info-viewer"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:public-info-viewer"},
                   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:authenticated"},
                                {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:unauthenticated"}]}),
        ),
    ]
}

/// Answers a (Self)SubjectAccessReview; the stand-in allows everything.
pub fn review(_store: &Store, _spec: &SubjectAccessReviewSpec) -> SubjectAccessReviewStatus {
    SubjectAccessReviewStatus {
        allowed: true,
        ..SubjectAccessReviewStatus::default()
    }
}
