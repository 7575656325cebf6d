//! Shared helpers for the pki behaviour tests: running real peers (openssl).

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

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
