//! The evaluator against the default policy plus kubeadm's objects, as `kubeadm init` leaves
//! a cluster.

use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SubjectAccessReviewSpec,
};
use kubetrust_bootstrap_token::{
    CLUSTER_INFO_RBAC_NAME, NODE_AUTOAPPROVE_BOOTSTRAP_BINDING, cluster_info_role, cluster_info_role_binding,
    node_bootstrap_cluster_role_bindings,
};
use serde::Serialize;
use serde_json::json;

use super::*;
use crate::clock::Clock;
use crate::identity::AUTHENTICATED_GROUP;

fn create(store: &Store, resource: &str, namespace: &str, object: impl Serialize) {
    let object = serde_json::to_value(object).unwrap();
    store
        .create(&Resource::new(RBAC_GROUP, resource), namespace, object)
        .unwrap();
}

/// The RBAC objects of a cluster right after `kubeadm init`.
fn cluster() -> Store {
    let store = Store::new(Clock::default());
    for (resource, object) in bootstrap_policy() {
        store.create(&resource, "", object).unwrap();
    }
    create(&store, "roles", "kube-public", cluster_info_role());
    create(&store, "rolebindings", "kube-public", cluster_info_role_binding());
    for binding in node_bootstrap_cluster_role_bindings() {
        create(&store, "clusterrolebindings", "", binding);
    }
    store
}

fn bootstrap_user() -> UserInfo {
    UserInfo {
        name: "system:bootstrap:abcdef".into(),
        groups: vec![
            "system:bootstrappers".into(),
            "system:bootstrappers:kubeadm:default-node-token".into(),
            AUTHENTICATED_GROUP.into(),
        ],
        ..UserInfo::default()
    }
}

