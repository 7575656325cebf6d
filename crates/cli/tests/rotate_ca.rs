//! `kubetrust certs rotate-ca plan|apply` on a kubeadm tree, judged in every phase by a control
//! plane started from that tree (`testcp serve`, restarted as the components would be), the real
//! kubectl with the rotated `admin.conf`, and a node joining with a one-string token minted in
//! that phase (it pins both CAs while both are trusted).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;

use support::{Server, fails, kubectl, ok};

/// `certs rotate-ca plan -o json` of the cluster CA.
fn plan(dir: &Path) -> serde_json::Value {
    let (stdout, _) = ok(
        &[
            "certs",
            "rotate-ca",
            "plan",
            "--cert-dir",
            "pki",
            "--kubeconfig-dir",
            "etc",
            "-o",
            "json",
        ],
        dir,
    );
    serde_json::from_str(&stdout).unwrap()
}

fn apply(dir: &Path, step: &str) -> (String, String) {
    ok(
        &[
            "certs",
            "rotate-ca",
            "apply",
            "--step",
            step,
            "--cert-dir",
            "pki",
            "--kubeconfig-dir",
            "etc",
        ],
        dir,
    )
}

/// Join tokens minted so far, with the phase each was minted in.
type Minted = Vec<(String, &'static str)>;

/// `apply` that must fail with exit 1; its stderr.
fn apply_fails(dir: &Path, step: &str) -> String {
    fails(
        &[
            "certs",
            "rotate-ca",
            "apply",
            "--step",
            step,
            "--cert-dir",
            "pki",
            "--kubeconfig-dir",
            "etc",
        ],
        dir,
        1,
    )
}

/// The components restart on the tree (testcp keeps its API objects, tokens included, in
/// `state/`): kubectl with the tree's admin.conf gets through; a node joins with a token minted
/// now, which pins every CA cluster-info carries; and nodes join with every token minted in
/// earlier phases, except, once the old CA is retired, the one that pinned it alone.
fn cluster_works(
    dir: tempfile::TempDir,
    phase: &'static str,
    pins: usize,
    minted: &mut Minted,
) -> tempfile::TempDir {
    let server = Server::start_in(dir, &["--listen", "127.0.0.1:0", "--state-dir", "state"]);
    // The step taken last, again, with the cluster up: the files are done already; cluster-info
    // gets ca.crt's bundle and this restart's URL.
    let last_step = match phase {
        "staged" => Some("stage"),
        "issued" => Some("issue"),
        "retired" => Some("retire"),
        _ => None,
    };
    if let Some(step) = last_step {
        let (stdout, _) = ok(
            &[
                "certs",
                "rotate-ca",
                "apply",
                "--step",
                step,
                "--cert-dir",
                "pki",
                "--kubeconfig-dir",
                "etc",
                "--kubeconfig",
                server.kubeconfig(),
            ],
            server.path(),
        );
        assert!(stdout.contains("done already"), "{stdout}");
    }
    if let Some(kubectl) = kubectl() {
        let out = std::process::Command::new(kubectl)
            .current_dir(server.path())
            .args([
                "--kubeconfig",
                "etc/admin.conf",
                "--server",
                &server.url,
                "get",
                "namespaces",
                "-o",
                "name",
            ])
            .env_remove("KUBECONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{phase}: kubectl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("namespace/kube-system"));
    }
    let (token, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            server.kubeconfig(),
            "--print-join-token",
        ],
        server.path(),
    );
    let parsed: kubetrust::discovery::JoinToken = token.trim().parse().unwrap();
    assert_eq!(
        parsed.pins().pins().len(),
        pins,
        "{phase}: the token pins every trusted CA"
    );
    minted.push((token.trim().to_owned(), phase));
    for (i, (token, minted_in)) in minted.iter().enumerate() {
        let (node, kubelet) = (format!("worker-{phase}-{i}"), format!("node-{phase}-{i}"));
        // The endpoint of this restart (the port changes), the token and pins of then.
        let args = [
            "join",
            server.endpoint(),
            "--join-token",
            token,
            "--node-name",
            &node,
            "--kubelet-dir",
            &kubelet,
        ];
        if phase == "retired" && *minted_in == "idle" {
            let err = fails(&args, server.path(), 1);
            assert!(err.contains("pin"), "{phase}, a token of {minted_in}: {err}");
        } else {
            let (stdout, _) = ok(&args, server.path());
            assert!(
                stdout.starts_with("This node has joined the cluster:"),
                "{phase}, a token of {minted_in}: {stdout}"
            );
        }
    }
    server.into_dir()
}

#[test]
fn the_cluster_ca_rotates_while_kubectl_and_joins_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let node = [
        "--node-name",
        "testcp",
        "--advertise-address",
        "127.0.0.1",
        "--encryption-algorithm",
        "ECDSA-P256",
    ];
    ok(
        &[&["certs", "init", "--cert-dir", "pki"][..], &node].concat(),
        dir.path(),
    );
    ok(
        &[
            &[
                "kubeconfig",
                "init",
                "--cert-dir",
                "pki",
                "--kubeconfig-dir",
                "etc",
            ][..],
            &node[..4],
        ]
        .concat(),
        dir.path(),
    );
    assert_eq!(plan(dir.path())["phase"], "idle");
    let mut minted = Minted::new();
    let dir = cluster_works(dir, "idle", 1, &mut minted);

    let (stdout, stderr) = apply(dir.path(), "stage");
    assert!(stderr.contains("[rotate-ca] Staged the new ca"), "{stderr}");
    assert!(
        stdout.contains("Restart kube-apiserver, kube-controller-manager, kube-scheduler, kubelet"),
        "{stdout}"
    );
    assert!(stdout.contains("--step issue"), "{stdout}");
    assert_eq!(plan(dir.path())["phase"], "staged");
    let err = apply_fails(dir.path(), "retire");
    assert!(err.contains("it is staged, and its next step is issue"), "{err}");
    let dir = cluster_works(dir, "staged", 2, &mut minted);

    let (_, stderr) = apply(dir.path(), "issue");
    assert!(stderr.contains("The new ca signs from now on"), "{stderr}");
    assert!(
        stderr.contains("certificate for serving the Kubernetes API renewed"),
        "{stderr}"
    );
    assert_eq!(plan(dir.path())["phase"], "issued");
    let (stdout, _) = apply(dir.path(), "issue");
    assert!(stdout.contains("done already"), "{stdout}");
    let dir = cluster_works(dir, "issued", 2, &mut minted);

    // kubeadm's kubelet.conf embeds a client certificate of the old CA: the kubelet must rotate
    // it first. This node's kubelet is gone; its kubelet.conf goes with it.
    assert!(
        plan(dir.path())["blocked"]
            .as_str()
            .unwrap()
            .contains("kubelet.conf")
    );
    let err = apply_fails(dir.path(), "retire");
    assert!(err.contains("kubelet's client certificate"), "{err}");
    std::fs::remove_file(dir.path().join("etc/kubelet.conf")).unwrap();
    let (stdout, _) = apply(dir.path(), "retire");
    assert!(!stdout.contains("Then:"), "{stdout}");
    assert_eq!(plan(dir.path())["phase"], "idle");
    let dir = cluster_works(dir, "retired", 1, &mut minted);
    drop(dir);
}

