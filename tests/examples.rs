//! Every example runs (the README promises the quickstart works on a clean clone): the test
//! runs the example binaries `cargo test` has just built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// `target/<profile>/examples/<name>`, beside this test's own `deps` directory.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "{} is not built (cargo test builds examples)",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> (String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(example(name)).args(args).output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    );
    assert!(status.success(), "{name} {args:?} failed:\n{stdout}\n{stderr}");
    (stdout, stderr)
}

#[test]
fn quickstart_joins_three_nodes() {
    let (stdout, _) = run("quickstart", &[]);
    for node in ["worker-1", "worker-2", "worker-3"] {
        assert!(
            stdout.contains(&format!(
                "{node}   CN=system:node:{node}, O=system:nodes, chains to the cluster CA, matches its key"
            )),
            "{stdout}"
        );
    }
    assert!(stdout.contains("3 nodes joined"), "{stdout}");
    assert!(
        stdout.lines().count() <= 12,
        "the default output is short:\n{stdout}"
    );
    let (_, stderr) = run("quickstart", &["--verbose"]);
    assert!(stderr.contains("[kubelet-start]"), "{stderr}");
}

#[test]
fn validate_discovery_accepts_the_vector() {
    let (stdout, _) = run("validate_discovery", &[]);
    assert!(
        stdout.contains("signed with token 7h3k9q and its CA is pinned"),
        "{stdout}"
    );
}

#[test]
fn capi_secrets_prints_redacted_secrets() {
    let (stdout, _) = run("capi_secrets", &[]);
    assert!(stdout.contains("cluster.x-k8s.io/secret"), "{stdout}");
    assert!(stdout.contains("<redacted"), "{stdout}");
    assert!(!stdout.contains("PRIVATE KEY"), "{stdout}");
}

#[test]
fn join_joins_a_test_control_plane() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (plane, token, pin) = runtime.block_on(async {
        let plane = kubetrust_testcp::TestControlPlane::start(kubetrust_testcp::Config::default())
            .await
            .unwrap();
        let token = kubetrust::bootstrap_token::BootstrapToken::generate().unwrap();
        let spec = kubetrust::bootstrap_token::TokenSpec::new(token.clone());
        kubetrust::bootstrap_token::api::create_token(
            &plane.client().await.unwrap(),
            &spec,
            std::time::SystemTime::now(),
        )
        .await
        .unwrap();
        let pin = kubetrust::pki::CaCertHash::of_certificate(plane.ca().certificate()).to_string();
        (plane, token, pin)
    });
    let dir = tempfile::tempdir().unwrap();
    let endpoint = plane.url().trim_start_matches("https://").to_owned();
    let secret = token.expose_secret();
    let kubelet_dir = dir.path().display().to_string();
    let (stdout, stderr) = run("join", &[&endpoint, &secret, &pin, "worker-9", &kubelet_dir]);
    assert!(stdout.starts_with("joined: "), "{stdout}");
    assert!(stderr.contains("[kubelet-start]"), "{stderr}");
    assert!(dir.path().join("pki/kubelet-client-current.pem").is_file());
    runtime.block_on(plane.shutdown()).unwrap();
}