fn user(name: &str, groups: &[&str]) -> UserInfo {
    UserInfo {
        name: name.into(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        ..UserInfo::default()
    }
}

fn request(
    user: &UserInfo,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: &str,
    name: &str,
) -> Attributes {
    Attributes {
        user: user.clone(),
        verb: verb.into(),
        resource_request: true,
        api_group: group.into(),
        api_version: "v1".into(),
        resource: resource.into(),
        namespace: namespace.into(),
        name: name.into(),
        ..Attributes::default()
    }
}

fn path(user: &UserInfo, verb: &str, path: &str) -> Attributes {
    Attributes {
        user: user.clone(),
        verb: verb.into(),
        path: path.into(),
        ..Attributes::default()
    }
}

fn csr_review(user: &UserInfo, subresource: &str) -> SubjectAccessReviewSpec {
    SubjectAccessReviewSpec {
        user: Some(user.name.clone()),
        groups: Some(user.groups.clone()),
        resource_attributes: Some(ResourceAttributes {
            group: Some("certificates.k8s.io".into()),
            resource: Some("certificatesigningrequests".into()),
            verb: Some("create".into()),
            subresource: Some(subresource.into()),
            version: Some("*".into()),
            ..ResourceAttributes::default()
        }),
        ..SubjectAccessReviewSpec::default()
    }
}

fn key(resource: &str, namespace: &str, name: &str) -> ObjectKey {
    ObjectKey {
        resource: Resource::new(RBAC_GROUP, resource),
        namespace: namespace.into(),
        name: name.into(),
    }
}

#[test]
fn a_bootstrap_token_user_may_create_csrs_but_not_read_secrets() {
    let store = cluster();
    let user = bootstrap_user();
    let create = request(
        &user,
        "create",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "",
        "",
    );
    let decision = authorize(&store, &create);
    assert!(decision.allowed);
    assert_eq!(
        decision.reason,
        "RBAC: allowed by ClusterRoleBinding \"kubeadm:kubelet-bootstrap\" of ClusterRole \
         \"system:node-bootstrapper\" to Group \"system:bootstrappers:kubeadm:default-node-token\""
    );
    let secret = request(
        &user,
        "get",
        "",
        "secrets",
        "kube-system",
        "bootstrap-token-abcdef",
    );
    assert_eq!(authorize(&store, &secret), Authorization::default());
    let error = secret.forbidden();
    assert_eq!(error.code, 403);
    assert_eq!(
        error.message,
        "secrets \"bootstrap-token-abcdef\" is forbidden: User \"system:bootstrap:abcdef\" cannot get resource \
         \"secrets\" in API group \"\" in the namespace \"kube-system\""
    );
    let approve = Attributes {
        subresource: "approval".into(),
        ..request(
            &user,
            "update",
            "certificates.k8s.io",
            "certificatesigningrequests",
            "",
            "csr-1",
        )
    };
    assert!(!authorize(&store, &approve).allowed);
}

#[test]
fn removing_node_autoapprove_bootstrap_stops_the_nodeclient_review() {
    let store = cluster();
    let status = review(&store, &csr_review(&bootstrap_user(), "nodeclient"));
    assert!(status.allowed);
    assert_eq!(
        status.reason.as_deref(),
        Some(
            "RBAC: allowed by ClusterRoleBinding \"kubeadm:node-autoapprove-bootstrap\" of ClusterRole \
             \"system:certificates.k8s.io:certificatesigningrequests:nodeclient\" to Group \
             \"system:bootstrappers:kubeadm:default-node-token\""
        )
    );
    assert!(!review(&store, &csr_review(&bootstrap_user(), "selfnodeclient")).allowed);
    let node = user("system:node:worker-1", &["system:nodes", AUTHENTICATED_GROUP]);
    assert!(review(&store, &csr_review(&node, "selfnodeclient")).allowed);

    store
        .delete(
            &key("clusterrolebindings", "", NODE_AUTOAPPROVE_BOOTSTRAP_BINDING),
            None,
        )
        .unwrap();
    let status = review(&store, &csr_review(&bootstrap_user(), "nodeclient"));
    assert!(!status.allowed);
    assert_eq!(status.reason, None);
}

#[test]
fn removing_the_cluster_info_binding_stops_anonymous_discovery() {
    let store = cluster();
    let anonymous = UserInfo::anonymous();
    let get = request(&anonymous, "get", "", "configmaps", "kube-public", "cluster-info");
    let decision = authorize(&store, &get);
    assert!(decision.allowed);
    assert_eq!(
        decision.reason,
        "RBAC: allowed by RoleBinding \"kubeadm:bootstrap-signer-clusterinfo/kube-public\" of Role \
         \"kubeadm:bootstrap-signer-clusterinfo\" to User \"system:anonymous\""
    );
    for other in [
        request(&anonymous, "list", "", "configmaps", "kube-public", ""),
        request(&anonymous, "get", "", "configmaps", "kube-public", "other"),
        request(&anonymous, "get", "", "configmaps", "kube-system", "cluster-info"),
        request(&anonymous, "get", "", "configmaps", "", "cluster-info"),
    ] {
        assert!(!authorize(&store, &other).allowed, "{other:?}");
    }

    store
        .delete(&key("rolebindings", "kube-public", CLUSTER_INFO_RBAC_NAME), None)
        .unwrap();
    assert!(!authorize(&store, &get).allowed);
    assert_eq!(
        get.forbidden().message,
        "configmaps \"cluster-info\" is forbidden: User \"system:anonymous\" cannot get resource \"configmaps\" \
         in API group \"\" in the namespace \"kube-public\""
    );
}

#[test]
fn system_masters_bypasses_rbac_even_without_any_binding() {
    let store = Store::new(Clock::default());
    let admin = user("kubernetes-admin", &["system:masters", AUTHENTICATED_GROUP]);
    for attributes in [
        request(&admin, "delete", "", "secrets", "kube-system", "x"),
        request(
            &admin,
            "approve",
            "certificates.k8s.io",
            "signers",
            "",
            "example.com/x",
        ),
        path(&admin, "get", "/metrics"),
    ] {
        assert_eq!(
            authorize(&store, &attributes),
            Authorization {
                allowed: true,
                reason: String::new()
            }
        );
    }
    let stranger = user("kubernetes-admin", &[AUTHENTICATED_GROUP]);
    assert!(
        !authorize(
            &store,
            &request(&stranger, "get", "", "secrets", "kube-system", "x")
        )
        .allowed
    );
}

#[test]
fn role_bindings_grant_only_in_their_namespace() {
    let store = cluster();
    create(
        &store,
        "roles",
        "team-a",
        json!({"metadata": {"name": "reader"}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["secrets"]}]}),
    );
    for (name, role_kind, role) in [
        ("by-role", "Role", "reader"),
        ("by-cluster-role", "ClusterRole", "system:node-bootstrapper"),
    ] {
        create(
            &store,
            "rolebindings",
            "team-a",
            json!({
                "metadata": {"name": name},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": role},
                "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": "alice"}],
            }),
        );
    }
    let alice = user("alice", &[AUTHENTICATED_GROUP]);
    assert!(authorize(&store, &request(&alice, "get", "", "secrets", "team-a", "x")).allowed);
    assert!(!authorize(&store, &request(&alice, "get", "", "secrets", "team-b", "x")).allowed);
    assert!(!authorize(&store, &request(&alice, "list", "", "secrets", "", "")).allowed);
    let in_namespace = request(
        &alice,
        "create",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "team-a",
        "",
    );
    let decision = authorize(&store, &in_namespace);
    assert_eq!(
        decision.reason,
        "RBAC: allowed by RoleBinding \"by-cluster-role/team-a\" of ClusterRole \"system:node-bootstrapper\" to User \"alice\""
    );
    let cluster_scope = request(
        &alice,
        "create",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "",
        "",
    );
    assert!(!authorize(&store, &cluster_scope).allowed);
}

