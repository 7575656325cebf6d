//! The builders reproduce kubeadm's and the kubelet's files byte for byte, and every vector
//! survives load → save unchanged.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use kubetrust_kubeconfig::{
    ClientCredentials, ClusterEndpoint, Config, KUBELET_CLIENT_CURRENT, OutputFormat, SecretBytes,
    SecretString, ViewOptions, view,
};

fn vector(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/kubeconfig")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_vector_round_trips_byte_for_byte() {
    for name in [
        "admin.conf",
        "kubelet.conf",
        "bootstrap-kubelet.conf",
        "cluster-info.yaml",
        "kubelet-bootstrapped.yaml",
    ] {
        let text = vector(name);
        let config = Config::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(config.to_yaml().unwrap(), text, "{name}");
    }
}

#[test]
fn for_user_rebuilds_admin_conf() {
    let original = Config::from_bytes(vector("admin.conf").as_bytes()).unwrap();
    let cluster = &original.clusters[0].cluster;
    let user = &original.users[0].user;
    let endpoint = ClusterEndpoint::new(&cluster.server, cluster.certificate_authority_data.clone());
    let credentials = ClientCredentials::EmbeddedCertificate {
        certificate_pem: user.client_certificate_data.clone(),
        key_pem: user.client_key_data.clone(),
    };
    let built = Config::for_user(&endpoint, "kubernetes-admin", credentials);
    assert_eq!(built.to_yaml().unwrap(), vector("admin.conf"));
    assert!(
        built.users[0]
            .user
            .client_key_data
            .expose_secret()
            .starts_with(b"-----BEGIN RSA PRIVATE KEY-----")
    );
}

#[test]
fn bootstrap_token_rebuilds_bootstrap_kubelet_conf() {
    let original = Config::from_bytes(vector("bootstrap-kubelet.conf").as_bytes()).unwrap();
    let cluster = &original.clusters[0].cluster;
    let built = Config::bootstrap_token(
        &cluster.server,
        cluster.certificate_authority_data.clone(),
        SecretString::new("abcdef.0123456789abcdef"),
    );
    assert_eq!(built.to_yaml().unwrap(), vector("bootstrap-kubelet.conf"));
}

#[test]
fn cluster_info_rebuilds_the_cluster_info_kubeconfig() {
    let original = Config::from_bytes(vector("cluster-info.yaml").as_bytes()).unwrap();
    let cluster = &original.clusters[0].cluster;
    let built = Config::cluster_info(&cluster.server, cluster.certificate_authority_data.clone());
    assert_eq!(built.to_yaml().unwrap(), vector("cluster-info.yaml"));
    assert!(built.preferences.is_none() && built.users.is_empty() && built.contexts.is_empty());
}

#[test]
fn kubelet_builders_rebuild_both_kubelet_conf_shapes() {
    let finalized = Config::from_bytes(vector("kubelet.conf").as_bytes()).unwrap();
    let cluster = &finalized.clusters[0].cluster;
    let endpoint = ClusterEndpoint::new(&cluster.server, cluster.certificate_authority_data.clone());
    let built = Config::kubelet_rotating(&endpoint, "cp-1", Path::new(KUBELET_CLIENT_CURRENT));
    assert_eq!(built.to_yaml().unwrap(), vector("kubelet.conf"));

    let bootstrapped = Config::from_bytes(vector("kubelet-bootstrapped.yaml").as_bytes()).unwrap();
    let cluster = &bootstrapped.clusters[0].cluster;
    let built = Config::kubelet_bootstrapped(
        &cluster.server,
        cluster.certificate_authority_data.clone(),
        Path::new(KUBELET_CLIENT_CURRENT),
    );
    assert_eq!(built.to_yaml().unwrap(), vector("kubelet-bootstrapped.yaml"));
}

#[test]
fn token_credentials_build_a_token_user() {
    let endpoint = ClusterEndpoint::new("https://[fd00::1]:6443", b"ca".to_vec()).with_name("prod");
    let config = Config::for_user(
        &endpoint,
        "ci",
        ClientCredentials::Token(SecretString::new("tok")),
    );
    let yaml = config.to_yaml().unwrap();
    assert!(
        yaml.contains("  name: ci@prod\ncurrent-context: ci@prod\n"),
        "{yaml}"
    );
    assert!(yaml.contains("    token: tok\n"), "{yaml}");
    assert!(!format!("{config:?}").contains("tok\""), "token in Debug output");
    let embedded = ClientCredentials::EmbeddedCertificate {
        certificate_pem: b"c".to_vec(),
        key_pem: SecretBytes::new(b"k".to_vec()),
    };
    assert!(
        !format!("{embedded:?}").contains("107"),
        "key bytes in Debug output"
    );
}

#[test]
fn view_of_the_full_schema_is_kubectls_plus_unknown_fields() {
    let config = Config::from_bytes(vector("full-schema-example.conf").as_bytes()).unwrap();
    let shown = view(&config, &ViewOptions::default()).unwrap();
    assert_eq!(shown, vector("full-schema-view.yaml"));
}

#[test]
fn json_view_uses_client_go_field_order_and_kubectl_indentation() {
    let config = Config::from_bytes(vector("bootstrap-kubelet.conf").as_bytes()).unwrap();
    let shown = view(&config, &ViewOptions::default().with_format(OutputFormat::Json)).unwrap();
    assert!(shown.starts_with("{\n    \"kind\": \"Config\",\n    \"apiVersion\": \"v1\",\n    \"preferences\": {},\n    \"clusters\": ["), "{shown}");
    assert!(shown.contains("\"certificate-authority-data\": \"DATA+OMITTED\""));
    assert!(shown.contains("\"token\": \"REDACTED\""));
    assert!(!shown.contains("0123456789abcdef"));
}
