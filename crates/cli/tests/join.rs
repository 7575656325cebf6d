//! `kubetrust join` and `kubetrust reset` against `kubetrust testcp serve`: the join command
//! kubeadm prints works with `kubeadm` replaced by `kubetrust`; a wrong pin fails before any
//! CSR; the real kubectl unblocks a join after auto-approval was removed; reset removes only
//! what join wrote.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Server, fails, kubectl, ok, run_kubectl};

/// `kubeadm join HOST:PORT --token T --discovery-token-ca-cert-hash H` from `token create`.
fn join_command(server: &Server) -> Vec<String> {
    let (line, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            server.kubeconfig(),
            "--print-join-command",
        ],
        server.path(),
    );
    let words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    assert_eq!(words[..2], ["kubeadm", "join"]);
    words[2..].to_vec()
}

fn join_args<'a>(join: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["join"];
    args.extend(join.iter().map(String::as_str));
    args.extend(extra);
    args
}

fn csr_names(server: &Server) -> Vec<String> {
    let Some(kubectl) = kubectl() else {
        return Vec::new();
    };
    let out = run_kubectl(&kubectl, server, &["get", "csr", "-o", "name"]);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn kubeadms_join_command_joins_with_kubetrust() {
    let server = Server::start();
    let join = join_command(&server);
    let node = tempfile::tempdir().unwrap();
    let dir = node.path().display().to_string();
    let (stdout, stderr) = ok(
        &join_args(&join, &["--node-name", "worker-1", "--kubelet-dir", &dir]),
        server.path(),
    );
    assert!(
        stdout.starts_with("This node has joined the cluster:\n"),
        "{stdout}"
    );
    for phase in ["[preflight]", "[discovery]", "[kubelet-start]"] {
        assert!(stderr.contains(phase), "{phase} missing:\n{stderr}");
    }
    assert!(stderr.contains("its CA matches a pinned public key"), "{stderr}");
    assert!(node.path().join("kubelet.conf").is_file());
    assert!(node.path().join("pki/kubelet-client-current.pem").is_file());
    // The token secret never reaches the output.
    let secret = join[2].split('.').nth(1).unwrap().to_owned();
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret));

    // A second join into the same directory is refused by preflight.
    let err = fails(
        &join_args(&join, &["--node-name", "worker-1", "--kubelet-dir", &dir]),
        server.path(),
        1,
    );
    assert!(
        err.contains("[preflight]") && err.contains("already exists"),
        "{err}"
    );

    // reset removes what join wrote and nothing else.
    std::fs::write(node.path().join("pki/other.pem"), "keep").unwrap();
    std::fs::write(node.path().join("config.yaml"), "keep").unwrap();
    let (_, stderr) = ok(&["reset", "--kubelet-dir", &dir], server.path());
    assert!(stderr.contains("[reset] Deleted"), "{stderr}");
    assert!(!node.path().join("kubelet.conf").exists());
    let left: Vec<_> = std::fs::read_dir(node.path().join("pki"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["other.pem"]);
    assert!(node.path().join("config.yaml").exists());
    // ... and the node joins again, printing JSON this time.
    let (stdout, _) = ok(
        &join_args(
            &join,
            &["--node-name", "worker-1", "--kubelet-dir", &dir, "-o", "json"],
        ),
        server.path(),
    );
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        result["csrName"].as_str().unwrap().starts_with("node-csr-"),
        "{result}"
    );
    assert!(result["phaseSeconds"]["kubelet-start"].is_number(), "{result}");
}

/// A relative `--kubelet-dir` (from the working directory) still gives a `current` link and a
/// `kubelet.conf` that resolve from anywhere: both name the files by absolute paths, as kubeadm
/// and the kubelet write them (a relative link target resolves from the link's directory, a
/// relative kubeconfig path from the kubeconfig's).
#[test]
fn a_relative_kubelet_dir_writes_absolute_references() {
    let server = Server::start();
    let join = join_command(&server);
    ok(
        &join_args(&join, &["--node-name", "worker-rel", "--kubelet-dir", "rel/node"]),
        server.path(),
    );
    let node = server.path().join("rel/node");
    let current = node.join("pki/kubelet-client-current.pem");
    let target = std::fs::read_link(&current).unwrap();
    assert!(target.is_absolute(), "{target:?}");
    assert!(current.is_file(), "the link resolves: {target:?}");
    let conf = std::fs::read_to_string(node.join("kubelet.conf")).unwrap();
    for field in ["client-certificate: ", "client-key: "] {
        let value = conf
            .lines()
            .find_map(|l| l.trim().strip_prefix(field))
            .unwrap_or_else(|| panic!("{field} in {conf}"));
        assert_eq!(Path::new(value), current, "{conf}");
    }
}

