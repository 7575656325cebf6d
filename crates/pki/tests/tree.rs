//! The kubeadm tree: exact names, SANs and extensions checked by openssl; re-runs reuse;
//! bad existing files are refused before anything is written.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::time::SystemTime;

use common::{mode, openssl_ok};
use kubetrust_pki::tree::{self, Action, CERTIFICATES, Refusal, TreeConfig};
use kubetrust_pki::{CaCertHash, Certificate, Error, KeyAlgorithm};

/// The inputs of the spec's reference vectors (`testdata/pki/README.md`).
fn vector_config() -> TreeConfig {
    TreeConfig::new("cp-1", "192.168.10.11".parse().unwrap())
        .with_control_plane_endpoint("k8s-api.example.test:6443")
        .with_apiserver_cert_sans(["extra.example.test", "10.0.0.100", "bad_name!"])
}

fn read_cert(dir: &Path, base: &str) -> Certificate {
    Certificate::from_pem(&std::fs::read(dir.join(format!("{base}.crt"))).unwrap()).unwrap()
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in walk(dir) {
        files.push((
            entry.strip_prefix(dir).unwrap().display().to_string(),
            std::fs::read(&entry).unwrap(),
        ));
    }
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}

#[test]
fn fresh_tree_matches_kubeadm_and_openssl_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let plan = tree::create(&pki, &vector_config(), SystemTime::now()).unwrap();
    assert!(plan.items.iter().all(|i| matches!(i.action, Action::Create)));
    assert!(
        plan.warnings
            .iter()
            .any(|w| w.contains("'bad_name!' was not added to the 'apiserver.crt' SAN"))
    );
    let lines = plan.lines();
    assert!(lines.contains(&"[certs] apiserver serving cert is signed for DNS names [cp-1 extra.example.test k8s-api.example.test kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local] and IPs [10.96.0.1 192.168.10.11 10.0.0.100]".to_owned()), "{lines:#?}");
    assert!(lines.contains(&"[certs] etcd/server serving cert is signed for DNS names [cp-1 localhost] and IPs [192.168.10.11 127.0.0.1 ::1]".to_owned()));

    // Names, modes.
    for spec in CERTIFICATES {
        assert_eq!(mode(&spec.cert_path(&pki)), 0o644, "{}", spec.name);
        assert_eq!(mode(&spec.key_path(&pki)), 0o600, "{}", spec.name);
    }
    assert_eq!(mode(&pki.join("sa.key")), 0o600);
    assert_eq!(mode(&pki.join("sa.pub")), 0o600);
    assert_eq!(mode(&pki.join("etcd")), 0o755);

    // Subjects and usages as kubeadm has them.
    let subject = |base: &str| read_cert(&pki, base).subject();
    assert_eq!(
        subject("apiserver-kubelet-client").organizations,
        ["kubeadm:cluster-admins"]
    );
    assert_eq!(subject("etcd/server").common_name, "cp-1");
    assert_eq!(subject("etcd/ca").common_name, "etcd-ca");

    let Some(_) = openssl_ok(&["version"]) else { return };
    let path = |base: &str| pki.join(format!("{base}.crt")).display().to_string();
    for spec in CERTIFICATES.iter().filter(|s| !s.is_ca()) {
        let ca = spec.issuer();
        let out = openssl_ok(&["verify", "-CAfile", &path(ca.base_name), &path(spec.base_name)]).unwrap();
        assert!(out.trim_end().ends_with(": OK"), "{out}");
    }
    let apiserver = openssl_ok(&["x509", "-noout", "-text", "-in", &path("apiserver")]).unwrap();
    assert!(apiserver.contains("DNS:cp-1, DNS:extra.example.test, DNS:k8s-api.example.test, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local, IP Address:10.96.0.1, IP Address:192.168.10.11, IP Address:10.0.0.100"), "{apiserver}");
    assert!(
        apiserver.contains("X509v3 Key Usage: critical\n                Digital Signature, Key Encipherment")
    );
    assert!(apiserver.contains("X509v3 Extended Key Usage: \n                TLS Web Server Authentication"));
    assert!(apiserver.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"));
    assert!(apiserver.contains("Signature Algorithm: sha256WithRSAEncryption"));
    let order: Vec<usize> = [
        "Key Usage: critical",
        "Extended Key Usage",
        "Basic Constraints",
        "Authority Key Identifier",
        "Subject Alternative Name",
    ]
    .iter()
    .map(|e| apiserver.find(e).unwrap())
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "Go's extension order");

    let ca = openssl_ok(&["x509", "-noout", "-text", "-in", &path("ca")]).unwrap();
    assert!(ca.contains("Digital Signature, Key Encipherment, Certificate Sign"));
    assert!(ca.contains("CA:TRUE"));
    assert!(ca.contains("DNS:kubernetes"));
    let skid = ca
        .split("Subject Key Identifier: \n")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .to_owned();
    assert!(apiserver.contains(&skid), "AKID of the leaf = SKID of the CA");

    let client = openssl_ok(&[
        "x509",
        "-noout",
        "-subject",
        "-ext",
        "subjectAltName",
        "-in",
        &path("apiserver-kubelet-client"),
    ])
    .unwrap();
    assert!(
        client.starts_with("subject=O = kubeadm:cluster-admins, CN = kube-apiserver-kubelet-client"),
        "{client}"
    );
    assert!(
        !client.contains("Subject Alternative Name"),
        "client certificates have no SAN: {client}"
    );

    let etcd = openssl_ok(&[
        "x509",
        "-noout",
        "-ext",
        "extendedKeyUsage,subjectAltName",
        "-in",
        &path("etcd/peer"),
    ])
    .unwrap();
    assert!(etcd.contains("TLS Web Server Authentication, TLS Web Client Authentication"));
    assert!(etcd.contains(
        "DNS:cp-1, DNS:localhost, IP Address:192.168.10.11, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
    ));

    // sa.pub is the PKIX public key of sa.key.
    let derived = openssl_ok(&[
        "pkey",
        "-in",
        &pki.join("sa.key").display().to_string(),
        "-pubout",
    ])
    .unwrap();
    assert_eq!(derived, std::fs::read_to_string(pki.join("sa.pub")).unwrap());

    // Keys are in kubeadm's PEM forms and openssl accepts them.
    assert!(
        std::fs::read_to_string(pki.join("ca.key"))
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----")
    );
    openssl_ok(&[
        "rsa",
        "-check",
        "-noout",
        "-in",
        &pki.join("apiserver.key").display().to_string(),
    ]);

    // Pins equal the openssl pipeline of the kubeadm docs.
    for base in ["ca", "front-proxy-ca", "etcd/ca"] {
        let script = format!(
            "openssl x509 -pubkey -noout -in {} | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'",
            path(base)
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .output()
            .unwrap();
        let hex = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            CaCertHash::of_certificate(&read_cert(&pki, base)).to_string(),
            format!("sha256:{}", hex.trim())
        );
    }
}

