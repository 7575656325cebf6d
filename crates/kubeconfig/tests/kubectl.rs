//! The real kubectl reads what we write as we meant it: `kubectl config view --raw -o json` of
//! every builder's output and of our saved rich kubeconfig equals our own view of the model
//! (without the unknown fields, which kubectl drops and we keep).
//!
//! kubectl is found by `support/kubectl.rs` (`$KUBECTL`, else `PATH`; required under `CI=true`).
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "support/kubectl.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use kubetrust_kubeconfig::{
    ClientCredentials, ClusterEndpoint, Config, KUBELET_CLIENT_CURRENT, OutputFormat, SecretBytes,
    SecretString, ViewOptions, view,
};
use serde_json::Value;
use support::kubectl;

const CERT: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nBAUG\n-----END EC PRIVATE KEY-----\n";

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

/// Strings that exercise every choice go-yaml's emitter makes: which scalars it quotes and how,
/// literal blocks, folding past column 80, escapes, key order, long keys, numbers.
fn tricky_strings() -> Vec<String> {
    let mut strings: Vec<String> = [
        "1db158f6-177d",
        "07401b.f395",
        "0x1F",
        "0o17",
        "1_000",
        "1e3",
        "1e400",
        "1:20",
        "-1:20",
        "2025-01-01",
        "2025-1-1",
        "2025-13-01",
        "2025-02-29",
        "2024-02-29",
        "2025-01-01T00:00:00Z",
        "2025-01-01 10:00:00",
        "2025-01-01t1:2:3.5+01:00",
        "12:30",
        "+1",
        ".5",
        "-.5",
        "+.inf",
        ".NaN",
        "Inf",
        "NaN",
        "y",
        "Yes",
        "ON",
        "no",
        "~",
        "null",
        "<<",
        "=",
        "-",
        "--",
        "---x",
        "...",
        "- x",
        "-x",
        "? x",
        "?x",
        ":x",
        ": x",
        "x:",
        "x: y",
        "x#y",
        "x #y",
        "#x",
        "@x",
        "`x",
        "%x",
        "!x",
        "&x",
        "*x",
        "|x",
        ">x",
        "'x",
        "\"x",
        "{x",
        "x}",
        "[x",
        "x]",
        "x,y",
        "x?y",
        " x",
        "x ",
        "a  b",
        "a\tb",
        "a\nb",
        "a\n",
        "a\n\n",
        "\n",
        "\na",
        " a\nb",
        "a \nb",
        "a\n b",
        "a\rb",
        "é",
        "日本",
        "\u{1F600}",
        "\u{a0}x",
        "\u{feff}x y",
        "x<y>&z",
        "it's",
        "a\"b",
        "a\\b",
        "a\tb\nc",
        "   ",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    strings.push("Install gke-gcloud-auth-plugin for use with kubectl by following https://cloud.google.com/kubernetes-engine/docs/how-to/cluster-access-for-kubectl#install_plugin".to_owned());
    strings.push("word ".repeat(30));
    strings.push(format!("{}: colon", "'quoted' ".repeat(12)));
    strings.push(format!("{}{}", "x: ", "y ".repeat(50)));
    strings.push("line one\nline two is here\n  indented\n\nlast".to_owned());
    for n in [78, 79, 80, 81] {
        strings.push(format!("{} b c", "a".repeat(n)));
    }
    strings.push(format!("\"{}\" x", "q ".repeat(45)));
    strings
}

#[test]
fn kubectl_writes_every_string_as_we_do() {
    let Some(kubectl) = kubectl() else { return };
    let strings = tricky_strings();
    let values: serde_json::Map<String, Value> = strings
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i:03}"), Value::from(s.as_str())))
        .collect();
    // As keys: go-yaml's key comparison is no total order when digit runs meet (`07x` <
    // `0x` < `1:` < `07x`), so kubectl's order then depends on Go's random map order; those
    // keys are left out. So is `<<`, which we quote on purpose (see yaml.rs).
    let keys: Vec<&String> = strings
        .iter()
        .filter(|s| !s.contains(|c: char| c.is_ascii_digit()) && *s != "<<")
        .collect();
    let mut key_maps: Vec<Value> = keys
        .chunks(12)
        .map(|chunk| Value::Object(chunk.iter().map(|s| ((*s).clone(), Value::Null)).collect()))
        .collect();
    key_maps.push(serde_json::json!({ "k".repeat(130): "long key" }));
    let sorting = [
        "a10", "a9", "a_b", "aB", "a-b", "a~", "A", "a0", "a00", "a01", "b1", "_x",
    ];
    key_maps.push(Value::Object(
        sorting.iter().map(|k| ((*k).to_owned(), Value::Null)).collect(),
    ));
    let mut extensions = vec![serde_json::json!({"name": "values", "extension": values})];
    extensions.extend(
        key_maps
            .into_iter()
            .enumerate()
            .map(|(i, keys)| serde_json::json!({"name": format!("keys-{i}"), "extension": keys})),
    );
    let numbers = serde_json::json!({
        "int": 5, "negative": -7, "float": 1.5, "whole": 1.0, "big": 1e21, "small": 1e-7,
        "mid": 1234567.5, "e6": 1e6, "tiny": 0.000001, "u64": u64::MAX,
    });
    // Not -0.0: kubectl's JSON keeps its sign, but its YAML writes 0, so our loader reads -0.0 as
    // 0 to keep save → load an identity (a deliberate difference, see load.rs).
    let document = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://x", "extensions": extensions}}],
        "preferences": {"extensions": [{"name": "numbers", "extension": numbers}]},
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "helper",
            "args": strings,
            "interactiveMode": "Never",
        }}}],
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strings.json");
    // go-yaml reads JSON as YAML 1.1, where a raw U+2028 breaks the line: escape it.
    let text = serde_json::to_string(&document)
        .unwrap()
        .replace('\u{2028}', "\\u2028");
    std::fs::write(&path, text).unwrap();
    let config = Config::from_file(&path).unwrap();
    for format in [OutputFormat::Yaml, OutputFormat::Json] {
        let flag = if format == OutputFormat::Yaml {
            "yaml"
        } else {
            "json"
        };
        let theirs = kubectl_text(&kubectl, &path, &["-o", flag]);
        let mut ours = view(
            &config,
            &ViewOptions::default().with_raw(true).with_format(format),
        )
        .unwrap();
        if !ours.ends_with('\n') {
            ours.push('\n'); // kubectl ends its JSON with a newline; `view` leaves that to the caller
        }
        if theirs != ours {
            let first = theirs.lines().zip(ours.lines()).position(|(a, b)| a != b);
            panic!(
                "-o {flag} differs from kubectl at line {first:?}:\n--- kubectl\n{theirs}\n--- ours\n{ours}"
            );
        }
    }
}