#[test]
fn a_bad_ca_or_step_names_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(
        &[
            "certs",
            "rotate-ca",
            "plan",
            "--ca",
            "apiserver",
            "--cert-dir",
            "pki",
        ],
        dir.path(),
        1,
    );
    assert!(
        err.contains("\"apiserver\" is not a CA that can be rotated"),
        "{err}"
    );
    let err = fails(
        &[
            "certs",
            "rotate-ca",
            "apply",
            "--step",
            "later",
            "--cert-dir",
            "pki",
        ],
        dir.path(),
        2,
    );
    assert!(err.contains("not a step: stage, issue or retire"), "{err}");
}

/// `apply --kubeconfig` publishes ca.crt's bundle in `kube-public/cluster-info` at once (before
/// any restart), and a node joins with a token that pins both CAs.
#[test]
fn staging_with_a_kubeconfig_publishes_both_cas_in_cluster_info() {
    let server = Server::start();
    let node = ["--node-name", "testcp", "--advertise-address", "127.0.0.1"];
    ok(
        &[
            &[
                "kubeconfig",
                "init",
                "--cert-dir",
                "pki",
                "--kubeconfig-dir",
                "etc",
            ][..],
            &node,
        ]
        .concat(),
        server.path(),
    );
    let (_, stderr) = ok(
        &[
            "certs",
            "rotate-ca",
            "apply",
            "--step",
            "stage",
            "--cert-dir",
            "pki",
            "--kubeconfig-dir",
            "etc",
            "--kubeconfig",
            server.kubeconfig(),
        ],
        server.path(),
    );
    assert!(
        stderr.contains("Published ca.crt's bundle in kube-public/cluster-info"),
        "{stderr}"
    );
    if let Some(kubectl) = kubectl() {
        let out = support::run_kubectl(
            &kubectl,
            &server,
            &[
                "get",
                "configmap",
                "-n",
                "kube-public",
                "cluster-info",
                "-o=jsonpath={.data.kubeconfig}",
            ],
        );
        let published = kubetrust::kubeconfig::Config::from_bytes(&out.stdout).unwrap();
        let cas = kubetrust::pki::Certificate::chain_from_pem(
            &published.clusters[0].cluster.certificate_authority_data,
        );
        assert_eq!(cas.unwrap().len(), 2, "cluster-info carries both CAs");
    }
    // The rotated admin.conf trusts both, so the token it mints pins both.
    let (token, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            "etc/admin.conf",
            "--server",
            &server.url,
            "--print-join-token",
        ],
        server.path(),
    );
    let parsed: kubetrust::discovery::JoinToken = token.trim().parse().unwrap();
    assert_eq!(parsed.pins().pins().len(), 2);
    let (stdout, _) = ok(
        &[
            "join",
            "--join-token",
            token.trim(),
            "--node-name",
            "worker-staged",
            "--kubelet-dir",
            "node",
        ],
        server.path(),
    );
    assert!(
        stdout.starts_with("This node has joined the cluster:"),
        "{stdout}"
    );
}
