//! Authorization as kube-apiserver does it with `--authorization-mode=RBAC`: members of
//! `system:masters` may do anything; everyone else gets what the stored ClusterRoleBindings and
//! (in the request's namespace) RoleBindings grant them. One evaluator answers requests,
//! impersonation checks, signer checks and (Self)SubjectAccessReviews alike.

mod policy;
mod review;
mod rule;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use serde::Deserialize;

use crate::identity::{MASTERS_GROUP, UserInfo};
use crate::status::{ApiError, Target};
use crate::store::{Filter, ObjectKey, Resource, Store};

pub use policy::bootstrap_policy;
pub use review::{review, signer_allowed};

/// The API group of the RBAC objects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// What a request asks to do, as the apiserver's `authorizer.Attributes` describe it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The (possibly impersonated) user asking.
    pub user: UserInfo,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `approve`, `impersonate`, ...
    pub verb: String,
    /// True for API resources; false for non-resource paths such as `/healthz`.
    pub resource_request: bool,
    /// API group; empty for the core group.
    pub api_group: String,
    /// API version (`v1`, or `*` in reviews); RBAC ignores it.
    pub api_version: String,
    /// Plural resource, e.g. `certificatesigningrequests`.
    pub resource: String,
    /// Subresource, e.g. `approval`; empty for the object itself.
    pub subresource: String,
    /// Namespace; empty for cluster-scoped resources and for all-namespace lists.
    pub namespace: String,
    /// Object name; empty for lists and creates.
    pub name: String,
    /// The request path (what non-resource requests are authorized by).
    pub path: String,
}

impl Attributes {
    /// The reason of a 403, word for word as the apiserver writes it:
    /// `User "u" cannot get resource "certificatesigningrequests" in API group
    /// "certificates.k8s.io" at the cluster scope` (or `in the namespace "ns"`), with
    /// `resource/subresource`, and `User "u" cannot get path "/x"` for non-resource requests.
    pub fn denial_message(&self) -> String {
        let user = &self.user.name;
        let verb = &self.verb;
        if !self.resource_request {
            return format!("User {user:?} cannot {verb} path {:?}", self.path);
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
            "User {user:?} cannot {verb} resource {resource:?} in API group {:?} {scope}",
            self.api_group
        )
    }

    /// The apiserver's 403 for this request when it is denied: about the object (or the
    /// collection) for resource requests, `forbidden: ...` for paths.
    pub fn forbidden(&self) -> ApiError {
        if self.resource_request {
            let target = Target::new(&self.api_group, &self.resource, &self.name);
            ApiError::forbidden(target, &self.denial_message())
        } else {
            ApiError::forbidden_path(&self.denial_message())
        }
    }
}

/// The decision on one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorization {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Which binding allowed it, as RBAC words it (`RBAC: allowed by ClusterRoleBinding "x" of
    /// ClusterRole "y" to Group "z"`); empty for `system:masters` and for denials (RBAC has no
    /// opinion then, and the apiserver's 403 adds nothing).
    pub reason: String,
}

/// Decides `attributes` against the RBAC objects in `store`. Stored objects that do not
/// deserialize are skipped (they grant nothing); bindings to missing roles grant nothing.
pub fn authorize(store: &Store, attributes: &Attributes) -> Authorization {
    if attributes.user.in_group(MASTERS_GROUP) {
        return Authorization {
            allowed: true,
            reason: String::new(),
        };
    }
    match allowing_binding(store, attributes) {
        Some(reason) => Authorization {
            allowed: true,
            reason: format!("RBAC: allowed by {reason}"),
        },
        None => Authorization::default(),
    }
}

