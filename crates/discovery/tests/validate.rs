//! `validate()` against the team's discovery vectors, one test per failed check, and
//! properties: any single-byte change to payload, signature or pin is rejected.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::api::core::v1::ConfigMap;
use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::{Error, PinSet, Trust, validate};
use kubetrust_kubeconfig::Config;
use proptest::prelude::*;
use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/discovery");
const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const RSA_PIN: &str = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
const EC_PIN: &str = "sha256:3bde94802604dbbc010577681bc8aa9a80b2ce45f6685a3492765807ae02bf4f";

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(VECTORS).join(name)).unwrap()
}

fn token() -> BootstrapToken {
    TOKEN.parse().unwrap()
}

fn pinned(pins: &[&str]) -> Trust {
    Trust::Pinned(PinSet::parse(pins).unwrap())
}

/// A cluster-info data map with `kubeconfig` signed by `token`.
fn signed(kubeconfig: &str, token: &BootstrapToken) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("kubeconfig".to_owned(), kubeconfig.to_owned()),
        (
            format!("jws-kubeconfig-{}", token.id().as_str()),
            token.sign_jws(kubeconfig.as_bytes()),
        ),
    ])
}

/// cluster-info's kubeconfig for `server` with `ca_pem` embedded, as kubeadm writes it.
fn kubeconfig_with_ca(ca_pem: &[u8]) -> String {
    Config::cluster_info("https://10.0.0.10:6443", ca_pem.to_vec())
        .to_yaml()
        .unwrap()
}

#[test]
fn the_configmap_vector_validates() {
    let cm: ConfigMap = serde_json::from_str(&read("cluster-info-configmap.json")).unwrap();
    let info = validate(&cm, &token(), &pinned(&[RSA_PIN])).unwrap();
    assert_eq!(info.server(), "https://10.0.0.10:6443");
    assert_eq!(info.ca_certificates().len(), 1);
    assert_eq!(info.ca_certificates()[0].pin.to_string(), RSA_PIN);
    assert_eq!(info.kubeconfig(), read("cluster-info-kubeconfig.txt"));
    assert!(info.was_pinned());
    let bootstrap = info.bootstrap_kubeconfig(&token());
    assert_eq!(bootstrap.current_context, "tls-bootstrap-token-user@kubernetes");
    assert_eq!(bootstrap.users[0].user.token.expose_secret(), TOKEN);
    assert_eq!(
        bootstrap.clusters[0].cluster.certificate_authority_data,
        info.ca_pem()
    );
}

#[test]
fn every_jws_vector_with_a_valid_token_decides_as_kubeadm() {
    let vectors: Value = serde_json::from_str(&read("jws-vectors.json")).unwrap();
    let mut checked = 0;
    for case in vectors["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let text = format!(
            "{}.{}",
            case["token_id"].as_str().unwrap(),
            case["token_secret"].as_str().unwrap()
        );
        // The upstream library vectors use secrets that are not bootstrap tokens; the
        // bootstrap-token crate's tests cover them.
        let Ok(token) = text.parse::<BootstrapToken>() else {
            continue;
        };
        let payload = match case.get("payload_file") {
            Some(file) => read(file.as_str().unwrap()),
            None => case["payload"].as_str().unwrap().to_owned(),
        };
        let data = BTreeMap::from([
            ("kubeconfig".to_owned(), payload),
            (
                format!("jws-kubeconfig-{}", token.id().as_str()),
                case["detached_jws"].as_str().unwrap().to_owned(),
            ),
        ]);
        let trust = if name.contains("dryrun") {
            pinned(&["sha256:3b793efefe27a19f93b0fbe6e637e9c41d0dde8a377d6ab1c0f656bf1136dd8a"])
        } else {
            pinned(&[RSA_PIN])
        };
        let result = validate(&data, &token, &trust);
        if case["kubeadm_valid"].as_bool().unwrap() {
            assert!(result.is_ok(), "{name}: {:?}", result.err());
        } else {
            assert!(
                matches!(result, Err(Error::InvalidSignature { .. })),
                "{name}: {result:?}"
            );
            // kubeadm's sentence once, then what differs.
            let text = result.unwrap_err().to_string();
            assert_eq!(text.matches("can't trust this API Server").count(), 1, "{text}");
            assert!(
                text.contains(&format!("token id {}", token.id().as_str())),
                "{text}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 14, "a-valid, b1-b12 and the upstream dry-run fixture");
}

#[test]
fn each_check_fails_with_its_own_error_in_kubeadm_order() {
    let token = token();
    let good = signed(&read("cluster-info-kubeconfig.txt"), &token);

    let mut no_kubeconfig = good.clone();
    no_kubeconfig.remove("kubeconfig");
    assert!(matches!(
        validate(&no_kubeconfig, &token, &pinned(&[RSA_PIN])),
        Err(Error::NoKubeconfig)
    ));

    let other: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
    let mut other_signed = signed(&read("cluster-info-kubeconfig.txt"), &other);
    let err = validate(&other_signed, &token, &pinned(&[RSA_PIN])).unwrap_err();
    assert!(err.is_retryable());
    assert!(
        matches!(&err, Error::NoSignatureForToken { token_id, signed_ids } if token_id == "7h3k9q" && signed_ids == &["abcdef"])
    );
    assert!(
        err.to_string().contains("it has signatures for token ids abcdef"),
        "{err}"
    );
    other_signed.insert("jws-kubeconfig-7h3k9q".into(), String::new());
    assert!(matches!(
        validate(&other_signed, &token, &pinned(&[RSA_PIN])),
        Err(Error::NoSignatureForToken { .. })
    ));

    let err = validate(&good, &token, &pinned(&[EC_PIN])).unwrap_err();
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        format!(
            "cluster CA found in cluster-info ConfigMap is invalid: none of the public keys \"{RSA_PIN}\" are pinned (expected one of {EC_PIN})"
        )
    );

    let two_clusters = format!(
        "{}clusters:\n- cluster:\n    server: https://a\n  name: a\n- cluster:\n    server: https://b\n  name: b\n",
        "apiVersion: v1\n"
    );
    assert!(matches!(
        validate(&signed(&two_clusters, &token), &token, &pinned(&[RSA_PIN])),
        Err(Error::ClusterCount { count: 2 })
    ));

    let no_ca = Config::cluster_info("https://10.0.0.10:6443", Vec::new())
        .to_yaml()
        .unwrap();
    let err = validate(&signed(&no_ca, &token), &token, &pinned(&[RSA_PIN])).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidCa { reason } if reason.contains("no certificate-authority-data")),
        "{err}"
    );

    let not_a_cert = kubeconfig_with_ca(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    let err = validate(&signed(&not_a_cert, &token), &token, &pinned(&[RSA_PIN])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to parse cluster CA from the cluster-info ConfigMap: data does not contain any valid RSA or ECDSA certificates"
    );

    let garbage = signed("clusters: [", &token);
    assert!(matches!(
        validate(&garbage, &token, &pinned(&[RSA_PIN])),
        Err(Error::MalformedKubeconfig { .. })
    ));
}

