//! Who is asking: the authenticated (or impersonated) user of a request.

use std::collections::BTreeMap;

/// The group every authenticated user is in.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";
/// The user of a request without credentials.
pub const ANONYMOUS_USER: &str = "system:anonymous";
/// The group of a request without credentials.
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
/// The group that bypasses authorization, as in kube-apiserver.
pub const MASTERS_GROUP: &str = "system:masters";

/// A user as kube-apiserver's `user.Info` describes one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    /// `system:bootstrap:abcdef`, `system:node:worker-1`, `kubernetes-admin`, ...
    pub name: String,
    /// Empty for bootstrap tokens and client certificates.
    pub uid: String,
    /// Including `system:authenticated` once authenticated.
    pub groups: Vec<String>,
    /// e.g. `authentication.kubernetes.io/credential-id`.
    pub extra: BTreeMap<String, Vec<String>>,
}

impl UserInfo {
    /// The user of a request that carried no credentials.
    pub fn anonymous() -> Self {
        Self {
            name: ANONYMOUS_USER.into(),
            groups: vec![UNAUTHENTICATED_GROUP.into()],
            ..Self::default()
        }
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}
