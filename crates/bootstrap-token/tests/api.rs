//! The `api` module against a mocked kube service: every request's method, path, query and
//! body is checked, and the service answers as the apiserver would.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Method, Request, Response};
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::client::Body;
use kubetrust_bootstrap_token::{
    BootstrapToken, Error, TokenId, TokenSpec, api, cluster_info_config_map, cluster_info_role,
    cluster_info_role_binding, node_bootstrap_cluster_role_bindings,
};
use serde_json::{Value, json};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const SECRET_VECTOR: &str = include_str!("../../../testdata/discovery/bootstrap-token-secret.json");
const CONFIGMAP_VECTOR: &str = include_str!("../../../testdata/discovery/cluster-info-configmap.json");
const KUBECONFIG: &str = include_str!("../../../testdata/discovery/cluster-info-kubeconfig.txt");

/// 2025-01-01T00:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

fn mock() -> (Client, Handle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(service, "default"), handle)
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'%' => {
                let hex: String = [bytes.next().unwrap(), bytes.next().unwrap()]
                    .iter()
                    .map(|&c| c as char)
                    .collect();
                out.push(u8::from_str_radix(&hex, 16).unwrap());
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
    }
    String::from_utf8(out).unwrap()
}

fn query(request: &Request<Body>) -> BTreeMap<String, String> {
    request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// One expected request.
struct Expect<'a> {
    method: Method,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    content_type: Option<&'a str>,
    status: u16,
    response: Value,
}

/// Serves one request, checks it, and returns its JSON body (`Null` when empty).
async fn serve(handle: &mut Handle, e: Expect<'_>) -> Value {
    let (request, send) = handle.next_request().await.expect("a request");
    assert_eq!(request.method(), e.method, "{}", request.uri());
    assert_eq!(request.uri().path(), e.path);
    let want: BTreeMap<String, String> = e
        .query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(query(&request), want, "{}", request.uri());
    if let Some(ct) = e.content_type {
        assert_eq!(
            request.headers().get("content-type").unwrap().to_str().unwrap(),
            ct
        );
    }
    let body = request.into_body().collect_bytes().await.unwrap();
    let json = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    send.send_response(
        Response::builder()
            .status(e.status)
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(&e.response).unwrap()))
            .unwrap(),
    );
    json
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Status", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code
    })
}

fn success() -> Value {
    json!({"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Success"})
}

fn vector_secret_json() -> Value {
    serde_json::from_str::<Value>(SECRET_VECTOR).unwrap()["secret"].clone()
}

fn spec() -> TokenSpec {
    TokenSpec::new(TOKEN.parse::<BootstrapToken>().unwrap())
        .with_description("example token created by the vector generator")
}

const SECRETS: &str = "/api/v1/namespaces/kube-system/secrets";
const APPLY: &str = "application/apply-patch+yaml";
const APPLY_QUERY: &[(&str, &str)] = &[("fieldManager", "kubetrust"), ("force", "true")];

#[tokio::test]
async fn create_token_posts_the_kubeadm_secret() {
    let (client, mut handle) = mock();
    let spec = spec();
    let (result, body) = tokio::join!(api::create_token(&client, &spec, t0()), async {
        serve(
            &mut handle,
            Expect {
                method: Method::POST,
                path: SECRETS,
                query: &[],
                content_type: Some("application/json"),
                status: 201,
                response: vector_secret_json(),
            },
        )
        .await
    });
    result.unwrap();
    assert_eq!(body, vector_secret_json());
}