#[test]
fn rerun_reuses_everything_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = vector_config().with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    let before = snapshot(dir.path());
    let plan = tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    assert!(
        plan.items.iter().all(|i| matches!(i.action, Action::Reuse)),
        "{:#?}",
        plan.items
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn dry_run_plan_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let plan = tree::plan(&pki, &vector_config(), SystemTime::now()).unwrap();
    assert_eq!(plan.items.len(), 11);
    assert!(!pki.exists());
}

#[test]
fn missing_leaf_is_recreated_from_the_existing_ca() {
    let dir = tempfile::tempdir().unwrap();
    let config = vector_config().with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    let ca_before = std::fs::read(dir.path().join("ca.crt")).unwrap();
    std::fs::remove_file(dir.path().join("apiserver.crt")).unwrap();
    std::fs::remove_file(dir.path().join("apiserver.key")).unwrap();
    let plan = tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    let apiserver = plan.items.iter().find(|i| i.name == "apiserver").unwrap();
    assert!(matches!(apiserver.action, Action::Create));
    assert_eq!(std::fs::read(dir.path().join("ca.crt")).unwrap(), ca_before);
    assert!(kubetrust_pki::verify_chain(
        &read_cert(dir.path(), "apiserver"),
        &[],
        &[read_cert(dir.path(), "ca")]
    ));
}