#[test]
fn non_resource_urls_follow_the_default_policy() {
    let store = cluster();
    let anonymous = UserInfo::anonymous();
    for public in ["/healthz", "/livez", "/readyz", "/version", "/version/"] {
        assert!(
            authorize(&store, &path(&anonymous, "get", public)).allowed,
            "{public}"
        );
    }
    let apis = path(&anonymous, "get", "/apis/certificates.k8s.io/v1");
    assert!(!authorize(&store, &apis).allowed);
    assert_eq!(
        apis.forbidden().message,
        "forbidden: User \"system:anonymous\" cannot get path \"/apis/certificates.k8s.io/v1\""
    );
    assert!(!authorize(&store, &path(&anonymous, "get", "/healthz/etcd")).allowed);
    let alice = user("alice", &[AUTHENTICATED_GROUP]);
    assert!(authorize(&store, &path(&alice, "get", "/apis/certificates.k8s.io/v1")).allowed);
    assert!(authorize(&store, &path(&alice, "get", "/api")).allowed);
    assert!(!authorize(&store, &path(&alice, "post", "/api")).allowed);
    let status = review(
        &store,
        &SubjectAccessReviewSpec {
            user: Some("system:anonymous".into()),
            groups: Some(vec!["system:unauthenticated".into()]),
            non_resource_attributes: Some(NonResourceAttributes {
                path: Some("/version".into()),
                verb: Some("get".into()),
            }),
            ..SubjectAccessReviewSpec::default()
        },
    );
    assert!(status.allowed);
    assert_eq!(
        status.reason.as_deref(),
        Some(
            "RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\""
        )
    );
}

