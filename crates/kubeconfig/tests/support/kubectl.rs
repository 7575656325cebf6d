//! Finding the real kubectl for cross-checks; shared by the kubeconfig, pki, testcp and cli
//! tests (`#[path]`-included, so each test crate compiles its own copy).
//!
//! kubectl comes from `$KUBECTL`, else `kubectl.1.32` beside the resolved `kubectl` on `PATH`
//! (these machines' `/usr/bin/kubectl` is a dispatcher that first asks the kubeconfig's server
//! for its version, with a 3 s timeout), else `kubectl` on `PATH`. Without one a test says why
//! and passes, except under `CI=true`, where a missing kubectl fails it (`.ci/run` sets
//! `KUBECTL`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn candidate() -> PathBuf {
    if let Some(explicit) = std::env::var_os("KUBECTL") {
        return PathBuf::from(explicit);
    }
    let Some(kubectl) = on_path("kubectl") else {
        return PathBuf::from("kubectl");
    };
    std::fs::canonicalize(&kubectl)
        .ok()
        .as_deref()
        .and_then(Path::parent)
        .map(|dir| dir.join("kubectl.1.32"))
        .filter(|versioned| versioned.is_file())
        .unwrap_or(kubectl)
}

/// The kubectl to compare with, or `None` (with a note on stderr) when there is none here.
pub(crate) fn kubectl() -> Option<PathBuf> {
    let candidate = candidate();
    match Command::new(&candidate).args(["version", "--client"]).output() {
        Ok(out) if out.status.success() => Some(candidate),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "kubectl ({}) is required under CI=true; .ci/run sets KUBECTL",
                candidate.display()
            )
        }
        _ => {
            eprintln!("skipping: kubectl not found (set KUBECTL or PATH)");
            None
        }
    }
}
