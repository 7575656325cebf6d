//! `kubetrust kubeconfig view`: output, flags, exit codes.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use assert_cmd::Command;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kubeconfig")
        .join(name)
}

fn kubetrust() -> Command {
    let mut cmd = Command::cargo_bin("kubetrust").unwrap();
    cmd.env_remove("KUBECONFIG");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn view_redacts_secrets_like_kubectl() {
    let out = stdout_of(
        kubetrust()
            .args(["kubeconfig", "view", "--kubeconfig"])
            .arg(testdata("full-schema-example.conf")),
    );
    assert_eq!(
        out,
        std::fs::read_to_string(testdata("full-schema-view.yaml")).unwrap()
    );
}

#[test]
fn raw_shows_data_and_json_is_parseable() {
    let out = stdout_of(
        kubetrust()
            .args(["kubeconfig", "view", "--raw", "-o", "json", "--kubeconfig"])
            .arg(testdata("bootstrap-kubelet.conf")),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["users"][0]["user"]["token"], "abcdef.0123456789abcdef");
    assert!(
        json["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap()
            .starts_with("LS0tLS1CRUdJTi")
    );
}

#[test]
fn minify_with_context_and_kubeconfig_env_list() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    std::fs::write(&first, "current-context: lab\n").unwrap();
    let list = std::env::join_paths([first, testdata("rich.yaml")]).unwrap();
    let out = stdout_of(
        kubetrust()
            .args(["kubeconfig", "view", "--minify", "-o", "json"])
            .env("KUBECONFIG", list),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["current-context"], "lab",
        "the first file's current-context wins"
    );
    assert_eq!(json["contexts"].as_array().unwrap().len(), 1);
    assert_eq!(json["users"][0]["user"]["token"], "REDACTED");

    let out = stdout_of(
        kubetrust()
            .args([
                "kubeconfig",
                "view",
                "--minify",
                "--context",
                "files",
                "--kubeconfig",
            ])
            .arg(testdata("rich.yaml")),
    );
    assert!(out.contains("current-context: files\n"), "{out}");
}

#[test]
fn a_missing_file_shows_an_empty_config_with_a_warning() {
    let out = kubetrust()
        .args(["kubeconfig", "view", "--kubeconfig", "/nonexistent/config"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: kubeconfig not found"));
}

#[test]
fn bad_input_exits_1_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "users: [{name: u, user: {client-key-data: 'ab!c'}}]\n").unwrap();
    let out = kubetrust()
        .args(["kubeconfig", "view", "--kubeconfig"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("users[0].user.client-key-data") && stderr.contains("bad.conf"),
        "{stderr}"
    );

    let out = kubetrust()
        .args([
            "kubeconfig",
            "view",
            "--minify",
            "--context",
            "nope",
            "--kubeconfig",
        ])
        .arg(testdata("rich.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("context \"nope\" not found"));

    let out = kubetrust()
        .args(["kubeconfig", "view", "--kubeconfig"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
}

#[test]
fn usage_errors_exit_2() {
    let out = kubetrust()
        .args(["kubeconfig", "view", "-o", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = kubetrust().args(["kubeconfig", "frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
