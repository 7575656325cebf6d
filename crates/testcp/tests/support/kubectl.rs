//! Running the real kubectl against a control plane: found through `$KUBECTL`, else
//! `kubectl.1.32` beside the resolved `kubectl` (gcloud's dispatcher directory), else `kubectl`
//! on `PATH`. Without one a test says why and passes, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubetrust_testcp::TestControlPlane;

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn candidate() -> Option<PathBuf> {
    if let Some(explicit) = std::env::var_os("KUBECTL") {
        return Some(PathBuf::from(explicit));
    }
    let kubectl = on_path("kubectl")?;
    let resolved = std::fs::canonicalize(&kubectl).ok();
    let versioned = resolved
        .as_deref()
        .and_then(Path::parent)
        .map(|dir| dir.join("kubectl.1.32"))
        .filter(|p| p.is_file());
    Some(versioned.unwrap_or(kubectl))
}

/// The kubectl to test with, or `None` (with a note) when there is none here.
pub(crate) fn find() -> Option<PathBuf> {
    let found = candidate().filter(|k| {
        Command::new(k)
            .args(["version", "--client"])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "kubectl is required under CI=true"
        );
        eprintln!("skipping: no kubectl (set KUBECTL, or put kubectl on PATH)");
    }
    found
}

/// kubectl bound to one control plane's admin kubeconfig, with its own discovery cache.
pub(crate) struct Kubectl {
    binary: PathBuf,
    dir: tempfile::TempDir,
}

impl Kubectl {
    /// kubectl for `plane`, or `None` when there is no kubectl.
    pub(crate) fn new(plane: &TestControlPlane) -> Option<Self> {
        let binary = find()?;
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
