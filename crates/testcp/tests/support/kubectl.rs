//! Running the real kubectl against a control plane, found by the kubeconfig tests' finder.

use std::path::PathBuf;
use std::process::{Command, Output};

use kubetrust_testcp::TestControlPlane;

#[path = "../../../kubeconfig/tests/support/kubectl.rs"]
pub(crate) mod finder;

/// kubectl bound to one control plane's admin kubeconfig, with its own discovery cache.
pub(crate) struct Kubectl {
    binary: PathBuf,
    dir: tempfile::TempDir,
}

impl Kubectl {
    /// kubectl for `plane`, or `None` when there is no kubectl.
    pub(crate) fn new(plane: &TestControlPlane) -> Option<Self> {
        let binary = finder::kubectl()?;
        let dir = tempfile::tempdir().unwrap();
        plane
            .admin_kubeconfig()
            .save(dir.path().join("admin.conf"))
            .unwrap();
        Some(Self { binary, dir })
    }

    /// The command `kubectl args...` with this kubeconfig and cache.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .arg("--kubeconfig")
            .arg(self.dir.path().join("admin.conf"))
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG");
        command
    }

    /// Runs `kubectl args...` (off the async runtime's threads) and returns its output.
    pub(crate) async fn run(&self, args: &[&str]) -> Output {
        let mut command = self.command(args);
        command.arg("--request-timeout=20s");
        tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap()
    }

    /// Runs kubectl and returns stdout, failing the test with stderr when it exits non-zero.
    pub(crate) async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }
}
