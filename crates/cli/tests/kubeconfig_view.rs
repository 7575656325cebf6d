//! `kubetrust kubeconfig view`: output, flags, exit codes; and the real `kubectl config view`
//! on the same files, for every combination of `--minify`, `--flatten`, `--raw` and `-o`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "../../kubeconfig/tests/support/kubectl.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kubeconfig")
        .join(name)
}

fn kubetrust() -> Command {
    let mut cmd = Command::cargo_bin("kubetrust").unwrap();
    cmd.env_remove("KUBECONFIG");
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn view_redacts_secrets_like_kubectl() {
    let out = stdout_of(
        kubetrust()
            .args(["kubeconfig", "view", "--kubeconfig"])
            .arg(testdata("full-schema-example.conf")),
    );
    assert_eq!(
        out,
        std::fs::read_to_string(testdata("full-schema-view.yaml")).unwrap()
    );
}

#[test]
fn raw_shows_data_and_json_is_parseable() {
    let out = stdout_of(
        kubetrust()
            .args(["kubeconfig", "view", "--raw", "-o", "json", "--kubeconfig"])
            .arg(testdata("bootstrap-kubelet.conf")),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["users"][0]["user"]["token"], "abcdef.0123456789abcdef");
    assert!(
        json["clusters"][0]["cluster"]["certificate-authority-data"]
            .as_str()
            .unwrap()
            .starts_with("LS0tLS1CRUdJTi")
    );
}

#[test]
fn minify_with_context_and_kubeconfig_env_list() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    std::fs::write(&first, "current-context: lab\n").unwrap();
    let list = std::env::join_paths([first, testdata("rich.yaml")]).unwrap();
    let out = stdout_of(
        kubetrust()
            .args(["kubeconfig", "view", "--minify", "-o", "json"])
            .env("KUBECONFIG", list),
    );
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        json["current-context"], "lab",
        "the first file's current-context wins"
    );
    assert_eq!(json["contexts"].as_array().unwrap().len(), 1);
    assert_eq!(json["users"][0]["user"]["token"], "REDACTED");

    let out = stdout_of(
        kubetrust()
            .args([
                "kubeconfig",
                "view",
                "--minify",
                "--context",
                "files",
                "--kubeconfig",
            ])
            .arg(testdata("rich.yaml")),
    );
    assert!(out.contains("current-context: files\n"), "{out}");
}

#[test]
fn a_missing_file_shows_an_empty_config_with_a_warning() {
    let out = kubetrust()
        .args(["kubeconfig", "view", "--kubeconfig", "/nonexistent/config"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: null\n"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: kubeconfig not found"));
}

#[test]
fn bad_input_exits_1_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "users: [{name: u, user: {client-key-data: 'ab!c'}}]\n").unwrap();
    let out = kubetrust()
        .args(["kubeconfig", "view", "--kubeconfig"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("users[0].user.client-key-data") && stderr.contains("bad.conf"),
        "{stderr}"
    );

    let out = kubetrust()
        .args([
            "kubeconfig",
            "view",
            "--minify",
            "--context",
            "nope",
            "--kubeconfig",
        ])
        .arg(testdata("rich.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("context \"nope\" not found"));

    let out = kubetrust()
        .args(["kubeconfig", "view", "--kubeconfig"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a directory"));
}

#[test]
fn usage_errors_exit_2() {
    let out = kubetrust()
        .args(["kubeconfig", "view", "-o", "xml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = kubetrust().args(["kubeconfig", "frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

// --- the real kubectl on the same files ----------------------------------------------------

/// Where the fixtures are; both commands run here, with relative `--kubeconfig` paths.
fn view_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kubeconfig-view")
}

/// Where a kubeconfig comes from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// `--kubeconfig <path>`, relative to the fixtures.
    File(&'a str),
    /// `KUBECONFIG=<list>` (paths relative to the fixtures), no `--kubeconfig`.
    Env(&'a str),
}

/// One kubeconfig, one `--context` (or none), and where `--minify` and `--flatten` must fail:
/// the names our message must hold, empty when it must succeed.
struct Case<'a> {
    source: Source<'a>,
    context: Option<&'static str>,
    minify_fails_on: &'static [&'static str],
    flatten_fails_on: &'static [&'static str],
    minified_flatten_fails_on: &'static [&'static str],
}

impl<'a> Case<'a> {
    const fn ok(source: Source<'a>) -> Self {
        Case {
            source,
            context: None,
            minify_fails_on: &[],
            flatten_fails_on: &[],
            minified_flatten_fails_on: &[],
        }
    }

    const fn file(path: &'a str) -> Self {
        Case::ok(Source::File(path))
    }

    const fn context(mut self, context: &'static str) -> Self {
        self.context = Some(context);
        self
    }

    /// What our message must name for these flags, or `None` when both must succeed.
    fn expected_failure(&self, minify: bool, flatten: bool) -> Option<&'static [&'static str]> {
        let names = match (minify, flatten) {
            (true, _) if !self.minify_fails_on.is_empty() => self.minify_fails_on,
            (true, true) => self.minified_flatten_fails_on,
            (false, true) => self.flatten_fails_on,
            (_, false) => &[],
        };
        (!names.is_empty()).then_some(names)
    }
}

