//! A `kubetrust testcp serve` child process per test, the `kubetrust` binary, the node flags
//! the tree commands share, and the real kubectl (the kubeconfig tests' finder: `$KUBECTL`,
//! else `kubectl` on `PATH`; without one a test says why and passes, except under `CI=true`).
#![allow(dead_code)] // Each test file uses its own part.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};

/// The node facts of the tree commands' tests, with a fast key algorithm.
pub(crate) const NODE: [&str; 6] = [
    "--node-name",
    "cp-1",
    "--advertise-address",
    "192.168.10.11",
    "--encryption-algorithm",
    "ECDSA-P256",
];

/// Runs `kubetrust args...` in `cwd`.
pub(crate) fn kubetrust(args: &[&str], cwd: &Path) -> Output {
    assert_cmd::Command::cargo_bin("kubetrust")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .output()
        .unwrap()
}

/// Runs `kubetrust args...` and returns (stdout, stderr), failing the test unless it exits 0.
pub(crate) fn ok(args: &[&str], cwd: &Path) -> (String, String) {
    let out = kubetrust(args, cwd);
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "{args:?}: {stderr}");
    (stdout, stderr)
}

/// Runs `kubetrust args...`, checks the exit code, and returns stderr.
pub(crate) fn fails(args: &[&str], cwd: &Path, code: i32) -> String {
    let out = kubetrust(args, cwd);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
    stderr
}

/// `kubetrust testcp serve` in a temp dir: `pki/`, `kube/admin.conf`, optionally `state/`.
pub(crate) struct Server {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) url: String,
    child: Option<Child>,
}

impl Server {
    /// A fresh control plane on an ephemeral port.
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (child, url) = spawn(dir.path(), &["--listen", "127.0.0.1:0"]);
        Self {
            dir,
            url,
            child: Some(child),
        }
    }

    /// `testcp serve` in `dir` with extra flags; returns the child and the URL line.
    pub(crate) fn start_in(dir: tempfile::TempDir, extra: &[&str]) -> Self {
        let (child, url) = spawn(dir.path(), extra);
        Self {
            dir,
            url,
            child: Some(child),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `kube/admin.conf`, relative to [`Server::path`].
    pub(crate) fn kubeconfig(&self) -> &'static str {
        "kube/admin.conf"
    }

    /// `host:port` of the URL.
    pub(crate) fn endpoint(&self) -> &str {
        self.url.strip_prefix("https://").unwrap()
    }

    /// Sends `signal` (`TERM`, `INT`) and waits for the exit.
    pub(crate) fn stop(&mut self, signal: &str) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        child.wait().unwrap()
    }

    /// Stops with SIGTERM and hands back the directory.
    pub(crate) fn into_dir(mut self) -> tempfile::TempDir {
        assert!(self.stop("TERM").success());
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(dir: &Path, extra: &[&str]) -> (Child, String) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("kubetrust"))
        .current_dir(dir)
        .args(["testcp", "serve", "--cert-dir", "pki", "--kubeconfig-dir", "kube"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    if line.is_empty() {
        let output = child.wait_with_output().unwrap();
        panic!(
            "testcp serve printed no URL ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    (child, line.trim_end().to_owned())
}

#[path = "../../../kubeconfig/tests/support/kubectl.rs"]
mod kubectl;
#[allow(unused_imports)] // Each test file uses its own part.
pub(crate) use kubectl::kubectl;

/// `kubectl --kubeconfig <server's admin.conf> args...`.
pub(crate) fn run_kubectl(kubectl: &Path, server: &Server, args: &[&str]) -> Output {
    Command::new(kubectl)
        .current_dir(server.path())
        .args(["--kubeconfig", server.kubeconfig()])
        .arg("--cache-dir")
        .arg(server.path().join("kubectl-cache"))
        .args(["--request-timeout=20s"])
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap()
}
