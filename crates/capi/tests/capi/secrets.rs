//! Secrets: round trips, Cluster API's CA shape, external etcd, lookup-or-generate, errors.

use std::time::SystemTime;

use kubetrust_capi::{ClusterPki, Error, EtcdCa, Purpose, ca_cert_hashes, render};
use kubetrust_pki::{CaCertHash, KeyAlgorithm};

use crate::support::{capi_secrets, data, have_openssl, openssl, set_data};

fn generated() -> ClusterPki {
    ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap()
}

#[test]
fn to_secrets_has_cluster_apis_layout_and_round_trips() {
    let pki = generated();
    let secrets = pki.to_secrets("c1", "ns1");
    let names: Vec<_> = secrets.iter().map(|s| s.metadata.name.clone().unwrap()).collect();
    assert_eq!(names, ["c1-ca", "c1-etcd", "c1-proxy", "c1-sa"]);
    for secret in &secrets {
        assert_eq!(secret.metadata.namespace.as_deref(), Some("ns1"));
        assert_eq!(secret.type_.as_deref(), Some("cluster.x-k8s.io/secret"));
        let labels = secret.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["cluster.x-k8s.io/cluster-name"], "c1");
        let keys: Vec<_> = secret.data.as_ref().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["tls.crt", "tls.key"]);
    }
    let sa_pub = std::str::from_utf8(data(&secrets, "c1-sa", "tls.crt")).unwrap();
    assert!(sa_pub.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{sa_pub}");
    assert!(
        std::str::from_utf8(data(&secrets, "c1-ca", "tls.key"))
            .unwrap()
            .starts_with("-----BEGIN EC PRIVATE KEY-----\n")
    );

    let adopted = ClusterPki::from_secrets("c1", &secrets).unwrap();
    assert_eq!(adopted.to_secrets("c1", "ns1"), secrets);
    assert_eq!(adopted.ca_cert_hashes(), pki.ca_cert_hashes());
}

#[test]
fn cluster_apis_own_ca_shape_is_adopted_and_pinned_like_openssl() {
    if !have_openssl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let secrets = capi_secrets(dir.path());
    let pki = ClusterPki::from_secrets("c1", &secrets).unwrap();
    let ca = pki.cluster_ca().certificate();
    assert!(ca.serial().iter().all(|b| *b == 0), "serial {:?}", ca.serial());
    assert_eq!(ca.subject().common_name, "kubernetes");
    assert!(matches!(pki.etcd_ca(), EtcdCa::Local(_)));
    assert_eq!(pki.service_account_key().algorithm(), KeyAlgorithm::Rsa2048);

    // The pin, computed independently: SHA-256 of the DER SubjectPublicKeyInfo.
    let spki = openssl(dir.path(), &["x509", "-in", "ca.crt", "-noout", "-pubkey"]);
    std::fs::write(dir.path().join("ca.pub"), spki).unwrap();
    let der = openssl(
        dir.path(),
        &["pkey", "-pubin", "-in", "ca.pub", "-outform", "DER"],
    );
    let expected = CaCertHash::of_public_key(&der);
    assert_eq!(pki.ca_cert_hashes(), [expected]);
    assert_eq!(ca_cert_hashes(&secrets[0]).unwrap(), [expected]);

    // Written back out, the Secrets carry the same certificates and keys.
    let again = ClusterPki::from_secrets("c1", &pki.to_secrets("c1", "default")).unwrap();
    assert_eq!(again.cluster_ca().certificate(), ca);
}

#[test]
fn pins_cover_every_certificate_of_a_bundle() {
    let (a, b) = (generated(), generated());
    let mut secrets = a.to_secrets("c1", "ns");
    let bundle = [
        data(&secrets, "c1-ca", "tls.crt"),
        b.cluster_ca().bundle_pem().as_bytes(),
    ]
    .concat();
    set_data(&mut secrets, "c1-ca", "tls.crt", Some(&bundle));
    let expected = [a.ca_cert_hashes()[0], b.ca_cert_hashes()[0]];
    assert_eq!(ca_cert_hashes(&secrets[0]).unwrap(), expected);
    let pki = ClusterPki::from_secrets("c1", &secrets).unwrap();
    assert_eq!(pki.ca_cert_hashes(), expected);
    assert_eq!(pki.cluster_ca().bundle().len(), 2);
}

