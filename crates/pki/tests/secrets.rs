//! Errors about keys and the `kubeadm-certs` Secret never show secret bytes: not in `Display`,
//! not in `Debug`, not anywhere down the `source()` chain.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::SystemTime;

use base64::Engine as _;
use k8s_openapi::ByteString;
use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretBytes};
use kubetrust_pki::inventory::check_expiration;
use kubetrust_pki::kubeconfigs::EmbeddedClient;
use kubetrust_pki::tree::{self, TreeConfig};
use kubetrust_pki::upload_certs::{self, CertificateKey, Etcd};
use kubetrust_pki::{Dirs, Error, KeyAlgorithm, PrivateKey};

/// Every way an error can be shown: `Display`, both `Debug`s, for it and each of its sources.
fn shown(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push_str(&format!("{e}\n{e:?}\n{e:#?}\n"));
        next = e.source();
    }
    out
}

/// Every 12-character window of `text`: a leak of any part of it is found.
fn windows(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(12).map(|w| w.iter().collect()).collect()
}

fn assert_hidden(shown: &str, secrets: &[String], what: &str) {
    if let Some(leak) = secrets.iter().find(|s| shown.contains(s.as_str())) {
        panic!("{what}: shows secret bytes {leak:?}:\n{shown}");
    }
}

/// The base64 body of a PEM file, without line breaks.
fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// Broken versions of a key file: each fails to load somewhere between PEM and DER.
fn broken_key_files(pem: &str, label: &str) -> Vec<(&'static str, String)> {
    let body = pem_body(pem);
    let mut der = base64::engine::general_purpose::STANDARD.decode(&body).unwrap();
    der.truncate(der.len() / 2);
    let half = base64::engine::general_purpose::STANDARD.encode(&der);
    let (left, right) = body.split_at(body.len() / 2);
    vec![
        (
            "BEGIN line without its dashes",
            pem.replacen(
                &format!("-----BEGIN {label}-----"),
                &format!("-----BEGIN {label}"),
                1,
            ),
        ),
        (
            "no END line",
            pem.lines()
                .filter(|l| !l.starts_with("-----END"))
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "a bad character in the body",
            format!("-----BEGIN {label}-----\n{left}!{right}\n-----END {label}-----\n"),
        ),
        (
            "truncated DER",
            format!("-----BEGIN {label}-----\n{half}\n-----END {label}-----\n"),
        ),
        (
            "another label",
            format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"),
        ),
    ]
}

#[test]
fn broken_key_files_never_show_the_key() {
    let config = TreeConfig::new("cp-1", "10.0.0.1".parse().unwrap())
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    tree::create(dir.path(), &config, SystemTime::now()).unwrap();
    let path = dir.path().join("apiserver.key");
    for (algorithm, label) in [
        (KeyAlgorithm::EcdsaP256, "EC PRIVATE KEY"),
        (KeyAlgorithm::Ed25519, "PRIVATE KEY"),
    ] {
        let pem = PrivateKey::generate(algorithm).unwrap().to_pem();
        let secrets = windows(&pem_body(&pem));
        for (what, broken) in broken_key_files(&pem, label) {
            let what = format!("{algorithm} key, {what}");
            std::fs::write(&path, &broken).unwrap();
            let err = PrivateKey::from_file(&path).unwrap_err();
            assert!(matches!(err, Error::Key { .. }), "{what}: {err:?}");
            assert_hidden(&shown(&err), &secrets, &what);

            // The same file seen by the tree and the inventory.
            let err = tree::create(dir.path(), &config, SystemTime::now()).unwrap_err();
            assert!(
                err.to_string().contains("apiserver: failure loading key"),
                "{what}: {err}"
            );
            assert_hidden(&shown(&err), &secrets, &what);
            let report = check_expiration(
                &Dirs::new(dir.path(), dir.path()),
                &config,
                None,
                SystemTime::now(),
            );
            let text = report.render_text(SystemTime::now(), Default::default());
            assert!(text.contains("apiserver: failure loading key"), "{what}: {text}");
            assert_hidden(&format!("{text}\n{report:?}"), &secrets, &what);
        }
    }
}

