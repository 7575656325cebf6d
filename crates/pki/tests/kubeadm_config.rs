//! The tree's settings from a kubeadm `--config` file: every field read, kubeadm's defaults,
//! version differences, and a precise error for each kind of bad file.
// A test fails by panicking.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use kubetrust_pki::kubeadm_config::KubeadmConfig;
use kubetrust_pki::tree::{self, TreeConfig};
use kubetrust_pki::{Certificate, Error, KeyAlgorithm};

const FULL_V1BETA4: &str = r#"apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
nodeRegistration:
  name: cp-1
localAPIEndpoint:
  advertiseAddress: 192.168.10.5
  bindPort: 7443
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
clusterName: prod
controlPlaneEndpoint: api.prod.example:6443
certificatesDir: /srv/pki
networking:
  serviceSubnet: 10.100.0.0/16
  dnsDomain: prod.local
apiServer:
  certSANs:
  - 203.0.113.7
  - api.example.org
etcd:
  local:
    serverCertSANs: [etcd.example.org]
    peerCertSANs: [10.1.1.1]
encryptionAlgorithm: ECDSA-P256
certificateValidityPeriod: 2160h
caCertificateValidityPeriod: 43800h
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
"#;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn error_text(yaml: &str) -> String {
    KubeadmConfig::from_yaml(yaml).unwrap_err().to_string()
}

#[test]
fn every_field_of_a_v1beta4_file_is_read() {
    let config = KubeadmConfig::from_yaml(FULL_V1BETA4).unwrap();
    assert_eq!(config.node_name.as_deref(), Some("cp-1"));
    assert_eq!(config.advertise_address, Some(ip("192.168.10.5")));
    assert_eq!(config.certificates_dir, Some(PathBuf::from("/srv/pki")));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);

    let mut want = TreeConfig::new("cp-1", ip("192.168.10.5"))
        .with_bind_port(7443)
        .with_control_plane_endpoint("api.prod.example:6443")
        .with_apiserver_cert_sans(["203.0.113.7", "api.example.org"])
        .with_service_subnet("10.100.0.0/16")
        .with_dns_domain("prod.local")
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    want.cluster_name = "prod".into();
    want.etcd_server_cert_sans = vec!["etcd.example.org".into()];
    want.etcd_peer_cert_sans = vec!["10.1.1.1".into()];
    want.certificate_validity = Duration::from_secs(2160 * 3600);
    want.ca_certificate_validity = Duration::from_secs(43800 * 3600);
    assert_eq!(config.tree_config("cp-1", ip("192.168.10.5")), want);
    assert_eq!(config.tree, want, "the file's own node facts are in `tree` too");
}

#[test]
fn what_the_file_leaves_out_keeps_kubeadms_defaults() {
    let config =
        KubeadmConfig::from_yaml("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n").unwrap();
    assert_eq!((config.node_name.clone(), config.advertise_address), (None, None));
    assert_eq!(config.certificates_dir, None);
    assert_eq!(
        config.tree_config("n", ip("10.0.0.1")),
        TreeConfig::new("n", ip("10.0.0.1"))
    );
}

#[test]
fn the_callers_node_facts_replace_the_files() {
    let config = KubeadmConfig::from_yaml(FULL_V1BETA4).unwrap();
    let tree = config.tree_config("other", ip("10.9.9.9"));
    assert_eq!(
        (tree.node_name.as_str(), tree.advertise_address),
        ("other", ip("10.9.9.9"))
    );
    assert_eq!(tree.bind_port, 7443, "the rest stays from the file");
}

#[test]
fn v1beta3_has_no_algorithm_or_validity_fields() {
    let yaml = FULL_V1BETA4.replace("v1beta4", "v1beta3");
    let tree = KubeadmConfig::from_yaml(&yaml)
        .unwrap()
        .tree_config("cp-1", ip("192.168.10.5"));
    assert_eq!(tree.encryption_algorithm, KeyAlgorithm::Rsa2048);
    assert_eq!(tree.certificate_validity, kubetrust_pki::CERTIFICATE_VALIDITY);
    assert_eq!(
        tree.ca_certificate_validity,
        kubetrust_pki::CA_CERTIFICATE_VALIDITY
    );
    assert_eq!(
        tree.cluster_name, "prod",
        "the fields both versions have are read"
    );
}

#[test]
fn json_and_a_control_plane_join_configuration() {
    let json = r#"{"apiVersion":"kubeadm.k8s.io/v1beta4","kind":"JoinConfiguration",
        "nodeRegistration":{"name":"cp-2"},
        "controlPlane":{"localAPIEndpoint":{"advertiseAddress":"fd00::2","bindPort":6444}}}"#;
    let config = KubeadmConfig::from_yaml(json).unwrap();
    assert_eq!(config.node_name.as_deref(), Some("cp-2"));
    assert_eq!(config.advertise_address, Some(ip("fd00::2")));
    assert_eq!(config.tree_config("cp-2", ip("fd00::2")).bind_port, 6444);
}

