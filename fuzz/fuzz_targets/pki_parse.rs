//! Everything the pki crate reads from files or users never panics: certificate chains (PEM
//! and DER) and every accessor on what parses, private keys, CSRs (whose self-signature is
//! checked), pins, durations, and upload-certs ciphertexts.

#![no_main]

use kubetrust_pki::upload_certs::{self, CertificateKey};
use kubetrust_pki::{CaCertHash, Certificate, CertificateRequest, PrivateKey, parse_duration, verify_chain};
use libfuzzer_sys::fuzz_target;

fn exercise(cert: &Certificate) {
    let _ = (
        cert.subject(),
        cert.dns_names(),
        cert.ip_addresses(),
        cert.ext_key_usages(),
    );
    let _ = (cert.not_before(), cert.not_after(), cert.is_ca(), cert.serial());
    let _ = (
        cert.subject_key_id(),
        cert.authority_key_id(),
        CaCertHash::of_certificate(cert),
    );
    let _ = verify_chain(cert, &[], std::slice::from_ref(cert));
}

fuzz_target!(|data: &[u8]| {
    if let Ok(chain) = Certificate::chain_from_pem(data) {
        chain.iter().for_each(exercise);
    }
    if let Ok(cert) = Certificate::from_der(data) {
        exercise(&cert);
    }
    if let Ok(key) = PrivateKey::from_pem(data) {
        let again = PrivateKey::from_pem(key.to_pem().as_bytes()).expect("our own key PEM loads");
        assert_eq!(again.public_key_der(), key.public_key_der());
    }
    let _ = CertificateRequest::from_pem(data);
    let _ = CertificateRequest::from_der(data);
    let key: CertificateKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
        .parse()
        .expect("fixed key");
    let _ = upload_certs::decrypt(&key, data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<CaCertHash>();
        let _ = parse_duration(text);
    }
});
