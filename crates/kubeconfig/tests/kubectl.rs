//! The real kubectl reads what we write as we meant it: `kubectl config view --raw -o json` of
//! every builder's output and of our saved rich kubeconfig equals our own view of the model
//! (without the unknown fields, which kubectl drops and we keep).
//!
//! kubectl comes from `$KUBECTL`, else `PATH`. Without it the tests say why and pass, except
//! under `CI=true`, where a missing kubectl fails them (`.ci/run` provides it).
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use kubetrust_kubeconfig::{
    ClientCredentials, ClusterEndpoint, Config, KUBELET_CLIENT_CURRENT, OutputFormat, SecretBytes,
    SecretString, ViewOptions, view,
};
use serde_json::Value;

const CERT: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nBAUG\n-----END EC PRIVATE KEY-----\n";

fn kubectl() -> Option<PathBuf> {
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

/// `kubectl config view --kubeconfig <file> --raw -o json <extra>`, parsed.
fn kubectl_view(kubectl: &Path, file: &Path, extra: &[&str]) -> Value {
    serde_json::from_str(&kubectl_text(kubectl, file, &[&["-o", "json"], extra].concat())).unwrap()
}

/// `kubectl config view --kubeconfig <file> --raw <args>` as text.
fn kubectl_text(kubectl: &Path, file: &Path, args: &[&str]) -> String {
    let out = Command::new(kubectl)
        .args(["config", "view", "--raw", "--kubeconfig"])
        .arg(file)
        .args(args)
        // Never let the dispatcher or an exec plugin reach out: nothing here talks to a server.
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn our_view(config: &Config, options: ViewOptions) -> Value {
    let options = options.with_raw(true).with_format(OutputFormat::Json);
    serde_json::from_str(&view(config, &options).unwrap()).unwrap()
}

/// What kubectl would keep of our model: the same config without unknown fields.
fn without_unknown_fields(mut config: Config) -> Config {
    config.unknown_fields.clear();
    if let Some(p) = config.preferences.as_mut() {
        p.unknown_fields.clear();
        p.extensions.iter_mut().for_each(|e| e.unknown_fields.clear());
    }
    config
        .extensions
        .iter_mut()
        .for_each(|e| e.unknown_fields.clear());
    for named in &mut config.clusters {
        named.unknown_fields.clear();
        named.cluster.unknown_fields.clear();
        named
            .cluster
            .extensions
            .iter_mut()
            .for_each(|e| e.unknown_fields.clear());
    }
    for named in &mut config.users {
        named.unknown_fields.clear();
        let user = &mut named.user;
        user.unknown_fields.clear();
        user.extensions.iter_mut().for_each(|e| e.unknown_fields.clear());
        if let Some(exec) = user.exec.as_mut() {
            exec.unknown_fields.clear();
            exec.env
                .iter_mut()
                .flatten()
                .for_each(|v| v.unknown_fields.clear());
        }
        if let Some(provider) = user.auth_provider.as_mut() {
            provider.unknown_fields.clear();
        }
    }
    for named in &mut config.contexts {
        named.unknown_fields.clear();
        named.context.unknown_fields.clear();
        named
            .context
            .extensions
            .iter_mut()
            .for_each(|e| e.unknown_fields.clear());
    }
    config
}

/// Saves `config`, has kubectl read the file, and compares with our view of what we saved.
fn assert_kubectl_agrees(kubectl: &Path, name: &str, config: &Config) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    config.save(&path).unwrap();
    let ours = without_unknown_fields(Config::from_file(&path).unwrap());
    assert_eq!(
        kubectl_view(kubectl, &path, &[]),
        our_view(&ours, ViewOptions::default()),
        "{name}"
    );
    // Byte for byte, too: our YAML writer is kubectl's.
    let our_yaml = view(&ours, &ViewOptions::default().with_raw(true)).unwrap();
    assert_eq!(kubectl_text(kubectl, &path, &[]), our_yaml, "{name}");
}

fn endpoint() -> ClusterEndpoint {
    ClusterEndpoint::new("https://k8s-api.example.test:6443", CERT.as_bytes().to_vec())
}

#[test]
fn kubectl_reads_every_builder_output_as_we_do() {
    let Some(kubectl) = kubectl() else { return };
    let embedded = ClientCredentials::EmbeddedCertificate {
        certificate_pem: CERT.as_bytes().to_vec(),
        key_pem: SecretBytes::new(KEY.as_bytes().to_vec()),
    };
    let files = ClientCredentials::CertificateFiles {
        certificate: "/etc/kubernetes/pki/admin.crt".into(),
        key: "/etc/kubernetes/pki/admin.key".into(),
    };
    let token = ClientCredentials::Token(SecretString::new("abcdef.0123456789abcdef"));
    let builds = [
        (
            "admin.conf",
            Config::for_user(&endpoint(), "kubernetes-admin", embedded),
        ),
        (
            "files.conf",
            Config::for_user(&endpoint().with_name("prod"), "system:kube-scheduler", files),
        ),
        ("token.conf", Config::for_user(&endpoint(), "ci-bot", token)),
        (
            "bootstrap-kubelet.conf",
            Config::bootstrap_token(
                "https://10.0.0.10:6443",
                CERT,
                SecretString::new("abcdef.0123456789abcdef"),
            ),
        ),
        (
            "cluster-info.conf",
            Config::cluster_info("https://10.0.0.10:6443", CERT),
        ),
        (
            "kubelet.conf",
            Config::kubelet_rotating(&endpoint(), "cp-1", Path::new(KUBELET_CLIENT_CURRENT)),
        ),
        (
            "kubelet-bootstrapped.conf",
            Config::kubelet_bootstrapped("https://10.0.0.10:6443", CERT, Path::new(KUBELET_CLIENT_CURRENT)),
        ),
    ];
    for (name, config) in &builds {
        assert_kubectl_agrees(&kubectl, name, config);
    }
}

#[test]
fn kubectl_reads_our_saved_rich_kubeconfig_as_we_do() {
    let Some(kubectl) = kubectl() else { return };
    let rich = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kubeconfig/rich.yaml");
    let config = Config::from_file(&rich).unwrap();
    assert!(
        !config.unknown_fields.is_empty(),
        "the fixture must carry unknown fields"
    );
    assert_kubectl_agrees(&kubectl, "rich.conf", &config);

    // And the YAML-1.1 traps really are strings for kubectl, not booleans or numbers.
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("rich.conf");
    config.save(&saved).unwrap();
    let shown = kubectl_view(&kubectl, &saved, &[]);
    let clusters = shown["clusters"].as_array().unwrap();
    let prod = clusters.iter().find(|c| c["name"] == "prod").unwrap();
    let extension = &prod["cluster"]["extensions"][0]["extension"];
    assert_eq!(extension["audience"], "y");
    assert_eq!(extension["region"], "no");
    assert_eq!(extension["version"], "1.20");
}

#[test]
fn kubectl_minify_flatten_matches_ours() {
    let Some(kubectl) = kubectl() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pki")).unwrap();
    std::fs::write(dir.path().join("pki/ca.crt"), CERT).unwrap();
    std::fs::write(dir.path().join("pki/client.crt"), CERT).unwrap();
    std::fs::write(dir.path().join("pki/client.key"), KEY).unwrap();
    let path = dir.path().join("config");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kubeconfig/rich.yaml"),
        &path,
    )
    .unwrap();
    let ours = without_unknown_fields(Config::from_file(&path).unwrap());
    for context in ["files", "lab", "prod-admin"] {
        let options = ViewOptions::default()
            .with_minify(true)
            .with_flatten(true)
            .with_context(Some(context.into()));
        // Run kubectl from elsewhere: relative paths must resolve against the file, not the CWD.
        let theirs = kubectl_view(&kubectl, &path, &["--minify", "--flatten", "--context", context]);
        assert_eq!(theirs, our_view(&ours, options), "context {context}");
    }
}
