//! The kubeadm tree in a real TLS handshake: `openssl s_server` serves the apiserver certificate
//! and demands a client certificate (`-Verify 1 -verify_return_error`); `openssl s_client`
//! authenticates with `apiserver-kubelet-client`. Checks hostnames and IPs against the SANs,
//! refuses certificates of another CA, and enforces the extended key usages both in `openssl
//! verify -purpose` and in the handshake itself.
//!
//! Every child process is killed when its guard drops and every wait has a deadline, so a
//! misbehaving openssl fails the test instead of hanging it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Finished, Reaped};

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use common::{openssl, openssl_ok};
use kubetrust_pki::KeyAlgorithm;
use kubetrust_pki::tree::{self, TreeConfig};

/// How long one `s_client` run may take; a handshake on loopback takes milliseconds.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long `s_server` may take to start listening.
const SERVER_START_TIMEOUT: Duration = Duration::from_secs(10);
/// What `s_client` sends; with `-www` the server answers with a status page and closes.
const REQUEST: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

// --- processes with guards and deadlines ----------------------------------------------------

/// Runs `cmd` with `stdin` as its whole input; kills it and panics after `timeout`.
fn run(cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Finished {
    let what = format!("{cmd:?}");
    let mut child = Reaped(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}")),
    );
    let drain = |pipe: Option<Box<dyn Read + Send>>| -> JoinHandle<String> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(child.0.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.0.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    if let Some(mut pipe) = child.0.stdin.take() {
        // Small enough for the pipe buffer; a child that exited early is not an error here.
        let _ = pipe.write_all(stdin);
    } // dropping the pipe closes the child's stdin
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            drop(child); // kill, so the pipes close and the drains finish
            panic!(
                "{what} did not finish within {timeout:?}; output so far:\n{}\n{}",
                stdout.join().unwrap(),
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Finished {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A port that was free a moment ago (the caller retries if someone took it meanwhile).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `openssl s_server -www`; killed on drop. Its stderr (verification results,
/// handshake errors) goes to a file the test reads.
struct Server {
    port: u16,
    log: PathBuf,
    _child: Reaped,
}

impl Server {
    /// Starts `openssl s_server` on 127.0.0.1 with `cert`/`key`, trusting `client_ca` for client
    /// certificates (mandatory and verified when `client_ca` is given).
    fn start(dir: &Path, cert: &Path, key: &Path, client_ca: Option<&Path>) -> Server {
        for attempt in 0.. {
            let port = free_port();
            let out = dir.join(format!("s_server-{port}.out"));
            let log = dir.join(format!("s_server-{port}.err"));
            let mut cmd = Command::new("openssl");
            cmd.arg("s_server").arg("-cert").arg(cert).arg("-key").arg(key);
            if let Some(ca) = client_ca {
                cmd.arg("-CAfile").arg(ca);
                // -Verify only demands a certificate; without -verify_return_error s_server
                // logs a failed verification and carries on with the connection.
                cmd.args(["-Verify", "1", "-verify_return_error"]);
            }
            cmd.args(["-no-CApath", "-no-CAstore", "-www", "-accept"])
                .arg(format!("127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&out).unwrap())
                .stderr(std::fs::File::create(&log).unwrap());
            let mut child = Reaped(cmd.spawn().unwrap());
            let deadline = Instant::now() + SERVER_START_TIMEOUT;
            loop {
                // s_server prints and flushes ACCEPT once it listens.
                if std::fs::read_to_string(&out).unwrap().contains("ACCEPT") {
                    return Server {
                        port,
                        log,
                        _child: child,
                    };
                }
                if let Some(status) = child.0.try_wait().unwrap() {
                    let err = std::fs::read_to_string(&log).unwrap();
                    if attempt < 3 && err.contains("in use") {
                        break; // lost the port to someone else: try another
                    }
                    panic!("openssl s_server exited ({status}) before listening:\n{err}");
                }
                assert!(
                    Instant::now() < deadline,
                    "openssl s_server did not listen within {SERVER_START_TIMEOUT:?}"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        unreachable!()
    }

    /// What s_server reported so far: verification depths, subjects, errors.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The log once it contains `needle` (s_server may still be writing after the client has
    /// gone); panics with the log after a few seconds without it.
    fn log_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "s_server never logged {needle:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `openssl s_client` to this server, trusting `ca`, with `extra` arguments; sends
    /// [`REQUEST`] and reads until the server closes.
    fn client(&self, ca: &Path, extra: &[&str]) -> Finished {
        let mut cmd = Command::new("openssl");
        cmd.args(["s_client", "-connect", &format!("127.0.0.1:{}", self.port)])
            .arg("-CAfile")
            .arg(ca)
            .args(["-no-CApath", "-no-CAstore", "-verify_return_error", "-ign_eof"])
            .args(extra);
        run(&mut cmd, REQUEST, CLIENT_TIMEOUT)
    }
}

// --- trees ----------------------------------------------------------------------------------

/// A fresh kubeadm tree for node cp-1 at 127.0.0.1 in `dir/name`.
fn tree(dir: &Path, name: &str, algorithm: KeyAlgorithm) -> PathBuf {
    let pki = dir.join(name);
    let config = TreeConfig::new("cp-1", "127.0.0.1".parse().unwrap()).with_encryption_algorithm(algorithm);
    tree::create(&pki, &config, SystemTime::now()).unwrap();
    pki
}

/// `dir/<base>.crt` and `dir/<base>.key` as strings for command lines.
fn pair(dir: &Path, base: &str) -> [String; 4] {
    [
        "-cert".to_owned(),
        dir.join(format!("{base}.crt")).display().to_string(),
        "-key".to_owned(),
        dir.join(format!("{base}.key")).display().to_string(),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// True when openssl is there (a missing openssl fails under CI, in `common::openssl`).
fn have_openssl() -> bool {
    openssl(&["version"]).is_some()
}

// --- tests ----------------------------------------------------------------------------------

#[test]
fn apiserver_and_kubelet_client_certs_complete_mutual_tls() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (algorithm, key_bits) in [(KeyAlgorithm::Rsa2048, 2048), (KeyAlgorithm::EcdsaP256, 256)] {
        let pki = tree(dir.path(), &format!("{algorithm:?}"), algorithm);
        let ca = pki.join("ca.crt");
        let server = Server::start(
            dir.path(),
            &pki.join("apiserver.crt"),
            &pki.join("apiserver.key"),
            Some(&ca),
        );
        let client = pair(&pki, "apiserver-kubelet-client");
        let names = [
            "kubernetes.default.svc",
            "kubernetes",
            "kubernetes.default.svc.cluster.local",
            "cp-1",
        ];
        for (protocol, name) in [("-tls1_3", names[0]), ("-tls1_2", names[0])]
            .into_iter()
            .chain(names[1..].iter().map(|n| ("-tls1_3", *n)))
        {
            let mut extra = args(&client);
            extra.extend([protocol, "-verify_hostname", name, "-verify_ip", "127.0.0.1"]);
            let out = server.client(&ca, &extra);
            let context = format!("{algorithm:?} {protocol} {name}: {out}");
            assert!(out.status.success(), "{context}");
            assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{context}");
            assert!(
                out.stdout.contains(&format!("Verified peername: {name}")),
                "{context}"
            );
            assert!(
                out.stdout
                    .contains("subject=CN = kube-apiserver\nissuer=CN = kubernetes"),
                "{context}"
            );
            assert!(
                out.stdout
                    .contains(&format!("Server public key is {key_bits} bit")),
                "{context}"
            );
            assert!(
                out.stdout
                    .contains("Acceptable client certificate CA names\nCN = kubernetes\n"),
                "{context}"
            );
            // The server's status page: it verified our certificate and shows whom it saw.
            assert!(out.stdout.contains("HTTP/1.0 200 ok"), "{context}");
            let page = out
                .stdout
                .split("Client certificate\n")
                .nth(1)
                .unwrap_or_else(|| panic!("{context}"));
            assert!(
                page.contains("Subject: O=kubeadm:cluster-admins, CN=kube-apiserver-kubelet-client"),
                "{context}"
            );
            assert!(page.contains("Issuer: CN=kubernetes"), "{context}");
            assert!(page.contains("TLS Web Client Authentication"), "{context}");
        }
        let log = server.log();
        assert!(
            log.contains(
                "depth=0 O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client\nverify return:1"
            ),
            "{log}"
        );
        assert!(!log.contains("error"), "the server verified every client: {log}");
    }
}

#[test]
fn server_refuses_clients_it_cannot_authenticate() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = tree(dir.path(), "cluster", KeyAlgorithm::EcdsaP256);
    let other = tree(dir.path(), "other", KeyAlgorithm::EcdsaP256);
    let ca = pki.join("ca.crt");
    let server = Server::start(
        dir.path(),
        &pki.join("apiserver.crt"),
        &pki.join("apiserver.key"),
        Some(&ca),
    );

    // The same names and subject, but signed by another cluster's CA.
    let out = server.client(&ca, &args(&pair(&other, "apiserver-kubelet-client")));
    assert!(!out.status.success(), "{out}");
    assert!(out.stderr.contains("alert unknown ca"), "{out}");
    assert!(!out.stdout.contains("HTTP/1.0 200 ok"), "{out}");
    server.log_with("verify error:num=20:unable to get local issuer certificate");

    // No client certificate at all: -Verify 1 demands one.
    let out = server.client(&ca, &[]);
    assert!(!out.status.success(), "{out}");
    assert!(out.stderr.contains("alert certificate required"), "{out}");
    assert!(!out.stdout.contains("HTTP/1.0 200 ok"), "{out}");
    server.log_with("peer did not return a certificate");

    // Our own CA, but a serving certificate (serverAuth only) offered as a client certificate:
    // openssl checks the client purpose, so the EKU is what refuses it.
    let out = server.client(&ca, &args(&pair(&pki, "apiserver")));
    assert!(!out.status.success(), "{out}");
    assert!(out.stderr.contains("alert unsupported certificate"), "{out}");
    assert!(!out.stdout.contains("HTTP/1.0 200 ok"), "{out}");
    server.log_with("depth=0 CN = kube-apiserver\nverify error:num=26:unsuitable certificate purpose");
}

#[test]
fn client_refuses_names_outside_the_sans_and_client_only_certs() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = tree(dir.path(), "cluster", KeyAlgorithm::EcdsaP256);
    let ca = pki.join("ca.crt");
    let client = pair(&pki, "apiserver-kubelet-client");
    let server = Server::start(
        dir.path(),
        &pki.join("apiserver.crt"),
        &pki.join("apiserver.key"),
        Some(&ca),
    );
    for (check, value, code) in [
        ("-verify_hostname", "evil.example.test", "62 (hostname mismatch)"),
        (
            "-verify_hostname",
            "kubernetes.default.svc.evil",
            "62 (hostname mismatch)",
        ),
        ("-verify_ip", "10.0.0.1", "64 (IP address mismatch)"),
    ] {
        let mut extra = args(&client);
        extra.extend([check, value]);
        let out = server.client(&ca, &extra);
        assert!(!out.status.success(), "{check} {value}: {out}");
        assert!(
            out.stdout.contains(&format!("Verify return code: {code}")),
            "{check} {value}: {out}"
        );
        assert!(
            out.stderr.contains("certificate verify failed"),
            "{check} {value}: {out}"
        );
        assert!(!out.stdout.contains("HTTP/1.0 200 ok"), "{check} {value}: {out}");
    }

    // A client certificate (clientAuth only) served by a server is refused by the client.
    let wrong = Server::start(
        dir.path(),
        &pki.join("apiserver-kubelet-client.crt"),
        &pki.join("apiserver-kubelet-client.key"),
        None,
    );
    let out = wrong.client(&ca, &[]);
    assert!(!out.status.success(), "{out}");
    assert!(
        out.stdout
            .contains("Verify return code: 26 (unsuitable certificate purpose)"),
        "{out}"
    );

    // Trusting another cluster's CA, the client refuses the server. (s_server sends our CA
    // along with the leaf, so the chain ends in a self-signed certificate the client does not
    // trust.)
    let other = tree(dir.path(), "other", KeyAlgorithm::EcdsaP256);
    let mut extra = args(&client);
    extra.extend(["-verify_hostname", "kubernetes"]);
    let out = server.client(&other.join("ca.crt"), &extra);
    assert!(!out.status.success(), "{out}");
    assert!(
        out.stdout
            .contains("Verify return code: 19 (self-signed certificate in certificate chain)"),
        "{out}"
    );
    assert!(!out.stdout.contains("HTTP/1.0 200 ok"), "{out}");
}

#[test]
fn openssl_verify_enforces_the_extended_key_usages() {
    let Some(_) = openssl_ok(&["version"]) else { return };
    let dir = tempfile::tempdir().unwrap();
    let pki = tree(dir.path(), "cluster", KeyAlgorithm::EcdsaP256);
    let path = |base: &str| pki.join(format!("{base}.crt")).display().to_string();
    let verify = |ca: &str, purpose: &str, base: &str| {
        openssl(&[
            "verify",
            "-x509_strict",
            "-no-CApath",
            "-no-CAstore",
            "-CAfile",
            &path(ca),
            "-purpose",
            purpose,
            &path(base),
        ])
        .unwrap()
    };
    // (CA, certificate, serverAuth, clientAuth)
    for (ca, base, server, client) in [
        ("ca", "apiserver", true, false),
        ("ca", "apiserver-kubelet-client", false, true),
        ("front-proxy-ca", "front-proxy-client", false, true),
        ("etcd/ca", "etcd/server", true, true),
        ("etcd/ca", "etcd/peer", true, true),
        ("etcd/ca", "etcd/healthcheck-client", false, true),
        ("etcd/ca", "apiserver-etcd-client", false, true),
    ] {
        for (purpose, ok) in [("sslserver", server), ("sslclient", client)] {
            let out = verify(ca, purpose, base);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let context = format!("{base} -purpose {purpose}:\n{stdout}\n{stderr}");
            if ok {
                assert!(out.status.success(), "{context}");
                assert_eq!(stdout.trim_end(), format!("{}: OK", path(base)), "{context}");
            } else {
                assert!(!out.status.success(), "{context}");
                assert!(
                    stderr.contains("error 26 at 0 depth lookup: unsuitable certificate purpose"),
                    "{context}"
                );
            }
        }
    }
}