#[test]
fn external_etcd_has_a_certificate_and_no_key() {
    let pki = generated();
    let mut secrets = pki.to_secrets("c1", "ns");
    set_data(&mut secrets, "c1-etcd", "tls.key", None);
    let adopted = ClusterPki::from_secrets("c1", &secrets).unwrap();
    let EtcdCa::External(bundle) = adopted.etcd_ca() else {
        panic!("etcd without tls.key must be external");
    };
    assert_eq!(bundle.len(), 1);
    let etcd = adopted.to_secrets("c1", "ns").remove(1);
    let keys: Vec<_> = etcd.data.unwrap().into_keys().collect();
    assert_eq!(keys, ["tls.crt"]);
}

#[test]
fn lookup_or_generate_adopts_what_exists_and_names_what_it_made() {
    let existing = generated();
    let secrets = vec![existing.to_secrets("c1", "ns").remove(0)];
    let (pki, generated) =
        ClusterPki::lookup_or_generate("c1", &secrets, KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    assert_eq!(
        generated,
        [Purpose::EtcdCa, Purpose::FrontProxyCa, Purpose::ServiceAccount]
    );
    assert_eq!(pki.ca_cert_hashes(), existing.ca_cert_hashes());

    let all = pki.to_secrets("c1", "ns");
    let (again, none) =
        ClusterPki::lookup_or_generate("c1", &all, KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    assert!(none.is_empty());
    assert_eq!(again.to_secrets("c1", "ns"), all);

    // A present but broken Secret is an error, never replaced by a new CA.
    let mut broken = secrets;
    set_data(&mut broken, "c1-ca", "tls.key", None);
    let err = ClusterPki::lookup_or_generate("c1", &broken, KeyAlgorithm::EcdsaP256, SystemTime::now())
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingData { secret, key: "tls.key" } if secret == "c1-ca"),
        "{err:?}"
    );
}

/// The text of an error (Display and Debug), checked to carry no piece of any `tls.key`
/// body of `secrets` (labels such as `EC PRIVATE KEY` may appear: they are not secret).
fn text_without_keys(err: &Error, secrets: &[k8s_openapi::api::core::v1::Secret]) -> String {
    let text = format!("{err} / {err:?}");
    for secret in secrets {
        let Some(key) = secret.data.as_ref().and_then(|d| d.get("tls.key")) else {
            continue;
        };
        let pem = std::str::from_utf8(&key.0).unwrap();
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            for chunk in line.as_bytes().chunks(12).filter(|c| c.len() == 12) {
                let chunk = std::str::from_utf8(chunk).unwrap();
                assert!(!text.contains(chunk), "{text}");
            }
        }
    }
    text
}