#[tokio::test]
async fn create_token_conflict_is_token_exists() {
    let (client, mut handle) = mock();
    let spec = spec();
    let (result, _) = tokio::join!(api::create_token(&client, &spec, t0()), async {
        serve(
            &mut handle,
            Expect {
                method: Method::POST,
                path: SECRETS,
                query: &[],
                content_type: None,
                status: 409,
                response: status(
                    409,
                    "AlreadyExists",
                    "secrets \"bootstrap-token-7h3k9q\" already exists",
                ),
            },
        )
        .await
    });
    let err = result.unwrap_err();
    assert!(matches!(err, Error::TokenExists { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "a token with id \"7h3k9q\" already exists; delete it or choose another token"
    );
}

#[tokio::test]
async fn create_token_validates_before_calling() {
    let (client, _handle) = mock();
    let bad = spec().with_groups(["system:masters"]);
    let err = api::create_token(&client, &bad, t0()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidGroup { .. }));
}

#[tokio::test]
async fn get_token_and_not_found() {
    let (client, mut handle) = mock();
    let id: TokenId = "7h3k9q".parse().unwrap();
    let path = format!("{SECRETS}/bootstrap-token-7h3k9q");
    let (found, _) = tokio::join!(api::get_token(&client, &id), async {
        serve(
            &mut handle,
            Expect {
                method: Method::GET,
                path: &path,
                query: &[],
                content_type: None,
                status: 200,
                response: vector_secret_json(),
            },
        )
        .await
    });
    let found = found.unwrap().unwrap();
    assert_eq!(&*found.token.expose_secret(), TOKEN);
    assert_eq!(found.time_left(t0()), Some(Duration::from_secs(86_400)));

    let (missing, _) = tokio::join!(api::get_token(&client, &id), async {
        serve(
            &mut handle,
            Expect {
                method: Method::GET,
                path: &path,
                query: &[],
                content_type: None,
                status: 404,
                response: status(404, "NotFound", "secrets \"bootstrap-token-7h3k9q\" not found"),
            },
        )
        .await
    });
    assert!(missing.unwrap().is_none());
}

#[tokio::test]
async fn list_tokens_selects_by_type_sorts_and_reports_bad_secrets() {
    let (client, mut handle) = mock();
    let other = TokenSpec::new("abcdef.0123456789abcdef".parse().unwrap())
        .to_secret(t0())
        .unwrap();
    let mut broken: Secret = serde_json::from_value(vector_secret_json()).unwrap();
    broken.metadata.name = Some("bootstrap-token-zzzzzz".into());
    let list = json!({
        "apiVersion": "v1", "kind": "SecretList", "metadata": {"resourceVersion": "7"},
        "items": [
            serde_json::to_value(&other).unwrap(),
            vector_secret_json(),
            serde_json::to_value(&broken).unwrap(),
        ]
    });
    let (result, _) = tokio::join!(api::list_tokens(&client), async {
        serve(
            &mut handle,
            Expect {
                method: Method::GET,
                path: SECRETS,
                query: &[("fieldSelector", "type=bootstrap.kubernetes.io/token")],
                content_type: None,
                status: 200,
                response: list,
            },
        )
        .await
    });
    let (tokens, skipped) = result.unwrap();
    let ids: Vec<&str> = tokens.iter().map(|t| t.id().as_str()).collect();
    assert_eq!(ids, ["7h3k9q", "abcdef"]);
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0].name, "bootstrap-token-zzzzzz");
    assert!(matches!(skipped[0].reason, Error::SecretNameMismatch { .. }));
    // Listing output never shows the secret unless asked.
    let shown = format!("{tokens:?} {skipped:?}");
    assert!(!shown.contains("x2m5p8r1t4w7z0c3"), "{shown}");
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
}

#[tokio::test]
async fn delete_token_and_already_gone() {
    let (client, mut handle) = mock();
    let id: TokenId = "7h3k9q".parse().unwrap();
    let path = format!("{SECRETS}/bootstrap-token-7h3k9q");
    let (deleted, body) = tokio::join!(api::delete_token(&client, &id), async {
        serve(
            &mut handle,
            Expect {
                method: Method::DELETE,
                path: &path,
                query: &[],
                content_type: None,
                status: 200,
                response: success(),
            },
        )
        .await
    });
    assert!(deleted.unwrap());
    // Default delete options: an empty body (propagation left to the server).
    assert_eq!(body, json!({}));

    let (gone, _) = tokio::join!(api::delete_token(&client, &id), async {
        serve(
            &mut handle,
            Expect {
                method: Method::DELETE,
                path: &path,
                query: &[],
                content_type: None,
                status: 404,
                response: status(404, "NotFound", "not found"),
            },
        )
        .await
    });
    assert!(!gone.unwrap());
}