#[test]
fn bad_existing_files_are_refused_and_nothing_is_written() {
    let config = vector_config().with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    let other = tempfile::tempdir().unwrap();
    tree::create(other.path(), &config, SystemTime::now()).unwrap();

    type Break = fn(&Path, &Path);
    type Expect = fn(&Refusal) -> bool;
    let cases: [(&str, Break, &str, Expect); 6] = [
        (
            "corrupt PEM",
            |d, _| std::fs::write(d.join("apiserver.crt"), "garbage").unwrap(),
            "failure loading certificate",
            |r| matches!(r, Refusal::Unreadable(Error::LoadCertificate { .. })),
        ),
        (
            "unreadable CA certificate",
            |d, _| {
                std::fs::remove_file(d.join("ca.crt")).unwrap();
                std::fs::create_dir(d.join("ca.crt")).unwrap();
            },
            "ca.crt: Is a directory",
            |r| matches!(r, Refusal::Unreadable(Error::Read { path, .. }) if path.ends_with("ca.crt")),
        ),
        (
            "certificate from another CA",
            |d, o| {
                std::fs::copy(o.join("apiserver.crt"), d.join("apiserver.crt")).unwrap();
                std::fs::copy(o.join("apiserver.key"), d.join("apiserver.key")).unwrap();
            },
            "certificate apiserver is not signed by corresponding CA",
            |r| {
                matches!(
                    r,
                    Refusal::NotSignedByCa {
                        base_name: "apiserver"
                    }
                )
            },
        ),
        (
            "key of another certificate",
            |d, o| {
                std::fs::copy(o.join("apiserver.key"), d.join("apiserver.key")).unwrap();
            },
            "the key does not match",
            |r| matches!(r, Refusal::KeyMismatch { .. }),
        ),
        (
            "CA key mismatch",
            |d, o| {
                std::fs::copy(o.join("ca.key"), d.join("ca.key")).unwrap();
            },
            "does not match the public key",
            |r| matches!(r, Refusal::CaKeyMismatch { .. }),
        ),
        (
            "leaf without its CA being there",
            |d, _| {
                std::fs::remove_file(d.join("front-proxy-ca.crt")).unwrap();
                std::fs::remove_file(d.join("front-proxy-ca.key")).unwrap();
            },
            "is about to be created",
            |r| matches!(r, Refusal::CaToBeCreated { ca: "front-proxy-ca" }),
        ),
    ];
    for (what, break_it, want, expect) in cases {
        let dir = tempfile::tempdir().unwrap();
        tree::create(dir.path(), &config, SystemTime::now()).unwrap();
        std::fs::remove_file(dir.path().join("etcd/peer.crt")).unwrap();
        std::fs::remove_file(dir.path().join("etcd/peer.key")).unwrap();
        break_it(dir.path(), other.path());
        let before = snapshot(dir.path());
        let err = tree::create(dir.path(), &config, SystemTime::now()).unwrap_err();
        let Error::TreeRefused { plan } = &err else {
            panic!("{what}: {err:?}")
        };
        assert!(plan.refusals().any(|(_, r)| expect(r)), "{what}: {err:?}");
        let err = err.to_string();
        assert!(err.contains(want), "{what}: {err}");
        assert!(err.contains("nothing was written"), "{what}: {err}");
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{what}: the missing etcd/peer must not have been written"
        );
    }
}

