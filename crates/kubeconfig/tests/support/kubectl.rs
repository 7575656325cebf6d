//! Finding the real kubectl for cross-checks; shared by the kubeconfig and cli tests
//! (`#[path]`-included, so each test crate compiles its own copy).
//!
//! kubectl comes from `$KUBECTL`, else `PATH`. Without it a test says why and passes, except
//! under `CI=true`, where a missing kubectl fails it (`.ci/run` sets `KUBECTL`).

use std::path::PathBuf;
use std::process::Command;

/// The kubectl to compare with, or `None` (with a note on stderr) when there is none here.
pub(crate) fn kubectl() -> Option<PathBuf> {
    let candidate = std::env::var_os("KUBECTL").map_or_else(|| PathBuf::from("kubectl"), PathBuf::from);
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
