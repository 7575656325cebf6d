//! Whether one RBAC rule covers a request, as upstream's `RuleAllows` decides it.

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::Attributes;

/// The wildcard of verbs, groups, resources and URLs.
const ALL: &str = "*";

/// Whether `rule` allows the request `attributes` describes. Resource requests match verbs,
/// API groups, resources (`*`, `resource/subresource`, `*/subresource`) and resourceNames (an
/// empty list allows every name; a list never matches a request without a name, such as a
/// create); non-resource requests match verbs and nonResourceURLs (exact or `prefix*`).
pub(super) fn allows(rule: &PolicyRule, attributes: &Attributes) -> bool {
    if !rule.verbs.iter().any(|v| v == ALL || *v == attributes.verb) {
        return false;
    }
    if attributes.resource_request {
        api_group_matches(rule, &attributes.api_group)
            && resource_matches(rule, &attributes.resource, &attributes.subresource)
            && name_matches(rule, &attributes.name)
    } else {
        url_matches(rule, &attributes.path)
    }
}

fn list(values: &Option<Vec<String>>) -> &[String] {
    values.as_deref().unwrap_or_default()
}

fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    list(&rule.api_groups).iter().any(|g| g == ALL || g == group)
}

fn resource_matches(rule: &PolicyRule, resource: &str, subresource: &str) -> bool {
    list(&rule.resources).iter().any(|r| {
        if r == ALL {
            return true;
        }
        if subresource.is_empty() {
            return r == resource;
        }
        match r.split_once('/') {
            Some((rule_resource, rule_subresource)) => {
                (rule_resource == ALL || rule_resource == resource) && rule_subresource == subresource
            }
            None => false,
        }
    })
}

fn name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = list(&rule.resource_names);
    names.is_empty() || names.iter().any(|n| n == name)
}

fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    list(&rule.non_resource_urls).iter().any(|url| {
        url == ALL
            || url == path
            || url
                .strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Option<Vec<String>> {
        Some(values.iter().map(|s| (*s).to_owned()).collect())
    }

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> PolicyRule {
        PolicyRule {
            verbs: strings(verbs).unwrap_or_default(),
            api_groups: strings(groups),
            resources: strings(resources),
            resource_names: if names.is_empty() { None } else { strings(names) },
            non_resource_urls: None,
        }
    }

    fn request(verb: &str, group: &str, resource: &str, subresource: &str, name: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            resource_request: true,
            api_group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: name.into(),
            ..Attributes::default()
        }
    }

    fn path(verb: &str, path: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            path: path.into(),
            ..Attributes::default()
        }
    }

    #[test]
    fn verbs_and_groups_match_exactly_or_by_wildcard() {
        let csrs = rule(
            &["get"],
            &["certificates.k8s.io"],
            &["certificatesigningrequests"],
            &[],
        );
        assert!(allows(
            &csrs,
            &request(
                "get",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "",
                "x"
            )
        ));
        assert!(!allows(
            &csrs,
            &request(
                "list",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "",
                ""
            )
        ));
        assert!(!allows(
            &csrs,
            &request("get", "", "certificatesigningrequests", "", "x")
        ));
        let all = rule(&["*"], &["*"], &["*"], &[]);
        assert!(allows(&all, &request("approve", "x.io", "signers", "", "a/b")));
        assert!(allows(&all, &request("update", "", "secrets", "status", "x")));
        assert!(
            !allows(&all, &path("get", "/healthz")),
            "resource rules never match paths"
        );
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let plain = rule(
            &["update"],
            &["certificates.k8s.io"],
            &["certificatesigningrequests"],
            &[],
        );
        let approval = request(
            "update",
            "certificates.k8s.io",
            "certificatesigningrequests",
            "approval",
            "x",
        );
        assert!(!allows(&plain, &approval));
        let exact = rule(
            &["update"],
            &["certificates.k8s.io"],
            &["certificatesigningrequests/approval"],
            &[],
        );
        assert!(allows(&exact, &approval));
        assert!(!allows(
            &exact,
            &request(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "status",
                "x"
            )
        ));
        assert!(!allows(
            &exact,
            &request(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "",
                "x"
            )
        ));
        let any_resource = rule(&["update"], &["*"], &["*/approval"], &[]);
        assert!(allows(&any_resource, &approval));
        assert!(!allows(
            &any_resource,
            &request(
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "",
                "x"
            )
        ));
    }

    #[test]
    fn resource_names_limit_named_requests_and_never_match_creates() {
        let one = rule(&["get", "create"], &[""], &["configmaps"], &["cluster-info"]);
        assert!(allows(
            &one,
            &request("get", "", "configmaps", "", "cluster-info")
        ));
        assert!(!allows(
            &one,
            &request("get", "", "configmaps", "", "kubeadm-config")
        ));
        assert!(!allows(&one, &request("create", "", "configmaps", "", "")));
        assert!(!allows(&one, &request("list", "", "configmaps", "", "")));
    }

    #[test]
    fn urls_match_exactly_or_by_prefix() {
        let urls = PolicyRule {
            verbs: vec!["get".into()],
            non_resource_urls: strings(&["/healthz", "/apis/*"]),
            ..PolicyRule::default()
        };
        assert!(allows(&urls, &path("get", "/healthz")));
        assert!(!allows(&urls, &path("get", "/healthz/etcd")));
        assert!(allows(&urls, &path("get", "/apis/certificates.k8s.io/v1")));
        assert!(!allows(&urls, &path("get", "/apis")));
        assert!(!allows(&urls, &path("post", "/healthz")));
        let everything = PolicyRule {
            verbs: vec!["*".into()],
            non_resource_urls: strings(&["*"]),
            ..PolicyRule::default()
        };
        assert!(allows(&everything, &path("delete", "/anything")));
        assert!(!allows(&everything, &request("get", "", "secrets", "", "x")));
    }
}