/// `kubectl config view`.
fn kubectl_view(kubectl: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(kubectl);
    cmd.args(["config", "view"]);
    cmd
}

/// `kubetrust kubeconfig view`.
fn kubetrust_view() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("kubetrust"));
    cmd.args(["kubeconfig", "view"]);
    cmd
}

/// Runs `cmd` from the fixtures directory with a clean environment for kubeconfigs.
fn run(mut cmd: std::process::Command, case: &Case, home: &Path, flags: &[&str]) -> Output {
    cmd.current_dir(view_fixtures())
        .env("HOME", home)
        .env_remove("KUBECONFIG")
        .args(flags);
    match case.source {
        Source::File(path) => {
            cmd.args(["--kubeconfig", path]);
        }
        Source::Env(list) => {
            cmd.env("KUBECONFIG", list);
        }
    }
    if let Some(context) = case.context {
        cmd.args(["--context", context]);
    }
    cmd.output().unwrap()
}

/// The 16 flag sets: `--minify`, `--flatten`, `--raw` on or off, `-o yaml` or `-o json`.
fn flag_sets() -> Vec<(bool, bool, Vec<&'static str>)> {
    let mut sets = Vec::new();
    for bits in 0..8u8 {
        for format in ["yaml", "json"] {
            let (minify, flatten, raw) = (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0);
            let mut flags = vec!["-o", format];
            flags.extend(
                [(minify, "--minify"), (flatten, "--flatten"), (raw, "--raw")]
                    .iter()
                    .filter(|f| f.0)
                    .map(|f| f.1),
            );
            sets.push((minify, flatten, flags));
        }
    }
    sets
}

/// Runs kubectl and kubetrust on `case` with every flag set: same exit status; same stdout on
/// success; on failure, our message names what failed and shows no secret.
fn compare_with_kubectl(kubectl: &Path, case: &Case) {
    let home = tempfile::tempdir().unwrap();
    for (minify, flatten, flags) in flag_sets() {
        let ours = run(kubetrust_view(), case, home.path(), &flags);
        let theirs = run(kubectl_view(kubectl), case, home.path(), &flags);
        let label = format!(
            "{:?} {:?} {}",
            describe(case.source),
            case.context,
            flags.join(" ")
        );
        let our_stderr = String::from_utf8_lossy(&ours.stderr);
        let their_stderr = String::from_utf8_lossy(&theirs.stderr);
        match case.expected_failure(minify, flatten) {
            None => {
                assert_eq!(
                    theirs.status.code(),
                    Some(0),
                    "{label}: kubectl failed: {their_stderr}"
                );
                assert_eq!(ours.status.code(), Some(0), "{label}: we failed: {our_stderr}");
                let (theirs, ours) = (
                    String::from_utf8_lossy(&theirs.stdout),
                    String::from_utf8_lossy(&ours.stdout),
                );
                assert!(
                    theirs == ours,
                    "{label}: stdout differs\n--- kubectl\n{theirs}\n--- kubetrust\n{ours}"
                );
            }
            Some(names) => {
                assert_eq!(theirs.status.code(), Some(1), "{label}: kubectl must fail");
                assert_eq!(ours.status.code(), Some(1), "{label}: we must fail: {our_stderr}");
                assert!(
                    ours.stdout.is_empty() && theirs.stdout.is_empty(),
                    "{label}: output on failure"
                );
                for name in names {
                    assert!(
                        our_stderr.contains(name),
                        "{label}: our message must name {name:?}: {our_stderr}"
                    );
                }
            }
        }
    }
}

