//! `kubetrust init phase certs|kubeconfig|bootstrap-token|upload-certs`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kubetrust::pki::upload_certs::{self, CertificateKey};
use support::{NODE, Server, fails, kubectl, ok, run_kubectl};

fn args<'a>(head: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(NODE.iter()).chain(tail).copied().collect()
}

#[test]
fn certs_all_is_certs_init() {
    let dir = tempfile::tempdir().unwrap();
    let (_, progress) = ok(
        &args(&["init", "phase", "certs", "all", "--cert-dir", "pki"], &[]),
        dir.path(),
    );
    assert!(
        progress.contains("[certs] Generating \"etcd/ca\" certificate and key"),
        "{progress}"
    );
    // `certs init` now finds everything in place.
    let (_, again) = ok(&args(&["certs", "init", "--cert-dir", "pki"], &[]), dir.path());
    assert!(!again.contains("Generating"), "{again}");
    assert!(
        again.contains("[certs] Using the existing \"apiserver\" certificate and key"),
        "{again}"
    );
}

#[test]
fn certs_one_name_when_it_is_the_one_missing() {
    let dir = tempfile::tempdir().unwrap();
    ok(&args(&["certs", "init", "--cert-dir", "pki"], &[]), dir.path());
    for file in ["pki/apiserver.crt", "pki/apiserver.key"] {
        std::fs::remove_file(dir.path().join(file)).unwrap();
    }
    let before = std::fs::read(dir.path().join("pki/ca.crt")).unwrap();
    let (_, progress) = ok(
        &args(&["init", "phase", "certs", "apiserver", "--cert-dir", "pki"], &[]),
        dir.path(),
    );
    assert!(
        progress.contains("[certs] Generating \"apiserver\" certificate and key"),
        "{progress}"
    );
    assert_eq!(progress.matches("Generating").count(), 1, "{progress}");
    assert!(dir.path().join("pki/apiserver.crt").is_file());
    assert_eq!(std::fs::read(dir.path().join("pki/ca.crt")).unwrap(), before);
}

#[test]
fn certs_one_by_one_in_kubeadms_order_builds_the_whole_tree() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "ca",
        "apiserver",
        "apiserver-kubelet-client",
        "front-proxy-ca",
        "front-proxy-client",
        "etcd-ca",
        "etcd-server",
        "etcd-peer",
        "etcd-healthcheck-client",
        "apiserver-etcd-client",
        "sa",
    ];
    for name in names {
        let (_, progress) = ok(
            &args(&["init", "phase", "certs", name, "--cert-dir", "pki"], &[]),
            dir.path(),
        );
        assert_eq!(progress.matches("Generating").count(), 1, "{name}: {progress}");
    }
    // The tree is complete and fits: `certs init` creates nothing.
    let (_, again) = ok(&args(&["certs", "init", "--cert-dir", "pki"], &[]), dir.path());
    assert!(!again.contains("Generating"), "{again}");
    // Once more: each one is reused.
    let (_, reused) = ok(
        &args(&["init", "phase", "certs", "etcd-peer", "--cert-dir", "pki"], &[]),
        dir.path(),
    );
    assert!(
        reused.contains("[certs] Using the existing \"etcd/peer\" certificate and key"),
        "{reused}"
    );
}

#[test]
fn certs_one_name_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A leaf needs its CA, as in kubeadm.
    let err = fails(
        &args(&["init", "phase", "certs", "apiserver", "--cert-dir", "pki"], &[]),
        dir.path(),
        1,
    );
    assert!(err.contains("its CA ca is missing"), "{err}");
    assert!(!dir.path().join("pki").exists(), "nothing is written");
    // An existing certificate that does not fit is refused: an apiserver certificate for
    // another node does not cover this node's address.
    ok(
        &args(&["init", "phase", "certs", "ca", "--cert-dir", "pki"], &[]),
        dir.path(),
    );
    let other = [
        "init",
        "phase",
        "certs",
        "apiserver",
        "--cert-dir",
        "pki",
        "--node-name",
        "cp-2",
        "--advertise-address",
        "192.168.10.12",
        "--encryption-algorithm",
        "ECDSA-P256",
    ];
    ok(&other, dir.path());
    let before = std::fs::read(dir.path().join("pki/apiserver.crt")).unwrap();
    let err = fails(
        &args(&["init", "phase", "certs", "apiserver", "--cert-dir", "pki"], &[]),
        dir.path(),
        1,
    );
    assert!(err.contains("not valid for"), "{err}");
    assert_eq!(
        std::fs::read(dir.path().join("pki/apiserver.crt")).unwrap(),
        before
    );
    // With external etcd there are no etcd certificates.
    std::fs::write(
        dir.path().join("external.yaml"),
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [\"https://10.0.0.1:2379\"]\n",
    )
    .unwrap();
    let err = fails(
        &args(
            &["init", "phase", "certs", "etcd-ca", "--cert-dir", "pki"],
            &["--config", "external.yaml"],
        ),
        dir.path(),
        1,
    );
    assert!(err.contains("is not a certificate of this tree"), "{err}");
    fails(
        &args(&["init", "phase", "certs", "bogus", "--cert-dir", "pki"], &[]),
        dir.path(),
        2,
    );
    // Same flags as `certs init`: the node facts are required without --config.
    fails(
        &["init", "phase", "certs", "all", "--cert-dir", "pki"],
        dir.path(),
        2,
    );
}