#[test]
fn a_new_required_san_refuses_the_old_apiserver_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let config = vector_config().with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    let wider = config.clone().with_apiserver_cert_sans(["new.example.test"]);
    let plan = tree::plan(dir.path(), &wider, SystemTime::now()).unwrap();
    let refusals: Vec<_> = plan.refusals().map(|(name, r)| (name, r.to_string())).collect();
    assert_eq!(
        refusals,
        [(
            "apiserver",
            "certificate apiserver is invalid: it is not valid for new.example.test".to_owned()
        )]
    );
    assert!(matches!(
        plan.refusals().next(),
        Some(("apiserver", Refusal::MissingSan { base_name: "apiserver", san })) if san == "new.example.test"
    ));
}

#[test]
fn ca_without_key_is_an_external_ca_whose_leaves_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let config = vector_config().with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    std::fs::remove_file(dir.path().join("ca.key")).unwrap();
    let plan = tree::plan(dir.path(), &config, SystemTime::now()).unwrap();
    assert!(matches!(plan.items[0].action, Action::ExternalCa));
    assert!(plan.refusals().next().is_none(), "{:#?}", plan.items);
    assert!(
        plan.lines()
            .contains(&"[certs] Using existing ca keyless certificate authority".to_owned())
    );

    std::fs::remove_file(dir.path().join("apiserver.crt")).unwrap();
    std::fs::remove_file(dir.path().join("apiserver.key")).unwrap();
    let err = tree::create(dir.path(), &config, SystemTime::now())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("apiserver: missing, and its CA ca has no key (external CA mode)"),
        "{err}"
    );
}

#[test]
fn external_etcd_skips_the_etcd_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let config = vector_config()
        .with_encryption_algorithm(KeyAlgorithm::Ed25519)
        .with_external_etcd(true);
    let plan = tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    let names: Vec<_> = plan.items.iter().map(|i| i.name).collect();
    assert_eq!(
        names,
        [
            "ca",
            "apiserver",
            "apiserver-kubelet-client",
            "front-proxy-ca",
            "front-proxy-client",
            "sa"
        ]
    );
    assert!(!dir.path().join("etcd").exists());
}

#[test]
fn every_algorithm_builds_a_tree_openssl_verifies() {
    for algorithm in [KeyAlgorithm::EcdsaP384, KeyAlgorithm::Ed25519] {
        let dir = tempfile::tempdir().unwrap();
        let config = vector_config().with_encryption_algorithm(algorithm);
        tree::create(dir.path(), &config, SystemTime::now()).unwrap();
        let p = |b: &str| dir.path().join(format!("{b}.crt")).display().to_string();
        let Some(out) = openssl_ok(&[
            "verify",
            "-CAfile",
            &p("etcd/ca"),
            &p("etcd/server"),
            &p("etcd/peer"),
        ]) else {
            return;
        };
        assert_eq!(out.matches(": OK").count(), 2, "{algorithm}: {out}");
    }
}

#[test]
fn bad_node_facts_are_refused_before_any_key_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let address = "10.0.0.10".parse().unwrap();
    for name in ["CP_1", "", "-cp", "cp..1"] {
        let config = TreeConfig::new(name, address).with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
        let err = tree::create(dir.path(), &config, SystemTime::now()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidNodeName { value } if value == name),
            "{name:?}: {err:?}"
        );
        assert!(
            err.to_string().starts_with(&format!(
                "nodeRegistration.name: Invalid value: {name:?}: a lowercase RFC 1123 subdomain"
            )),
            "{err}"
        );
    }
    let config = TreeConfig::new("cp-1", "0.0.0.0".parse().unwrap());
    assert!(matches!(
        tree::plan(dir.path(), &config, SystemTime::now()).unwrap_err(),
        Error::InvalidAdvertiseAddress { .. }
    ));
    assert!(walk(dir.path()).is_empty(), "nothing written");
}