#[test]
fn a_broken_embedded_client_key_is_not_shown() {
    let pem = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap().to_pem();
    let secrets = windows(&pem_body(&pem));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.conf");
    let mut parsed_by_pki = 0;
    for (what, broken) in broken_key_files(&pem, "EC PRIVATE KEY") {
        let credentials = ClientCredentials::EmbeddedCertificate {
            certificate_pem: b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n".to_vec(),
            key_pem: SecretBytes::new(broken.into_bytes()),
        };
        let endpoint = ClusterEndpoint::new("https://10.0.0.1:6443", Vec::new());
        Config::for_user(&endpoint, "admin", credentials)
            .save(&path)
            .unwrap();
        match EmbeddedClient::load(&path) {
            Ok(client) => {
                let err = client.private_key().unwrap_err();
                assert!(matches!(err, Error::EmbeddedKey { .. }), "{what}: {err:?}");
                assert_hidden(&shown(&err), &secrets, what);
                parsed_by_pki += 1;
            }
            // The kubeconfig crate's own PEM check refused the file.
            Err(err) => assert_hidden(&shown(&err), &secrets, what),
        }
    }
    assert!(parsed_by_pki > 0, "some broken keys must reach the key parser");
}

#[test]
fn upload_certs_errors_never_show_keys_plaintext_or_ciphertext() {
    let key = CertificateKey::generate().unwrap();
    let other = CertificateKey::generate().unwrap();
    let plaintext = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap().to_pem();
    let sealed = upload_certs::encrypt(&key, plaintext.as_bytes()).unwrap();
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let decimal = |bytes: &[u8]| bytes.iter().map(u8::to_string).collect::<Vec<_>>().join(", ");
    let mut secrets = windows(key.expose_hex().as_str());
    secrets.extend(windows(other.expose_hex().as_str()));
    secrets.extend(windows(&pem_body(&plaintext)));
    let body = &sealed[12..sealed.len() - 16];
    secrets.extend(windows(&hex(body)));
    secrets.extend(windows(&decimal(body)));
    secrets.extend(windows(&base64::engine::general_purpose::STANDARD.encode(body)));

    let mut tampered = sealed.clone();
    tampered[20] ^= 1;
    let failures = [
        ("wrong key", upload_certs::decrypt(&other, &sealed).unwrap_err()),
        ("tampered", upload_certs::decrypt(&key, &tampered).unwrap_err()),
        (
            "truncated",
            upload_certs::decrypt(&key, &sealed[..11]).unwrap_err(),
        ),
    ];
    for (what, err) in &failures {
        assert_hidden(&shown(err), &secrets, what);
    }

    // The same value as Secret data, downloaded with the wrong key or altered.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.key"), plaintext.as_bytes()).unwrap();
    let mut secret = upload_certs::build_secret(dir.path(), &key, &Etcd::Local, None).unwrap();
    let err = upload_certs::download(&secret, &other, dir.path(), &Etcd::Local).unwrap_err();
    assert!(
        matches!(&err, Error::SecretDecrypt { entry: Some(e) } if e == "ca.key"),
        "{err:?}"
    );
    assert_hidden(&shown(&err), &secrets, "download with the wrong key");
    let data = secret.data.as_mut().unwrap();
    let value = data.get_mut("ca.key").unwrap();
    let shortened = ByteString(value.0[..11].to_vec());
    *value = shortened;
    let err = upload_certs::download(&secret, &key, dir.path(), &Etcd::Local).unwrap_err();
    assert!(matches!(&err, Error::DataShorterThanNonce { .. }), "{err:?}");
    assert_hidden(&shown(&err), &secrets, "download of a short value");

    // A key given with one character wrong or missing is not echoed either.
    let typed = key.expose_hex();
    for input in [format!("{}z", &typed[1..]), typed[1..].to_owned()] {
        let err = input.parse::<CertificateKey>().unwrap_err();
        assert_hidden(&shown(&err), &secrets, "certificate key parse");
    }
}
