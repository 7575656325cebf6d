//! kubectl's captured protobuf bodies decode to the JSON decoded beside them.
// Helpers outside #[test] functions fail the test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine;
use serde_json::Value;

/// The captured JSON without the empty strings gogo-proto emits (the decoder treats them as
/// unset) and without the capture's own bookkeeping.
fn expected(name: &str) -> Value {
    let path = format!(
        "{}/../../testdata/kubectl/protobuf-vectors/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let capture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut object = capture["decoded"]["object"].clone();
    prune(&mut object);
    object
}

fn prune(value: &mut Value) {
    if let Value::Object(map) = value {
        map.retain(|_, v| v.as_str() != Some(""));
        map.values_mut().for_each(prune);
    }
}

fn decode(name: &str) -> Value {
    let path = format!(
        "{}/../../testdata/kubectl/protobuf-vectors/{name}.b64",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let body = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .unwrap();
    kubetrust_testcp::api::protobuf::decode(&body).unwrap()
}

#[test]
fn every_captured_body_decodes_to_its_json() {
    for name in [
        "csr-approve-put-approval",
        "csr-deny-put-approval",
        "secret-create-generic",
        "configmap-create",
        "clusterrolebinding-create",
        "rolebinding-create",
        "selfsubjectaccessreview-create",
    ] {
        assert_eq!(decode(name), expected(name), "{name}");
    }
}

#[test]
fn bodies_without_the_magic_or_truncated_are_bad_requests() {
    assert_eq!(
        kubetrust_testcp::api::protobuf::decode(b"{}").unwrap_err().code,
        400
    );
    assert_eq!(
        kubetrust_testcp::api::protobuf::decode(b"k8s\0\x0a\xff")
            .unwrap_err()
            .code,
        400
    );
}