fn describe<'a>(source: Source<'a>) -> &'a str {
    match source {
        Source::File(path) | Source::Env(path) => path,
    }
}

/// The shapes users have, each with every flag set; `--context` variants where they matter.
#[test]
fn kubectl_and_we_show_the_shapes_users_have_alike() {
    let Some(kubectl) = support::kubectl() else { return };
    for case in [
        Case::file("kind.yaml"),
        Case::file("../kubeconfig/admin.conf"),
        Case::file("kubelet/kubelet.conf"),
        Case::file("exec.yaml"),
        Case::file("exec.yaml").context("gke"),
        Case::file("exec.yaml").context("local"),
        Case::file("auth-provider.yaml"),
        Case::file("auth-provider.yaml").context("gcp@corp"),
        Case::file("token-file.yaml"),
        Case::file("token-file.yaml").context("basic"),
        Case::file("token-file.yaml").context("sudo"),
        Case::file("../kubeconfig/bootstrap-kubelet.conf"),
        // Its client certificate is /var/lib/kubelet/pki/..., absent here: --flatten fails.
        Case {
            flatten_fails_on: &["kubelet-client-current.pem"],
            minified_flatten_fails_on: &["kubelet-client-current.pem"],
            ..Case::file("../kubeconfig/kubelet-bootstrapped.yaml")
        },
        // KUBECONFIG lists merge; a missing file shows an empty config.
        Case::ok(Source::Env("kind.yaml:token-file.yaml:absent.yaml")),
        Case {
            minify_fails_on: &["current-context"],
            ..Case::file("absent.yaml")
        },
    ] {
        compare_with_kubectl(&kubectl, &case);
    }
}

/// Dangling references: kubectl shows them, and fails only where `--minify` needs them.
#[test]
fn kubectl_and_we_fail_alike_on_dangling_references() {
    let Some(kubectl) = support::kubectl() else { return };
    let minify_fails = |source: &'static str, names: &'static [&'static str]| Case {
        minify_fails_on: names,
        ..Case::file(source)
    };
    for case in [
        minify_fails("missing-context.yaml", &["ghost"]),
        Case::file("missing-context.yaml").context("admin@kubernetes"),
        minify_fails("missing-cluster.yaml", &["nowhere", "dangling"]),
        Case::file("missing-cluster.yaml").context("admin@kubernetes"),
        minify_fails("missing-user.yaml", &["nobody", "orphan"]),
        minify_fails("no-current-context.yaml", &["current-context"]),
        Case::file("no-current-context.yaml").context("bare"),
        // An empty --context is no --context.
        minify_fails("no-current-context.yaml", &["current-context"]).context(""),
        // --context without --minify changes nothing.
        Case::file("missing-context.yaml").context("admin@kubernetes"),
    ] {
        compare_with_kubectl(&kubectl, &case);
    }
}

/// `--flatten` refuses a path set next to data, and files it cannot read, for the users and
/// clusters left after `--minify`.
#[test]
fn kubectl_and_we_fail_alike_when_flattening() {
    let Some(kubectl) = support::kubectl() else { return };
    for case in [
        // Without --minify the user "both" (users are flattened first) fails.
        Case {
            flatten_fails_on: &["client-key", "both"],
            ..Case::file("path-and-data.yaml")
        },
        Case {
            flatten_fails_on: &["client-key", "both"],
            minified_flatten_fails_on: &["certificate-authority", "both"],
            ..Case::file("path-and-data.yaml").context("both-ca")
        },
        Case {
            flatten_fails_on: &["client-key", "both"],
            minified_flatten_fails_on: &["client-key", "both"],
            ..Case::file("path-and-data.yaml").context("both-key")
        },
        Case {
            flatten_fails_on: &["certificate-authority", "absent-ca.crt"],
            minified_flatten_fails_on: &["certificate-authority", "absent-ca.crt"],
            ..Case::file("missing-file.yaml")
        },
    ] {
        compare_with_kubectl(&kubectl, &case);
    }
}

