//! `kubetrust token generate`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use assert_cmd::Command;

fn generate() -> String {
    let out = Command::cargo_bin("kubetrust")
        .unwrap()
        .args(["token", "generate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn generate_prints_one_valid_token_line() {
    let out = generate();
    let line = out.strip_suffix('\n').expect("one line");
    assert!(!line.contains('\n'));
    let (id, secret) = line.split_once('.').unwrap();
    assert_eq!(id.len(), 6);
    assert_eq!(secret.len(), 16);
    assert!(
        line.bytes()
            .all(|b| b == b'.' || b.is_ascii_digit() || b.is_ascii_lowercase())
    );
    assert!(line.parse::<kubetrust::bootstrap_token::BootstrapToken>().is_ok());
    assert_ne!(generate(), out, "tokens are random");
}

#[test]
fn generate_takes_no_arguments() {
    let out = Command::cargo_bin("kubetrust")
        .unwrap()
        .args(["token", "generate", "extra"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
