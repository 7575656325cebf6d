//! The kubeadm cert dir: modes, no overwrite, reading back, and pki's tree reusing it.

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::SystemTime;

use kubetrust_capi::{ClusterPki, Error, EtcdCa};
use kubetrust_pki::KeyAlgorithm;
use kubetrust_pki::tree::{Action, TreeConfig, plan};

use crate::support::{capi_secrets, have_openssl, set_data};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn writes_kubeadms_layout_with_its_modes_and_reads_it_back() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cert_dir = dir.path().join("pki");
    let written = pki.write_to_dir(&cert_dir).unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.strip_prefix(&cert_dir).unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "ca.crt",
            "ca.key",
            "front-proxy-ca.crt",
            "front-proxy-ca.key",
            "etcd/ca.crt",
            "etcd/ca.key",
            "sa.key",
            "sa.pub"
        ]
    );
    for name in &names {
        let want = if name.ends_with(".crt") { 0o644 } else { 0o600 };
        assert_eq!(mode(&cert_dir.join(name)), want, "{name}");
    }

    // kubetrust-pki's kubeadm tree takes these CAs and keys as its own.
    let config = TreeConfig::new("cp-0", IpAddr::V4(Ipv4Addr::new(10, 0, 0, 10)));
    let plan = plan(&cert_dir, &config, SystemTime::now()).unwrap();
    for item in &plan.items {
        let want_reuse = ["ca", "front-proxy-ca", "etcd-ca", "sa"].contains(&item.name);
        assert_eq!(
            matches!(item.action, Action::Reuse),
            want_reuse,
            "{}: {:?}",
            item.name,
            item.action
        );
    }

    let loaded = ClusterPki::from_dir(&cert_dir).unwrap();
    assert_eq!(loaded.to_secrets("c", "n"), pki.to_secrets("c", "n"));

    // Writing the same PKI again is a no-op.
    assert!(pki.write_to_dir(&cert_dir).unwrap().is_empty());
}

#[test]
fn refuses_to_overwrite_a_different_file_and_writes_nothing() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sa.pub"), "someone else's key").unwrap();
    let err = pki.write_to_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::FileDiffers { path } if path.ends_with("sa.pub")),
        "{err:?}"
    );
    assert!(!dir.path().join("ca.crt").exists());
    assert_eq!(
        std::fs::read(dir.path().join("sa.pub")).unwrap(),
        b"someone else's key"
    );

    let other = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let cert_dir = dir.path().join("pki");
    other.write_to_dir(&cert_dir).unwrap();
    let err = pki.write_to_dir(&cert_dir).unwrap_err();
    assert!(
        matches!(&err, Error::FileDiffers { path } if path.ends_with("ca.crt")),
        "{err:?}"
    );
}

#[test]
fn external_etcd_writes_and_reads_only_the_certificate() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let mut secrets = pki.to_secrets("c1", "ns");
    set_data(&mut secrets, "c1-etcd", "tls.key", None);
    let external = ClusterPki::from_secrets("c1", &secrets).unwrap();
    let dir = tempfile::tempdir().unwrap();
    external.write_to_dir(dir.path()).unwrap();
    assert!(dir.path().join("etcd/ca.crt").exists());
    assert!(!dir.path().join("etcd/ca.key").exists());
    let loaded = ClusterPki::from_dir(dir.path()).unwrap();
    assert!(matches!(loaded.etcd_ca(), EtcdCa::External(b) if b.len() == 1));
}

#[test]
fn a_sa_pub_of_another_key_is_refused_on_read() {
    let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let other = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    pki.write_to_dir(dir.path()).unwrap();
    std::fs::write(
        dir.path().join("sa.pub"),
        other.service_account_key().public_key_pem(),
    )
    .unwrap();
    let err = ClusterPki::from_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, Error::SaPubMismatch { pub_path, .. } if pub_path.ends_with("sa.pub")),
        "{err:?}"
    );
}

#[test]
fn cluster_api_secrets_become_a_cert_dir_kubeadm_accepts() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pki = ClusterPki::from_secrets("c1", &capi_secrets(dir.path())).unwrap();
    let cert_dir = dir.path().join("pki");
    pki.write_to_dir(&cert_dir).unwrap();
    let config = TreeConfig::new("cp-0", IpAddr::V4(Ipv4Addr::new(10, 0, 0, 10)));
    let created = kubetrust_pki::tree::create(&cert_dir, &config, SystemTime::now()).unwrap();
    assert_eq!(created.refusals().count(), 0);
    // The apiserver certificate kubeadm's tree issued chains to Cluster API's CA (openssl).
    crate::support::openssl(&cert_dir, &["verify", "-CAfile", "ca.crt", "apiserver.crt"]);
}
