//! Conversion into kube-rs (feature `kube`).
#![cfg(feature = "kube")]
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use kubetrust_kubeconfig::Config;

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/kubeconfig")
            .join(name),
    )
    .unwrap()
}

#[test]
fn relative_paths_become_absolute_for_kube() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(&path, vector("full-schema-example.conf")).unwrap();
    let ours = Config::from_file(&path).unwrap();
    let theirs = kube::config::Kubeconfig::try_from(&ours).unwrap();
    assert_eq!(theirs.current_context.as_deref(), Some("ctx1"));
    let c1 = theirs
        .clusters
        .iter()
        .find(|c| c.name == "c1")
        .unwrap()
        .cluster
        .as_ref()
        .unwrap();
    assert_eq!(
        c1.certificate_authority.as_deref(),
        Some(dir.path().join("certs/ca.crt").to_str().unwrap())
    );
    assert_eq!(c1.tls_server_name.as_deref(), Some("api.internal"));
    let u1 = theirs
        .auth_infos
        .iter()
        .find(|u| u.name == "u1")
        .unwrap()
        .auth_info
        .as_ref()
        .unwrap();
    assert_eq!(
        u1.client_key.as_deref(),
        Some(dir.path().join("certs/client.key").to_str().unwrap())
    );
    assert_eq!(
        u1.impersonate_groups.as_deref(),
        Some(&["g1".to_owned(), "g2".to_owned()][..])
    );
    let u2 = theirs
        .auth_infos
        .iter()
        .find(|u| u.name == "u2")
        .unwrap()
        .auth_info
        .as_ref()
        .unwrap();
    let exec = u2.exec.as_ref().unwrap();
    assert_eq!(
        exec.command.as_deref(),
        Some(dir.path().join("./bin/helper").to_str().unwrap())
    );
    let u4 = theirs
        .auth_infos
        .iter()
        .find(|u| u.name == "u4")
        .unwrap()
        .auth_info
        .as_ref()
        .unwrap();
    assert_eq!(
        u4.exec.as_ref().unwrap().command.as_deref(),
        Some("helper-in-path"),
        "PATH lookups stay bare"
    );
}

#[tokio::test]
async fn kube_builds_a_client_config_from_our_model() {
    let ours = Config::from_bytes(&vector("admin.conf")).unwrap();
    let kubeconfig = ours.to_kube().unwrap();
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
            .await
            .unwrap();
    assert_eq!(
        config.cluster_url.to_string(),
        "https://k8s-api.example.test:6443/"
    );
    assert_eq!(
        config.root_cert.as_ref().map(Vec::len),
        Some(1),
        "one CA certificate"
    );
    assert!(config.auth_info.client_key_data.is_some());
}
