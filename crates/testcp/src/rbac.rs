//! Stand-in until the RBAC evaluator lands: allows everything.

use crate::identity::UserInfo;
use crate::store::Store;

/// What a request asks to do, as kube-apiserver's authorizer attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// Who.
    pub user: UserInfo,
    /// get, list, create, approve, sign, ...
    pub verb: String,
    /// A resource (not a path) request.
    pub resource_request: bool,
    /// API group.
    pub api_group: String,
    /// API version.
    pub api_version: String,
    /// Resource.
    pub resource: String,
    /// Subresource.
    pub subresource: String,
    /// Namespace.
    pub namespace: String,
    /// Object name.
    pub name: String,
    /// Non-resource path.
    pub path: String,
}

/// The authorizer's answer.
pub struct Authorization {
    /// Allowed.
    pub allowed: bool,
    /// Why.
    pub reason: String,
}

/// Stand-in: allows.
pub fn authorize(_store: &Store, _attributes: &Attributes) -> Authorization {
    Authorization {
        allowed: true,
        reason: String::new(),
    }
}

/// Stand-in: allows.
pub fn review(
    _store: &Store,
    _spec: &k8s_openapi::api::authorization::v1::SubjectAccessReviewSpec,
) -> k8s_openapi::api::authorization::v1::SubjectAccessReviewStatus {
    k8s_openapi::api::authorization::v1::SubjectAccessReviewStatus {
        allowed: true,
        ..Default::default()
    }
}
