//! The `<cluster>-kubeconfig` Secret: Cluster API's shape, read by the real kubectl, expiry.

use std::process::Command;
use std::time::{Duration, SystemTime};

use kubetrust_capi::{ClusterPki, Error, KubeconfigSecret, ROTATION_THRESHOLD};
use kubetrust_pki::{Certificate, KeyAlgorithm};

use crate::support::{capi_secrets, have_openssl, openssl, secret};

fn pki() -> ClusterPki {
    ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap()
}

fn kubectl_view(kubectl: &std::path::Path, file: &std::path::Path, jsonpath: &str) -> String {
    let out = Command::new(kubectl)
        .args(["config", "view", "--raw", "--kubeconfig"])
        .arg(file)
        .args(["-o", &format!("jsonpath={jsonpath}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn kubectl_reads_the_value_as_cluster_api_writes_it() {
    let pki = pki();
    let now = SystemTime::now();
    let secret = pki
        .kubeconfig_secret("c1", "ns1", "cp.example.com:6443", now)
        .unwrap();
    assert_eq!(secret.metadata.name.as_deref(), Some("c1-kubeconfig"));
    assert_eq!(secret.metadata.namespace.as_deref(), Some("ns1"));
    assert_eq!(secret.type_.as_deref(), Some("cluster.x-k8s.io/secret"));
    assert_eq!(
        secret.metadata.labels.as_ref().unwrap()["cluster.x-k8s.io/cluster-name"],
        "c1"
    );
    let value = &secret.data.as_ref().unwrap()["value"].0;

    let read = KubeconfigSecret::read(&secret).unwrap();
    let user = &read.config.users[0];
    assert_eq!(user.name, "c1-admin");
    let client = Certificate::from_pem(&user.user.client_certificate_data).unwrap();
    assert_eq!(client.subject().common_name, "kubernetes-admin");
    assert_eq!(client.subject().organizations, ["system:masters"]);
    assert!(pki.cluster_ca().verifies(&client, &[]));
    assert_eq!(client.not_before(), pki.cluster_ca().certificate().not_before());
    assert_eq!(read.client_certificate_expiry, Some(client.not_after()));

    let Some(kubectl) = crate::kubectl::kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kubeconfig");
    std::fs::write(&file, value).unwrap();
    let view = |path| kubectl_view(&kubectl, &file, path);
    assert_eq!(view("{.current-context}"), "c1-admin@c1");
    assert_eq!(view("{.clusters[0].name}"), "c1");
    assert_eq!(
        view("{.clusters[0].cluster.server}"),
        "https://cp.example.com:6443"
    );
    assert_eq!(view("{.contexts[0].context.cluster}"), "c1");
    assert_eq!(view("{.contexts[0].context.user}"), "c1-admin");
    assert_eq!(view("{.users[0].name}"), "c1-admin");
    let ca_b64 = view("{.clusters[0].cluster.certificate-authority-data}");
    let cert_b64 = view("{.users[0].user.client-certificate-data}");
    let key_b64 = view("{.users[0].user.client-key-data}");
    assert!(!ca_b64.is_empty() && !cert_b64.is_empty() && !key_b64.is_empty());
    // The kubeconfig's own bytes hold the same base64 kubectl printed.
    let text = std::str::from_utf8(value).unwrap();
    for b64 in [&ca_b64, &cert_b64, &key_b64] {
        assert!(text.contains(b64.as_str()));
    }
}

#[test]
fn kubeconfig_from_cluster_apis_ca_verifies_with_openssl() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::from_secrets("c1", &capi_secrets(dir.path())).unwrap();
    let secret = pki
        .kubeconfig_secret("c1", "default", "10.0.0.1:6443", SystemTime::now())
        .unwrap();
    let read = KubeconfigSecret::read(&secret).unwrap();
    let user = &read.config.users[0].user;
    std::fs::write(dir.path().join("client.crt"), &user.client_certificate_data).unwrap();
    openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-purpose",
            "sslclient",
            "client.crt",
        ],
    );
    // Cluster API's default: RSA-2048 keys, as the adopted CA's.
    let key = kubetrust_pki::PrivateKey::from_pem(user.client_key_data.expose_secret()).unwrap();
    assert_eq!(key.algorithm(), KeyAlgorithm::Rsa2048);
}

#[test]
fn rotation_is_due_within_the_threshold() {
    let pki = pki();
    let issued = SystemTime::now();
    let secret = pki.kubeconfig_secret("c1", "ns", "cp:6443", issued).unwrap();
    let read = KubeconfigSecret::read(&secret).unwrap();
    let expiry = read.client_certificate_expiry.unwrap();
    assert!(!read.needs_rotation(issued, ROTATION_THRESHOLD));
    assert!(!read.needs_rotation(
        expiry - ROTATION_THRESHOLD - Duration::from_secs(60),
        ROTATION_THRESHOLD
    ));
    assert!(read.needs_rotation(
        expiry - ROTATION_THRESHOLD + Duration::from_secs(60),
        ROTATION_THRESHOLD
    ));
    assert!(read.needs_rotation(expiry + Duration::from_secs(1), ROTATION_THRESHOLD));
}

#[test]
fn read_errors_name_the_secret_without_quoting_it() {
    let err = KubeconfigSecret::read(&secret("c1-kubeconfig", &[])).unwrap_err();
    assert!(
        matches!(&err, Error::MissingData { secret, key: "value" } if secret == "c1-kubeconfig"),
        "{err:?}"
    );

    let garbage = b"users: [{name: u, user: {client-key-data: c2VjcmV0LWtleS1tYXRlcmlhbA==}}]\nclusters: 7\n";
    let err = KubeconfigSecret::read(&secret("c1-kubeconfig", &[("value", garbage)])).unwrap_err();
    assert!(
        matches!(&err, Error::Kubeconfig { secret, .. } if secret == "c1-kubeconfig"),
        "{err:?}"
    );
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(!text.contains("c2VjcmV0"), "{text}");

    let bad_cert = b"users: [{name: u, user: {client-certificate-data: bm90IGEgY2VydA==}}]\n";
    let err = KubeconfigSecret::read(&secret("c1-kubeconfig", &[("value", bad_cert)])).unwrap_err();
    assert!(
        matches!(&err, Error::ClientCertificate { secret, user, .. } if secret == "c1-kubeconfig" && user == "u"),
        "{err:?}"
    );
}

#[test]
fn an_endpoint_that_is_not_host_port_is_refused() {
    let err = pki()
        .kubeconfig_secret("c1", "ns", "https://cp:6443/x", SystemTime::now())
        .unwrap_err();
    assert!(matches!(&err, Error::Pki(_)), "{err:?}");
}
