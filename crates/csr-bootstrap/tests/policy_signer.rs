//! The CSR signer against upstream's rules and the vectors: what it skips, what it fails with
//! which text, and what it issues (usages, validity, clamping).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestSpec,
    CertificateSigningRequestStatus,
};
use kubetrust_csr_bootstrap::Error;
use kubetrust_csr_bootstrap::policy::signer::{self, Outcome, SignerConfig, SkipReason};
use kubetrust_csr_bootstrap::policy::{client, serving};
use kubetrust_pki::{
    AltNames, Certificate, CertificateAuthority, CertificateRequest, ExtKeyUsage, KeyAlgorithm, KeyUsage,
    PrivateKey, Subject, Validity,
};

const HOUR: Duration = Duration::from_secs(3600);

fn testdata(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../testdata/csr/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The vectors' CA (RSA-2048, CN kubernetes).
fn vector_ca() -> CertificateAuthority {
    let cert = Certificate::from_pem(&testdata("test-ca.crt")).unwrap();
    let key = PrivateKey::from_pem(&testdata("test-ca.key")).unwrap();
    CertificateAuthority::new(vec![cert], key).unwrap()
}

fn condition(type_: &str) -> CertificateSigningRequestCondition {
    CertificateSigningRequestCondition {
        type_: type_.into(),
        status: "True".into(),
        ..Default::default()
    }
}

fn csr_object(
    request: Vec<u8>,
    signer: &str,
    usages: &[&str],
    conditions: &[&str],
) -> CertificateSigningRequest {
    CertificateSigningRequest {
        metadata: Default::default(),
        spec: CertificateSigningRequestSpec {
            request: ByteString(request),
            signer_name: signer.into(),
            usages: Some(usages.iter().map(|u| u.to_string()).collect()),
            ..Default::default()
        },
        status: Some(CertificateSigningRequestStatus {
            conditions: Some(conditions.iter().map(|c| condition(c)).collect()),
            certificate: None,
        }),
    }
}

fn request(cn: &str, orgs: &[&str], sans: &AltNames, algorithm: KeyAlgorithm) -> Vec<u8> {
    let key = PrivateKey::generate(algorithm).unwrap();
    let subject = orgs
        .iter()
        .fold(Subject::new(cn), |subject, o| subject.with_organization(*o));
    CertificateRequest::new(&subject, sans, &key)
        .unwrap()
        .to_pem()
        .into_bytes()
}

fn node_request(sans: &AltNames) -> Vec<u8> {
    request(
        "system:node:worker-1",
        &["system:nodes"],
        sans,
        KeyAlgorithm::EcdsaP256,
    )
}

fn issued(outcome: Outcome) -> Certificate {
    match outcome {
        Outcome::Issue(pem) => {
            assert_eq!(pem.matches("BEGIN CERTIFICATE").count(), 1, "{pem}");
            Certificate::from_pem(pem.as_bytes()).unwrap()
        }
        other => panic!("expected a certificate, got {other:?}"),
    }
}

fn failure(outcome: Outcome) -> String {
    match outcome {
        Outcome::Fail(condition) => {
            assert_eq!(condition.type_, "Failed");
            assert_eq!(condition.status, "True");
            assert_eq!(condition.reason.as_deref(), Some(signer::FAILED_REASON));
            condition.message.unwrap()
        }
        other => panic!("expected a Failed condition, got {other:?}"),
    }
}

fn sign(csr: &CertificateSigningRequest, ca: &CertificateAuthority, now: SystemTime) -> Outcome {
    signer::sign(csr, ca, &SignerConfig::default(), now).unwrap()
}

#[test]
fn the_vector_request_is_issued_like_the_vector_certificate() {
    let ca = vector_ca();
    let now = UNIX_EPOCH + Duration::from_secs(1_795_168_801); // 2026-11-20T10:00:01Z
    let csr = csr_object(
        testdata("bootstrap-csr.pem"),
        client::SIGNER,
        &["digital signature", "client auth"],
        &["Approved"],
    );
    let cert = issued(sign(&csr, &ca, now));
    let expected = Certificate::from_pem(&testdata("issued-kubelet-client.crt")).unwrap();
    assert_eq!(cert.subject(), expected.subject());
    assert_eq!(cert.public_key_der(), expected.public_key_der());
    assert_eq!(cert.not_before(), expected.not_before());
    assert_eq!(cert.not_after(), expected.not_after());
    assert_eq!(cert.key_usage(), expected.key_usage());
    assert_eq!(cert.key_usage(), KeyUsage::DIGITAL_SIGNATURE);
    assert_eq!(cert.ext_key_usages(), [ExtKeyUsage::ClientAuth]);
    assert_eq!(cert.authority_key_id(), expected.authority_key_id());
    assert!(!cert.is_ca());
    assert!(ca.verifies(&cert, &[]));
}

#[test]
fn only_approved_open_requests_of_known_signers_are_signed() {
    let ca = vector_ca();
    let now = SystemTime::now();
    let pem = node_request(&AltNames::default());
    let usages = ["digital signature", "client auth"];
    for (conditions, signer_name, want) in [
        (&[][..], client::SIGNER, SkipReason::NotApproved),
        (&["Denied"][..], client::SIGNER, SkipReason::NotApproved),
        (
            &["Approved", "Denied"][..],
            client::SIGNER,
            SkipReason::NotApproved,
        ),
        (
            &["Approved", "Failed"][..],
            client::SIGNER,
            SkipReason::AlreadyFailed,
        ),
        (
            &["Approved"][..],
            "example.com/other",
            SkipReason::OtherSigner("example.com/other".into()),
        ),
    ] {
        let csr = csr_object(pem.clone(), signer_name, &usages, conditions);
        match sign(&csr, &ca, now) {
            Outcome::Skip(reason) => assert_eq!(reason, want, "{conditions:?}"),
            other => panic!("{conditions:?}: {other:?}"),
        }
    }
    let mut csr = csr_object(pem, client::SIGNER, &usages, &["Approved"]);
    csr.status.as_mut().unwrap().certificate = Some(ByteString(b"x".to_vec()));
    assert!(matches!(
        sign(&csr, &ca, now),
        Outcome::Skip(SkipReason::AlreadyIssued)
    ));
}

#[test]
fn kubelet_client_violations_fail_with_upstream_texts_in_upstream_order() {
    let ca = vector_ca();
    let now = SystemTime::now();
    let mut dns = AltNames::default();
    dns.add_dns("worker-1");
    let mut ip = AltNames::default();
    ip.add_ip("10.0.0.1".parse().unwrap());
    let ok_usages: &[&str] = &["digital signature", "client auth"];
    for (pem, usages, text) in [
        (
            request(
                "system:node:w",
                &["system:masters"],
                &dns,
                KeyAlgorithm::EcdsaP256,
            ),
            ok_usages,
            "subject organization is not system:nodes",
        ),
        (
            node_request(&dns),
            ok_usages,
            "DNS subjectAltNames are not allowed",
        ),
        (node_request(&ip), ok_usages, "IP subjectAltNames are not allowed"),
        (
            request(
                "admin",
                &["system:nodes"],
                &AltNames::default(),
                KeyAlgorithm::EcdsaP256,
            ),
            ok_usages,
            "subject common name does not begin with system:node:",
        ),
        (
            node_request(&AltNames::default()),
            &["digital signature", "client auth", "server auth"],
            "usages did not match [client auth digital signature key encipherment]",
        ),
    ] {
        let csr = csr_object(pem, client::SIGNER, usages, &["Approved"]);
        assert_eq!(failure(sign(&csr, &ca, now)), text);
    }
}

#[test]
fn the_dns_san_vector_fails_as_upstream_did() {
    let vector: serde_json::Value = serde_json::from_slice(&testdata("09-failed-condition.json")).unwrap();
    let want = vector["status"]["conditions"][1]["message"].as_str().unwrap();
    let mut dns = AltNames::default();
    dns.add_dns("worker-1.example.com");
    let csr = csr_object(
        node_request(&dns),
        client::SIGNER,
        &["digital signature", "client auth"],
        &["Approved"],
    );
    assert_eq!(failure(sign(&csr, &vector_ca(), SystemTime::now())), want);
}

#[test]
fn serving_and_api_server_client_rules() {
    let ca = vector_ca();
    let now = SystemTime::now();
    let mut sans = AltNames::default();
    sans.add_dns("worker-1");
    sans.add_ip("10.0.0.7".parse().unwrap());
    let serving_usages: &[&str] = &["digital signature", "key encipherment", "server auth"];
    let cert = issued(sign(
        &csr_object(
            node_request(&sans),
            serving::SIGNER,
            serving_usages,
            &["Approved"],
        ),
        &ca,
        now,
    ));
    assert_eq!(cert.ext_key_usages(), [ExtKeyUsage::ServerAuth]);
    assert_eq!(
        cert.key_usage(),
        KeyUsage::DIGITAL_SIGNATURE | KeyUsage::KEY_ENCIPHERMENT
    );
    assert_eq!(cert.dns_names(), ["worker-1"]);
    let no_sans = csr_object(
        node_request(&AltNames::default()),
        serving::SIGNER,
        serving_usages,
        &["Approved"],
    );
    assert_eq!(
        failure(sign(&no_sans, &ca, now)),
        "DNS or IP subjectAltName is required"
    );
    let client_usages = csr_object(
        node_request(&sans),
        serving::SIGNER,
        &["digital signature", "client auth"],
        &["Approved"],
    );
    assert_eq!(
        failure(sign(&client_usages, &ca, now)),
        "usages did not match [digital signature key encipherment server auth]"
    );

    let user = request("jane", &["devs"], &AltNames::default(), KeyAlgorithm::EcdsaP256);
    let signer_name = signer::KUBE_APISERVER_CLIENT;
    let cert = issued(sign(
        &csr_object(user.clone(), signer_name, &["client auth"], &["Approved"]),
        &ca,
        now,
    ));
    assert_eq!(cert.subject().common_name, "jane");
    assert_eq!(cert.key_usage(), KeyUsage::default());
    let bad = csr_object(
        user.clone(),
        signer_name,
        &["client auth", "server auth"],
        &["Approved"],
    );
    assert_eq!(
        failure(sign(&bad, &ca, now)),
        "invalid usage for client certificate: server auth"
    );
    let missing = csr_object(user, signer_name, &["digital signature"], &["Approved"]);
    assert_eq!(
        failure(sign(&missing, &ca, now)),
        "missing required usage for client certificate: client auth"
    );
}

#[test]
fn validity_follows_expiration_seconds_the_cap_the_floor_and_the_ca() {
    let now = SystemTime::now();
    let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).unwrap();
    let pem = node_request(&AltNames::default());
    let with_expiration = |seconds: Option<i32>| {
        let mut csr = csr_object(
            pem.clone(),
            client::SIGNER,
            &["digital signature", "client auth"],
            &["Approved"],
        );
        csr.spec.expiration_seconds = seconds;
        csr
    };
    let secs = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    // Short certificates end exactly TTL after now; long ones are backdated at both ends.
    for (seconds, lifetime) in [
        (Some(600), Duration::from_secs(600)),
        (Some(60), Duration::from_secs(600)),
        (Some(7 * 3600), 7 * HOUR),
        (Some(24 * 3600), 24 * HOUR - Duration::from_secs(300)),
        (None, 8760 * HOUR - Duration::from_secs(300)),
        (Some(i32::MAX), 8760 * HOUR - Duration::from_secs(300)),
    ] {
        let cert = issued(sign(&with_expiration(seconds), &ca, now));
        assert_eq!(
            secs(cert.not_before()),
            secs(now - Duration::from_secs(300)),
            "{seconds:?}"
        );
        assert_eq!(secs(cert.not_after()), secs(now + lifetime), "{seconds:?}");
    }
    let capped = SignerConfig::default().with_max_duration(HOUR);
    let cert = match signer::sign(&with_expiration(None), &ca, &capped, now).unwrap() {
        Outcome::Issue(pem) => Certificate::from_pem(pem.as_bytes()).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(secs(cert.not_after()), secs(now + HOUR));

    // A CA ending in two days clamps a year's certificate; an expired CA signs nothing.
    let short_ca = CertificateAuthority::self_signed(
        "short",
        PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
        Validity {
            not_before: now - HOUR,
            not_after: now + 48 * HOUR,
        },
    )
    .unwrap();
    let cert = issued(sign(&with_expiration(None), &short_ca, now));
    assert_eq!(secs(cert.not_after()), secs(now + 48 * HOUR));
    let err = signer::sign(
        &with_expiration(None),
        &short_ca,
        &SignerConfig::default(),
        now + 49 * HOUR,
    )
    .unwrap_err();
    assert!(matches!(err, Error::SignerExpired { .. }), "{err}");
    assert!(
        err.to_string().starts_with("the signer has expired: NotAfter="),
        "{err}"
    );
}

#[test]
fn usage_order_does_not_matter_and_garbage_requests_are_errors_to_retry() {
    let ca = vector_ca();
    let now = SystemTime::now();
    let mut csr = csr_object(
        node_request(&AltNames::default()),
        signer::KUBE_APISERVER_CLIENT,
        &["client auth"],
        &["Approved"],
    );
    csr.spec.usages = Some(vec!["client auth".into(), "digital signature".into()]);
    assert!(matches!(sign(&csr, &ca, now), Outcome::Issue(_)));
    let garbage = csr_object(
        b"not pem".to_vec(),
        client::SIGNER,
        &["client auth"],
        &["Approved"],
    );
    assert!(matches!(
        signer::sign(&garbage, &ca, &SignerConfig::default(), now),
        Err(Error::RequestNotPem { .. })
    ));
}

mod cleaner {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kubetrust_csr_bootstrap::policy::cleaner::{Expiry, expiry};

    fn at(t: SystemTime) -> Time {
        Time(t.try_into().unwrap())
    }

    fn with(types: &[&str], updated: SystemTime, certificate: Option<&str>) -> CertificateSigningRequest {
        let mut csr = csr_object(Vec::new(), client::SIGNER, &[], types);
        let status = csr.status.as_mut().unwrap();
        for condition in status.conditions.iter_mut().flatten() {
            condition.last_update_time = Some(at(updated));
        }
        status.certificate = certificate.map(|c| ByteString(c.as_bytes().to_vec()));
        csr.metadata.creation_timestamp = Some(at(updated));
        csr
    }

    #[test]
    fn finished_requests_go_after_an_hour_pending_after_a_day() {
        let now = SystemTime::now();
        let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now).unwrap();
        let csr = csr_object(
            node_request(&AltNames::default()),
            client::SIGNER,
            &["digital signature", "client auth"],
            &["Approved"],
        );
        let pem = match sign(&csr, &ca, now) {
            Outcome::Issue(pem) => pem,
            other => panic!("{other:?}"),
        };
        let recent = now - Duration::from_secs(59 * 60);
        let old = now - Duration::from_secs(61 * 60);
        let ancient = now - Duration::from_secs(25 * 3600);
        for (csr, want) in [
            (with(&["Approved"], recent, Some(&pem)), None),
            (with(&["Approved"], old, Some(&pem)), Some(Expiry::Issued)),
            (with(&["Approved"], old, None), None),
            (with(&["Denied"], recent, None), None),
            (with(&["Denied"], old, None), Some(Expiry::Denied)),
            (with(&["Approved", "Failed"], old, None), Some(Expiry::Failed)),
            (with(&[], old, None), None),
            (with(&[], ancient, None), Some(Expiry::Pending)),
        ] {
            assert_eq!(expiry(&csr, now), want, "{:?}", csr.status);
        }
        // Issued a minute ago, but the certificate (600 s) has already run out.
        let short = with(&["Approved"], recent, Some(&pem));
        assert_eq!(
            expiry(&short, now + 8761 * HOUR - Duration::from_secs(59 * 60)),
            Some(Expiry::Issued)
        );
        let mut fresh = with(&["Approved"], now, Some(&pem));
        fresh.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_update_time =
            Some(at(now + 8760 * HOUR));
        assert_eq!(
            expiry(&fresh, now + 8760 * HOUR),
            Some(Expiry::CertificateExpired)
        );
    }
}