/// Strings with U+0085, U+2028 or U+2029, which go-yaml (YAML 1.1) reads as line breaks and our
/// loader (YAML 1.2) as text: we write them double-quoted with escapes (not go-yaml's raw form),
/// and both kubectl and our loader read back exactly what was saved.
#[test]
fn yaml_1_1_line_breaks_read_back_the_same_everywhere() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    let args = [
        "a\u{2028}b",
        "\u{2028}!",
        "x\u{85}y",
        "p\u{2029}",
        "two\nlines\u{2028}",
    ];
    let document = serde_json::json!({
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": "helper",
            "args": args,
            "interactiveMode": "Never",
        }}}],
    });
    let config = Config::from_bytes(document.to_string().as_bytes()).unwrap();
    let yaml = config.to_yaml().unwrap();
    for arg in args {
        assert!(!yaml.contains(arg), "raw {arg:?} in\n{yaml}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("breaks.yaml");
    std::fs::write(&path, &yaml).unwrap();
    let ours = Config::from_file(&path).unwrap();
    let theirs = kubectl_view(&kubectl, &path, &[]);
    let read_back = |value: &Value| value["users"][0]["user"]["exec"]["args"].clone();
    assert_eq!(read_back(&theirs), serde_json::json!(args), "kubectl's reading");
    assert_eq!(
        read_back(&our_view(&ours, ViewOptions::default().with_raw(true))),
        serde_json::json!(args)
    );
}

/// Plain scalars that YAML readers type differently: go-yaml v2 (kubectl) knows booleans only in
/// three letter cases (`no`, `No`, `NO`; `nO` is a string) and its own number forms. Whatever
/// kubectl reads, we read, and what we then save reads back the same (a fuzzing finding: `nO`
/// was false to us, a string to kubectl and to our writer).
#[test]
fn kubectl_types_plain_scalars_as_we_do() {
    let Some(kubectl) = kubectl() else { return };
    let scalars = [
        "nO",
        "yES",
        "oN",
        "oFF",
        "tRUE",
        "fALSE",
        "Y",
        "n",
        "no",
        "No",
        "NO",
        "yes",
        "Yes",
        "on",
        "Off",
        "True",
        "FALSE",
        "y",
        "12",
        "-7",
        "0x1F",
        "0o17",
        "017",
        "1_000",
        "+3",
        "1.5",
        ".5",
        "1e3",
        "0b101",
        "12:30",
        "1.0",
        "~",
        "null",
        "2024-01-02",
        "08",
        "-017",
        "0O17",
        "0X1f",
        "1__0",
        "+.5",
        "1e",
        "0x_1",
    ];
    let mut document = String::from(
        "clusters:\n- name: c\n  cluster:\n    server: https://h\n    extensions:\n    - name: e\n      extension:\n",
    );
    for (i, scalar) in scalars.iter().enumerate() {
        document.push_str(&format!("        k{i:02}: {scalar}\n"));
    }
    // A flow collection sends the whole file through the general YAML reader.
    document.push_str("        flow: {a: nO, b: [yES, no]}\n");
    document.push_str("        tagged: !!str 017\n        anchored: &n 0O17\n        alias: *n\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scalars.yaml");
    std::fs::write(&path, &document).unwrap();

    let ours = Config::from_file(&path).unwrap();
    let extension = |view: &Value| view["clusters"][0]["cluster"]["extensions"][0]["extension"].clone();
    let theirs = extension(&kubectl_view(&kubectl, &path, &[]));
    assert_eq!(
        theirs["flow"],
        serde_json::json!({"a": "nO", "b": ["yES", false]})
    );
    assert_eq!(theirs["k00"], "nO", "kubectl's reading");
    assert_eq!((&theirs["tagged"], &theirs["alias"]), (&"017".into(), &15.into()));
    assert_eq!(extension(&our_view(&ours, ViewOptions::default())), theirs);

    let saved = dir.path().join("saved.yaml");
    ours.save(&saved).unwrap();
    assert_eq!(Config::from_file(&saved).unwrap(), ours);
    assert_eq!(extension(&kubectl_view(&kubectl, &saved, &[])), theirs);
}