/// kubectl drops fields it does not know; we keep them (by design). On a copy without them,
/// the outputs are equal byte for byte; and kubectl shows the copy as it shows the original.
#[test]
fn kubectl_and_we_agree_on_unknown_fields_but_for_the_fields() {
    let Some(kubectl) = support::kubectl() else { return };
    let home = tempfile::tempdir().unwrap();
    let original = view_fixtures().join("unknown-fields.yaml");
    let stripped_dir = tempfile::tempdir().unwrap();
    let stripped = stripped_dir.path().join("known-fields.yaml");
    // kubectl's --raw view of the fixture is the fixture without the unknown fields.
    let out = kubectl_view(&kubectl)
        .args(["--raw", "--kubeconfig"])
        .arg(&original)
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(&stripped, &out.stdout).unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("bogus"));

    let stripped = stripped.to_string_lossy();
    compare_with_kubectl(&kubectl, &Case::file(&stripped));
    let original = Case::file("unknown-fields.yaml");
    for (_, _, flags) in flag_sets() {
        let theirs = run(kubectl_view(&kubectl), &original, home.path(), &flags);
        let theirs_stripped = run(
            kubectl_view(&kubectl),
            &Case::file(&stripped),
            home.path(),
            &flags,
        );
        assert_eq!(theirs.stdout, theirs_stripped.stdout, "{flags:?}");
        let ours = run(kubetrust_view(), &original, home.path(), &flags);
        assert!(ours.status.success());
        let ours = String::from_utf8_lossy(&ours.stdout);
        for field in [
            "bogusTopLevel",
            "bogusClusterField",
            "bogusUserField",
            "bogusExecField",
            "bogusEnvField",
        ] {
            assert!(ours.contains(field), "{flags:?}: {field} kept\n{ours}");
        }
    }
}

/// Broken kubeconfigs with a token and a key on and around the failing line: exit 1 where
/// kubectl exits 1, and no secret on stderr (bad PEM is no error for either: nothing checks it).
#[test]
fn broken_kubeconfigs_fail_like_kubectl_without_echoing_secrets() {
    let kubectl = support::kubectl();
    let admin = std::fs::read_to_string(testdata("admin.conf")).unwrap();
    let key = admin
        .lines()
        .find_map(|line| line.trim().strip_prefix("client-key-data: "))
        .unwrap();
    let secrets = [
        "abcdef.0123456789abcdef",
        "0123456789abcdef",
        &key[..24],
        &key[400..424],
    ];
    let dir = view_fixtures().join("secret-errors");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let ours = kubetrust()
            .args(["kubeconfig", "view", "--kubeconfig"])
            .arg(&path)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&ours.stderr);
        for secret in secrets {
            assert!(
                !stderr.contains(secret),
                "{name}: stderr shows {secret:?}: {stderr}"
            );
            assert!(
                !String::from_utf8_lossy(&ours.stdout).contains(secret),
                "{name}: stdout shows {secret:?}"
            );
        }
        let expected = if name.starts_with("bad-pem") { 0 } else { 1 };
        assert_eq!(ours.status.code(), Some(expected), "{name}: {stderr}");
        if let Some(kubectl) = &kubectl {
            let home = tempfile::tempdir().unwrap();
            let theirs = kubectl_view(kubectl)
                .arg("--kubeconfig")
                .arg(&path)
                .env("HOME", home.path())
                .env_remove("KUBECONFIG")
                .output()
                .unwrap();
            assert_eq!(
                theirs.status.code(),
                ours.status.code(),
                "{name}: kubectl disagrees"
            );
        }
    }
}