#[test]
fn signers_match_by_name_or_by_domain_wildcard() {
    let store = cluster();
    let controller = user(
        "system:serviceaccount:kube-system:certificate-controller",
        &[AUTHENTICATED_GROUP],
    );
    assert!(signer_allowed(
        &store,
        &controller,
        "approve",
        "kubernetes.io/kube-apiserver-client-kubelet"
    ));
    assert!(!signer_allowed(
        &store,
        &controller,
        "approve",
        "kubernetes.io/kubelet-serving"
    ));
    assert!(signer_allowed(
        &store,
        &controller,
        "sign",
        "kubernetes.io/kubelet-serving"
    ));

    create(
        &store,
        "clusterroles",
        "",
        json!({"metadata": {"name": "any-k8s-signer"}, "rules": [
            {"verbs": ["approve"], "apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "resourceNames": ["kubernetes.io/*"]}
        ]}),
    );
    create(
        &store,
        "clusterrolebindings",
        "",
        json!({
            "metadata": {"name": "approvers"},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "any-k8s-signer"},
            "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": "approvers"}],
        }),
    );
    let approver = user("bob", &["approvers", AUTHENTICATED_GROUP]);
    assert!(signer_allowed(
        &store,
        &approver,
        "approve",
        "kubernetes.io/kubelet-serving"
    ));
    assert!(signer_allowed(
        &store,
        &approver,
        "approve",
        "kubernetes.io/kube-apiserver-client"
    ));
    assert!(!signer_allowed(
        &store,
        &approver,
        "approve",
        "example.com/serving"
    ));
    assert!(!signer_allowed(
        &store,
        &approver,
        "sign",
        "kubernetes.io/kubelet-serving"
    ));
}

#[test]
fn denial_messages_match_the_apiserver() {
    let u = user("u", &[]);
    let mut approve = request(
        &u,
        "update",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "",
        "csr-abc12",
    );
    approve.subresource = "approval".into();
    assert_eq!(
        approve.denial_message(),
        "User \"u\" cannot update resource \"certificatesigningrequests/approval\" in API group \"certificates.k8s.io\" at the cluster scope"
    );
    let get = request(
        &u,
        "get",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "",
        "csr-abc12",
    );
    assert_eq!(
        get.forbidden().to_status()["message"],
        "certificatesigningrequests.certificates.k8s.io \"csr-abc12\" is forbidden: User \"u\" cannot get resource \
         \"certificatesigningrequests\" in API group \"certificates.k8s.io\" at the cluster scope"
    );
    let list = request(
        &u,
        "list",
        "certificates.k8s.io",
        "certificatesigningrequests",
        "",
        "",
    );
    assert!(
        list.forbidden()
            .message
            .starts_with("certificatesigningrequests.certificates.k8s.io is forbidden: ")
    );
    assert_eq!(
        path(&u, "get", "/x").denial_message(),
        "User \"u\" cannot get path \"/x\""
    );
}

#[test]
fn malformed_objects_and_dangling_references_grant_nothing() {
    let store = Store::new(Clock::default());
    let objects = Resource::new(RBAC_GROUP, "clusterrolebindings");
    store
        .create(
            &objects,
            "",
            json!({"metadata": {"name": "broken"}, "roleRef": 5, "subjects": "x"}),
        )
        .unwrap();
    store
        .create(
            &objects,
            "",
            json!({"metadata": {"name": "dangling"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "gone"},
                   "subjects": [{"kind": "User", "name": "alice"}]}),
        )
        .unwrap();
    store
        .create(
            &Resource::new(RBAC_GROUP, "clusterroles"),
            "",
            json!({"metadata": {"name": "odd"}, "rules": [{"verbs": "get"}]}),
        )
        .unwrap();
    store
        .create(
            &objects,
            "",
            json!({"metadata": {"name": "to-odd"}, "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "odd"},
                   "subjects": [{"kind": "User", "name": "alice"}]}),
        )
        .unwrap();
    let alice = user("alice", &[]);
    assert!(!authorize(&store, &request(&alice, "get", "", "secrets", "", "x")).allowed);
}

#[test]
fn a_review_without_attributes_is_an_evaluation_error() {
    let status = review(&cluster(), &SubjectAccessReviewSpec::default());
    assert!(!status.allowed);
    assert!(status.evaluation_error.is_some());
}

#[test]
fn the_approvers_review_matches_the_recorded_exchange() {
    use k8s_openapi::api::authorization::v1::SubjectAccessReview;
    let request: SubjectAccessReview =
        serde_json::from_str(include_str!("../../../../testdata/csr/03-sar-request.json")).unwrap();
    let response: SubjectAccessReview =
        serde_json::from_str(include_str!("../../../../testdata/csr/03b-sar-response.json")).unwrap();
    assert_eq!(Some(review(&cluster(), &request.spec)), response.status);
}