#[test]
fn a_wrong_pin_fails_in_discovery_without_a_csr() {
    let server = Server::start();
    let mut join = join_command(&server);
    let pin = join.iter_mut().find(|w| w.starts_with("sha256:")).unwrap();
    *pin = format!("sha256:{}", "0".repeat(64));
    let node = tempfile::tempdir().unwrap();
    let dir = node.path().display().to_string();
    let err = fails(
        &join_args(&join, &["--node-name", "worker-1", "--kubelet-dir", &dir]),
        server.path(),
        1,
    );
    assert!(err.contains("[discovery]"), "{err}");
    assert_eq!(std::fs::read_dir(node.path()).unwrap().count(), 0);
    assert!(csr_names(&server).is_empty());
}

#[test]
fn command_line_mistakes() {
    let server = Server::start();
    let join = join_command(&server);
    let node = tempfile::tempdir().unwrap();
    let dir = node.path().display().to_string();
    // No pins and no explicit unsafe skip.
    let no_pins: Vec<&str> = join_args(&join[..3], &["--node-name", "w", "--kubelet-dir", &dir]);
    let err = fails(&no_pins, server.path(), 1);
    assert!(
        err.contains("discovery-token-ca-cert-hash") || err.contains("pin"),
        "{err}"
    );
    // Neither an endpoint nor a discovery file.
    let err = fails(&["join", "--kubelet-dir", &dir], server.path(), 1);
    assert!(err.contains("--discovery-file"), "{err}");
    // A token in the wrong shape: named, not echoed.
    let err = fails(
        &[
            "join",
            "h:6443",
            "--token",
            "abcdef.secretsecretsecrets",
            "--kubelet-dir",
            &dir,
        ],
        server.path(),
        1,
    );
    assert!(
        err.contains("--token") && !err.contains("secretsecretsecrets"),
        "{err}"
    );
    // Syntax: exit 2.
    fails(&["join", "h:6443", "--no-such-flag"], server.path(), 2);
    fails(
        &["join", "h:6443", "--token", "abcdef.0123456789abcdef"],
        server.path(),
        2,
    );
    fails(&["reset"], server.path(), 2);
}