#[test]
fn kubeconfig_one_file_or_all() {
    let dir = tempfile::tempdir().unwrap();
    ok(&args(&["certs", "init", "--cert-dir", "pki"], &[]), dir.path());
    let kubeconfig = |name: &'static str| {
        args(
            &[
                "init",
                "phase",
                "kubeconfig",
                name,
                "--cert-dir",
                "pki",
                "--kubeconfig-dir",
                "kube",
            ],
            &[],
        )
    };
    let (_, progress) = ok(&kubeconfig("admin"), dir.path());
    assert!(
        progress.contains("[kubeconfig] Writing \"admin.conf\" kubeconfig file"),
        "{progress}"
    );
    let written: Vec<String> = std::fs::read_dir(dir.path().join("kube"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written, ["admin.conf"]);
    let (_, progress) = ok(&kubeconfig("all"), dir.path());
    assert!(progress.contains("Writing \"scheduler.conf\""), "{progress}");
    assert_eq!(std::fs::read_dir(dir.path().join("kube")).unwrap().count(), 5);
    fails(&kubeconfig("admin.conf"), dir.path(), 2);
    // No CA: the library's error, exit 1.
    let empty = tempfile::tempdir().unwrap();
    fails(&kubeconfig("admin"), empty.path(), 1);
}