#[test]
fn external_etcd_is_detected() {
    let yaml = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\netcd:\n  external:\n    endpoints: [https://10.0.0.9:2379]\n";
    let tree = KubeadmConfig::from_yaml(yaml)
        .unwrap()
        .tree_config("n", ip("10.0.0.1"));
    assert!(tree.external_etcd);
}

#[test]
fn validity_above_the_defaults_warns_as_kubeadm_does() {
    let yaml = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificateValidityPeriod: 100000h\n";
    let config = KubeadmConfig::from_yaml(yaml).unwrap();
    assert_eq!(
        config.warnings,
        [
            "certificateValidityPeriod: the value 100000h is more than the recommended default for certificate expiration: 8760h0m0s",
            "certificateValidityPeriod: the value 100000h is more than the caCertificateValidityPeriod 87600h0m0s",
        ]
    );
}

#[test]
fn each_bad_file_gets_an_error_naming_the_problem() {
    let cluster = "kind: ClusterConfiguration\n";
    let cases: [(String, &str); 12] = [
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncertificatesDir: pki\n".into(),
            "certificatesDir: Invalid value: \"pki\": path is not absolute",
        ),
        ("apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n".into(), "old API spec: \"kubeadm.k8s.io/v1beta2\""),
        ("apiVersion: kubeadm.k8s.io/v9\nkind: ClusterConfiguration\n".into(), "unknown kubeadm API version"),
        (format!("apiVersion: kubeadm.k8s.io/v1beta4\n{cluster}---\napiVersion: kubeadm.k8s.io/v1beta4\n{cluster}"), "kind \"ClusterConfiguration\" is specified twice"),
        ("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n".into(), "no InitConfiguration, JoinConfiguration or ClusterConfiguration"),
        ("kind: ClusterConfiguration\n".into(), "kind and apiVersion is mandatory information"),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n".into(), "cannot both be given"),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 10.0.0.300\n".into(), "InitConfiguration.localAPIEndpoint.advertiseAddress: not a valid IP address"),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  bindPort: 70000\n".into(), "InitConfiguration.localAPIEndpoint.bindPort: 70000 is not a valid port"),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nencryptionAlgorithm: DSA\n".into(), "unknown encryption algorithm \"DSA\""),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncaCertificateValidityPeriod: ten years\n".into(), "ClusterConfiguration.caCertificateValidityPeriod: invalid duration"),
        ("apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\napiServer:\n  certSANs: a-string\n".into(), "ClusterConfiguration.apiServer.certSANs: wrong type or value, expected a sequence"),
    ];
    for (yaml, want) in cases {
        let text = error_text(&yaml);
        assert!(text.contains(want), "{yaml:?}: {text:?} should contain {want:?}");
    }
    assert!(matches!(
        KubeadmConfig::from_yaml(": : :\n\t-").unwrap_err(),
        Error::KubeadmConfig(_)
    ));
}

#[test]
fn from_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeadm.yaml");
    std::fs::write(
        &path,
        "apiVersion: kubeadm.k8s.io/v1beta1\nkind: ClusterConfiguration\n",
    )
    .unwrap();
    let text = KubeadmConfig::from_file(&path).unwrap_err().to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("old API spec"),
        "{text}"
    );
    let missing = dir.path().join("missing.yaml");
    let text = KubeadmConfig::from_file(&missing).unwrap_err().to_string();
    assert!(
        text.contains("cannot read") && text.contains("missing.yaml"),
        "{text}"
    );
}

#[test]
fn the_files_settings_reach_the_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let config = KubeadmConfig::from_yaml(FULL_V1BETA4).unwrap();
    let tree = config.tree_config("cp-1", ip("192.168.10.5"));
    let now = SystemTime::now();
    tree::create(dir.path(), &tree, now).unwrap();

    let apiserver = Certificate::from_pem(&std::fs::read(dir.path().join("apiserver.crt")).unwrap()).unwrap();
    let dns = apiserver.dns_names();
    for name in [
        "api.example.org",
        "api.prod.example",
        "kubernetes.default.svc.prod.local",
        "cp-1",
    ] {
        assert!(dns.iter().any(|d| d == name), "{name} missing from {dns:?}");
    }
    let ips = apiserver.ip_addresses();
    for address in ["203.0.113.7", "10.100.0.1", "192.168.10.5"] {
        assert!(ips.contains(&ip(address)), "{address} missing from {ips:?}");
    }
    let lifetime = apiserver.not_after().duration_since(now).unwrap();
    assert!(lifetime <= Duration::from_secs(2160 * 3600) && lifetime > Duration::from_secs(2159 * 3600));
    let etcd = Certificate::from_pem(&std::fs::read(dir.path().join("etcd/server.crt")).unwrap()).unwrap();
    assert!(etcd.dns_names().iter().any(|d| d == "etcd.example.org"));
    let key = std::fs::read_to_string(dir.path().join("apiserver.key")).unwrap();
    assert!(
        key.starts_with("-----BEGIN EC PRIVATE KEY-----"),
        "ECDSA-P256 from the file"
    );
}
