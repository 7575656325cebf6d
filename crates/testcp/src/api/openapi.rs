//! A minimal `/openapi/v3`: per group/version, one `patch` operation per kind with the
//! `fieldValidation` parameter, which is what makes `kubectl apply`/`create -f` validate on
//! the server instead of downloading `/openapi/v2`.

use serde_json::{Map, Value, json};

use super::resources::{RESOURCES, group_versions};

/// The path segment of a group/version: `api/v1`, `apis/{group}/{version}`.
fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`.
pub fn index() -> Value {
    let paths: Map<String, Value> = group_versions()
        .into_iter()
        .map(|(group, version)| {
            let path = gv_path(group, version);
            let url = format!("/openapi/v3/{path}?hash={}", env!("CARGO_PKG_VERSION"));
            (path, json!({"serverRelativeURL": url}))
        })
        .collect();
    json!({"paths": paths})
}

/// `GET /openapi/v3/{api/v1 | apis/g/v}`; `None` for an unserved group/version.
pub fn document(gv: &str) -> Option<Value> {
    let (group, version) = group_versions().into_iter().find(|(g, v)| gv_path(g, v) == gv)?;
    let paths: Map<String, Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version && r.serves("patch"))
        .map(|r| {
            let scope = if r.namespaced {
                "namespaces/{namespace}/"
            } else {
                ""
            };
            let path = format!("/{gv}/{scope}{}/{{name}}", r.plural);
            let operation = json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            }});
            (path, operation)
        })
        .collect();
    Some(json!({"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1"}, "paths": paths}))
}
