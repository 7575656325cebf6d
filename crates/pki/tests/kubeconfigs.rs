//! kubeadm's kubeconfig files: names, users, groups and servers, read back by the real kubectl.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use common::{control_plane, kubectl, kubectl_jsonpath, mode, write_kubeconfigs};
use kubetrust_kubeconfig::{Config, SecretString};
use kubetrust_pki::kubeconfigs::{
    self, ClientCredentialsSpec, KubeconfigAction, KubeconfigRefusal, UserKubeconfig,
};
use kubetrust_pki::tree::{self, CERTIFICATES, TreeConfig};
use kubetrust_pki::{Certificate, Dirs, Error, KeyAlgorithm, verify_chain};

fn config() -> TreeConfig {
    TreeConfig::new("cp-1", "192.168.10.11".parse().unwrap())
        .with_control_plane_endpoint("k8s-api.example.test")
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256)
}

fn init(dir: &Path) -> (PathBuf, PathBuf) {
    let dirs = control_plane(dir, &config());
    (dirs.cert_dir, dirs.kubeconfig_dir)
}

fn client_cert(file: &Path) -> Certificate {
    let config = Config::from_file(file).unwrap();
    Certificate::from_pem(&config.users[0].user.client_certificate_data).unwrap()
}

#[test]
fn five_files_with_kubeadm_users_groups_and_servers() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = init(dir.path());
    let ca = Certificate::from_pem(&std::fs::read(pki.join("ca.crt")).unwrap()).unwrap();
    let expected = [
        (
            "admin.conf",
            "kubernetes-admin",
            &["kubeadm:cluster-admins"][..],
            "https://k8s-api.example.test:6443",
        ),
        (
            "super-admin.conf",
            "kubernetes-super-admin",
            &["system:masters"][..],
            "https://k8s-api.example.test:6443",
        ),
        (
            "kubelet.conf",
            "system:node:cp-1",
            &["system:nodes"][..],
            "https://k8s-api.example.test:6443",
        ),
        (
            "controller-manager.conf",
            "system:kube-controller-manager",
            &[][..],
            "https://192.168.10.11:6443",
        ),
        (
            "scheduler.conf",
            "system:kube-scheduler",
            &[][..],
            "https://192.168.10.11:6443",
        ),
    ];
    let kubectl = kubectl();
    for (file, user, groups, server) in expected {
        let path = kdir.join(file);
        assert_eq!(mode(&path), 0o600, "{file}");
        let cert = client_cert(&path);
        assert_eq!(cert.subject().common_name, user, "{file}");
        assert_eq!(cert.subject().organizations, groups, "{file}");
        assert!(
            cert.dns_names().is_empty() && cert.ip_addresses().is_empty(),
            "{file}: no SANs"
        );
        assert!(verify_chain(&cert, &[], std::slice::from_ref(&ca)), "{file}");
        assert!(cert.not_after() > SystemTime::now() + Duration::from_secs(364 * 86400));
        let Some(kubectl) = &kubectl else { continue };
        let context = format!("{user}@kubernetes");
        assert_eq!(kubectl_jsonpath(kubectl, &path, "{.current-context}"), context);
        assert_eq!(
            kubectl_jsonpath(
                kubectl,
                &path,
                "{.clusters[0].name} {.clusters[0].cluster.server} {.users[0].name}"
            ),
            format!("kubernetes {server} {user}")
        );
        let ca_data = kubectl_jsonpath(
            kubectl,
            &path,
            "{.clusters[0].cluster.certificate-authority-data}",
        );
        let ca_pem = base64::engine::general_purpose::STANDARD.decode(ca_data).unwrap();
        assert_eq!(Certificate::from_pem(&ca_pem).unwrap(), ca, "{file}");
    }
}

#[test]
fn rerun_reuses_and_a_foreign_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = init(dir.path());
    let before = std::fs::read(kdir.join("admin.conf")).unwrap();
    let items = write_kubeconfigs(&Dirs::new(&pki, &kdir), &config()).unwrap();
    assert!(items.iter().all(|i| matches!(i.action, KubeconfigAction::Reuse)));
    assert_eq!(std::fs::read(kdir.join("admin.conf")).unwrap(), before);

    // Another cluster's admin.conf: refused, and the missing scheduler.conf is not written.
    let other = tempfile::tempdir().unwrap();
    let (_, other_kdir) = init(other.path());
    std::fs::copy(other_kdir.join("admin.conf"), kdir.join("admin.conf")).unwrap();
    std::fs::remove_file(kdir.join("scheduler.conf")).unwrap();
    let err = write_kubeconfigs(&Dirs::new(&pki, &kdir), &config()).unwrap_err();
    assert!(
        err.to_string()
            .contains("exists already but has got the wrong CA cert"),
        "{err}"
    );
    match &err {
        Error::KubeconfigsRefused { refusals, .. } => assert!(
            matches!(refusals.as_slice(), [(path, KubeconfigRefusal::WrongCa { .. })] if path.ends_with("admin.conf")),
            "{refusals:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(!kdir.join("scheduler.conf").exists());
}

#[test]
fn a_different_server_is_only_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = init(dir.path());
    let moved = config().with_control_plane_endpoint("new-lb.example.test:443");
    let items = write_kubeconfigs(&Dirs::new(&pki, &kdir), &moved).unwrap();
    let admin = &items[0];
    assert!(matches!(admin.action, KubeconfigAction::Reuse));
    assert_eq!(
        admin.warning.as_deref().unwrap(),
        format!(
            "a kubeconfig file {:?} exists already but has an unexpected API Server URL: expected: https://new-lb.example.test:443, got: https://k8s-api.example.test:6443",
            kdir.join("admin.conf").display()
        )
    );
}

