//! The objects kubeadm's bootstrap-token phase creates, as values: the `cluster-info`
//! ConfigMap and the RBAC that lets anonymous users read it and bootstrap tokens join nodes.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::{CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, DEFAULT_NODE_TOKEN_GROUP, KUBECONFIG_KEY};

/// Name of the Role and RoleBinding that let anonymous users get `cluster-info`.
pub const CLUSTER_INFO_RBAC_NAME: &str = "kubeadm:bootstrap-signer-clusterinfo";
/// ClusterRoleBinding letting the default token group create CSRs.
pub const KUBELET_BOOTSTRAP_BINDING: &str = "kubeadm:kubelet-bootstrap";
/// ClusterRoleBinding auto-approving node client CSRs from the default token group.
pub const NODE_AUTOAPPROVE_BOOTSTRAP_BINDING: &str = "kubeadm:node-autoapprove-bootstrap";
/// ClusterRoleBinding auto-approving nodes' own client certificate renewals.
pub const NODE_AUTOAPPROVE_ROTATION_BINDING: &str = "kubeadm:node-autoapprove-certificate-rotation";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The `kubeconfig` value of `cluster-info`: only the cluster, under the empty name, with
/// `server` and the CA bundle embedded, serialised as client-go writes it (keys sorted,
/// `contexts: null`, `users: null`).
///
/// `ca_pem` is embedded as given (kubeadm embeds the CA file, including its final newline).
/// A `server` that a YAML plain scalar cannot carry is written double-quoted.
///
/// ```
/// use kubetrust_bootstrap_token::cluster_info_kubeconfig;
/// let text = cluster_info_kubeconfig("https://10.0.0.10:6443", b"-----BEGIN CERTIFICATE-----\n");
/// assert!(text.starts_with("apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: "));
/// assert!(text.ends_with("    server: https://10.0.0.10:6443\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\nusers: null\n"));
/// ```
pub fn cluster_info_kubeconfig(server: &str, ca_pem: &[u8]) -> String {
    let plain = !server.is_empty()
        && server
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/._-[]%@+~=?&!$,;*()".contains(&b))
        && server.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && server.contains("://");
    let server = if plain {
        server.to_owned()
    } else {
        // JSON strings are YAML double-quoted scalars.
        let mut quoted = String::with_capacity(server.len() + 2);
        quoted.push('"');
        for c in server.chars() {
            match c {
                '"' => quoted.push_str("\\\""),
                '\\' => quoted.push_str("\\\\"),
                c if u32::from(c) < 0x20 => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => quoted.push(c),
            }
        }
        quoted.push('"');
        quoted
    };
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {}\n    server: {server}\n  name: \"\"\ncontexts: null\ncurrent-context: \"\"\nkind: Config\nusers: null\n",
        STANDARD.encode(ca_pem)
    )
}

/// The `kube-public/cluster-info` ConfigMap holding [`cluster_info_kubeconfig`] (the signer
/// adds the `jws-kubeconfig-<id>` keys).
pub fn cluster_info_config_map(server: &str, ca_pem: &[u8]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(CLUSTER_INFO_NAME.to_owned()),
            namespace: Some(CLUSTER_INFO_NAMESPACE.to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(
            KUBECONFIG_KEY.to_owned(),
            cluster_info_kubeconfig(server, ca_pem),
        )])),
        ..ConfigMap::default()
    }
}

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        ..ObjectMeta::default()
    }
}

fn subject(kind: &str, name: &str) -> Subject {
    Subject {
        api_group: Some(RBAC_GROUP.to_owned()),
        kind: kind.to_owned(),
        name: name.to_owned(),
        namespace: None,
    }
}

/// Role `kube-public/kubeadm:bootstrap-signer-clusterinfo`: `get` on the ConfigMap
/// `cluster-info` only (no list, no watch).
pub fn cluster_info_role() -> Role {
    Role {
        metadata: meta(CLUSTER_INFO_RBAC_NAME, Some(CLUSTER_INFO_NAMESPACE)),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["configmaps".to_owned()]),
            resource_names: Some(vec![CLUSTER_INFO_NAME.to_owned()]),
            verbs: vec!["get".to_owned()],
            non_resource_urls: None,
        }]),
    }
}

/// RoleBinding `kube-public/kubeadm:bootstrap-signer-clusterinfo` of that Role to the user
/// `system:anonymous` (as kubeadm's code does; its docs say group `system:unauthenticated`).
pub fn cluster_info_role_binding() -> RoleBinding {
    RoleBinding {
        metadata: meta(CLUSTER_INFO_RBAC_NAME, Some(CLUSTER_INFO_NAMESPACE)),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_owned(),
            kind: "Role".to_owned(),
            name: CLUSTER_INFO_RBAC_NAME.to_owned(),
        },
        subjects: Some(vec![subject("User", "system:anonymous")]),
    }
}

fn cluster_role_binding(name: &str, cluster_role: &str, group: &str) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(name, None),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.to_owned(),
            kind: "ClusterRole".to_owned(),
            name: cluster_role.to_owned(),
        },
        subjects: Some(vec![subject("Group", group)]),
    }
}

/// The three ClusterRoleBindings of kubeadm's bootstrap-token phase:
///
/// * `kubeadm:kubelet-bootstrap`: `system:node-bootstrapper` for the default token group
///   (create CSRs);
/// * `kubeadm:node-autoapprove-bootstrap`: `…:nodeclient` for that group (auto-approval of
///   new nodes' client certificates);
/// * `kubeadm:node-autoapprove-certificate-rotation`: `…:selfnodeclient` for `system:nodes`
///   (auto-approval of renewals).
pub fn node_bootstrap_cluster_role_bindings() -> [ClusterRoleBinding; 3] {
    [
        cluster_role_binding(
            KUBELET_BOOTSTRAP_BINDING,
            "system:node-bootstrapper",
            DEFAULT_NODE_TOKEN_GROUP,
        ),
        cluster_role_binding(
            NODE_AUTOAPPROVE_BOOTSTRAP_BINDING,
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            DEFAULT_NODE_TOKEN_GROUP,
        ),
        cluster_role_binding(
            NODE_AUTOAPPROVE_ROTATION_BINDING,
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:nodes",
        ),
    ]
}
