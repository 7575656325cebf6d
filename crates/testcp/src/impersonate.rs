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
        return Err(ApiError::bad_request(without_user(
            &groups,
            &extra,
            uid.as_deref(),
        )));
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
                user_groups = vec![
                    "system:serviceaccounts".into(),
                    format!("system:serviceaccounts:{namespace}"),
                ];
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
    let settled = user_groups.iter().any(|g| {
        g == UNAUTHENTICATED_GROUP || (g == AUTHENTICATED_GROUP && all_users == AUTHENTICATED_GROUP)
    });
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

/// The apiserver's 400 text for impersonation without a user: the requests as Go prints its
/// `[]ObjectReference` (kind, namespace, name, uid, apiVersion, resourceVersion, fieldPath).
fn without_user(groups: &[String], extra: &BTreeMap<String, Vec<String>>, uid: Option<&str>) -> String {
    let version = "authentication.k8s.io/v1";
    let groups = groups.iter().map(|g| format!("{{Group  {g}    }}"));
    let extra = extra.iter().flat_map(|(key, values)| {
        values
            .iter()
            .map(move |v| format!("{{UserExtra  {v}  {version}  {key}}}"))
    });
    let uid = uid.map(|uid| format!("{{UID  {uid}  {version}  }}"));
    let requests: Vec<String> = groups.chain(extra).chain(uid).collect();
    format!("requested [{}] without impersonating a user", requests.join(" "))
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

/// `Impersonate-Extra-<key>` values by key: the key lower-cased and percent-decoded (kept as
/// sent when it does not decode, as upstream does).
fn extras(headers: &HeaderMap) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut extra: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in headers.keys() {
        let Some(key) = name.as_str().strip_prefix(EXTRA_PREFIX) else {
            continue;
        };
        let key = percent_decode(key).unwrap_or_else(|| key.to_owned());
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

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use serde_json::json;

    use super::*;
    use crate::clock::Clock;
    use crate::identity::MASTERS_GROUP;
    use crate::rbac::RBAC_GROUP;
    use crate::store::Resource;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn admin() -> UserInfo {
        UserInfo {
            name: "admin".into(),
            groups: vec![MASTERS_GROUP.into(), AUTHENTICATED_GROUP.into()],
            ..UserInfo::default()
        }
    }

    fn alice() -> UserInfo {
        UserInfo {
            name: "alice".into(),
            groups: vec![AUTHENTICATED_GROUP.into()],
            ..UserInfo::default()
        }
    }

    /// A store where alice may impersonate users and the group `system:bootstrappers` only.
    fn store() -> Store {
        let store = Store::new(Clock::default());
        let rules = json!([
            {"verbs": ["impersonate"], "apiGroups": [""], "resources": ["users"]},
            {"verbs": ["impersonate"], "apiGroups": [""], "resources": ["groups"], "resourceNames": ["system:bootstrappers"]},
        ]);
        store
            .create(
                &Resource::new(RBAC_GROUP, "clusterroles"),
                "",
                json!({"metadata": {"name": "impersonator"}, "rules": rules}),
            )
            .unwrap();
        store
            .create(
                &Resource::new(RBAC_GROUP, "clusterrolebindings"),
                "",
                json!({"metadata": {"name": "impersonator"},
                       "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "impersonator"},
                       "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": "alice"}]}),
            )
            .unwrap();
        store
    }

    #[test]
    fn kubectl_as_and_as_group_act_as_the_bootstrap_user() {
        let request = headers(&[
            ("impersonate-user", "system:bootstrap:abcdef"),
            ("impersonate-group", "system:bootstrappers"),
        ]);
        for requester in [admin(), alice()] {
            let user = impersonate(&store(), requester, &request).unwrap();
            assert_eq!(user.name, "system:bootstrap:abcdef");
            assert_eq!(user.groups, ["system:bootstrappers", "system:authenticated"]);
            assert!(user.extra.is_empty());
        }
        let bare = impersonate(&store(), admin(), &headers(&[("impersonate-user", "bob")])).unwrap();
        assert_eq!(bare.groups, ["system:authenticated"]);
    }

    #[test]
    fn every_impersonated_attribute_needs_permission() {
        let error = impersonate(
            &Store::new(Clock::default()),
            alice(),
            &headers(&[("impersonate-user", "x")]),
        )
        .unwrap_err();
        assert_eq!(error.code, 403);
        assert_eq!(
            error.message,
            "users \"x\" is forbidden: User \"alice\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
        );
        let masters = headers(&[("impersonate-user", "x"), ("impersonate-group", "system:masters")]);
        assert_eq!(
            impersonate(&store(), alice(), &masters).unwrap_err().message,
            "groups \"system:masters\" is forbidden: User \"alice\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope"
        );
        let extra = headers(&[("impersonate-user", "x"), ("impersonate-extra-scopes", "view")]);
        assert_eq!(
            impersonate(&store(), alice(), &extra).unwrap_err().message,
            "userextras.authentication.k8s.io \"view\" is forbidden: User \"alice\" cannot impersonate resource \
             \"userextras/scopes\" in API group \"authentication.k8s.io\" at the cluster scope"
        );
        let uid = headers(&[("impersonate-user", "x"), ("impersonate-uid", "1234")]);
        assert!(
            impersonate(&store(), alice(), &uid)
                .unwrap_err()
                .message
                .starts_with("uids.authentication.k8s.io \"1234\" is forbidden")
        );
        let account = headers(&[("impersonate-user", "system:serviceaccount:kube-system:default")]);
        assert_eq!(
            impersonate(&store(), alice(), &account).unwrap_err().message,
            "serviceaccounts \"default\" is forbidden: User \"alice\" cannot impersonate resource \"serviceaccounts\" \
             in API group \"\" in the namespace \"kube-system\""
        );
    }

    #[test]
    fn extras_uid_service_accounts_and_anonymous() {
        let request = headers(&[
            ("impersonate-user", "x"),
            ("impersonate-uid", "1234"),
            (
                "impersonate-extra-authentication.kubernetes.io%2fcredential-id",
                "X509SHA256=ab",
            ),
            ("impersonate-extra-scopes", "a"),
            ("impersonate-extra-scopes", "b"),
        ]);
        let user = impersonate(&store(), admin(), &request).unwrap();
        assert_eq!(user.uid, "1234");
        assert_eq!(
            user.extra["authentication.kubernetes.io/credential-id"],
            ["X509SHA256=ab"]
        );
        assert_eq!(user.extra["scopes"], ["a", "b"]);
        let account = headers(&[("impersonate-user", "system:serviceaccount:kube-system:default")]);
        assert_eq!(
            impersonate(&store(), admin(), &account).unwrap().groups,
            [
                "system:serviceaccounts",
                "system:serviceaccounts:kube-system",
                "system:authenticated"
            ]
        );
        let anonymous = headers(&[("impersonate-user", "system:anonymous")]);
        assert_eq!(
            impersonate(&store(), admin(), &anonymous).unwrap(),
            UserInfo::anonymous()
        );
        let unauthenticated = headers(&[
            ("impersonate-user", "y"),
            ("impersonate-group", "system:unauthenticated"),
        ]);
        assert_eq!(
            impersonate(&store(), admin(), &unauthenticated).unwrap().groups,
            ["system:unauthenticated"]
        );
    }

    #[test]
    fn no_headers_keep_the_requester_and_attributes_without_a_user_are_400() {
        assert_eq!(
            impersonate(&store(), alice(), &HeaderMap::new()).unwrap(),
            alice()
        );
        let error = impersonate(
            &store(),
            admin(),
            &headers(&[("impersonate-group", "system:bootstrappers")]),
        );
        assert_eq!(
            error.unwrap_err().message,
            "requested [{Group  system:bootstrappers    }] without impersonating a user"
        );
        for request in [
            headers(&[("impersonate-group", "system:bootstrappers")]),
            headers(&[("impersonate-uid", "1")]),
            headers(&[("impersonate-extra-scopes", "a")]),
            headers(&[("impersonate-user", ""), ("impersonate-group", "g")]),
        ] {
            let error = impersonate(&store(), admin(), &request).unwrap_err();
            assert_eq!((error.code, error.reason), (400, "BadRequest"));
        }
        let undecodable = headers(&[("impersonate-user", "x"), ("impersonate-extra-a%zz", "v")]);
        assert_eq!(
            impersonate(&store(), admin(), &undecodable).unwrap().extra["a%zz"],
            ["v"]
        );
    }
}
