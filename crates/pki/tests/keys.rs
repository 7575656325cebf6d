//! Keys and certificates from other writers (openssl, the spec's python vectors) load, match,
//! chain and pin as they should; secrets stay out of Debug; bad paths are typed errors.
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

use common::openssl_ok;
use kubetrust_pki::tree::{self, TreeConfig};
use kubetrust_pki::{
    CaCertHash, CertProfile, Certificate, CertificateAuthority, Error, KeyAlgorithm, PrivateKey, Subject,
    verify_chain,
};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/pki/spec-vectors");

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(VECTORS).join(name)).unwrap()
}

/// `sha256:` of the openssl pipeline from the kubeadm docs.
fn openssl_pin(cert: &Path) -> Option<String> {
    let script = format!(
        "openssl x509 -pubkey -noout -in {} | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex | sed 's/^.* //'",
        cert.display()
    );
    openssl_ok(&["version"])?;
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .unwrap();
    Some(format!(
        "sha256:{}",
        String::from_utf8(out.stdout).unwrap().trim()
    ))
}

#[test]
fn the_spec_vectors_load_chain_and_match() {
    for alg in ["rsa", "ecdsa"] {
        let ca_cert = Certificate::from_pem(&vector(&format!("{alg}-ca.crt"))).unwrap();
        let ca_key = PrivateKey::from_pem(&vector(&format!("{alg}-ca.key"))).unwrap();
        let ca = CertificateAuthority::new(vec![ca_cert.clone()], ca_key).unwrap();
        let leaf = Certificate::from_pem(&vector(&format!("{alg}-apiserver.crt"))).unwrap();
        assert!(ca.verifies(&leaf, &[]), "{alg}");
        assert_eq!(
            leaf.authority_key_id(),
            ca_cert.subject_key_id(),
            "{alg}: AKID = SKID"
        );
        assert_eq!(ca_cert.dns_names(), ["kubernetes"]);
        // A leaf we issue from their CA chains too.
        let profile = CertProfile::client(Subject::new("x"), SystemTime::now());
        let (ours, _) = ca.issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256).unwrap();
        assert!(verify_chain(&ours, &[], &[ca_cert]));
    }
    let sa = PrivateKey::from_file(&Path::new(VECTORS).join("sa.key")).unwrap();
    let err = PrivateKey::from_file(&Path::new(VECTORS).join("sa.pub"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("failure loading key ") && err.contains("sa.pub: no private key block"),
        "{err}"
    );
    assert_eq!(sa.public_key_pem().as_bytes(), vector("sa.pub"));
    // Another writer's CA with the wrong key is refused.
    let rsa = Certificate::from_pem(&vector("rsa-ca.crt")).unwrap();
    let wrong = PrivateKey::from_pem(&vector("sa.key")).unwrap();
    assert!(matches!(
        CertificateAuthority::new(vec![rsa], wrong),
        Err(Error::KeyMismatch { .. })
    ));
}

#[test]
fn openssl_keys_in_every_form_load_and_pins_match_openssl() {
    let dir = tempfile::tempdir().unwrap();
    let forms: [(&str, &[&str], KeyAlgorithm); 6] = [
        (
            "pkcs1-3072.key",
            &["genrsa", "-traditional", "-out", "OUT", "3072"],
            KeyAlgorithm::Rsa3072,
        ),
        (
            "pkcs8-4096.key",
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:4096",
                "-out",
                "OUT",
            ],
            KeyAlgorithm::Rsa4096,
        ),
        (
            "sec1-p256.key",
            &["ecparam", "-name", "prime256v1", "-genkey", "-out", "OUT"],
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "pkcs8-p256.key",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "OUT",
            ],
            KeyAlgorithm::EcdsaP256,
        ),
        (
            "pkcs8-p384.key",
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "OUT",
            ],
            KeyAlgorithm::EcdsaP384,
        ),
        (
            "pkcs8-ed25519.key",
            &["genpkey", "-algorithm", "ED25519", "-out", "OUT"],
            KeyAlgorithm::Ed25519,
        ),
    ];
    for (file, args, algorithm) in forms {
        let path = dir.path().join(file);
        let out = path.to_str().unwrap();
        let full: Vec<&str> = args.iter().map(|a| if *a == "OUT" { out } else { a }).collect();
        let Some(_) = openssl_ok(&full) else { return };
        // `ecparam -genkey` writes an EC PARAMETERS block first, as kubeadm tolerates.
        let key =
            PrivateKey::from_pem(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(key.algorithm(), algorithm, "{file}");

        // A CA made from that key: openssl agrees on the pin and on the signature.
        let validity =
            kubetrust_pki::Validity::kubeadm(SystemTime::now(), kubetrust_pki::CA_CERTIFICATE_VALIDITY);
        let ca = CertificateAuthority::self_signed("kubernetes", key, validity).unwrap();
        let crt = dir.path().join(format!("{file}.crt"));
        std::fs::write(&crt, ca.certificate().to_pem()).unwrap();
        assert_eq!(
            openssl_pin(&crt).unwrap(),
            CaCertHash::of_certificate(ca.certificate()).to_string(),
            "{file}"
        );
        let verify =
            openssl_ok(&["verify", "-CAfile", crt.to_str().unwrap(), crt.to_str().unwrap()]).unwrap();
        assert!(verify.contains(": OK"), "{file}: {verify}");
        // Our re-encoding is what openssl reads too.
        let saved = dir.path().join(format!("{file}.ours"));
        std::fs::write(&saved, ca.key().to_pem().as_bytes()).unwrap();
        openssl_ok(&["pkey", "-in", saved.to_str().unwrap(), "-noout", "-check"]);
    }
}

#[test]
fn a_ca_bundle_signs_with_the_first_and_trusts_all() {
    let now = SystemTime::now();
    let old = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).unwrap();
    let new = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).unwrap();
    let key = new.key().to_pem();
    let bundle = [new.certificate().clone(), old.certificate().clone()].to_vec();
    let rotating = CertificateAuthority::new(bundle, PrivateKey::from_pem(key.as_bytes()).unwrap()).unwrap();
    let profile = CertProfile::client(Subject::new("x"), now);
    let (from_old, _) = old.issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256).unwrap();
    let (from_new, _) = rotating
        .issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256)
        .unwrap();
    assert!(rotating.verifies(&from_old, &[]) && rotating.verifies(&from_new, &[]));
    assert!(!old.verifies(&from_new, &[]));
    assert_eq!(
        CaCertHash::of_pem_bundle(rotating.bundle_pem().as_bytes())
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn debug_output_never_holds_key_material() {
    let ca =
        CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
    let pem = ca.key().to_pem();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for debug in [format!("{ca:?}"), format!("{:?}", ca.key()), format!("{ca:#?}")] {
        assert!(!debug.contains(&body[..20]), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }
}

#[test]
fn unusable_paths_are_typed_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = TreeConfig::new("cp-1", "10.0.0.1".parse().unwrap())
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256);

    // The cert dir is a regular file: nothing can be created under it.
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let err = tree::create(&file, &config, SystemTime::now()).unwrap_err();
    assert!(matches!(err, Error::Fs(_)), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");

    // A directory where a certificate should be: refused before anything is written.
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(pki.join("apiserver.crt")).unwrap();
    let err = tree::create(&pki, &config, SystemTime::now())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("apiserver") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(!pki.join("ca.crt").exists());
}
