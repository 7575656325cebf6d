//! `kubetrust discovery validate`: JSON and YAML ConfigMaps, trusted and rejected.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const RSA_PIN: &str = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
const EC_PIN: &str = "sha256:3bde94802604dbbc010577681bc8aa9a80b2ce45f6685a3492765807ae02bf4f";

fn vector() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/discovery/cluster-info-configmap.json")
}

fn run(args: &[&str]) -> Output {
    Command::cargo_bin("kubetrust")
        .unwrap()
        .args(["discovery", "validate"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn trusted_json_configmap_prints_server_and_pins() {
    let file = vector();
    let out = run(&[
        "--cluster-info",
        file.to_str().unwrap(),
        "--token",
        TOKEN,
        "--discovery-token-ca-cert-hash",
        RSA_PIN,
        "-o",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["server"], "https://10.0.0.10:6443");
    assert_eq!(value["caCertHashes"], serde_json::json!([RSA_PIN]));
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("x2m5p8r1t4w7z0c3"),
        "the secret is never printed"
    );
}

#[test]
fn yaml_as_kubectl_prints_it_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let cm: serde_json::Value = serde_json::from_slice(&std::fs::read(vector()).unwrap()).unwrap();
    let yaml = serde_saphyr::to_string(&cm).unwrap();
    let file = dir.path().join("cluster-info.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = run(&[
        "--cluster-info",
        file.to_str().unwrap(),
        "--token",
        TOKEN,
        "--discovery-token-ca-cert-hash",
        &format!("{EC_PIN},{RSA_PIN}"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("server: https://10.0.0.10:6443\nca-cert-hash: {RSA_PIN}\n")
    );
}

#[test]
fn rejections_exit_1_naming_the_check() {
    let file = vector();
    let file = file.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--token", TOKEN, "--discovery-token-ca-cert-hash", EC_PIN],
            "none of the public keys",
        ),
        (
            &[
                "--token",
                "abcdef.0123456789abcdef",
                "--discovery-token-ca-cert-hash",
                RSA_PIN,
            ],
            "token id \"abcdef\" is invalid for this cluster",
        ),
        (
            &[
                "--token",
                "7h3k9q.0000000000000000",
                "--discovery-token-ca-cert-hash",
                RSA_PIN,
            ],
            "error: couldn't validate the identity of the API Server: failed to verify JWS signature",
        ),
        (&["--token", TOKEN], "without caCertHashes can be unsafe"),
        (
            &["--token", TOKEN, "--discovery-token-ca-cert-hash", "sha256:00"],
            "invalid discovery token CA certificate hash",
        ),
    ];
    for (args, want) in cases {
        let mut full = vec!["--cluster-info", file];
        full.extend(args);
        let out = run(&full);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = run(&[
        "--cluster-info",
        file,
        "--token",
        TOKEN,
        "--discovery-token-unsafe-skip-ca-verification",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("WARNING: no CA pins")
    );
    let out = run(&[
        "--cluster-info",
        "/nonexistent",
        "--token",
        TOKEN,
        "--discovery-token-unsafe-skip-ca-verification",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        run(&["--token", TOKEN]).status.code(),
        Some(2),
        "missing --cluster-info is syntax"
    );
}
