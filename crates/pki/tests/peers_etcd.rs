//! The kubeadm etcd certificates in a real etcd (Debian's `etcd-server` and `etcd-client`):
//! etcd serves `etcd/server` and `etcd/peer` with client-certificate authentication against
//! `etcd/ca`; `etcdctl` connects as `etcd/healthcheck-client` and `apiserver-etcd-client`;
//! another cluster's certificates and a client without one are refused; two members, the second
//! with its own tree signed by the shared etcd CA (what `kubeadm join --control-plane` makes),
//! replicate over peer mutual TLS.
//!
//! Every etcd is killed when its guard drops (also on panic) and every wait has a deadline, so a
//! misbehaving etcd fails the test instead of hanging it.

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
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use kubetrust_pki::KeyAlgorithm;
use kubetrust_pki::tree::{self, TreeConfig};

/// How long a cluster may take to become healthy (a single member takes about a second).
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// The deadline for one etcdctl or openssl run; etcdctl's own timeouts (below) end it sooner.
const RUN_TIMEOUT: Duration = Duration::from_secs(15);
/// etcdctl's own timeouts: a refused client fails after about this long.
const ETCDCTL_TIMEOUTS: [&str; 2] = ["--dial-timeout=2s", "--command-timeout=3s"];
const KEY: &str = "/kubetrust/peers-etcd";
const VALUE: &str = "written-with-the-kubeadm-apiserver-etcd-client";

// --- tools ----------------------------------------------------------------------------------

/// True when `etcd` and `etcdctl` run. When they don't: a note and `false` on a laptop, a panic
/// naming the packages under `CI=true`.
fn etcd_available() -> bool {
    let missing: Vec<&str> = [("etcd", "--version"), ("etcdctl", "version")]
        .into_iter()
        .filter(|(tool, arg)| {
            let mut cmd = Command::new(tool);
            clean_env(&mut cmd);
            cmd.arg(arg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_or(true, |status| !status.success())
        })
        .map(|(tool, _)| tool)
        .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{} not found on PATH; install the Debian packages etcd-server (etcd) and etcd-client \
         (etcdctl): apt-get install etcd-server etcd-client",
        missing.join(" and ")
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "etcd is required under CI=true: {why}"
    );
    eprintln!("skipping the etcd checks: {why}");
    false
}

/// Keeps the caller's etcd/etcdctl settings and proxies out of the children: etcd reads every
/// `ETCD_*` variable as a flag, etcdctl every `ETCDCTL_*` one, and gRPC honours proxies.
fn clean_env(cmd: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name_str = name.to_string_lossy();
        let upper = name_str.to_ascii_uppercase();
        let etcd = upper.starts_with("ETCD") && upper != "ETCD_UNSUPPORTED_ARCH";
        if etcd || upper.ends_with("_PROXY") {
            cmd.env_remove(&name);
        }
    }
    cmd.env("ETCDCTL_API", "3");
}

// --- processes with guards and deadlines ----------------------------------------------------

/// A started command whose output is drained on threads (so it never blocks on a full pipe).
struct Running {
    what: String,
    child: Reaped,
    stdout: Drain,
    stderr: Drain,
}

/// A pipe read to its end on a thread, into a buffer the test can look at meanwhile.
struct Drain {
    buf: Arc<Mutex<Vec<u8>>>,
    thread: JoinHandle<()>,
}

impl Drain {
    fn start(pipe: Option<impl Read + Send + 'static>) -> Drain {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        let thread = std::thread::spawn(move || {
            let Some(mut pipe) = pipe else { return };
            let mut chunk = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Drain { buf, thread }
    }

    /// What was read so far.
    fn peek(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// Everything, once the pipe has closed.
    fn finish(self) -> String {
        let Drain { buf, thread } = self;
        thread.join().unwrap();
        String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
    }
}

/// Starts `cmd` with `stdin` as its whole input.
fn spawn(cmd: &mut Command, stdin: &[u8]) -> Running {
    let what = format!("{cmd:?}");
    let mut child = Reaped(
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}")),
    );
    let stdout = Drain::start(child.0.stdout.take());
    let stderr = Drain::start(child.0.stderr.take());
    if let Some(mut pipe) = child.0.stdin.take() {
        // Small enough for the pipe buffer; a child that exited early is not an error here.
        let _ = pipe.write_all(stdin);
    } // dropping the pipe closes the child's stdin
    Running {
        what,
        child,
        stdout,
        stderr,
    }
}

impl Running {
    /// Waits for the command; kills it and panics after `timeout`.
    fn finish(self, timeout: Duration) -> Finished {
        self.finish_when(timeout, |_| false)
    }

