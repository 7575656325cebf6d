//! No error echoes a secret: kubeconfigs with a token and a private key on and around the
//! failing line (YAML syntax, wrong types, bad base64, bad PEM, control characters, duplicate
//! names) fail with errors whose Display, causes and Debug hold neither.
//!
//! The files are `testdata/kubeconfig-view/secret-errors/`; the cli tests run the same files
//! through `kubetrust kubeconfig view`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use kubetrust_kubeconfig::Config;

const TOKEN: &str = "abcdef.0123456789abcdef";

fn secret_errors() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kubeconfig-view/secret-errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "{files:?}");
    files
}

/// Pieces of the secrets in the fixtures: the token, its secret half, and slices of the key
/// as base64 (in the file) and as PEM body (once decoded).
fn secrets() -> Vec<String> {
    let admin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kubeconfig/admin.conf"),
    )
    .unwrap();
    let key_base64 = admin
        .lines()
        .find_map(|line| line.trim().strip_prefix("client-key-data: "))
        .unwrap();
    let key_pem = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(key_base64)
            .unwrap(),
    )
    .unwrap();
    let body_line = key_pem.lines().nth(1).unwrap();
    vec![
        TOKEN.to_owned(),
        "0123456789abcdef".to_owned(),
        key_base64[..24].to_owned(),
        key_base64[400..424].to_owned(),
        body_line[..24].to_owned(),
        body_line[24..48].to_owned(),
    ]
}

/// Everything an error shows: its Display, each cause's, and its Debug.
fn everything_shown(error: &(dyn std::error::Error + 'static)) -> String {
    let mut shown = format!("{error}\n{error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        shown.push_str(&format!("\n{cause}\n{cause:?}"));
        source = cause.source();
    }
    shown
}

#[test]
fn no_error_echoes_a_token_or_a_key() {
    let secrets = secrets();
    for path in secret_errors() {
        // Parse errors stop at loading; bad PEM is found when the context is resolved.
        let error = Config::from_file(&path)
            .and_then(|config| config.resolve(None).map(drop))
            .expect_err(&format!("{} must fail", path.display()));
        let shown = everything_shown(&error);
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "{}: the error shows {secret:?}:\n{shown}",
                path.display()
            );
        }
    }
}

#[test]
fn the_same_documents_fail_from_bytes_too() {
    let secrets = secrets();
    for path in secret_errors() {
        let bytes = std::fs::read(&path).unwrap();
        let Err(error) = Config::from_bytes(&bytes).and_then(|config| config.resolve(None).map(drop)) else {
            panic!("{} must fail", path.display())
        };
        let shown = everything_shown(&error);
        assert!(
            !secrets.iter().any(|secret| shown.contains(secret.as_str())),
            "{}:\n{shown}",
            path.display()
        );
    }
}
