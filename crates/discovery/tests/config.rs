//! The `discovery` section of kubeadm's JoinConfiguration: accepted forms and kubeadm's refusals.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use kubetrust_discovery::{DEFAULT_DISCOVERY_TIMEOUT, DiscoveryConfig, DiscoveryMethod, Trust};

const PIN: &str = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";

fn join(discovery: &str) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\nnodeRegistration:\n  name: node-1\n{discovery}"
    )
}

#[test]
fn token_discovery_in_a_multi_document_file() {
    let text = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\n{}",
        join(&format!(
            "discovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    apiServerEndpoint: 10.0.0.10:6443\n    caCertHashes:\n    - {PIN}\ntimeouts:\n  discovery: 1m30s\n"
        ))
    );
    let config = DiscoveryConfig::from_kubeadm_config(&text).unwrap();
    let DiscoveryMethod::BootstrapToken {
        api_server_endpoint,
        token,
        trust,
    } = &config.method
    else {
        panic!()
    };
    assert_eq!(api_server_endpoint, "10.0.0.10:6443");
    assert_eq!(token.id().as_str(), "abcdef");
    assert!(matches!(trust, Trust::Pinned(pins) if pins.pins()[0].to_string() == PIN));
    assert_eq!(
        config.tls_bootstrap_token.as_ref().unwrap().id().as_str(),
        "abcdef",
        "defaults to the discovery token"
    );
    assert_eq!(config.timeout, Duration::from_secs(90));
    assert!(
        !format!("{config:?}").contains("0123456789abcdef"),
        "the secret stays out of Debug"
    );
}

#[test]
fn file_discovery_json_and_defaults() {
    let json = r#"{"apiVersion":"kubeadm.k8s.io/v1beta4","kind":"JoinConfiguration","discovery":{"file":{"kubeConfigPath":"file:///etc/kubernetes/discovery.conf"},"tlsBootstrapToken":"abcdef.0123456789abcdef"}}"#;
    let config = DiscoveryConfig::from_kubeadm_config(json).unwrap();
    assert!(
        matches!(&config.method, DiscoveryMethod::File { kube_config_path } if kube_config_path == "/etc/kubernetes/discovery.conf")
    );
    assert_eq!(config.timeout, DEFAULT_DISCOVERY_TIMEOUT);
    assert!(config.tls_bootstrap_token.is_some());
    let https = join("discovery:\n  file:\n    kubeConfigPath: https://example.test/discovery.conf\n");
    assert!(DiscoveryConfig::from_kubeadm_config(&https).is_ok());
    let v1beta3 = "apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  file:\n    kubeConfigPath: /x\n  timeout: 2m0s\n";
    assert_eq!(
        DiscoveryConfig::from_kubeadm_config(v1beta3).unwrap().timeout,
        Duration::from_secs(120)
    );
}

#[test]
fn kubeadm_refusals() {
    let cases = [
        (join("discovery: {}\n"), "bootstrapToken or file must be set"),
        (
            join(
                "discovery:\n  file:\n    kubeConfigPath: /x\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n",
            ),
            "bootstrapToken and file cannot both be set",
        ),
        (
            join(
                "discovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    caCertHashes: [x]\n",
            ),
            "APIServerEndpoint is not set",
        ),
        (
            join(
                "discovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    apiServerEndpoint: 10.0.0.1\n",
            ),
            "apiServerEndpoint: missing port in address",
        ),
        (
            join(
                "discovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    apiServerEndpoint: a b:6443\n",
            ),
            "apiServerEndpoint: the host must be a valid IP address or a valid RFC-1123 DNS subdomain",
        ),
        (
            join(
                "discovery:\n  bootstrapToken:\n    token: ABCDEF.0123456789abcdef\n    apiServerEndpoint: 10.0.0.1:6443\n",
            ),
            "the bootstrap token is invalid",
        ),
        (
            join(
                "discovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    apiServerEndpoint: 10.0.0.1:6443\n",
            ),
            "without caCertHashes can be unsafe",
        ),
        (
            join("discovery:\n  file:\n    kubeConfigPath: http://example.test/d.conf\n"),
            "if a URL is used, the scheme must be https",
        ),
        (
            join("discovery:\n  file:\n    kubeConfigPath: /x\ntimeouts:\n  discovery: 5 minutes\n"),
            "timeouts.discovery",
        ),
        (
            "apiVersion: v1\nkind: Config\n".to_owned(),
            "no JoinConfiguration document",
        ),
    ];
    for (text, want) in cases {
        let err = DiscoveryConfig::from_kubeadm_config(&text)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{want}: {err}");
    }
    let unsafe_skip = join(
        "discovery:\n  bootstrapToken:\n    token: abcdef.0123456789abcdef\n    apiServerEndpoint: '[fd00::1]:6443'\n    unsafeSkipCAVerification: true\n",
    );
    let config = DiscoveryConfig::from_kubeadm_config(&unsafe_skip).unwrap();
    assert!(matches!(
        config.method,
        DiscoveryMethod::BootstrapToken {
            trust: Trust::UnsafeSkipCaVerification,
            ..
        }
    ));
}
