//! `kubetrust testcp serve` as a child process: the URL line, the real kubectl, signals,
//! `--state-dir` restarts and `--no-auto-approve`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::os::unix::fs::PermissionsExt;

use support::{Server, fails, kubectl, ok, run_kubectl};

#[test]
fn serves_kubectl_and_stops_on_sigterm() {
    let mut server = Server::start();
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.url);
    assert!(
        server.url[18..].parse::<u16>().unwrap() > 0,
        "the real port, not 0"
    );
    let admin = server.path().join(server.kubeconfig());
    assert_eq!(
        std::fs::metadata(&admin).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The CA it serves with is the one created in --cert-dir.
    let (pin, _) = ok(
        &["certs", "ca-cert-hash", "--ca-cert", "pki/ca.crt"],
        server.path(),
    );
    let (join, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            server.kubeconfig(),
            "--print-join-command",
        ],
        server.path(),
    );
    assert!(join.contains(pin.trim_end()), "{join}");
    if let Some(kubectl) = kubectl() {
        let out = run_kubectl(&kubectl, &server, &["get", "--raw", "/version"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let version: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(version["major"], "1");
    }
    let status = server.stop("TERM");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn stops_on_sigint_and_uses_an_existing_ca() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        &[
            "certs",
            "init",
            "--cert-dir",
            "pki",
            "--node-name",
            "cp-1",
            "--advertise-address",
            "10.0.0.1",
            "--encryption-algorithm",
            "ECDSA-P256",
        ],
        dir.path(),
    );
    let before = std::fs::read(dir.path().join("pki/ca.crt")).unwrap();
    let mut server = Server::start_in(dir, &["--listen", "127.0.0.1:0"]);
    assert_eq!(std::fs::read(server.path().join("pki/ca.crt")).unwrap(), before);
    let (pin, _) = ok(
        &["certs", "ca-cert-hash", "--ca-cert", "pki/ca.crt"],
        server.path(),
    );
    let (join, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            server.kubeconfig(),
            "--print-join-command",
        ],
        server.path(),
    );
    assert!(join.contains(pin.trim_end()), "{join}");
    assert_eq!(server.stop("INT").code(), Some(0));
}

#[test]
fn a_restart_with_state_dir_keeps_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir, &["--listen", "127.0.0.1:0", "--state-dir", "state"]);
    let port = server.endpoint().rsplit(':').next().unwrap().to_owned();
    let (token, _) = ok(
        &["token", "create", "--kubeconfig", server.kubeconfig()],
        server.path(),
    );
    let dir = server.into_dir();
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_in(dir, &["--listen", &listen, "--state-dir", "state"]);
    let (table, _) = ok(
        &["token", "list", "--kubeconfig", server.kubeconfig()],
        server.path(),
    );
    assert!(table.lines().any(|l| l.starts_with(token.trim_end())), "{table}");
}

#[test]
fn no_auto_approve_removes_the_binding() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_in(dir, &["--listen", "127.0.0.1:0", "--no-auto-approve"]);
    let Some(kubectl) = kubectl() else { return };
    let binding = ["get", "clusterrolebinding"];
    let out = run_kubectl(&kubectl, &server, &binding);
    let names = String::from_utf8(out.stdout).unwrap();
    assert!(
        names.contains("kubeadm:node-autoapprove-certificate-rotation"),
        "{names}"
    );
    assert!(!names.contains("kubeadm:node-autoapprove-bootstrap"), "{names}");
}

#[test]
fn refuses_bad_flags_and_a_broken_ca() {
    let dir = tempfile::tempdir().unwrap();
    let serve = ["testcp", "serve", "--cert-dir", "pki", "--kubeconfig-dir", "kube"];
    let with = |extra: &[&'static str]| serve.iter().chain(extra).copied().collect::<Vec<_>>();
    let err = fails(&with(&["--listen", "0.0.0.0:0"]), dir.path(), 1);
    assert!(err.contains("127.0.0.1 only"), "{err}");
    fails(&serve, dir.path(), 2);
    fails(&with(&["--listen", "localhost"]), dir.path(), 2);
    std::fs::create_dir(dir.path().join("pki")).unwrap();
    std::fs::write(dir.path().join("pki/ca.crt"), "not a certificate").unwrap();
    let err = fails(&with(&["--listen", "127.0.0.1:0"]), dir.path(), 1);
    assert!(err.contains("ca.crt"), "{err}");
    assert!(!dir.path().join("kube/admin.conf").exists());
}
