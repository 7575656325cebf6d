//! Reading kubeadm config files: versions, kinds, field rules, and no secret in any error.

use std::time::Duration;

use kubetrust_kubeadm_config::{ApiVersion, ConfigFile, Error};

const TOKEN: &str = "abcdef.0123456789abcdef";
const CERTIFICATE_KEY: &str = "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204";
const KEY_LINE: &str = "MIIEowIBAAKCAQEAx8v9a3YvF0aQn0fakeprivatekeymaterialZZZ";

fn join(body: &str) -> String {
    format!("apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n{body}")
}

#[test]
fn all_three_kinds_with_other_groups_skipped() {
    let text = format!(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n---\n{}\n---\n\
         apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrolPlaneEndpoint: cp.example.com\n\
         certificateValidityPeriod: 48h\n---\n",
        join("nodeRegistration: {name: node-1}\ncontrolPlane:\n  localAPIEndpoint: {advertiseAddress: 10.0.0.11, bindPort: 7443}\n  certificateKey: KEY\n")
            .replace("KEY", CERTIFICATE_KEY)
    );
    let file = ConfigFile::from_text(&text).unwrap();
    assert!(file.init.is_none());
    let join = file.join.unwrap();
    assert_eq!(join.node_registration.name, "node-1");
    let control_plane = join.control_plane.unwrap();
    assert_eq!(control_plane.local_api_endpoint.bind_port, Some(7443));
    assert_eq!(control_plane.certificate_key.expose_secret(), CERTIFICATE_KEY);
    assert!(!format!("{control_plane:?}").contains(CERTIFICATE_KEY));
    let cluster = file.cluster.unwrap();
    assert_eq!(
        cluster.control_plane_endpoint.unwrap().to_string(),
        "cp.example.com"
    );
    assert_eq!(
        cluster.certificate_validity_period.unwrap().value,
        Duration::from_secs(48 * 3600)
    );
}

#[test]
fn json_and_v1beta3_timeouts() {
    let v1beta3 = r#"{"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "JoinConfiguration",
        "discovery": {"timeout": "1m30s", "file": {"kubeConfigPath": "/x"}},
        "timeouts": {"discovery": "9m"}}"#;
    let join = ConfigFile::from_text(v1beta3).unwrap().join.unwrap();
    assert_eq!(join.api_version, ApiVersion::V1beta3);
    assert_eq!(join.discovery_timeout.unwrap().value, Duration::from_secs(90));
    let v1beta4 = join_text_with_timeouts();
    let join = ConfigFile::from_text(&v1beta4).unwrap().join.unwrap();
    assert_eq!(join.discovery_timeout.unwrap().text, "2m");
}

fn join_text_with_timeouts() -> String {
    join("discovery:\n  timeout: 7m\n  file: {kubeConfigPath: /x}\ntimeouts:\n  discovery: 2m\n")
}

#[test]
fn v1beta3_has_no_algorithm_or_validity() {
    let text = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nencryptionAlgorithm: ECDSA-P256\n\
                certificateValidityPeriod: 1h\n";
    let cluster = ConfigFile::from_text(text).unwrap().cluster.unwrap();
    assert_eq!(cluster.encryption_algorithm, None);
    assert_eq!(cluster.certificate_validity_period, None);
}

#[test]
fn document_rules() {
    type Check = fn(&Error) -> bool;
    let cases: [(&str, Check); 5] = [
        ("kind: JoinConfiguration\n", |e| {
            matches!(e, Error::MissingTypeMeta { document: 1 })
        }),
        (
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: JoinConfiguration\n",
            |e| matches!(e, Error::OldApiVersion { .. }),
        ),
        ("apiVersion: kubeadm.k8s.io/v9\nkind: JoinConfiguration\n", |e| {
            matches!(e, Error::UnknownApiVersion { .. })
        }),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: Mystery\n", |e| {
            matches!(e, Error::UnknownKind { .. })
        }),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n---\n\
             apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\n",
            |e| matches!(e, Error::DuplicateKind { kind } if kind == "JoinConfiguration"),
        ),
    ];
    for (text, is_expected) in cases {
        let error = ConfigFile::from_text(text).unwrap_err();
        assert!(is_expected(&error), "{text}: {error:?}");
    }
    assert!(ConfigFile::from_text("").unwrap().is_empty());
}

