//! A real etcd for tests (Debian's `etcd-server` and `etcd-client`): members started on free
//! loopback ports from kubeadm trees, with client and peer mutual TLS, killed when dropped; every
//! wait has a deadline, so a misbehaving etcd fails the test instead of hanging it. Shared by the
//! pki tests and the root package's control-plane join test (which `#[path]`-includes it beside
//! `process.rs`).

#![allow(dead_code, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::process::{Finished, Reaped};

/// How long a cluster may take to become healthy (a single member takes about a second).
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(20);
/// The deadline for one etcdctl or openssl run; etcdctl's own timeouts (below) end it sooner.
pub(crate) const RUN_TIMEOUT: Duration = Duration::from_secs(15);
/// etcdctl's own timeouts: a refused client fails after about this long.
pub(crate) const ETCDCTL_TIMEOUTS: [&str; 2] = ["--dial-timeout=2s", "--command-timeout=3s"];

// --- tools ----------------------------------------------------------------------------------

/// True when `etcd` and `etcdctl` run. When they don't: a note and `false` on a laptop, a panic
/// naming the packages under `CI=true`.
pub(crate) fn etcd_available() -> bool {
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
pub(crate) fn clean_env(cmd: &mut Command) {
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
pub(crate) struct Running {
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
pub(crate) fn spawn(cmd: &mut Command, stdin: &[u8]) -> Running {
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
    pub(crate) fn finish(self, timeout: Duration) -> Finished {
        self.finish_when(timeout, |_| false)
    }

    /// Like [`Running::finish`], but kills the command as soon as its stdout so far satisfies
    /// `done` (for a server that keeps a finished connection open); the status is then the
    /// kill's.
    pub(crate) fn finish_when(mut self, timeout: Duration, done: impl Fn(&str) -> bool) -> Finished {
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
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) pki: PathBuf,
    pub(crate) client_url: String,
    pub(crate) peer_url: String,
    pub(crate) log: PathBuf,
    child: Reaped,
}

impl Member {
    /// etcdctl against this member, trusting its etcd CA, authenticating as `client` (a base
    /// name in `client_pki`), or with no client certificate.
    pub(crate) fn etcdctl(&self, client: Option<(&Path, &str)>, args: &[&str]) -> Command {
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
    pub(crate) fn health(&self) -> Finished {
        let client = Some((self.pki.as_path(), "etcd/healthcheck-client"));
        spawn(&mut self.etcdctl(client, &["endpoint", "health"]), b"").finish(RUN_TIMEOUT)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// The log once it contains `needle` (etcd may log a refusal after the client has given
    /// up); panics with the log after a few seconds without it.
    pub(crate) fn log_with(&self, needle: &str) -> String {
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
pub(crate) fn start_cluster(work: &Path, nodes: &[(&str, &Path)]) -> Vec<Member> {
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

/// Asserts that a key written through `a` (with `a_pki`'s apiserver-etcd-client) is read through
/// `b` (with `b_pki`'s) by a linearizable read: raft carried it over the peer connection,
/// authenticated both ways by the two nodes' etcd/peer certificates.
pub(crate) fn assert_replicates(a: &Member, a_pki: &Path, b: &Member, b_pki: &Path) {
    const KEY: &str = "/kubetrust/replicated";
    const VALUE: &str = "written-with-the-kubeadm-apiserver-etcd-client";
    let out = spawn(
        &mut a.etcdctl(Some((a_pki, "apiserver-etcd-client")), &["put", KEY, VALUE]),
        b"",
    )
    .finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    let out = spawn(
        &mut b.etcdctl(
            Some((b_pki, "apiserver-etcd-client")),
            &["get", "--consistency=l", KEY],
        ),
        b"",
    )
    .finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout, format!("{KEY}\n{VALUE}\n"), "{out}");
    // A refusal names its TLS error; `EOF` is a peer that hung up mid-handshake (its dial timed
    // out on a loaded machine), not a certificate refused.
    for member in [a, b] {
        let log = member.log();
        let refused: Vec<&str> = log
            .lines()
            .filter(|line| line.contains("rejected connection") && !line.contains("EOF"))
            .collect();
        assert!(
            refused.is_empty(),
            "no peer was refused by {}:\n{log}",
            member.name
        );
    }
}
