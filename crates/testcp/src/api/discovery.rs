//! `/version` and API discovery, legacy (`APIVersions`, `APIGroupList`, `APIResourceList`)
//! and aggregated (`APIGroupDiscoveryList`), all generated from the resource table.

use serde_json::{Value, json};

use super::resources::{RESOURCES, ServedResource, group_versions};

/// The Content-Type kubectl needs to read a body as aggregated discovery.
pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

k8s_openapi::k8s_if_1_33! { const MINOR: &str = "33"; }
k8s_openapi::k8s_if_1_34! { const MINOR: &str = "34"; }
k8s_openapi::k8s_if_1_35! { const MINOR: &str = "35"; }
k8s_openapi::k8s_if_1_36! { const MINOR: &str = "36"; }
k8s_openapi::k8s_if_1_37! { const MINOR: &str = "37"; }

/// The `/version` body: the Kubernetes version of the API types this crate is built with, so
/// kubectl's dispatcher picks the matching kubectl.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": MINOR,
        "gitVersion": format!("v1.{MINOR}.0-kubetrust-testcp"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// Whether the `Accept` header takes aggregated discovery.
pub fn aggregated_wanted(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"g=apidiscovery.k8s.io")
            && params.contains(&"v=v2")
            && params.contains(&"as=APIGroupDiscoveryList")
    })
}

fn resources_of(group: &str, version: &str) -> impl Iterator<Item = &'static ServedResource> {
    RESOURCES
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

fn scope(resource: &ServedResource) -> &'static str {
    if resource.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    }
}

/// `GET /api` or `/apis`, aggregated: `core` selects the core group or the named groups.
pub fn aggregated(core: bool) -> Value {
    let items: Vec<Value> = group_versions()
        .into_iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, version)| {
            let resources: Vec<Value> = resources_of(group, version)
                .map(|r| {
                    let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
                    let subresources: Vec<Value> = r
                        .subresources
                        .iter()
                        .map(|s| json!({"subresource": s, "responseKind": kind, "verbs": ["get", "patch", "update"]}))
                        .collect();
                    json!({
                        "resource": r.plural, "responseKind": kind, "scope": scope(r),
                        "singularResource": r.singular, "verbs": r.verbs, "shortNames": r.short_names,
                        "subresources": subresources,
                    })
                })
                .collect();
            let metadata = if group.is_empty() { json!({}) } else { json!({"name": group}) };
            json!({"metadata": metadata, "versions": [{"version": version, "resources": resources, "freshness": "Current"}]})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

/// `GET /api`, legacy.
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
}

/// `GET /apis`, legacy.
pub fn api_group_list() -> Value {
    let groups: Vec<Value> = group_versions()
        .into_iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, version)| {
            let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
            json!({"name": group, "versions": [gv], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /api/v1` or `/apis/{group}/{version}`: `None` when that group/version is not served.
pub fn api_resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in resources_of(group, version) {
        resources.push(json!({
            "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
            "kind": r.kind, "verbs": r.verbs, "shortNames": r.short_names,
        }));
        for sub in r.subresources {
            resources.push(json!({
                "name": format!("{}/{sub}", r.plural), "singularName": "", "namespaced": r.namespaced,
                "kind": r.kind, "verbs": ["get", "patch", "update"],
            }));
        }
    }
    if resources.is_empty() {
        return None;
    }
    let group_version = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": resources}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_has_the_short_names_kubectl_needs() {
        let apis = aggregated(false);
        let text = apis.to_string();
        assert!(text.contains("\"shortNames\":[\"csr\"]"));
        let api = aggregated(true);
        assert_eq!(api["items"][0]["versions"][0]["version"], "v1");
        assert!(api.to_string().contains("\"cm\""));
        assert!(api_resource_list("certificates.k8s.io", "v1").is_some());
        assert!(api_resource_list("nope.io", "v1").is_none());
    }

    #[test]
    fn version_is_the_k8s_openapi_version() {
        assert_eq!(version()["minor"], "33");
        assert_eq!(version()["gitVersion"], "v1.33.0-kubetrust-testcp");
    }
}