#[test]
fn bootstrap_token_writes_cluster_info_and_rbac() {
    let server = Server::start();
    let (dir, kc) = (server.path(), server.kubeconfig());
    let Some(kubectl) = kubectl() else { return };
    // Start from a cluster without kubeadm's objects.
    for (kind, namespace, name) in [
        ("configmap", "kube-public", "cluster-info"),
        ("clusterrolebinding", "", "kubeadm:kubelet-bootstrap"),
    ] {
        let out = run_kubectl(&kubectl, &server, &["delete", kind, name, "-n", namespace]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (stdout, progress) = ok(&["init", "phase", "bootstrap-token", "--kubeconfig", kc], dir);
    // One generated default token, printed as kubeadm does.
    let token = stdout
        .strip_prefix("[bootstrap-token] Using token: ")
        .and_then(|rest| rest.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("{stdout}"));
    let id = token.split('.').next().unwrap();
    let out = run_kubectl(
        &kubectl,
        &server,
        &[
            "get",
            "secret",
            &format!("bootstrap-token-{id}"),
            "-n",
            "kube-system",
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret: Secret = serde_json::from_slice(&out.stdout).unwrap();
    let data = secret.data.unwrap();
    assert_eq!(data["usage-bootstrap-signing"].0, b"true");
    assert_eq!(data["usage-bootstrap-authentication"].0, b"true");
    assert_eq!(
        data["auth-extra-groups"].0,
        b"system:bootstrappers:kubeadm:default-node-token"
    );
    assert!(data.contains_key("expiration"));
    for (kind, name) in [
        ("clusterrole", "kubeadm:get-nodes"),
        ("clusterrolebinding", "kubeadm:get-nodes"),
    ] {
        let out = run_kubectl(&kubectl, &server, &["get", kind, name, "-o", "json"]);
        assert!(
            out.status.success(),
            "{kind} {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run_kubectl(
        &kubectl,
        &server,
        &[
            "get",
            "clusterrole",
            "kubeadm:get-nodes",
            "-o",
            "jsonpath={.rules[0].resources[0]} {.rules[0].verbs[0]}",
        ],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "nodes get");
    assert!(
        progress.starts_with(
            "[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles\n"
        ),
        "{progress}"
    );
    assert!(progress.contains(
        "[bootstrap-token] Creating the \"cluster-info\" ConfigMap in the \"kube-public\" namespace"
    ));
    let out = run_kubectl(
        &kubectl,
        &server,
        &[
            "get",
            "configmap",
            "cluster-info",
            "-n",
            "kube-public",
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let map: ConfigMap = serde_json::from_slice(&out.stdout).unwrap();
    let kubeconfig = &map.data.unwrap()["kubeconfig"];
    assert!(
        kubeconfig.contains(&format!("server: {}", server.url)),
        "{kubeconfig}"
    );
    let out = run_kubectl(
        &kubectl,
        &server,
        &["get", "clusterrolebinding", "kubeadm:kubelet-bootstrap"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Again, with the tokens of a config file and without printing them: converges.
    std::fs::write(
        dir.join("init.yaml"),
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- token: abcdef.0123456789abcdef\n  ttl: 1h\n  description: from the config\n  usages: [authentication]\n",
    )
    .unwrap();
    let phase = [
        "init",
        "phase",
        "bootstrap-token",
        "--kubeconfig",
        kc,
        "--config",
        "init.yaml",
        "--skip-token-print",
    ];
    for _ in 0..2 {
        let (stdout, _) = ok(&phase, dir);
        assert!(stdout.is_empty(), "{stdout}");
    }
    let (list, _) = ok(&["token", "list", "--kubeconfig", kc], dir);
    let line = list
        .lines()
        .find(|l| l.starts_with("abcdef."))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        line.contains("from the config") && line.contains("authentication "),
        "{line}"
    );
    std::fs::write(
        dir.join("bad.yaml"),
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nbootstrapTokens:\n- usages: [bogus]\n",
    )
    .unwrap();
    let err = fails(
        &[
            "init",
            "phase",
            "bootstrap-token",
            "--kubeconfig",
            kc,
            "--config",
            "bad.yaml",
        ],
        dir,
        1,
    );
    assert!(err.contains("bogus"), "{err}");
    let err = fails(
        &["init", "phase", "bootstrap-token", "--kubeconfig", "nope.conf"],
        dir,
        1,
    );
    assert!(err.contains("nope.conf"), "{err}");
}

#[test]
fn upload_certs_stores_kubeadms_secret_and_prints_the_key() {
    let server = Server::start();
    let (dir, kc) = (server.path(), server.kubeconfig());
    let key = "8f0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7";
    let upload = [
        "init",
        "phase",
        "upload-certs",
        "--kubeconfig",
        kc,
        "--cert-dir",
        "pki",
    ];
    let mut with_key = upload.to_vec();
    with_key.extend(["--upload-certs", "--certificate-key", key]);
    let (stdout, progress) = ok(&with_key, dir);
    assert_eq!(stdout, format!("[upload-certs] Using certificate key:\n{key}\n"));
    assert!(
        progress.contains("[upload-certs] Storing the certificates in Secret \"kubeadm-certs\" in the \"kube-system\" Namespace"),
        "{progress}"
    );

    let (stdout, _) = ok(&upload, dir);
    let generated = stdout
        .strip_prefix("[upload-certs] Using certificate key:\n")
        .unwrap()
        .trim_end();
    assert_eq!(generated.len(), 64);
    assert_ne!(generated, key);

    let Some(kubectl) = kubectl() else { return };
    let out = run_kubectl(
        &kubectl,
        &server,
        &[
            "get",
            "secret",
            "kubeadm-certs",
            "-n",
            "kube-system",
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret: Secret = serde_json::from_slice(&out.stdout).unwrap();
    let data = secret.data.unwrap();
    let key: CertificateKey = generated.parse().unwrap();
    for entry in upload_certs::entries(&upload_certs::Etcd::Local) {
        let sealed = &data[entry.secret_key].0;
        let file = std::fs::read(entry.full_path(&dir.join("pki"))).unwrap();
        assert_eq!(
            upload_certs::decrypt(&key, sealed).unwrap().as_slice(),
            file,
            "{}",
            entry.name
        );
    }
    let owner = &secret.metadata.owner_references.unwrap()[0];
    assert!(owner.name.starts_with("bootstrap-token-"), "{owner:?}");
    let token = owner.name.strip_prefix("bootstrap-token-").unwrap();
    let (table, _) = ok(&["token", "list", "--kubeconfig", kc], dir);
    let row = table.lines().find(|l| l.starts_with(token)).unwrap();
    assert!(
        row.contains(" 1h ") && row.contains("Proxy for managing TTL for the kubeadm-certs secret"),
        "{row}"
    );
    let out = run_kubectl(
        &kubectl,
        &server,
        &["get", "rolebinding", "kubeadm:kubeadm-certs", "-n", "kube-system"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn upload_certs_errors() {
    let server = Server::start();
    let (dir, kc) = (server.path(), server.kubeconfig());
    let err = fails(
        &[
            "init",
            "phase",
            "upload-certs",
            "--kubeconfig",
            kc,
            "--cert-dir",
            "pki",
            "--certificate-key",
            "00ff",
        ],
        dir,
        1,
    );
    assert!(!err.contains("00ff"), "the key leaked: {err}");
    let err = fails(
        &[
            "init",
            "phase",
            "upload-certs",
            "--kubeconfig",
            kc,
            "--cert-dir",
            "nowhere",
        ],
        dir,
        1,
    );
    assert!(err.contains("nowhere/ca.crt"), "{err}");
    let err = fails(
        &[
            "init",
            "phase",
            "upload-certs",
            "--kubeconfig",
            "nope.conf",
            "--cert-dir",
            "pki",
        ],
        dir,
        1,
    );
    assert!(err.contains("nope.conf"), "{err}");
    fails(&["init", "phase", "upload-certs", "--bogus"], dir, 2);
    fails(&["init", "phase", "bogus"], dir, 2);
}
