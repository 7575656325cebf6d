//! Acting as another user (`kubectl --as --as-group`), as kube-apiserver's impersonation filter
//! does: every impersonated attribute needs verb `impersonate` on it, checked by RBAC for the
//! authenticated requester.

use std::collections::BTreeMap;

use http::HeaderMap;

use crate::identity::{ANONYMOUS_USER, AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, UserInfo};
use crate::rbac::{Attributes, authorize};
use crate::status::ApiError;
use crate::store::Store;

const USER_HEADER: &str = "impersonate-user";
const GROUP_HEADER: &str = "impersonate-group";
const UID_HEADER: &str = "impersonate-uid";
/// `Impersonate-Extra-<key>`; header names arrive lower-cased.
const EXTRA_PREFIX: &str = "impersonate-extra-";
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";
/// The group of `userextras` and `uids` impersonation rules.
const AUTHENTICATION_GROUP: &str = "authentication.k8s.io";

/// The user a request acts as. Without impersonation headers that is `requester`. Otherwise
/// `requester` needs `impersonate` on `users` named the user (or on `serviceaccounts` in its
/// namespace for `system:serviceaccount:<ns>:<name>`), on `groups` named each group, on
/// `userextras/<key>` named each value and on `uids` named the uid (those two in
/// `authentication.k8s.io`), checked in that order; the first denial is the apiserver's 403.
/// The impersonated user has exactly the impersonated groups (a service account without
/// `Impersonate-Group` gets its own), plus `system:authenticated` unless a group already says
/// authenticated or unauthenticated (`system:unauthenticated` for `system:anonymous`). Groups,
/// uid or extra without a user: 400.
pub fn impersonate(store: &Store, requester: UserInfo, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let name = first(headers, USER_HEADER)?.filter(|n| !n.is_empty());
    let groups = all(headers, GROUP_HEADER)?;
    let uid = first(headers, UID_HEADER)?.filter(|u| !u.is_empty());
    let extra = extras(headers)?;
    let Some(name) = name else {
        if groups.is_empty() && uid.is_none() && extra.is_empty() {
            return Ok(requester);
        }
        return Err(ApiError::bad_request(
            "requested impersonation of groups, uid or user extras without impersonating a user",
        ));
    };
    let check = |group: &str, resource: &str, subresource: &str, namespace: &str, object: &str| {
        let attributes = Attributes {
            user: requester.clone(),
            verb: "impersonate".into(),
            resource_request: true,
            api_group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
            name: object.into(),
            ..Attributes::default()
        };
        if authorize(store, &attributes).allowed {
            Ok(())
        } else {
            Err(attributes.forbidden())
        }
    };
    let mut user_groups = groups.clone();
    match service_account(&name) {
        Some((namespace, account)) => {
            check("", "serviceaccounts", "", namespace, account)?;
            if groups.is_empty() {
                user_groups = vec!["system:serviceaccounts".into(), format!("system:serviceaccounts:{namespace}")];
            }
        }
        None => check("", "users", "", "", &name)?,
    }
    for group in &groups {
        check("", "groups", "", "", group)?;
    }
    for (key, values) in &extra {
        for value in values {
            check(AUTHENTICATION_GROUP, "userextras", key, "", value)?;
        }
    }
    if let Some(uid) = &uid {
        check(AUTHENTICATION_GROUP, "uids", "", "", uid)?;
    }
    let all_users = if name == ANONYMOUS_USER {
        UNAUTHENTICATED_GROUP
    } else {
        AUTHENTICATED_GROUP
    };
    // An explicit all-users group wins; `system:authenticated` does not count for anonymous.
    let settled = user_groups
        .iter()
        .any(|g| g == UNAUTHENTICATED_GROUP || (g == AUTHENTICATED_GROUP && all_users == AUTHENTICATED_GROUP));
    if !settled {
        user_groups.push(all_users.into());
    }
    Ok(UserInfo {
        name,
        uid: uid.unwrap_or_default(),
        groups: user_groups,
        extra,
    })
}

/// A header's values as text; a value that is not visible ASCII is a 400.
fn all(headers: &HeaderMap, name: &str) -> Result<Vec<String>, ApiError> {
    headers
        .get_all(name)
        .iter()
        .map(|value| {
            value
                .to_str()
                .map(str::to_owned)
                .map_err(|_| ApiError::bad_request(format!("invalid {name} header value")))
        })
        .collect()
}

fn first(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    Ok(all(headers, name)?.into_iter().next())
}

/// `Impersonate-Extra-<key>` values by key: the key lower-cased and percent-decoded.
fn extras(headers: &HeaderMap) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in headers.keys() {
        let Some(key) = name.as_str().strip_prefix(EXTRA_PREFIX) else {
            continue;
        };
        let key = percent_decode(key)
            .ok_or_else(|| ApiError::bad_request(format!("invalid escape in header {}", name.as_str())))?;
        extra.entry(key).or_default().extend(all(headers, name.as_str())?);
    }
    Ok(extra)
}

/// `%XX` escapes decoded (Go's `url.PathUnescape`); `None` for a broken escape or non-UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' {
            let hex = tail.get(..2).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
            bytes.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            rest = tail.get(2..)?;
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

/// `(namespace, name)` of `system:serviceaccount:<namespace>:<name>`.
fn service_account(user: &str) -> Option<(&str, &str)> {
    let (namespace, name) = user.strip_prefix(SERVICE_ACCOUNT_PREFIX)?.split_once(':')?;
    (!namespace.is_empty() && !name.is_empty() && !name.contains(':')).then_some((namespace, name))
}
