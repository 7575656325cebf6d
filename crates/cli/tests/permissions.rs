//! File permissions: a read-only directory and an unreadable key get errors naming the path and
//! the operating system's reason, and nothing is half written.
//!
//! Root ignores file modes, so as root (CI) each command runs as `nobody` through `setpriv`
//! (util-linux); otherwise it runs as the current user, whom the modes below already stop.
// A test fails by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const NODE: [&str; 6] = [
    "--node-name",
    "cp-1",
    "--advertise-address",
    "10.0.0.1",
    "--encryption-algorithm",
    "ECDSA-P256",
];

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// Runs `kubetrust` as a user the modes apply to; `None` (test skipped) when that is impossible
/// here, which under `CI=true` is a failure. The binary is copied into `dir` first: `nobody`
/// may not be able to reach the build directory (a checkout under `/root`, say).
fn kubetrust_unprivileged(dir: &Path, args: &[&str]) -> Option<Output> {
    let bin = dir.join("kubetrust");
    std::fs::copy(assert_cmd::cargo::cargo_bin("kubetrust"), &bin).unwrap();
    chmod(&bin, 0o755);
    let mut command = if is_root() {
        if Command::new("setpriv").arg("--version").output().is_err() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "setpriv (util-linux) is needed as root"
            );
            eprintln!("skipped: running as root without setpriv, so file modes cannot be tested");
            return None;
        }
        let mut command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(bin);
        command
    } else {
        Command::new(bin)
    };
    Some(command.args(args).output().unwrap())
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A scratch directory the unprivileged user can enter (tempdirs are 0700).
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    chmod(dir.path(), 0o755);
    dir
}

/// A complete tree made as the current user, with every key readable by anyone so that only
/// the mode the test sets afterwards stops the unprivileged run.
fn tree(dir: &Path) -> std::path::PathBuf {
    let pki = dir.join("pki");
    let mut args = vec!["certs", "init", "--cert-dir", pki.to_str().unwrap()];
    args.extend(NODE);
    let out = Command::new(assert_cmd::cargo::cargo_bin("kubetrust"))
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for entry in walk(&pki) {
        chmod(&entry, if entry.is_dir() { 0o755 } else { 0o644 });
    }
    pki
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

fn failed_with(out: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for word in words {
        assert!(stderr.contains(word), "{word:?} missing from: {stderr}");
    }
}

#[test]
fn init_in_a_read_only_directory_names_it_and_writes_nothing() {
    let dir = scratch();
    let pki = dir.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    chmod(&pki, 0o555);
    let mut args = vec!["certs", "init", "--cert-dir", pki.to_str().unwrap()];
    args.extend(NODE);
    let Some(out) = kubetrust_unprivileged(dir.path(), &args) else {
        return;
    };
    failed_with(&out, &[pki.to_str().unwrap(), "Permission denied"]);
    assert!(walk(&pki).is_empty(), "nothing written");
}

#[test]
fn renewal_in_a_read_only_directory_keeps_the_old_certificate() {
    let dir = scratch();
    let pki = tree(dir.path());
    let before = std::fs::read(pki.join("apiserver.crt")).unwrap();
    let files = walk(&pki).len();
    chmod(&pki, 0o555);
    let kubeconfig_dir = dir.path().join("kube");
    let args = [
        "certs",
        "renew",
        "apiserver",
        "--cert-dir",
        pki.to_str().unwrap(),
        "--kubeconfig-dir",
        kubeconfig_dir.to_str().unwrap(),
    ];
    let Some(out) = kubetrust_unprivileged(dir.path(), &args) else {
        return;
    };
    failed_with(&out, &["apiserver", "Permission denied"]);
    assert_eq!(std::fs::read(pki.join("apiserver.crt")).unwrap(), before);
    assert_eq!(walk(&pki).len(), files, "no temporary file left behind");
}

#[test]
fn an_unreadable_key_is_named_and_nothing_is_written() {
    let dir = scratch();
    let pki = tree(dir.path());
    let key = pki.join("apiserver.key");
    chmod(&key, 0o000);
    std::fs::remove_file(pki.join("front-proxy-client.crt")).unwrap();
    let mut args = vec!["certs", "init", "--cert-dir", pki.to_str().unwrap()];
    args.extend(NODE);
    let Some(out) = kubetrust_unprivileged(dir.path(), &args) else {
        return;
    };
    failed_with(&out, &[key.to_str().unwrap(), "Permission denied"]);
    assert!(
        !pki.join("front-proxy-client.crt").exists(),
        "a refused tree gets no new file either"
    );
}
