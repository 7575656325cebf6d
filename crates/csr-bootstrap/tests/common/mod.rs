//! A scripted apiserver for tower-test mocks of `kube::Client`: each step checks one request's
//! method, path and query and answers it; shared by the client and bootstrap tests.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code,
    unreachable_pub
)]

use std::time::Duration;

use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{Value, json};

pub type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

pub const CSRS: &str = "/apis/certificates.k8s.io/v1/certificatesigningrequests";

/// A mocked client and the handle its requests arrive on.
pub fn mock() -> (kube::Client, Handle) {
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (kube::Client::new(service, "default"), handle)
}

/// A CSR object as the server returns it (kubelet client signer, ECDSA usages).
pub fn csr_json(
    name: &str,
    request_pem: &str,
    uid: &str,
    rv: &str,
    conditions: &[(&str, &str, &str)],
    certificate: Option<&str>,
) -> Value {
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let mut status = json!({});
    if !conditions.is_empty() {
        status["conditions"] = conditions
            .iter()
            .map(|(t, r, m)| json!({"type": t, "status": "True", "reason": r, "message": m}))
            .collect();
    }
    if let Some(c) = certificate {
        status["certificate"] = json!(b64(c));
    }
    json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": name, "uid": uid, "resourceVersion": rv},
        "spec": {
            "request": b64(request_pem),
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"],
            "username": "system:bootstrap:abcdef", "groups": ["system:bootstrappers"]
        },
        "status": status
    })
}

/// A list of CSRs at `rv`.
pub fn csr_list(rv: &str, items: Vec<Value>) -> Value {
    json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequestList",
           "metadata": {"resourceVersion": rv}, "items": items})
}

pub const APPROVED: (&str, &str, &str) = (
    "Approved",
    "AutoApproved",
    "Auto approving kubelet client certificate after SubjectAccessReview.",
);

pub fn event(kind: &str, object: Value) -> String {
    format!("{}\n", json!({"type": kind, "object": object}))
}

pub fn status(code: u16, reason: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
           "message": format!("{reason} ({code})"), "reason": reason, "code": code})
}

/// One scripted exchange.
pub enum Step {
    /// Expect `method` on `path` with these query pairs (a subset), answer `status` + `body`.
    Reply {
        method: Method,
        path: String,
        query: Vec<(&'static str, String)>,
        status: u16,
        body: String,
    },
    /// Expect a POST of a CSR whose JSON has these values at these JSON pointers; answer.
    Posted {
        expect: Vec<(&'static str, Value)>,
        status: u16,
        body: String,
    },
    /// Take the request and never answer (until the test is over).
    Hang,
}

pub fn post(status: u16, body: &Value) -> Step {
    Step::Reply {
        method: Method::POST,
        path: CSRS.into(),
        query: vec![],
        status,
        body: body.to_string(),
    }
}

pub fn get(name: &str, status: u16, body: &Value) -> Step {
    Step::Reply {
        method: Method::GET,
        path: format!("{CSRS}/{name}"),
        query: vec![],
        status,
        body: body.to_string(),
    }
}

pub fn list(name: &str, body: &Value) -> Step {
    Step::Reply {
        method: Method::GET,
        path: CSRS.into(),
        query: vec![("fieldSelector", format!("metadata.name={name}"))],
        status: 200,
        body: body.to_string(),
    }
}

pub fn watch(name: &str, from: &str, status: u16, body: String) -> Step {
    Step::Reply {
        method: Method::GET,
        path: CSRS.into(),
        query: vec![
            ("fieldSelector", format!("metadata.name={name}")),
            ("watch", "true".into()),
            ("resourceVersion", from.into()),
        ],
        status,
        body,
    }
}

pub fn query(request: &Request<Body>) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let mut out = Vec::new();
        let mut bytes = s.bytes();
        while let Some(b) = bytes.next() {
            out.push(match b {
                b'%' => {
                    let hex = [bytes.next().unwrap(), bytes.next().unwrap()];
                    u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap()
                }
                b'+' => b' ',
                b => b,
            });
        }
        String::from_utf8(out).unwrap()
    };
    request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub async fn serve(mut handle: Handle, script: Vec<Step>) {
    let mut held = Vec::new();
    for (i, step) in script.into_iter().enumerate() {
        let (request, send) = handle
            .next_request()
            .await
            .unwrap_or_else(|| panic!("step {i}: no request"));
        match step {
            Step::Hang => held.push(send),
            Step::Posted { expect, status, body } => {
                assert_eq!(request.method(), Method::POST, "step {i}: {}", request.uri());
                assert_eq!(request.uri().path(), CSRS, "step {i}");
                let sent: Value =
                    serde_json::from_slice(&request.into_body().collect_bytes().await.unwrap()).unwrap();
                for (pointer, want) in &expect {
                    assert_eq!(sent.pointer(pointer), Some(want), "step {i}: {pointer} in {sent}");
                }
                send.send_response(
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Body::from(body.into_bytes()))
                        .unwrap(),
                );
            }
            Step::Reply {
                method,
                path,
                query: want,
                status,
                body,
            } => {
                assert_eq!(request.method(), method, "step {i}: {}", request.uri());
                assert_eq!(request.uri().path(), path, "step {i}");
                let got = query(&request);
                for (k, v) in &want {
                    assert!(
                        got.iter().any(|(gk, gv)| gk == k && gv == v),
                        "step {i}: {k}={v} not in {got:?}"
                    );
                }
                if want.iter().all(|(k, _)| *k != "watch") {
                    assert!(
                        got.iter().all(|(k, _)| k != "watch"),
                        "step {i}: unexpected watch"
                    );
                }
                send.send_response(
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .body(Body::from(body.into_bytes()))
                        .unwrap(),
                );
            }
        }
    }
    // Keep hung requests open until the client has given up.
    tokio::time::sleep(Duration::from_millis(400)).await;
    drop(held);
}
