//! `sha256:` pins against the team's vectors: parsing with kubeadm's exact error texts, and the
//! pin of every vector certificate (including two upstream ones with known pins).
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use kubetrust_pki::CaCertHash;
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/discovery");

fn json(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(Path::new(VECTORS).join(name)).unwrap()).unwrap()
}

#[test]
fn parsing_matches_kubeadm_case_by_case() {
    let vectors = json("pin-parse-vectors.json");
    let cases = vectors["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let input = case["input"].as_str().unwrap();
        match input.parse::<CaCertHash>() {
            Ok(pin) => {
                assert_eq!(case["accepted"], true, "{input:?} must be refused");
                assert_eq!(
                    pin.to_string(),
                    format!("sha256:{}", case["stored_as"].as_str().unwrap())
                );
            }
            Err(e) => {
                assert_eq!(case["accepted"], false, "{input:?} must be accepted: {e}");
                assert_eq!(e.to_string(), case["error"].as_str().unwrap(), "{input:?}");
            }
        }
    }
}

#[test]
fn pins_of_every_vector_certificate() {
    let pins = json("pins.json");
    let files = pins["files"].as_object().unwrap();
    assert_eq!(files.len(), 5);
    for (file, expected) in files {
        let pem = std::fs::read(Path::new(VECTORS).join(file)).unwrap();
        let ours: Vec<String> = CaCertHash::of_pem_bundle(&pem)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        let want: Vec<&str> = expected["pins_in_order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(ours, want, "{file}");
        if let Some(upstream) = expected.get("upstream_expected") {
            assert_eq!(ours[0], upstream.as_str().unwrap(), "{file}: upstream's own pin");
        }
    }
}
