//! Shared test helpers: a started control plane and raw HTTP requests through kube's client.
// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

pub(crate) mod kubectl;

use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use kubetrust_testcp::{Config, TestControlPlane};
use serde_json::Value;

/// A control plane with kubeadm's state, started fresh.
pub(crate) async fn start() -> TestControlPlane {
    TestControlPlane::start(Config::default())
        .await
        .expect("testcp starts")
}

/// One request with `kube::Client`'s transport; the status and the body (JSON, or a string).
pub(crate) async fn raw(
    client: &kube::Client,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        request = request.header(http::header::CONTENT_TYPE, content_type);
    }
    if let Some(accept) = accept {
        request = request.header(http::header::ACCEPT, accept);
    }
    let request = request.body(kube::client::Body::from(body)).unwrap();
    let response = tokio::time::timeout(std::time::Duration::from_secs(10), client.send(request))
        .await
        .expect("the server answers within 10 s")
        .expect("the request is answered");
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

/// `GET path` as JSON.
pub(crate) async fn get(client: &kube::Client, path: &str) -> (StatusCode, Value) {
    raw(
        client,
        Method::GET,
        path,
        None,
        Some("application/json"),
        Vec::new(),
    )
    .await
}
