//! testcp's request pipeline (`Api::handle`: authentication, impersonation, RBAC, routing,
//! handlers, watch streams) on arbitrary HTTP requests, without TLS or sockets: every request
//! is answered below 500, every answer ends, and every JSON answer is JSON.
//!
//! Input: one identity byte, then an HTTP/1.1-style request as text: `METHOD TARGET` on the
//! first line, `Name: value` header lines (Content-Type, Accept, Authorization,
//! Impersonate-User, Impersonate-Group, ...), an empty line, and the raw body (JSON, YAML,
//! protobuf). Identity (low two bits): 0 anonymous, 1 the admin's client certificate, 2 a
//! node's client certificate, 3 a certificate from a foreign CA. A request that hyper would
//! refuse to parse (bad method, target or header) is skipped.
//!
//! The state is built once, as a started control plane has it: the default RBAC policy and
//! namespaces, kubeadm's bootstrap bindings, cluster-info, the bootstrap token
//! `abcdef.0123456789abcdef`, and CSRs (pending, approved, issued). Each input runs on a fresh
//! copy of it, on a current-thread runtime; watches end after their initial events because the
//! server counts as stopping. `fuzz/make_testcp_router_seeds.py` turns the kubectl protobuf
//! and CSR vectors into seeds of this form.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, Uri, header};
use http_body_util::BodyExt;
use kubetrust_pki::{CertProfile, Certificate, CertificateAuthority, KeyAlgorithm, Subject};
use kubetrust_testcp::api::{Api, ApiBody, ApiRequest, Outcome, Query, request_info};
use kubetrust_testcp::clock::Clock;
use kubetrust_testcp::faults::Faults;
use kubetrust_testcp::store::{ObjectKey, Resource, Store};
use kubetrust_testcp::{control_plane, rbac};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Most headers read from one input.
const MAX_HEADERS: usize = 16;
/// Most response bytes read; a longer answer is cut there (it still has to end in time).
const MAX_RESPONSE: usize = 1 << 20;
/// How long an answer may take to end (watches end at once: the server is stopping).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// The state every input starts from, and the client certificates it can present.
struct Fixture {
    objects: Vec<(ObjectKey, Value)>,
    revision: u64,
    client_ca: Vec<Certificate>,
    /// DER chains by identity: anonymous (empty), admin, node, foreign.
    chains: [Vec<Vec<u8>>; 4],
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime")
}

fn api(store: Store, client_ca: Vec<Certificate>) -> Api {
    Api {
        store,
        client_ca,
        faults: Faults::default(),
        // The sender is gone: watches send what they have and end.
        stopping: tokio::sync::watch::channel(true).1,
    }
}

fn client_chain(ca: &CertificateAuthority, subject: Subject, now: SystemTime) -> Vec<Vec<u8>> {
    let (cert, _key) = ca
        .issue_with_new_key(&CertProfile::client(subject, now), KeyAlgorithm::EcdsaP256)
        .expect("issuing a client certificate");
    vec![cert.der().to_vec()]
}

/// What kube-apiserver creates itself: the default RBAC policy, the namespaces, and the
/// binding that makes kubeadm's admin group an admin.
fn apiserver_state(store: &Store) {
    let mut objects = rbac::bootstrap_policy();
    for name in ["kube-system", "kube-public", "default", "kube-node-lease"] {
        let namespace = json!({"metadata": {"name": name}, "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        objects.push((Resource::new("", "namespaces"), namespace));
    }
    objects.push((
        Resource::new("rbac.authorization.k8s.io", "clusterrolebindings"),
        json!({
            "metadata": {"name": control_plane::ADMIN_GROUP},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": control_plane::ADMIN_GROUP}],
        }),
    ));
    for (resource, mut object) in objects {
        let served = kubetrust_testcp::api::resources::find(&resource.group, "v1", &resource.resource)
            .expect("a served resource");
        object["kind"] = json!(served.kind);
        object["apiVersion"] = json!(served.api_version());
        store
            .create(&resource, "", object)
            .expect("creating the apiserver's state");
    }
}

fn binding(name: &str, role: &str, group: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    })
}