#[test]
fn field_errors_name_kind_and_field() {
    let cases = [
        (
            join("discovery:\n  bootstrapToken:\n    apiServerEndpoint: a b:6443\n"),
            "JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint: the host must be a valid IP address",
        ),
        (
            join("discovery:\n  bootstrapToken:\n    apiServerEndpoint: cp.example.com\n"),
            "JoinConfiguration.discovery.bootstrapToken.apiServerEndpoint: missing port in address",
        ),
        (
            join("timeouts:\n  discovery: 5d\n"),
            "JoinConfiguration.timeouts.discovery: invalid duration: unknown unit",
        ),
        (
            join("controlPlane:\n  localAPIEndpoint:\n    bindPort: 70000\n"),
            "JoinConfiguration.controlPlane.localAPIEndpoint.bindPort: 70000 is not a valid port",
        ),
        (
            join("controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: 10.0.0.300\n"),
            "JoinConfiguration.controlPlane.localAPIEndpoint.advertiseAddress: not a valid IP address",
        ),
        (
            join("discovery:\n  bootstrapToken:\n    unsafeSkipCAVerification: maybe\n"),
            "JoinConfiguration.discovery.bootstrapToken.unsafeSkipCAVerification: wrong type or value, expected a boolean",
        ),
    ];
    for (text, want) in cases {
        let error = ConfigFile::from_text(&text).unwrap_err().to_string();
        assert!(error.starts_with(want), "{error}\nwanted: {want}");
    }
}

#[test]
fn errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("join.yaml");
    std::fs::write(&path, join("timeouts: {discovery: x}\n")).unwrap();
    let error = ConfigFile::from_file(&path).unwrap_err().to_string();
    assert!(
        error.starts_with(&format!(
            "{}: JoinConfiguration.timeouts.discovery",
            path.display()
        )),
        "{error}"
    );
    let missing = dir.path().join("missing.yaml");
    let error = ConfigFile::from_file(&missing).unwrap_err();
    assert!(
        matches!(&error, Error::Read { path, .. } if *path == missing),
        "{error:?}"
    );
    assert!(error.to_string().contains("No such file"), "{error}");
}

/// The issue's example: a syntax error next to the token must not show the token; nor may any
/// other failure on or around a line with a token, a certificate key or a private key.
#[test]
fn no_secret_in_any_error() {
    let secrets = format!(
        "    token: {TOKEN}\n  tlsBootstrapToken: {TOKEN}\ncontrolPlane:\n  certificateKey: {CERTIFICATE_KEY}\n\
         #  {KEY_LINE}\n"
    );
    let failing = [
        // An unclosed flow sequence right after the token.
        format!("discovery:\n  bootstrapToken:\n    caCertHashes: [sha256:00\n{secrets}"),
        format!("discovery:\n  bootstrapToken:\n{secrets}    caCertHashes: [sha256:00\n"),
        // Bad indentation / a tab.
        format!("discovery:\n  bootstrapToken:\n    token: {TOKEN}\n   \tapiServerEndpoint: x\n"),
        // The secret itself in a field of the wrong type or rule.
        format!("discovery:\n  bootstrapToken:\n    unsafeSkipCAVerification: {TOKEN}\n"),
        format!("discovery:\n  bootstrapToken:\n    token: [{TOKEN}]\n"),
        format!("discovery:\n  bootstrapToken:\n    apiServerEndpoint: \"{TOKEN}:x\"\n"),
        format!("controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: {TOKEN}\n"),
        format!("timeouts:\n  discovery: {CERTIFICATE_KEY}\n"),
        format!("controlPlane:\n  certificateKey: {{{CERTIFICATE_KEY}: 1}}\n  bindPort: [\n"),
        format!(
            "discovery:\n  tlsBootstrapToken: |\n    -----BEGIN RSA PRIVATE KEY-----\n    {KEY_LINE}\n  x: [\n"
        ),
        format!("discovery: {{file: {{kubeConfigPath: 1}}, tlsBootstrapToken: {{a: {TOKEN}}}}}\n"),
    ];
    for body in failing {
        let text = join(&body);
        let error = ConfigFile::from_text(&text).expect_err(&text);
        for shown in [error.to_string(), format!("{error:?}")] {
            for secret in [TOKEN, "0123456789abcdef", CERTIFICATE_KEY, KEY_LINE] {
                assert!(!shown.contains(secret), "{secret} shown in {shown}\nfor\n{text}");
            }
        }
    }
}
