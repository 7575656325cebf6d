//! `pki::init::create`: the tree and its kubeconfig files in one call, with the same outcome
//! and the same refusals as `tree::create` followed by `kubeconfigs::create`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::time::SystemTime;

use kubetrust_pki::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES, KubeconfigAction};
use kubetrust_pki::tree::{Action, TreeConfig};
use kubetrust_pki::{Certificate, Dirs, Error, KeyAlgorithm, PrivateKey, init};

fn config() -> TreeConfig {
    TreeConfig::new("cp-1", "10.0.0.10".parse().unwrap()).with_encryption_algorithm(KeyAlgorithm::EcdsaP256)
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            names.extend(files_under(&path));
        } else {
            names.push(path.display().to_string());
        }
    }
    names.sort();
    names
}

#[test]
fn creates_the_tree_and_kubeconfigs_with_distinct_keys_then_reuses_them() {
    let root = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(root.path().join("pki"), root.path());
    let created = init::create(&dirs, &config(), &KUBECONFIG_FILES, SystemTime::now()).unwrap();
    assert!(
        created
            .tree
            .items
            .iter()
            .all(|i| matches!(i.action, Action::Create))
    );
    assert_eq!(created.tree.keys_to_create(), 11);
    assert_eq!(created.kubeconfigs.len(), 5);
    assert!(
        created
            .kubeconfigs
            .iter()
            .all(|i| matches!(i.action, KubeconfigAction::Create))
    );

    // Sixteen keys from one batch: all different, each beside the certificate made for it.
    let mut public_keys: Vec<Vec<u8>> = Vec::new();
    for name in files_under(&dirs.cert_dir) {
        if let Some(stem) = name.strip_suffix(".key") {
            let key = PrivateKey::from_pem(&std::fs::read(&name).unwrap()).unwrap();
            if let Ok(cert) = std::fs::read(format!("{stem}.crt")) {
                assert!(Certificate::from_pem(&cert).unwrap().matches_key(&key), "{name}");
            }
            public_keys.push(key.public_key_der().to_vec());
        }
    }
    for spec in &KUBECONFIG_FILES {
        let client = EmbeddedClient::load(&root.path().join(spec.file_name)).unwrap();
        let key = client.private_key().unwrap();
        assert!(
            client.certificate_chain().unwrap()[0].matches_key(&key),
            "{}",
            spec.file_name
        );
        public_keys.push(key.public_key_der().to_vec());
    }
    let count = public_keys.len();
    public_keys.sort();
    public_keys.dedup();
    assert_eq!((count, public_keys.len()), (16, 16));

    let again = init::create(&dirs, &config(), &KUBECONFIG_FILES, SystemTime::now()).unwrap();
    assert!(again.tree.items.iter().all(|i| matches!(i.action, Action::Reuse)));
    assert!(
        again
            .kubeconfigs
            .iter()
            .all(|i| matches!(i.action, KubeconfigAction::Reuse))
    );
}

#[test]
fn a_refused_tree_writes_nothing_not_even_kubeconfigs() {
    let root = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(root.path().join("pki"), root.path());
    std::fs::create_dir(&dirs.cert_dir).unwrap();
    std::fs::write(dirs.cert_dir.join("apiserver.crt"), "not a certificate").unwrap();
    let err = init::create(&dirs, &config(), &KUBECONFIG_FILES, SystemTime::now()).unwrap_err();
    assert!(matches!(err, Error::TreeRefused { .. }), "{err}");
    assert_eq!(
        files_under(root.path()),
        [dirs.cert_dir.join("apiserver.crt").display().to_string()]
    );
}