#[test]
fn a_bundle_passes_when_any_certificate_matches_any_pin() {
    let token = token();
    let bundle = std::fs::read(Path::new(VECTORS).join("ca-bundle.pem")).unwrap();
    let data = signed(&kubeconfig_with_ca(&bundle), &token);
    for pins in [
        &[RSA_PIN][..],
        &[EC_PIN],
        &[
            "sha256:3b793efefe27a19f93b0fbe6e637e9c41d0dde8a377d6ab1c0f656bf1136dd8a",
            RSA_PIN,
        ],
    ] {
        let info = validate(&data, &token, &pinned(pins)).unwrap();
        let got: Vec<String> = info.ca_certificates().iter().map(|c| c.pin.to_string()).collect();
        assert_eq!(got, [EC_PIN, RSA_PIN]);
    }
}

#[test]
fn no_pins_is_an_error_unless_the_skip_is_explicit() {
    let none: [&str; 0] = [];
    assert!(matches!(Trust::from_flags(none, false), Err(Error::NoPins)));
    assert!(matches!(PinSet::new([]), Err(Error::NoPins)));
    assert_eq!(
        Trust::from_flags(none, true).unwrap(),
        Trust::UnsafeSkipCaVerification
    );
    // Pins given with the skip flag are still enforced, as in kubeadm.
    let trust = Trust::from_flags([EC_PIN], true).unwrap();
    let data = signed(&read("cluster-info-kubeconfig.txt"), &token());
    assert!(matches!(
        validate(&data, &token(), &trust),
        Err(Error::PinMismatch { .. })
    ));
    let info = validate(&data, &token(), &Trust::UnsafeSkipCaVerification).unwrap();
    assert!(!info.was_pinned());
    let err = Trust::from_flags(["sha256:xyz"], true).unwrap_err().to_string();
    assert_eq!(
        err,
        "invalid discovery token CA certificate hash: invalid hash \"sha256:xyz\", expected a 32 byte SHA-256 hash, found 1 bytes"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_changed_payload_byte_is_rejected(at in 0usize..1651, with in any::<u8>()) {
        let payload = read("cluster-info-kubeconfig.txt");
        let mut data = signed(&payload, &token());
        let mut bytes = payload.into_bytes();
        prop_assume!(bytes[at] != with);
        bytes[at] = with;
        let Ok(changed) = String::from_utf8(bytes) else { return Ok(()) };
        data.insert("kubeconfig".into(), changed);
        let result = validate(&data, &token(), &pinned(&[RSA_PIN]));
        prop_assert!(matches!(result, Err(Error::InvalidSignature { .. })), "{:?}", result.err());
    }

    #[test]
    fn any_changed_signature_byte_is_rejected(at in 0usize..83, with in any::<u8>()) {
        let payload = read("cluster-info-kubeconfig.txt");
        let mut data = signed(&payload, &token());
        let key = "jws-kubeconfig-7h3k9q".to_owned();
        let mut bytes = data[&key].clone().into_bytes();
        prop_assume!(at < bytes.len() && bytes[at] != with);
        bytes[at] = with;
        let Ok(changed) = String::from_utf8(bytes) else { return Ok(()) };
        prop_assume!(!changed.is_empty());
        data.insert(key, changed);
        let result = validate(&data, &token(), &pinned(&[RSA_PIN]));
        prop_assert!(matches!(result, Err(Error::InvalidSignature { .. })), "{:?}", result.err());
    }

    #[test]
    fn any_changed_pin_digit_is_rejected(at in 7usize..71, digit in 0u32..16) {
        let mut pin: Vec<char> = RSA_PIN.chars().collect();
        let new = char::from_digit(digit, 16).unwrap();
        prop_assume!(pin[at] != new);
        pin[at] = new;
        let pin: String = pin.into_iter().collect();
        let data = signed(&read("cluster-info-kubeconfig.txt"), &token());
        let result = validate(&data, &token(), &pinned(&[&pin]));
        prop_assert!(matches!(result, Err(Error::PinMismatch { .. })), "{:?}", result.err());
    }
}