#[tokio::test]
async fn api_errors_name_the_call() {
    let (client, mut handle) = mock();
    let id: TokenId = "7h3k9q".parse().unwrap();
    let (result, _) = tokio::join!(api::delete_token(&client, &id), async {
        serve(
            &mut handle,
            Expect {
                method: Method::DELETE,
                path: &format!("{SECRETS}/bootstrap-token-7h3k9q"),
                query: &[],
                content_type: None,
                status: 403,
                response: status(403, "Forbidden", "secrets is forbidden"),
            },
        )
        .await
    });
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to delete Secret kube-system/bootstrap-token-7h3k9q: "),
        "{err}"
    );
}

/// The CA PEM embedded in the vector cluster-info kubeconfig.
fn vector_ca_pem() -> Vec<u8> {
    use base64::Engine as _;
    let line = KUBECONFIG
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap();
    base64::engine::general_purpose::STANDARD.decode(line).unwrap()
}

#[tokio::test]
async fn setup_cluster_info_applies_configmap_role_and_binding() {
    let (client, mut handle) = mock();
    let ca = vector_ca_pem();
    let cm = serde_json::to_value(cluster_info_config_map("https://10.0.0.10:6443", &ca)).unwrap();
    let role = serde_json::to_value(cluster_info_role()).unwrap();
    let binding = serde_json::to_value(cluster_info_role_binding()).unwrap();
    let (result, bodies) = tokio::join!(
        api::setup_cluster_info(&client, "https://10.0.0.10:6443", &ca),
        async {
            let mut bodies = Vec::new();
            for (path, response) in [
                (
                    "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                    cm.clone(),
                ),
                (
                    "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles/kubeadm:bootstrap-signer-clusterinfo",
                    role.clone(),
                ),
                (
                    "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings/kubeadm:bootstrap-signer-clusterinfo",
                    binding.clone(),
                ),
            ] {
                bodies.push(
                    serve(
                        &mut handle,
                        Expect {
                            method: Method::PATCH,
                            path,
                            query: APPLY_QUERY,
                            content_type: Some(APPLY),
                            status: 200,
                            response,
                        },
                    )
                    .await,
                );
            }
            bodies
        }
    );
    result.unwrap();
    assert_eq!(bodies, [cm.clone(), role, binding.clone()]);
    // The applied kubeconfig is byte for byte the vector's (what the JWS covers).
    assert_eq!(cm["data"]["kubeconfig"], KUBECONFIG);
    assert_eq!(
        cm["metadata"],
        json!({"name": "cluster-info", "namespace": "kube-public"})
    );
    assert_eq!(
        binding["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "system:anonymous"}])
    );
    assert_eq!(
        bodies[1]["rules"],
        json!([{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["cluster-info"], "verbs": ["get"]}])
    );
}

#[tokio::test]
async fn setup_node_bootstrap_rbac_applies_get_nodes_and_three_bindings() {
    let (client, mut handle) = mock();
    let want = node_bootstrap_cluster_role_bindings().map(|b| serde_json::to_value(b).unwrap());
    let (result, (get_nodes, bodies)) = tokio::join!(api::setup_node_bootstrap_rbac(&client), async {
        // kubeadm:get-nodes first: the ClusterRole, then its binding.
        let mut get_nodes = Vec::new();
        for kind in ["clusterroles", "clusterrolebindings"] {
            let path = format!("/apis/rbac.authorization.k8s.io/v1/{kind}/kubeadm:get-nodes");
            get_nodes.push(
                serve(
                    &mut handle,
                    Expect {
                        method: Method::PATCH,
                        path: &path,
                        query: APPLY_QUERY,
                        content_type: Some(APPLY),
                        status: 200,
                        response: json!({"metadata": {"name": "kubeadm:get-nodes"}}),
                    },
                )
                .await,
            );
        }
        let mut bodies = Vec::new();
        for (name, response) in [
            ("kubeadm:kubelet-bootstrap", &want[0]),
            ("kubeadm:node-autoapprove-bootstrap", &want[1]),
            ("kubeadm:node-autoapprove-certificate-rotation", &want[2]),
        ] {
            let path = format!("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}");
            bodies.push(
                serve(
                    &mut handle,
                    Expect {
                        method: Method::PATCH,
                        path: &path,
                        query: APPLY_QUERY,
                        content_type: Some(APPLY),
                        status: 200,
                        response: response.clone(),
                    },
                )
                .await,
            );
        }
        (get_nodes, bodies)
    });
    result.unwrap();
    assert_eq!(get_nodes[0]["kind"], "ClusterRole");
    assert_eq!(
        get_nodes[0]["rules"],
        json!([{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}])
    );
    assert_eq!(get_nodes[1]["roleRef"]["name"], "kubeadm:get-nodes");
    assert_eq!(
        get_nodes[1]["subjects"],
        json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}])
    );
    assert_eq!(bodies, want);
    let summary: Vec<(String, String, String)> = bodies
        .iter()
        .map(|b| {
            (
                b["metadata"]["name"].as_str().unwrap().to_owned(),
                b["roleRef"]["name"].as_str().unwrap().to_owned(),
                b["subjects"][0]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        (
            "kubeadm:kubelet-bootstrap",
            "system:node-bootstrapper",
            "system:bootstrappers:kubeadm:default-node-token",
        ),
        (
            "kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            "system:bootstrappers:kubeadm:default-node-token",
        ),
        (
            "kubeadm:node-autoapprove-certificate-rotation",
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            "system:nodes",
        ),
    ];
    for ((name, role, group), (n, r, g)) in summary.iter().zip(expected) {
        assert_eq!((name.as_str(), role.as_str(), group.as_str()), (n, r, g));
    }
    assert!(bodies.iter().all(|b| b["subjects"][0]["kind"] == "Group"));
    assert!(
        bodies
            .iter()
            .all(|b| b["apiVersion"] == "rbac.authorization.k8s.io/v1")
    );
}

#[tokio::test]
async fn hardening_turns_off_auto_approval() {
    let (client, mut handle) = mock();
    let path = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:node-autoapprove-bootstrap";
    let (done, _) = tokio::join!(api::disable_node_client_auto_approval(&client), async {
        serve(
            &mut handle,
            Expect {
                method: Method::DELETE,
                path,
                query: &[],
                content_type: None,
                status: 200,
                response: success(),
            },
        )
        .await
    });
    assert!(done.unwrap());
    let (again, _) = tokio::join!(api::disable_node_client_auto_approval(&client), async {
        serve(
            &mut handle,
            Expect {
                method: Method::DELETE,
                path,
                query: &[],
                content_type: None,
                status: 404,
                response: status(404, "NotFound", "not found"),
            },
        )
        .await
    });
    assert!(!again.unwrap());
}

#[tokio::test]
async fn hardening_saves_cluster_info_then_removes_public_access() {
    let (client, mut handle) = mock();
    let cm: Value = serde_json::from_str(CONFIGMAP_VECTOR).unwrap();
    let (saved, _) = tokio::join!(api::disable_cluster_info_public_access(&client), async {
        serve(
            &mut handle,
            Expect {
                method: Method::GET,
                path: "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                query: &[],
                content_type: None,
                status: 200,
                response: cm,
            },
        )
        .await;
        serve(
            &mut handle,
            Expect {
                method: Method::DELETE,
                path: "/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/rolebindings/kubeadm:bootstrap-signer-clusterinfo",
                query: &[],
                content_type: None,
                status: 404,
                response: status(404, "NotFound", "already gone"),
            },
        )
        .await
    });
    assert_eq!(saved.unwrap(), KUBECONFIG);

    // No cluster-info: nothing is deleted, the caller learns why.
    let (missing, _) = tokio::join!(api::disable_cluster_info_public_access(&client), async {
        serve(
            &mut handle,
            Expect {
                method: Method::GET,
                path: "/api/v1/namespaces/kube-public/configmaps/cluster-info",
                query: &[],
                content_type: None,
                status: 404,
                response: status(404, "NotFound", "not found"),
            },
        )
        .await
    });
    assert!(matches!(missing, Err(Error::ClusterInfoNotFound)));
}
