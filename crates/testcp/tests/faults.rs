//! Injected faults, each seen from a client: dropped connections, 500 and 429 answers (also
//! per path prefix), watches closed after K events, and a restart that keeps the store.
// Helpers outside #[test] functions fail the test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use futures::StreamExt;
use http::{Request, StatusCode};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchParams};
use serde_json::json;
use support::get;

async fn send(client: &kube::Client, path: &str) -> Result<http::Response<kube::client::Body>, kube::Error> {
    let request = Request::get(path).body(kube::client::Body::empty()).unwrap();
    client.send(request).await
}

#[tokio::test]
async fn dropped_requests_get_no_answer_then_service_resumes() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    plane.faults().drop_next(2);
    assert!(send(&client, "/version").await.is_err(), "first dropped");
    assert!(send(&client, "/version").await.is_err(), "second dropped");
    assert_eq!(get(&client, "/version").await.0, StatusCode::OK);
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn errors_and_throttling_with_retry_after_only_under_a_prefix() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    plane.faults().only_paths(Some("/apis/certificates.k8s.io/"));
    plane.faults().fail_next(1);
    assert_eq!(
        get(&client, "/version").await.0,
        StatusCode::OK,
        "other paths are served"
    );
    let (status, body) = get(&client, "/apis/certificates.k8s.io/v1/certificatesigningrequests").await;
    assert_eq!(
        (status, &body["reason"]),
        (StatusCode::INTERNAL_SERVER_ERROR, &json!("InternalError"))
    );
    // kube's client retries a 429 after the Retry-After the server named.
    plane.faults().throttle_next(1, 1);
    let started = std::time::Instant::now();
    let (status, _) = get(&client, "/apis/certificates.k8s.io/v1/certificatesigningrequests").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "retried after {:?}",
        started.elapsed()
    );
    assert_eq!(
        plane.faults().verdict("/apis/certificates.k8s.io/"),
        kubetrust_testcp::faults::Verdict::Serve,
        "the throttle was used up"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn watches_close_after_k_events() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    for name in ["a", "b", "c"] {
        let map: ConfigMap = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        maps.create(&PostParams::default(), &map).await.unwrap();
    }
    plane.faults().close_watches_after(Some(2));
    let stream = maps
        .watch(&WatchParams::default().timeout(30), "0")
        .await
        .unwrap();
    let events: Vec<_> = tokio::time::timeout(Duration::from_secs(5), stream.collect::<Vec<_>>())
        .await
        .expect("the watch ends");
    assert_eq!(events.len(), 2, "{events:?}");
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn restart_keeps_the_store_and_the_port() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let map: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "kept"}})).unwrap();
    maps.create(&PostParams::default(), &map).await.unwrap();
    let watch = maps
        .watch(&WatchParams::default().timeout(60), "0")
        .await
        .unwrap();
    let url = plane.url();
    plane.restart().await.unwrap();
    assert_eq!(plane.url(), url);
    let events: Vec<_> = tokio::time::timeout(Duration::from_secs(10), watch.collect::<Vec<_>>())
        .await
        .expect("the restart ends open watches");
    assert_eq!(events.len(), 1, "only the initial ADDED: {events:?}");
    let client = plane.client().await.unwrap();
    let kept = Api::<ConfigMap>::namespaced(client, "default")
        .get("kept")
        .await
        .unwrap();
    assert_eq!(kept.metadata.name.as_deref(), Some("kept"));
    plane.shutdown().await.unwrap();
}