#[test]
fn errors_name_the_secret_and_key_and_never_echo_keys() {
    let pki = generated();
    let other = generated();
    let good = pki.to_secrets("c1", "ns");

    let missing: Vec<_> = good
        .iter()
        .filter(|s| s.metadata.name.as_deref() != Some("c1-proxy"))
        .cloned()
        .collect();
    let err = ClusterPki::from_secrets("c1", &missing).unwrap_err();
    assert!(
        matches!(&err, Error::MissingSecret { name } if name == "c1-proxy"),
        "{err:?}"
    );
    assert_eq!(
        text_without_keys(&err, &good),
        format!("Secret c1-proxy not found / {err:?}")
    );

    let mut no_crt = good.clone();
    set_data(&mut no_crt, "c1-ca", "tls.crt", None);
    let err = ClusterPki::from_secrets("c1", &no_crt).unwrap_err();
    assert!(
        matches!(&err, Error::MissingData { secret, key: "tls.crt" } if secret == "c1-ca"),
        "{err:?}"
    );

    let mut no_key = good.clone();
    set_data(&mut no_key, "c1-proxy", "tls.key", None);
    let err = ClusterPki::from_secrets("c1", &no_key).unwrap_err();
    assert!(
        matches!(&err, Error::MissingData { secret, key: "tls.key" } if secret == "c1-proxy"),
        "{err:?}"
    );

    let mut bad_crt = good.clone();
    set_data(&mut bad_crt, "c1-etcd", "tls.crt", Some(b"not a certificate"));
    let err = ClusterPki::from_secrets("c1", &bad_crt).unwrap_err();
    assert!(
        matches!(&err, Error::Certificate { secret, key: "tls.crt", .. } if secret == "c1-etcd"),
        "{err:?}"
    );

    // A damaged key: the body is kept partly, so an echo would show.
    let mut bad_key = good.clone();
    let key = data(&good, "c1-ca", "tls.key");
    let damaged = [&key[..40], b"!!!!", &key[44..]].concat();
    set_data(&mut bad_key, "c1-ca", "tls.key", Some(&damaged));
    let err = ClusterPki::from_secrets("c1", &bad_key).unwrap_err();
    assert!(
        matches!(&err, Error::PrivateKey { secret, key: "tls.key", .. } if secret == "c1-ca"),
        "{err:?}"
    );
    let text = text_without_keys(&err, &bad_key);
    assert!(
        text.starts_with("Secret c1-ca key \"tls.key\": unreadable private key PEM"),
        "{text}"
    );

    let mut swapped = good.clone();
    set_data(
        &mut swapped,
        "c1-proxy",
        "tls.key",
        Some(data(&other.to_secrets("c1", "ns"), "c1-proxy", "tls.key")),
    );
    let err = ClusterPki::from_secrets("c1", &swapped).unwrap_err();
    assert!(
        matches!(&err, Error::KeyMismatch { secret } if secret == "c1-proxy"),
        "{err:?}"
    );
    text_without_keys(&err, &swapped);

    let mut sa_swapped = good.clone();
    set_data(
        &mut sa_swapped,
        "c1-sa",
        "tls.crt",
        Some(data(&other.to_secrets("c1", "ns"), "c1-sa", "tls.crt")),
    );
    let err = ClusterPki::from_secrets("c1", &sa_swapped).unwrap_err();
    assert!(
        matches!(&err, Error::KeyMismatch { secret } if secret == "c1-sa"),
        "{err:?}"
    );

    let mut sa_not_public = good.clone();
    set_data(
        &mut sa_not_public,
        "c1-sa",
        "tls.crt",
        Some(data(&good, "c1-ca", "tls.crt")),
    );
    let err = ClusterPki::from_secrets("c1", &sa_not_public).unwrap_err();
    assert!(
        matches!(&err, Error::PublicKey { secret, key: "tls.crt" } if secret == "c1-sa"),
        "{err:?}"
    );

    // A leaf certificate (the kubeconfig's client certificate) is not a CA.
    let kubeconfig = pki
        .kubeconfig_secret("c1", "ns", "cp:6443", SystemTime::now())
        .unwrap();
    let read = kubetrust_capi::KubeconfigSecret::read(&kubeconfig).unwrap();
    let mut leaf = good.clone();
    set_data(
        &mut leaf,
        "c1-ca",
        "tls.crt",
        Some(&read.config.users[0].user.client_certificate_data),
    );
    let err = ClusterPki::from_secrets("c1", &leaf).unwrap_err();
    assert!(
        matches!(&err, Error::NotACa { secret, .. } if secret == "c1-ca"),
        "{err:?}"
    );
}

#[test]
fn yaml_redacts_private_keys_unless_asked() {
    let pki = generated();
    let mut secrets = pki.to_secrets("c1", "ns");
    secrets.push(
        pki.kubeconfig_secret("c1", "ns", "cp.example.com:6443", SystemTime::now())
            .unwrap(),
    );
    let redacted = render::to_yaml(&secrets, render::Keys::Redacted).unwrap();
    assert_eq!(redacted.matches("\n---\n").count(), 4, "{redacted}");
    let key_len = data(&secrets, "c1-ca", "tls.key").len();
    assert!(
        redacted.contains(&format!("tls.key: \"<redacted: {key_len} bytes>\"")),
        "{redacted}"
    );
    assert_eq!(redacted.matches("<redacted: ").count(), 5, "{redacted}");
    assert!(redacted.contains("type: cluster.x-k8s.io/secret"), "{redacted}");
    assert!(
        redacted.contains("cluster.x-k8s.io/cluster-name: c1"),
        "{redacted}"
    );
    // base64 of "-----BEGIN CERTIFICATE-----" and of "-----BEGIN EC PRIVATE KEY-----".
    let (certificate, private_key) = (
        "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t",
        "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t",
    );
    assert!(redacted.contains(certificate), "{redacted}");
    assert!(!redacted.contains(private_key), "{redacted}");

    let shown = render::to_yaml(&secrets, render::Keys::Shown).unwrap();
    assert!(!shown.contains("<redacted"), "{shown}");
    assert!(shown.contains(private_key), "{shown}");
}
