//! `kubetrust approver run` against `kubetrust testcp serve`, judged by the real kubectl: a
//! serving CSR that a node (kubectl impersonating it) creates for its own address is approved
//! while the approver holds its Lease; SIGTERM stops it with exit 0 and hands the Lease back;
//! bad settings exit 1 naming the flag.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::process::{Child, Command, Stdio};

use base64::Engine as _;
use std::time::{Duration, Instant};

use support::{Server, fails, kubectl, run_kubectl};

const NODE: &str = "worker-7";

/// `kubectl get ... -o jsonpath=...`, trimmed.
fn jsonpath(kubectl: &std::path::Path, server: &Server, args: &[&str], path: &str) -> String {
    let jsonpath = format!("-o=jsonpath={path}");
    let mut all = args.to_vec();
    all.push(&jsonpath);
    let out = run_kubectl(kubectl, server, &all);
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < Duration::from_secs(20), "{what} within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn approver(server: &Server) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("kubetrust"))
        .current_dir(server.path())
        .args([
            "approver",
            "run",
            "--kubeconfig",
            server.kubeconfig(),
            "--leader-elect",
        ])
        .args([
            "--leader-elect-identity",
            "cli-replica",
            "--leader-elect-lease-duration",
            "2s",
        ])
        .args([
            "--leader-elect-renew-deadline",
            "1500ms",
            "--leader-elect-retry-period",
            "200ms",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A Node with one InternalIP, and a serving CSR from it (kubectl impersonating the node)
/// for that IP; returns the CSR's name.
fn node_asks_for_serving_certificate(kubectl: &std::path::Path, server: &Server) -> String {
    let dir = server.path();
    let node = format!(
        "{{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{{\"name\":\"{NODE}\"}},\
         \"status\":{{\"addresses\":[{{\"type\":\"InternalIP\",\"address\":\"10.0.0.7\"}}]}}}}"
    );
    std::fs::write(dir.join("node.json"), node).unwrap();
    let created = run_kubectl(kubectl, server, &["create", "-f", "node.json"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // kubectl create drops status; the kubelet writes it through /status.
    let status = run_kubectl(
        kubectl,
        server,
        &[
            "patch",
            "node",
            NODE,
            "--subresource=status",
            "--type=merge",
            "-p",
            r#"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.7"}]}}"#,
        ],
    );
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );

    let openssl = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .args(["-keyout", "serving.key", "-out", "serving.csr"])
        .args(["-subj", &format!("/O=system:nodes/CN=system:node:{NODE}")])
        .args(["-addext", "subjectAltName=IP:10.0.0.7"])
        .output()
        .unwrap();
    assert!(
        openssl.status.success(),
        "{}",
        String::from_utf8_lossy(&openssl.stderr)
    );
    let request =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(dir.join("serving.csr")).unwrap());
    let csr = format!(
        "{{\"apiVersion\":\"certificates.k8s.io/v1\",\"kind\":\"CertificateSigningRequest\",\
         \"metadata\":{{\"name\":\"serving-{NODE}\"}},\"spec\":{{\"signerName\":\"kubernetes.io/kubelet-serving\",\
         \"request\":\"{request}\",\"usages\":[\"digital signature\",\"server auth\"]}}}}"
    );
    std::fs::write(dir.join("csr.json"), csr).unwrap();
    let user = format!("--as=system:node:{NODE}");
    let created = run_kubectl(
        kubectl,
        server,
        &["create", "-f", "csr.json", &user, "--as-group=system:nodes"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    format!("serving-{NODE}")
}

#[test]
fn the_approver_approves_while_leading_and_hands_the_lease_back_on_sigterm() {
    let Some(kubectl) = kubectl() else { return };
    let mut server = Server::start();
    let approver = approver(&server);
    let lease = ["get", "lease", "-n", "kube-system", "kubetrust-approver"];
    wait_for("the approver takes its Lease", || {
        jsonpath(&kubectl, &server, &lease, "{.spec.holderIdentity}") == "cli-replica"
    });

    let csr = node_asks_for_serving_certificate(&kubectl, &server);
    wait_for("the CSR is approved and signed", || {
        jsonpath(&kubectl, &server, &["get", "csr", &csr], "{.status.certificate}").len() > 100
    });
    assert_eq!(
        jsonpath(
            &kubectl,
            &server,
            &["get", "csr", &csr],
            "{.status.conditions[0].reason}"
        ),
        "KubetrustServingApproved"
    );

    // SIGTERM: a clean exit, the Lease released for the next replica.
    Command::new("kill")
        .args(["-TERM", &approver.id().to_string()])
        .status()
        .unwrap();
    let output = approver.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("successfully acquired lease") && stderr.contains("decided"),
        "{stderr}"
    );
    assert_eq!(jsonpath(&kubectl, &server, &lease, "{.spec.holderIdentity}"), "");
    assert!(server.stop("TERM").success());
}

#[test]
fn bad_leader_election_settings_exit_1_naming_them() {
    let server = Server::start();
    let kubeconfig = server.kubeconfig();
    let base = ["approver", "run", "--kubeconfig", kubeconfig, "--leader-elect"];
    let stderr = fails(
        &[&base[..], &["--leader-elect-lease-duration", "soon"]].concat(),
        server.path(),
        1,
    );
    assert!(stderr.contains("--leader-elect-lease-duration"), "{stderr}");
    let stderr = fails(
        &[&base[..], &["--leader-elect-retry-period", "20s"]].concat(),
        server.path(),
        1,
    );
    assert!(
        stderr.contains("retry period < renew deadline < lease duration"),
        "{stderr}"
    );
    let stderr = fails(
        &["approver", "run", "--kubeconfig", "missing.conf"],
        server.path(),
        1,
    );
    assert!(stderr.contains("missing.conf"), "{stderr}");
}
