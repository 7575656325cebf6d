//! `CertificateAuthority::sign_request`: what a Kubernetes CSR signer issues, read back by us
//! and by openssl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::{Duration, SystemTime};

use common::openssl;
use kubetrust_pki::{
    AltNames, CertificateAuthority, CertificateRequest, ExtKeyUsage, KeyAlgorithm, KeyUsage, PrivateKey,
    Subject, Validity,
};

fn request(alt_names: &AltNames) -> (CertificateRequest, PrivateKey) {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let subject = Subject::new("system:node:worker-1").with_organization("system:nodes");
    (CertificateRequest::new(&subject, alt_names, &key).unwrap(), key)
}

#[test]
fn the_request_gives_subject_names_and_key_the_signer_gives_the_rest() {
    let now = SystemTime::now();
    let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).unwrap();
    let mut names = AltNames::default();
    names.add_dns("worker-1");
    names.add_ip("10.0.0.7".parse().unwrap());
    let (request, key) = request(&names);
    let validity = Validity {
        not_before: now - Duration::from_secs(300),
        not_after: now + Duration::from_secs(3600),
    };
    let cert = ca
        .sign_request(
            &request,
            KeyUsage::DIGITAL_SIGNATURE,
            &[ExtKeyUsage::ServerAuth],
            validity,
        )
        .unwrap();
    assert_eq!(cert.subject(), *request.subject());
    assert_eq!(cert.dns_names(), ["worker-1"]);
    assert_eq!(
        cert.ip_addresses(),
        ["10.0.0.7".parse::<std::net::IpAddr>().unwrap()]
    );
    assert!(cert.matches_key(&key));
    assert!(!cert.is_ca());
    assert_eq!(cert.key_usage(), KeyUsage::DIGITAL_SIGNATURE);
    assert_eq!(cert.ext_key_usages(), [ExtKeyUsage::ServerAuth]);
    assert!(ca.verifies(&cert, &[]));
    // 128 random bits: more than kubeadm's 8 bytes in all but 1 in 2^64 draws.
    assert!(cert.serial().len() > 8, "{:?}", cert.serial());

    let Some(_) = openssl(&["version"]) else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), ca.bundle_pem()).unwrap();
    std::fs::write(dir.path().join("leaf.crt"), cert.to_pem()).unwrap();
    let path = |name: &str| dir.path().join(name).display().to_string();
    let verify = |purpose: &str| {
        openssl(&[
            "verify",
            "-x509_strict",
            "-no-CApath",
            "-no-CAstore",
            "-CAfile",
            &path("ca.crt"),
            "-purpose",
            purpose,
            &path("leaf.crt"),
        ])
        .unwrap()
        .status
        .success()
    };
    assert!(verify("sslserver"));
    assert!(!verify("sslclient"));
    let text = openssl(&["x509", "-noout", "-text", "-in", &path("leaf.crt")]).unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("X509v3 Key Usage: critical\n                Digital Signature\n"),
        "{text}"
    );
    assert!(text.contains("CA:FALSE"), "{text}");
}

#[test]
fn every_key_usage_bit_survives_the_round_trip() {
    let now = SystemTime::now();
    let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).unwrap();
    let (request, _) = request(&AltNames::default());
    let all = [
        KeyUsage::DIGITAL_SIGNATURE,
        KeyUsage::CONTENT_COMMITMENT,
        KeyUsage::KEY_ENCIPHERMENT,
        KeyUsage::DATA_ENCIPHERMENT,
        KeyUsage::KEY_AGREEMENT,
        KeyUsage::CERT_SIGN,
        KeyUsage::CRL_SIGN,
        KeyUsage::ENCIPHER_ONLY,
        KeyUsage::DECIPHER_ONLY,
    ];
    let validity = Validity::kubeadm(now, Duration::from_secs(3600));
    for usage in all
        .iter()
        .copied()
        .chain([all.iter().fold(KeyUsage::default(), |a, b| a | *b)])
    {
        let cert = ca
            .sign_request(&request, usage, &[ExtKeyUsage::ClientAuth], validity)
            .unwrap();
        assert_eq!(cert.key_usage(), usage);
    }
}