#[test]
fn external_ca_needs_the_kubeconfigs_provided() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = (dir.path().join("pki"), dir.path().join("kube"));
    tree::create(&pki, &config(), SystemTime::now()).unwrap();
    std::fs::remove_file(CERTIFICATES[0].key_path(&pki)).unwrap();
    let err = write_kubeconfigs(&Dirs::new(&pki, &kdir), &config()).unwrap_err();
    assert!(
        err.to_string().contains("ca.key is absent (external CA mode)"),
        "{err}"
    );
}

#[test]
fn user_kubeconfig_with_token_or_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, _) = init(dir.path());
    let ca = tree::load_ca(&CERTIFICATES[0], &pki).unwrap();
    let token = ClientCredentialsSpec::Token(SecretString::new("abcdef.0123456789abcdef"));
    let request = UserKubeconfig::new(&config(), "ci-bot", token).unwrap();
    assert_eq!(request.server, "https://k8s-api.example.test:6443");
    let token = kubeconfigs::build(&ca, request).unwrap();
    assert_eq!(token.current_context, "ci-bot@kubernetes");
    assert_eq!(
        token.users[0].user.token.expose_secret(),
        "abcdef.0123456789abcdef"
    );
    assert!(token.users[0].user.client_certificate_data.is_empty());

    let now = SystemTime::now();
    let week = Duration::from_secs(7 * 24 * 3600);
    let subject = kubetrust_pki::Subject::new("jane")
        .with_organization("dev")
        .with_organization("ops");
    let validity = kubeconfigs::client_validity(&ca, now, week);
    let credentials = ClientCredentialsSpec::Certificate { subject, validity };
    let request = UserKubeconfig::new(&config(), "jane", credentials).unwrap();
    let cert_user = kubeconfigs::build(&ca, request).unwrap();
    let cert = Certificate::from_pem(&cert_user.users[0].user.client_certificate_data).unwrap();
    assert_eq!(cert.subject().organizations, ["dev", "ops"]);
    let lifetime = cert.not_after().duration_since(now).unwrap();
    assert!(lifetime <= week && lifetime > week - Duration::from_secs(5));
}

#[test]
fn an_unreadable_cluster_ca_is_named_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = init(dir.path());
    let ca_crt = pki.join("ca.crt");
    std::fs::remove_file(&ca_crt).unwrap();
    // A directory in its place: unreadable even for root.
    std::fs::create_dir(&ca_crt).unwrap();
    let err = write_kubeconfigs(&Dirs::new(&pki, &kdir), &config()).unwrap_err();
    let Error::LoadCa { source, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(source.as_ref(), Error::Read { path, source } if *path == ca_crt && source.kind() == std::io::ErrorKind::IsADirectory),
        "{source:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!("cannot read {}: Is a directory", ca_crt.display())),
        "{text}"
    );
}

#[test]
fn an_unreadable_referenced_ca_is_not_a_wrong_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = init(dir.path());
    // admin.conf points at a CA file instead of embedding it, and that file cannot be read.
    let referenced = dir.path().join("elsewhere/ca.crt");
    std::fs::create_dir_all(&referenced).unwrap();
    let admin = kdir.join("admin.conf");
    let mut kubeconfig = Config::from_file(&admin).unwrap();
    kubeconfig.clusters[0].cluster.certificate_authority_data.clear();
    kubeconfig.clusters[0].cluster.certificate_authority = referenced.display().to_string();
    kubeconfig.save(&admin).unwrap();

    let err = write_kubeconfigs(&Dirs::new(&pki, &kdir), &config()).unwrap_err();
    let Error::KubeconfigsRefused { refusals, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(refusals.as_slice(), [(_, KubeconfigRefusal::CaUnreadable(Error::Read { path, .. }))] if *path == referenced),
        "{refusals:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "{}: cannot read {}: Is a directory",
            admin.display(),
            referenced.display()
        )),
        "{text}"
    );
    assert!(!text.contains("wrong CA"), "{text}");
}
