//! `kubetrust config print join-defaults`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use kubetrust::kubeadm_config::ConfigFile;
use support::{fails, ok};

#[test]
fn join_defaults_are_kubeadms_v1beta4_join_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let (yaml, _) = ok(&["config", "print", "join-defaults"], dir.path());
    // kubeadm v1beta4's SetDefaults_JoinConfiguration/Discovery/NodeRegistration/Timeouts over
    // `config print`'s placeholder discovery, keys sorted as sigs.k8s.io/yaml writes them.
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let expected = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\ncaCertPath: /etc/kubernetes/pki/ca.crt\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: kube-apiserver:6443\n    token: abcdef.0123456789abcdef\n    unsafeSkipCAVerification: true\n  tlsBootstrapToken: abcdef.0123456789abcdef\nkind: JoinConfiguration\nnodeRegistration:\n  criSocket: unix:///var/run/containerd/containerd.sock\n  imagePullPolicy: IfNotPresent\n  imagePullSerial: true\n  name: {}\n  taints: null\ntimeouts:\n  controlPlaneComponentHealthCheck: 4m0s\n  discovery: 5m0s\n  etcdAPICall: 2m0s\n  kubeletHealthCheck: 4m0s\n  kubernetesAPICall: 1m0s\n  tlsBootstrap: 5m0s\n  upgradeManifests: 5m0s\n",
        hostname.trim().to_lowercase()
    );
    assert_eq!(yaml, expected);
    assert!(yaml.starts_with("apiVersion: kubeadm.k8s.io/v1beta4\ncaCertPath: /etc/kubernetes/pki/ca.crt\n"));
    assert!(yaml.contains("\nkind: JoinConfiguration\n"));
    assert!(yaml.contains("\n  tlsBootstrapToken: abcdef.0123456789abcdef\n"));
    assert!(yaml.contains("\n  imagePullPolicy: IfNotPresent\n"));
    assert!(yaml.contains("\n  discovery: 5m0s\n  etcdAPICall: 2m0s\n"));
    let file = ConfigFile::from_text(&yaml).unwrap();
    let join = file.join.expect("a JoinConfiguration");
    let token = join.discovery.bootstrap_token.unwrap();
    assert_eq!(
        token.api_server_endpoint.unwrap().to_string(),
        "kube-apiserver:6443"
    );
    assert!(token.unsafe_skip_ca_verification);
    assert_eq!(token.token.expose_secret(), "abcdef.0123456789abcdef");
    assert_eq!(join.ca_cert_path, "/etc/kubernetes/pki/ca.crt");
    assert!(join.discovery_timeout.is_some());
    assert_eq!(join.node_registration.name, hostname.trim().to_lowercase());
    fails(&["config", "print", "join-defaults", "extra"], dir.path(), 2);
    fails(&["config", "print", "init-defaults"], dir.path(), 2);
}
