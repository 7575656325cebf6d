//! The default ClusterRoles and ClusterRoleBindings kube-apiserver creates at start
//! (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`): the ones a join and kubectl touch.

use serde_json::{Value, json};

use super::RBAC_GROUP;
use crate::identity::{AUTHENTICATED_GROUP, MASTERS_GROUP, UNAUTHENTICATED_GROUP};
use crate::store::Resource;

const CERTIFICATES: &str = "certificates.k8s.io";
const CSRS: &str = "certificatesigningrequests";
const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The paths anyone may read (`system:public-info-viewer`).
const PUBLIC_PATHS: [&str; 5] = ["/livez", "/readyz", "/healthz", "/version", "/version/"];

/// The default RBAC objects as stored JSON, each with the resource it belongs to, labelled
/// `kubernetes.io/bootstrapping: rbac-defaults` as upstream's are. Deviations from upstream:
/// `system:node` holds only the node rules that need no Node authorizer (nodes, leases, events,
/// reviews, its CSRs — not Secrets, ConfigMaps or Pods) and its binding names the group
/// `system:nodes`, standing in for the Node authorizer; the aggregated `admin`/`edit`/`view`
/// roles and the other components' roles are absent.
pub fn bootstrap_policy() -> Vec<(Resource, Value)> {
    let roles = cluster_roles().into_iter().map(|(name, rules)| {
        let role = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": metadata(name),
            "rules": rules,
        });
        (Resource::new(RBAC_GROUP, "clusterroles"), role)
    });
    let bindings = cluster_role_bindings().into_iter().map(|(name, subjects)| {
        let binding = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": metadata(name),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": subjects,
        });
        (Resource::new(RBAC_GROUP, "clusterrolebindings"), binding)
    });
    roles.chain(bindings).collect()
}

fn metadata(name: &str) -> Value {
    json!({
        "name": name,
        "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
    })
}

fn rule(verbs: &[&str], group: &str, resources: &[&str]) -> Value {
    json!({"verbs": verbs, "apiGroups": [group], "resources": resources})
}

fn named(verbs: &[&str], group: &str, resources: &[&str], names: &[&str]) -> Value {
    json!({"verbs": verbs, "apiGroups": [group], "resources": resources, "resourceNames": names})
}

fn urls(verbs: &[&str], urls: &[&str]) -> Value {
    json!({"verbs": verbs, "nonResourceURLs": urls})
}

fn approver(signer: &str) -> Vec<Value> {
    vec![named(&["approve"], CERTIFICATES, &["signers"], &[signer])]
}