#[test]
fn kubectl_certificate_approve_unblocks_a_join_without_auto_approval() {
    let Some(kubectl) = kubectl() else { return };
    let server = Server::start_in(
        tempfile::tempdir().unwrap(),
        &["--listen", "127.0.0.1:0", "--no-auto-approve"],
    );
    let join = join_command(&server);
    let node = tempfile::tempdir().unwrap();
    let dir = node.path().display().to_string();
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("kubetrust"))
        .current_dir(server.path())
        .args(join_args(
            &join,
            &[
                "--node-name",
                "worker-7",
                "--kubelet-dir",
                &dir,
                "--tls-bootstrap-timeout",
                "60s",
            ],
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let name = loop {
        if let Some(name) = csr_names(&server).into_iter().next() {
            break name;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no CSR appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    // Pending until a human approves it.
    std::thread::sleep(Duration::from_millis(500));
    assert!(!node.path().join("kubelet.conf").exists());
    let name = name.trim_start_matches("certificatesigningrequest.certificates.k8s.io/");
    let out = run_kubectl(&kubectl, &server, &["certificate", "approve", name]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let output = child_output(&mut child);
    assert!(output.0, "join failed: {}", output.2);
    assert!(
        output.1.starts_with("This node has joined the cluster:"),
        "{}",
        output.1
    );
    assert!(Path::new(&dir).join("kubelet.conf").is_file());
}

fn child_output(child: &mut std::process::Child) -> (bool, String, String) {
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status.success(), stdout, stderr)
}

#[test]
fn a_join_configuration_file_works_and_flags_win() {
    let server = Server::start();
    let join = join_command(&server);
    let (endpoint, token, pin) = (&join[0], &join[2], &join[4]);
    let config = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: from-file\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: {endpoint}\n    token: {token}\n    caCertHashes: [\"{pin}\"]\n"
    );
    std::fs::write(server.path().join("join.yaml"), config).unwrap();
    let node = tempfile::tempdir().unwrap();
    let dir = node.path().display().to_string();
    let (stdout, _) = ok(
        &[
            "join",
            "--config",
            "join.yaml",
            "--kubelet-dir",
            &dir,
            "-o",
            "json",
        ],
        server.path(),
    );
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(result["kubeletConf"].as_str().unwrap().ends_with("kubelet.conf"));
    let pem = std::fs::read(node.path().join("pki/kubelet-client-current.pem")).unwrap();
    let cert = kubetrust::pki::Certificate::from_pem(&pem).unwrap();
    assert_eq!(cert.subject().common_name, "system:node:from-file");
    // --node-name wins over the file.
    let other = tempfile::tempdir().unwrap();
    let other_dir = other.path().display().to_string();
    ok(
        &[
            "join",
            "--config",
            "join.yaml",
            "--node-name",
            "from-flag",
            "--kubelet-dir",
            &other_dir,
        ],
        server.path(),
    );
    let pem = std::fs::read(other.path().join("pki/kubelet-client-current.pem")).unwrap();
    let cert = kubetrust::pki::Certificate::from_pem(&pem).unwrap();
    assert_eq!(cert.subject().common_name, "system:node:from-flag");
    let kubeconfig = std::fs::read_to_string(node.path().join("kubelet.conf")).unwrap();
    assert!(kubeconfig.contains("kubelet-client-current.pem"), "{kubeconfig}");
    let Some(kubectl) = kubectl() else { return };
    let out = run_kubectl(
        &kubectl,
        &server,
        &["get", "csr", "-o", "jsonpath={.items[*].spec.username}"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("system:bootstrap:"),
        "{out:?}"
    );
}

/// `token create --print-join-token` prints one string that `join --join-token` takes alone:
/// the token, the CA pins and the endpoint travel together; a pin for another CA in that
/// string stops the join before any CSR; mixing it with kubeadm's token flags is a syntax error.
#[test]
fn a_one_string_join_token_joins_alone_and_carries_its_pins() {
    let server = Server::start();
    let (line, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            server.kubeconfig(),
            "--print-join-token",
        ],
        server.path(),
    );
    let token = line.trim().to_owned();
    let fields: Vec<&str> = token.splitn(5, '.').collect();
    assert_eq!(fields.len(), 5, "{token}");
    assert_eq!(fields[0], "kjt1");
    // The same pins as kubeadm's join command prints, for the same CA.
    let join = join_command(&server);
    let hash = join
        .iter()
        .skip_while(|w| *w != "--discovery-token-ca-cert-hash")
        .nth(1)
        .unwrap()
        .clone();
    let pins = fields[3];
    assert_eq!(pins.len(), 43, "one CA, one 32-byte pin: {pins}");
    let parsed: kubetrust::discovery::JoinToken = token.parse().unwrap();
    let parsed_pins: Vec<String> = parsed.pins().pins().iter().map(ToString::to_string).collect();
    assert_eq!(parsed_pins, [hash]);
    assert_eq!(fields[4], join[0], "the endpoint is the join command's");

    let node = tempfile::tempdir().unwrap();
    let dir = node.path().display().to_string();
    let (stdout, stderr) = ok(
        &[
            "join",
            "--join-token",
            &token,
            "--node-name",
            "worker-jt",
            "--kubelet-dir",
            &dir,
        ],
        server.path(),
    );
    assert!(
        stdout.starts_with("This node has joined the cluster:\n"),
        "{stdout}"
    );
    assert!(stderr.contains("its CA matches a pinned public key"), "{stderr}");
    assert!(
        !stdout.contains(fields[2]) && !stderr.contains(fields[2]),
        "the secret leaked"
    );
    assert!(node.path().join("kubelet.conf").is_file());

    // The same token with the pin of another key: discovery refuses, no CSR is sent.
    let before = csr_names(&server);
    let mut other = pins.as_bytes().to_vec();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    let forged = format!(
        "kjt1.{}.{}.{}.{}",
        fields[1],
        fields[2],
        String::from_utf8(other).unwrap(),
        fields[4]
    );
    let node2 = tempfile::tempdir().unwrap();
    let err = fails(
        &[
            "join",
            "--join-token",
            &forged,
            "--node-name",
            "worker-forged",
            "--kubelet-dir",
            &node2.path().display().to_string(),
            "--discovery-timeout",
            "5s",
        ],
        server.path(),
        1,
    );
    assert!(err.contains("[discovery]"), "{err}");
    assert!(!err.contains(fields[2]), "the secret leaked: {err}");
    assert_eq!(csr_names(&server), before, "no CSR after a pin mismatch");
    assert!(!node2.path().join("kubelet.conf").exists());

    // A malformed join token is a clear error that does not repeat it.
    let err = fails(
        &[
            "join",
            "--join-token",
            &format!("kjt1.{}.{}", fields[1], fields[2]),
            "--kubelet-dir",
            &dir,
        ],
        server.path(),
        1,
    );
    assert!(err.contains("--join-token: malformed join token"), "{err}");
    assert!(!err.contains(fields[2]), "{err}");

    // kubeadm's token flags and the join token exclude each other (exit 2: syntax).
    let err = fails(
        &[
            "join",
            "--join-token",
            &token,
            "--token",
            fields[1],
            "--kubelet-dir",
            &dir,
        ],
        server.path(),
        2,
    );
    assert!(err.contains("cannot be used with"), "{err}");
}