/// What `kubeadm init` and a first join leave, written as the admin through the API.
fn kubeadm_state(api: &Api, admin: &[Vec<u8>]) {
    let csr: Value = serde_json::from_slice(include_bytes!("../../testdata/csr/01-create-request.json"))
        .expect("the CSR vector is JSON");
    let request = csr["spec"]["request"].clone();
    let csr_named = |name: &str| {
        json!({
            "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": {"request": request, "signerName": "kubernetes.io/kube-apiserver-client-kubelet", "usages": ["digital signature", "client auth"]},
        })
    };
    let crbs = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings";
    let csrs = "/apis/certificates.k8s.io/v1/certificatesigningrequests";
    let bootstrappers = "system:bootstrappers:kubeadm:default-node-token";
    let approve = json!({"status": {"conditions": [{"type": "Approved", "status": "True", "reason": "KubectlApprove", "message": "approved"}]}});
    let writes = [
        (
            "POST",
            crbs.to_owned(),
            binding(
                "kubeadm:kubelet-bootstrap",
                "system:node-bootstrapper",
                bootstrappers,
            ),
        ),
        (
            "POST",
            crbs.to_owned(),
            binding(
                "kubeadm:node-autoapprove-bootstrap",
                "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
                bootstrappers,
            ),
        ),
        (
            "POST",
            crbs.to_owned(),
            binding(
                "kubeadm:node-autoapprove-certificate-rotation",
                "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
                "system:nodes",
            ),
        ),
        (
            "POST",
            "/api/v1/namespaces/kube-public/configmaps".to_owned(),
            json!({
                "metadata": {"name": "cluster-info"},
                "data": {"kubeconfig": "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: \"\"\n"},
            }),
        ),
        (
            "POST",
            "/api/v1/namespaces/kube-system/secrets".to_owned(),
            json!({
                "metadata": {"name": "bootstrap-token-abcdef"},
                "type": "bootstrap.kubernetes.io/token",
                "stringData": {
                    "token-id": "abcdef", "token-secret": "0123456789abcdef", "expiration": "2999-01-01T00:00:00Z",
                    "usage-bootstrap-authentication": "true", "usage-bootstrap-signing": "true",
                    "auth-extra-groups": bootstrappers,
                },
            }),
        ),
        (
            "POST",
            csrs.to_owned(),
            csr_named("node-csr-7nvIpW5ygEf1XYUTfWWENlU0qCudErkPqx6IBgyFHWE"),
        ),
        ("POST", csrs.to_owned(), csr_named("csr-abc12")),
        ("POST", csrs.to_owned(), csr_named("csr-def34")),
        ("POST", csrs.to_owned(), csr_named("csr-approved")),
        ("PATCH", format!("{csrs}/csr-approved/approval"), approve),
    ];
    let runtime = runtime();
    for (method, path, body) in writes {
        let mut headers = HeaderMap::new();
        let content_type = if method == "PATCH" {
            "application/merge-patch+json"
        } else {
            "application/json"
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        let request = ApiRequest {
            method: method.parse().expect("a method"),
            uri: path.parse().expect("a path"),
            headers,
            body: Ok(Bytes::from(body.to_string())),
            client_chain: admin.to_vec(),
        };
        let Outcome::Respond(response) = runtime.block_on(api.handle(request)) else {
            panic!("{method} {path}: dropped without a fault");
        };
        let status = response.status();
        let answer = runtime.block_on(read_body(response));
        assert!(
            status.is_success(),
            "{method} {path}: {status} {}",
            String::from_utf8_lossy(&answer)
        );
    }
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let now = SystemTime::now();
        let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).expect("a CA");
        let foreign =
            CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).expect("a CA");
        let admin = client_chain(
            &ca,
            Subject::new(control_plane::ADMIN_USER).with_organization(control_plane::ADMIN_GROUP),
            now,
        );
        let node = client_chain(
            &ca,
            Subject::new("system:node:worker-1").with_organization("system:nodes"),
            now,
        );
        let stranger = client_chain(
            &foreign,
            Subject::new("intruder").with_organization("system:masters"),
            now,
        );
        let store = Store::new(Clock::default());
        apiserver_state(&store);
        kubeadm_state(&api(store.clone(), ca.bundle().to_vec()), &admin);
        let (objects, revision) = store.snapshot();
        Fixture {
            objects: objects.into_iter().map(|(k, v)| (k, (*v).clone())).collect(),
            revision,
            client_ca: ca.bundle().to_vec(),
            chains: [Vec::new(), admin, node, stranger],
        }
    })
}