fn cluster_roles() -> Vec<(&'static str, Vec<Value>)> {
    let discovery_paths = [
        "/livez",
        "/readyz",
        "/healthz",
        "/version",
        "/version/",
        "/openapi",
        "/openapi/*",
        "/api",
        "/api/*",
        "/apis",
        "/apis/*",
    ];
    vec![
        (
            "cluster-admin",
            vec![
                json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}),
                urls(&["*"], &["*"]),
            ],
        ),
        ("system:discovery", vec![urls(&["get"], &discovery_paths)]),
        (
            "system:basic-user",
            vec![
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(&["create"], "authentication.k8s.io", &["selfsubjectreviews"]),
            ],
        ),
        ("system:public-info-viewer", vec![urls(&["get"], &PUBLIC_PATHS)]),
        (
            "system:node-bootstrapper",
            vec![rule(&["create", "get", "list", "watch"], CERTIFICATES, &[CSRS])],
        ),
        (
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            vec![rule(
                &["create"],
                CERTIFICATES,
                &["certificatesigningrequests/nodeclient"],
            )],
        ),
        (
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            vec![rule(
                &["create"],
                CERTIFICATES,
                &["certificatesigningrequests/selfnodeclient"],
            )],
        ),
        (
            "system:certificates.k8s.io:kube-apiserver-client-approver",
            approver("kubernetes.io/kube-apiserver-client"),
        ),
        (
            "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
            approver(KUBELET_CLIENT_SIGNER),
        ),
        (
            "system:certificates.k8s.io:kubelet-serving-approver",
            approver("kubernetes.io/kubelet-serving"),
        ),
        (
            "system:certificates.k8s.io:legacy-unknown-approver",
            approver("kubernetes.io/legacy-unknown"),
        ),
        (
            "system:node",
            vec![
                rule(&["create"], "authentication.k8s.io", &["tokenreviews"]),
                rule(
                    &["create"],
                    "authorization.k8s.io",
                    &["subjectaccessreviews", "localsubjectaccessreviews"],
                ),
                rule(&["create", "get", "list", "watch"], "", &["nodes"]),
                rule(&["update", "patch"], "", &["nodes/status"]),
                rule(&["update", "patch"], "", &["nodes"]),
                rule(&["create", "update", "patch"], "", &["events"]),
                rule(&["create", "get", "list", "watch"], CERTIFICATES, &[CSRS]),
                rule(
                    &["get", "create", "update", "patch", "delete"],
                    "coordination.k8s.io",
                    &["leases"],
                ),
            ],
        ),
        (
            "system:controller:certificate-controller",
            vec![
                rule(&["get", "list", "watch", "delete"], CERTIFICATES, &[CSRS]),
                rule(
                    &["update"],
                    CERTIFICATES,
                    &[
                        "certificatesigningrequests/status",
                        "certificatesigningrequests/approval",
                    ],
                ),
                named(&["approve"], CERTIFICATES, &["signers"], &[KUBELET_CLIENT_SIGNER]),
                named(
                    &["sign"],
                    CERTIFICATES,
                    &["signers"],
                    &[
                        "kubernetes.io/legacy-unknown",
                        "kubernetes.io/kube-apiserver-client",
                        KUBELET_CLIENT_SIGNER,
                        "kubernetes.io/kubelet-serving",
                    ],
                ),
                rule(&["create"], "authorization.k8s.io", &["subjectaccessreviews"]),
                json!({
                    "verbs": ["create", "update", "patch"],
                    "apiGroups": ["", "events.k8s.io"],
                    "resources": ["events"],
                }),
            ],
        ),
    ]
}

fn group(name: &str) -> Value {
    json!({"apiGroup": RBAC_GROUP, "kind": "Group", "name": name})
}

fn cluster_role_bindings() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        ("cluster-admin", vec![group(MASTERS_GROUP)]),
        ("system:discovery", vec![group(AUTHENTICATED_GROUP)]),
        ("system:basic-user", vec![group(AUTHENTICATED_GROUP)]),
        (
            "system:public-info-viewer",
            vec![group(AUTHENTICATED_GROUP), group(UNAUTHENTICATED_GROUP)],
        ),
        ("system:node", vec![group("system:nodes")]),
        (
            "system:controller:certificate-controller",
            vec![json!({
                "kind": "ServiceAccount",
                "name": "certificate-controller",
                "namespace": "kube-system",
            })],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};

    use super::*;

    #[test]
    fn every_object_is_a_valid_labelled_rbac_object_and_bindings_name_existing_roles() {
        let policy = bootstrap_policy();
        let mut roles = Vec::new();
        for (resource, object) in &policy {
            assert_eq!(
                object["metadata"]["labels"]["kubernetes.io/bootstrapping"],
                "rbac-defaults"
            );
            match resource.resource.as_str() {
                "clusterroles" => {
                    let role: ClusterRole = serde_json::from_value(object.clone()).unwrap();
                    assert!(role.rules.is_some_and(|r| !r.is_empty()));
                    roles.push(role.metadata.name.unwrap());
                }
                "clusterrolebindings" => {
                    let binding: ClusterRoleBinding = serde_json::from_value(object.clone()).unwrap();
                    assert!(
                        roles.contains(&binding.role_ref.name),
                        "{}",
                        binding.role_ref.name
                    );
                    assert!(binding.subjects.is_some_and(|s| !s.is_empty()));
                }
                other => panic!("unexpected resource {other}"),
            }
        }
        for name in [
            "cluster-admin",
            "system:node-bootstrapper",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:controller:certificate-controller",
        ] {
            assert!(roles.iter().any(|r| r == name), "{name} missing");
        }
    }
}