/// The first binding whose role allows the request, described as upstream's describers do.
fn allowing_binding(store: &Store, attributes: &Attributes) -> Option<String> {
    let user = &attributes.user;
    let allows = |rules: &[PolicyRule]| rules.iter().any(|r| rule::allows(r, attributes));
    for binding in objects::<ClusterRoleBinding>(store, "clusterrolebindings", None) {
        let Some(subject) = first_subject(binding.subjects.as_deref(), user, "") else {
            continue;
        };
        if binding.role_ref.kind == "ClusterRole" && allows(&role_rules(store, &binding.role_ref, "")) {
            let name = binding.metadata.name.unwrap_or_default();
            return Some(format!(
                "ClusterRoleBinding {name:?} of ClusterRole {:?} to {}",
                binding.role_ref.name,
                describe(subject, "")
            ));
        }
    }
    let namespace = attributes.namespace.as_str();
    if namespace.is_empty() {
        return None;
    }
    for binding in objects::<RoleBinding>(store, "rolebindings", Some(namespace)) {
        let Some(subject) = first_subject(binding.subjects.as_deref(), user, namespace) else {
            continue;
        };
        if allows(&role_rules(store, &binding.role_ref, namespace)) {
            let name = binding.metadata.name.unwrap_or_default();
            return Some(format!(
                "RoleBinding {:?} of {} {:?} to {}",
                format!("{name}/{namespace}"),
                binding.role_ref.kind,
                binding.role_ref.name,
                describe(subject, namespace)
            ));
        }
    }
    None
}

/// The stored objects of an RBAC resource that deserialize as `T`.
fn objects<T: for<'de> Deserialize<'de>>(store: &Store, resource: &str, namespace: Option<&str>) -> Vec<T> {
    let filter = Filter {
        namespace: namespace.map(str::to_owned),
        name: None,
    };
    let (items, _) = store.list(&Resource::new(RBAC_GROUP, resource), &filter);
    items
        .iter()
        .filter_map(|item| T::deserialize(item.as_ref()).ok())
        .collect()
}

/// The rules of the role a binding in `namespace` refers to (a Role is looked up there).
fn role_rules(store: &Store, role_ref: &RoleRef, namespace: &str) -> Vec<PolicyRule> {
    let (resource, namespace) = match role_ref.kind.as_str() {
        "ClusterRole" => ("clusterroles", ""),
        "Role" if !namespace.is_empty() => ("roles", namespace),
        _ => return Vec::new(),
    };
    let key = ObjectKey {
        resource: Resource::new(RBAC_GROUP, resource),
        namespace: namespace.to_owned(),
        name: role_ref.name.clone(),
    };
    let Ok(object) = store.get(&key) else {
        return Vec::new();
    };
    let rules = if resource == "roles" {
        Role::deserialize(object.as_ref()).map(|r| r.rules)
    } else {
        ClusterRole::deserialize(object.as_ref()).map(|r| r.rules)
    };
    rules.ok().flatten().unwrap_or_default()
}

/// The first subject that names `user`. ServiceAccount subjects without a namespace mean the
/// binding's namespace.
fn first_subject<'a>(
    subjects: Option<&'a [Subject]>,
    user: &UserInfo,
    namespace: &str,
) -> Option<&'a Subject> {
    subjects?.iter().find(|subject| match subject.kind.as_str() {
        "User" => subject.name == user.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let namespace = subject
                .namespace
                .as_deref()
                .filter(|ns| !ns.is_empty())
                .unwrap_or(namespace);
            !namespace.is_empty()
                && user.name == format!("system:serviceaccount:{namespace}:{}", subject.name)
        }
        _ => false,
    })
}

/// `Kind "name"`, and `ServiceAccount "namespace/name"`, as RBAC's reasons name subjects.
fn describe(subject: &Subject, namespace: &str) -> String {
    if subject.kind == "ServiceAccount" {
        let namespace = subject
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .unwrap_or(namespace);
        format!("{} {:?}", subject.kind, format!("{namespace}/{}", subject.name))
    } else {
        format!("{} {:?}", subject.kind, subject.name)
    }
}

#[cfg(test)]
mod tests;