/// The request in `text`, or `None` where hyper would have refused it.
fn parse_request(text: &[u8]) -> Option<(Method, Uri, HeaderMap, Bytes)> {
    let mut rest = text;
    let mut next_line = || {
        let end = rest.iter().position(|b| *b == b'\n')?;
        let (line, tail) = rest.split_at(end);
        rest = &tail[1..];
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    };
    let request_line = next_line()?;
    let space = request_line.iter().position(|b| *b == b' ')?;
    let method = Method::from_bytes(&request_line[..space]).ok()?;
    let uri = Uri::try_from(&request_line[space + 1..]).ok()?;
    let mut headers = HeaderMap::new();
    loop {
        let line = next_line()?;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|b| *b == b':')?;
        let name = HeaderName::from_bytes(&line[..colon]).ok()?;
        let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii()).ok()?;
        if headers.len() >= MAX_HEADERS {
            return None;
        }
        headers.append(name, value);
    }
    Some((method, uri, headers, Bytes::copy_from_slice(rest)))
}

/// Reads the body to its end (at most `MAX_RESPONSE` bytes).
async fn read_body(response: Response<ApiBody>) -> Vec<u8> {
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    // The body's error type is `Infallible`.
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
        if bytes.len() >= MAX_RESPONSE {
            break;
        }
    }
    bytes
}

fn check_answer(target: &str, status: http::StatusCode, content_type: &str, body: &[u8], watch: bool) {
    assert!(status.as_u16() < 500, "{target}: {status}");
    if !content_type.starts_with("application/json") || body.len() >= MAX_RESPONSE {
        return;
    }
    if watch && status.is_success() {
        for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let event: Value = serde_json::from_slice(line).expect("every watch event is JSON");
            assert!(
                event["type"].is_string(),
                "{target}: a watch event without a type"
            );
        }
        return;
    }
    let document: Value = serde_json::from_slice(body).expect("a JSON answer is JSON");
    if !status.is_success() {
        assert_eq!(
            document["kind"], "Status",
            "{target}: an error that is not a Status"
        );
        assert_eq!(
            document["code"],
            status.as_u16(),
            "{target}: the Status code is the HTTP one"
        );
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&identity, text)) = input.split_first() else {
        return;
    };
    let Some((method, uri, headers, body)) = parse_request(text) else {
        return;
    };
    let fixture = fixture();
    let store = Store::new(Clock::default());
    store.restore(fixture.objects.clone(), fixture.revision);
    let api = api(store, fixture.client_ca.clone());
    let target = uri.to_string();
    // `watch=true` makes a watch only of a resource collection (or a named object); discovery
    // and other non-resource paths ignore it, as kube-apiserver does.
    let watch =
        request_info::parse(&method, uri.path(), Query::parse(uri.query()).flag("watch")).verb == "watch";
    let request = ApiRequest {
        method,
        uri,
        headers,
        body: Ok(body),
        client_chain: fixture.chains[usize::from(identity & 3)].clone(),
    };
    runtime().block_on(async {
        let Outcome::Respond(response) = api.handle(request).await else {
            panic!("{target}: dropped without a fault");
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = tokio::time::timeout(ANSWER_TIMEOUT, read_body(response))
            .await
            .unwrap_or_else(|_| panic!("{target}: the answer did not end"));
        check_answer(&target, status, &content_type, &body, watch);
    });
});
