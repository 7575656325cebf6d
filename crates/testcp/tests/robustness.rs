//! Arbitrary requests through the pipeline (no TLS): every one is answered with a `Status` or
//! a document, never a panic or a hang.
// Helpers outside #[test] functions fail the test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Uri};
use kubetrust_testcp::api::{Api, ApiRequest, Outcome};
use kubetrust_testcp::clock::Clock;
use kubetrust_testcp::faults::Faults;
use kubetrust_testcp::store::{Resource, Store};
use proptest::prelude::*;
use serde_json::json;

fn api() -> Api {
    let store = Store::new(Clock::default());
    let namespaces = Resource::new("", "namespaces");
    store
        .create(
            &namespaces,
            "",
            json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "default"}}),
        )
        .unwrap();
    Api {
        store,
        client_ca: Vec::new(),
        faults: Faults::default(),
        stopping: tokio::sync::watch::channel(true).1,
    }
}

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("api".to_owned()),
        Just("apis".to_owned()),
        Just("v1".to_owned()),
        Just("namespaces".to_owned()),
        Just("default".to_owned()),
        Just("secrets".to_owned()),
        Just("certificates.k8s.io".to_owned()),
        Just("certificatesigningrequests".to_owned()),
        Just("approval".to_owned()),
        Just("openapi".to_owned()),
        "[a-zA-Z0-9%:._-]{0,12}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("?watch=true&timeoutSeconds=0".to_owned()),
        Just("?watch=1&resourceVersion=0&timeoutSeconds=0".to_owned()),
        "\\?(labelSelector|fieldSelector|resourceVersion)=[a-z!=(), %.0-9]{0,16}",
    ]
}

fn content_type() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("application/json"),
        Just("application/vnd.kubernetes.protobuf"),
        Just("application/merge-patch+json"),
        Just("application/apply-patch+yaml"),
        Just("text/plain"),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        Just(br#"{"metadata":{"name":"x"}}"#.to_vec()),
        Just(
            br#"{"kind":"Secret","apiVersion":"v1","metadata":{"generateName":"a-"},"stringData":{"k":"v"}}"#
                .to_vec()
        ),
        Just(b"k8s\0\x0a\x04\x0a\x02v1".to_vec()),
        Just(br#"{"metadata":[]}"#.to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_request_is_answered(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PUT), Just(Method::PATCH), Just(Method::DELETE), Just(Method::OPTIONS)],
        segments in proptest::collection::vec(segment(), 0..8),
        query in query(),
        content_type in content_type(),
        body in body(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let path = format!("/{}{query}", segments.join("/"));
        let Ok(uri) = path.parse::<Uri>() else { return Ok(()) };
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        let request = ApiRequest { method, uri, headers, body: Ok(Bytes::from(body)), client_chain: Vec::new() };
        let answered = runtime.block_on(async {
            let Outcome::Respond(response) = api().handle(request).await else { panic!("no fault was set") };
            let status = response.status();
            let collected = tokio::time::timeout(Duration::from_secs(5), http_body_util::BodyExt::collect(response.into_body())).await;
            (status, collected.is_ok())
        });
        prop_assert!(answered.1, "the body of {path} ended");
        prop_assert!(answered.0.as_u16() < 500, "{path}: {}", answered.0);
    }
}
