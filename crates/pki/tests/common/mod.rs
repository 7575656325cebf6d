//! Shared helpers for the pki behaviour tests: a control plane on disk, real peers (openssl,
//! kubectl).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use kubetrust_pki::kubeconfigs::{self, KUBECONFIG_FILES};
use kubetrust_pki::tree::{self, TreeConfig};
use kubetrust_pki::{Dirs, Error};

/// Runs `openssl` with `args`; `None` (with a note) when openssl is missing outside CI.
pub(crate) fn openssl(args: &[&str]) -> Option<std::process::Output> {
    match Command::new("openssl").args(args).output() {
        Ok(out) => Some(out),
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "openssl is required under CI: {e}"
            );
            eprintln!("skipping openssl check: {e}");
            None
        }
    }
}

/// `openssl` output as text, asserting success.
pub(crate) fn openssl_ok(args: &[&str]) -> Option<String> {
    let out = openssl(args)?;
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The mode bits of a file.
pub(crate) fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

pub(crate) mod etcd;
mod process;
#[allow(unused_imports)] // only the tests that run child processes use them
pub(crate) use process::{Finished, Reaped};

#[path = "../../../kubeconfig/tests/support/kubectl.rs"]
mod kubectl_finder;
#[allow(unused_imports)] // not every test binary cross-checks with kubectl
pub(crate) use kubectl_finder::kubectl;

/// `kubectl --kubeconfig <file> config view --raw -o jsonpath=<path>`.
pub(crate) fn kubectl_jsonpath(kubectl: &Path, file: &Path, jsonpath: &str) -> String {
    let out = Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(file)
        .args(["config", "view", "--raw", "-o", &format!("jsonpath={jsonpath}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A control plane's PKI under `dir`: the tree in `pki/`, the kubeconfig files in `kube/`.
pub(crate) fn control_plane(dir: &Path, config: &TreeConfig) -> Dirs {
    let dirs = Dirs::new(dir.join("pki"), dir.join("kube"));
    tree::create(&dirs.cert_dir, config, SystemTime::now()).unwrap();
    write_kubeconfigs(&dirs, config).unwrap();
    dirs
}

/// `kubeconfigs::create` of every kubeadm kubeconfig file, now.
pub(crate) fn write_kubeconfigs(
    dirs: &Dirs,
    config: &TreeConfig,
) -> Result<Vec<kubeconfigs::KubeconfigPlanItem>, Error> {
    kubeconfigs::create(dirs, config, &KUBECONFIG_FILES, SystemTime::now())
}