    /// Like [`Running::finish`], but kills the command as soon as its stdout so far satisfies
    /// `done` (for a server that keeps a finished connection open); the status is then the
    /// kill's.
    fn finish_when(mut self, timeout: Duration, done: impl Fn(&str) -> bool) -> Finished {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.0.try_wait().unwrap() {
                break status;
            }
            if done(&self.stdout.peek()) {
                let _ = self.child.0.kill();
                break self.child.0.wait().unwrap();
            }
            if Instant::now() > deadline {
                drop(self.child); // kill, so the pipes close and the drains finish
                panic!(
                    "{} did not finish within {timeout:?}; output so far:\n{}\n{}",
                    self.what,
                    self.stdout.finish(),
                    self.stderr.finish()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Finished {
            status,
            stdout: self.stdout.finish(),
            stderr: self.stderr.finish(),
        }
    }
}

// --- etcd -----------------------------------------------------------------------------------

/// One running etcd member; killed on drop.
struct Member {
    name: String,
    pki: PathBuf,
    client_url: String,
    peer_url: String,
    log: PathBuf,
    child: Reaped,
}

impl Member {
    /// etcdctl against this member, trusting its etcd CA, authenticating as `client` (a base
    /// name in `client_pki`), or with no client certificate.
    fn etcdctl(&self, client: Option<(&Path, &str)>, args: &[&str]) -> Command {
        let mut cmd = Command::new("etcdctl");
        clean_env(&mut cmd);
        cmd.arg(format!("--endpoints={}", self.client_url))
            .arg(format!("--cacert={}", self.pki.join("etcd/ca.crt").display()))
            .args(ETCDCTL_TIMEOUTS);
        if let Some((pki, base)) = client {
            cmd.arg(format!("--cert={}", pki.join(format!("{base}.crt")).display()))
                .arg(format!("--key={}", pki.join(format!("{base}.key")).display()));
        }
        cmd.args(args);
        cmd
    }

    /// `etcdctl endpoint health` as this member's own healthcheck client.
    fn health(&self) -> Finished {
        let client = Some((self.pki.as_path(), "etcd/healthcheck-client"));
        spawn(&mut self.etcdctl(client, &["endpoint", "health"]), b"").finish(RUN_TIMEOUT)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The log once it contains `needle` (etcd may log a refusal after the client has given
    /// up); panics with the log after a few seconds without it.
    fn log_with(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "etcd {} never logged {needle:?}:\n{log}",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts one etcd member per `(node name, tree)` on 127.0.0.1 with free ports, as one new
/// cluster, and waits until every member reports healthy. Retries with other ports if one was
/// taken between choosing and binding it.
fn start_cluster(work: &Path, nodes: &[(&str, &Path)]) -> Vec<Member> {
    for attempt in 0..3 {
        // Hold all listeners at once so the ports are distinct, then free them for etcd.
        let listeners: Vec<TcpListener> = (0..2 * nodes.len())
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports: Vec<u16> = listeners.iter().map(|l| l.local_addr().unwrap().port()).collect();
        drop(listeners);
        let urls: Vec<(String, String)> = ports
            .chunks(2)
            .map(|p| {
                (
                    format!("https://127.0.0.1:{}", p[0]),
                    format!("https://127.0.0.1:{}", p[1]),
                )
            })
            .collect();
        let initial_cluster = nodes
            .iter()
            .zip(&urls)
            .map(|((name, _), (_, peer))| format!("{name}={peer}"))
            .collect::<Vec<_>>()
            .join(",");

        let mut members: Vec<Member> = nodes
            .iter()
            .zip(urls)
            .map(|(&(name, pki), (client_url, peer_url))| {
                let log = work.join(format!("etcd-{name}-{attempt}.log"));
                let file = std::fs::File::create(&log).unwrap();
                let etc = |base: &str| pki.join("etcd").join(base).display().to_string();
                let mut cmd = Command::new("etcd");
                clean_env(&mut cmd);
                cmd.arg(format!("--name={name}"))
                    .arg(format!(
                        "--data-dir={}",
                        work.join(format!("data-{name}-{attempt}")).display()
                    ))
                    .arg(format!("--cert-file={}", etc("server.crt")))
                    .arg(format!("--key-file={}", etc("server.key")))
                    .arg("--client-cert-auth")
                    .arg(format!("--trusted-ca-file={}", etc("ca.crt")))
                    .arg(format!("--peer-cert-file={}", etc("peer.crt")))
                    .arg(format!("--peer-key-file={}", etc("peer.key")))
                    .arg("--peer-client-cert-auth")
                    .arg(format!("--peer-trusted-ca-file={}", etc("ca.crt")))
                    .arg(format!("--listen-client-urls={client_url}"))
                    .arg(format!("--advertise-client-urls={client_url}"))
                    .arg(format!("--listen-peer-urls={peer_url}"))
                    .arg(format!("--initial-advertise-peer-urls={peer_url}"))
                    .arg(format!("--initial-cluster={initial_cluster}"))
                    .arg("--initial-cluster-state=new")
                    .stdin(Stdio::null())
                    .stdout(file.try_clone().unwrap())
                    .stderr(file);
                Member {
                    name: name.to_owned(),
                    pki: pki.to_owned(),
                    client_url,
                    peer_url,
                    log,
                    child: Reaped(cmd.spawn().unwrap()),
                }
            })
            .collect();

        match wait_healthy(&mut members) {
            Ok(()) => return members,
            Err(log) if attempt < 2 && log.contains("address already in use") => continue,
            Err(log) => panic!("etcd did not start:\n{log}"),
        }
    }
    unreachable!()
}

/// Waits until every member answers `endpoint health` as healthy; `Err(log)` when a member
/// exited, a panic when the deadline passes.
fn wait_healthy(members: &mut [Member]) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    let mut next = 0;
    while next < members.len() {
        for member in members.iter_mut() {
            if let Some(status) = member.child.0.try_wait().unwrap() {
                return Err(format!(
                    "etcd {} exited ({status}):\n{}",
                    member.name,
                    member.log()
                ));
            }
        }
        let member = &members[next];
        let out = member.health();
        if out.status.success() {
            next += 1;
            continue;
        }
        assert!(
            Instant::now() < deadline,
            "etcd {} not healthy within {START_TIMEOUT:?}; last check: {out}\n{}",
            member.name,
            member.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

// --- trees ----------------------------------------------------------------------------------

/// A fresh kubeadm tree for `node` at 127.0.0.1 in `dir/name`.
fn tree(dir: &Path, name: &str, node: &str, algorithm: KeyAlgorithm) -> PathBuf {
    let pki = dir.join(name);
    let config = TreeConfig::new(node, "127.0.0.1".parse().unwrap()).with_encryption_algorithm(algorithm);
    tree::create(&pki, &config, SystemTime::now()).unwrap();
    pki
}

// --- tests ----------------------------------------------------------------------------------

#[test]
fn etcd_serves_the_kubeadm_tree_under_mutual_tls() {
    if !etcd_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // kubeadm's default algorithm, for both clusters: the refusals below are about trust only.
    let (pki, other) = std::thread::scope(|s| {
        let other = s.spawn(|| tree(work.path(), "other", "cp-1", KeyAlgorithm::Rsa2048));
        let pki = tree(work.path(), "cluster", "cp-1", KeyAlgorithm::Rsa2048);
        (pki, other.join().unwrap())
    });
    let members = start_cluster(work.path(), &[("cp-1", &pki)]);
    let etcd = &members[0];

    // The healthcheck client (kubeadm's liveness probe identity).
    let out = etcd.health();
    assert!(out.status.success(), "{out}");
    assert!(
        out.text().contains(&format!(
            "{} is healthy: successfully committed proposal",
            etcd.client_url
        )),
        "{out}"
    );

    // The apiserver's etcd client writes and reads.
    let apiserver = Some((pki.as_path(), "apiserver-etcd-client"));
    let out = spawn(&mut etcd.etcdctl(apiserver, &["put", KEY, VALUE]), b"").finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout, "OK\n", "{out}");
    let out = spawn(&mut etcd.etcdctl(apiserver, &["get", KEY]), b"").finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout, format!("{KEY}\n{VALUE}\n"), "{out}");

    // Refusals, run side by side (each waits out etcdctl's command timeout).
    let refused = [
        (
            "client certificate from another cluster's etcd CA",
            spawn(
                &mut etcd.etcdctl(Some((other.as_path(), "apiserver-etcd-client")), &["get", KEY]),
                b"",
            ),
        ),
        (
            "healthcheck client from another cluster's etcd CA",
            spawn(
                &mut etcd.etcdctl(
                    Some((other.as_path(), "etcd/healthcheck-client")),
                    &["endpoint", "health"],
                ),
                b"",
            ),
        ),
        (
            "no client certificate",
            spawn(&mut etcd.etcdctl(None, &["get", KEY]), b""),
        ),
        (
            "client trusting another cluster's etcd CA",
            spawn(
                etcd.etcdctl(apiserver, &["get", KEY])
                    .arg(format!("--cacert={}", other.join("etcd/ca.crt").display())),
                b"",
            ),
        ),
    ];
    for (what, running) in refused {
        let out = running.finish(RUN_TIMEOUT);
        assert!(!out.status.success(), "{what}: {out}");
        assert!(!out.stdout.contains(VALUE), "{what}: {out}");
        assert!(out.stderr.contains("context deadline exceeded"), "{what}: {out}");
    }
    // etcd says why, in Go's words.
    etcd.log_with("certificate signed by unknown authority");
    etcd.log_with("tls: client didn't provide a certificate");
    etcd.log_with("remote error: tls: bad certificate");

    // The peer listener: it serves etcd/peer (checked by openssl against the SANs) and accepts
    // a peer's certificate from its etcd CA only.
    if common::openssl(&["version"]).is_none() {
        return;
    }
    let members_json = format!(
        "\"peerURLs\":[\"{}\"],\"name\":\"cp-1\",\"clientURLs\":[\"{}\"]}}]",
        etcd.peer_url, etcd.client_url
    );
    let peer_get = |client_pki: &Path| {
        let mut cmd = Command::new("openssl");
        cmd.arg("s_client")
            .arg("-connect")
            .arg(etcd.peer_url.trim_start_matches("https://"))
            .arg("-CAfile")
            .arg(pki.join("etcd/ca.crt"))
            .arg("-cert")
            .arg(client_pki.join("etcd/peer.crt"))
            .arg("-key")
            .arg(client_pki.join("etcd/peer.key"))
            .args(["-no-CApath", "-no-CAstore", "-verify_return_error", "-ign_eof"])
            .args(["-verify_hostname", "cp-1", "-verify_ip", "127.0.0.1"]);
        // etcd's peer listener often keeps the connection open after the response until its
        // 5 s read timeout, so s_client is stopped once the member list has arrived.
        spawn(&mut cmd, b"GET /members HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .finish_when(RUN_TIMEOUT, |stdout| stdout.contains(&members_json))
    };
    let out = peer_get(&pki);
    assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.stdout.contains("HTTP/1.0 200 OK"), "{out}");
    assert!(out.stdout.contains(&members_json), "{out}");
    let out = peer_get(&other);
    assert!(!out.status.success(), "{out}");
    assert!(out.stderr.contains("alert bad certificate"), "{out}");
    assert!(!out.stdout.contains("200 OK"), "{out}");
}

#[test]
fn two_members_with_a_shared_etcd_ca_replicate_over_peer_tls() {
    if !etcd_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let cp1 = tree(work.path(), "cp-1", "cp-1", KeyAlgorithm::EcdsaP256);
    // The second control-plane node: the etcd CA copied over, as `kubeadm join
    // --control-plane` has it, then its own leaves.
    let cp2 = work.path().join("cp-2");
    std::fs::create_dir_all(cp2.join("etcd")).unwrap();
    for file in ["etcd/ca.crt", "etcd/ca.key"] {
        std::fs::copy(cp1.join(file), cp2.join(file)).unwrap();
    }
    let config = TreeConfig::new("cp-2", "127.0.0.1".parse().unwrap())
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    tree::create(&cp2, &config, SystemTime::now()).unwrap();
    assert_eq!(
        std::fs::read(cp1.join("etcd/ca.crt")).unwrap(),
        std::fs::read(cp2.join("etcd/ca.crt")).unwrap(),
        "the etcd CA was reused"
    );
    assert_ne!(
        std::fs::read(cp1.join("etcd/peer.crt")).unwrap(),
        std::fs::read(cp2.join("etcd/peer.crt")).unwrap()
    );

    let members = start_cluster(work.path(), &[("cp-1", &cp1), ("cp-2", &cp2)]);
    let (m1, m2) = (&members[0], &members[1]);

    let out = spawn(
        &mut m2.etcdctl(Some((&cp2, "apiserver-etcd-client")), &["member", "list"]),
        b"",
    )
    .finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout.lines().count(), 2, "{out}");
    for m in &members {
        assert!(
            out.stdout.contains(&format!(
                "started, {}, {}, {}, false",
                m.name, m.peer_url, m.client_url
            )),
            "{out}"
        );
    }

    let client = Some((cp1.as_path(), "etcd/healthcheck-client"));
    let out = spawn(&mut m1.etcdctl(client, &["endpoint", "health", "--cluster"]), b"").finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    for m in &members {
        assert!(
            out.text().contains(&format!("{} is healthy", m.client_url)),
            "{out}"
        );
    }

    // Written through cp-1 by cp-1's apiserver, read from cp-2 by cp-2's: raft carried it over
    // the peer connection, authenticated both ways by the two nodes' etcd/peer certificates.
    let out = spawn(
        &mut m1.etcdctl(Some((&cp1, "apiserver-etcd-client")), &["put", KEY, VALUE]),
        b"",
    )
    .finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    let out = spawn(
        &mut m2.etcdctl(
            Some((&cp2, "apiserver-etcd-client")),
            &["get", "--consistency=l", KEY],
        ),
        b"",
    )
    .finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout, format!("{KEY}\n{VALUE}\n"), "{out}");
    for m in &members {
        let log = m.log();
        assert!(
            !log.contains("rejected connection"),
            "no peer was refused by {}:\n{log}",
            m.name
        );
    }
}
