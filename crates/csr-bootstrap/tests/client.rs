//! The CSR client against a scripted apiserver (tower-test): every request's method, path and
//! query is checked, and the answers walk the client through each path of spec §1.7–§1.8.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime};

use http::Method;
use k8s_openapi::api::core::v1::NodeAddress;
use kubetrust_csr_bootstrap::Error;
use kubetrust_csr_bootstrap::client::{self, Issued, Options};
use kubetrust_csr_bootstrap::csr::{Naming, client_csr, node_subject};
use kubetrust_csr_bootstrap::outcome::CsrState;
use kubetrust_csr_bootstrap::renew::{Credentials, Kind, KubeRenewer};
use kubetrust_csr_bootstrap::rotation::Renew as _;
use kubetrust_pki::{
    AltNames, CertProfile, Certificate, CertificateAuthority, ExtKeyUsage, KeyAlgorithm, PrivateKey, Validity,
};
use serde_json::{Value, json};

mod common;
use common::{APPROVED, CSRS, Step, event, get, list, post, serve, status, watch};
const UID: &str = "3f1c2a7e-8d4b-4e0f-9a61-2b7c5d9e1f08";

struct Fixture {
    ca: CertificateAuthority,
    key: PrivateKey,
    now: SystemTime,
}

fn new_ca(now: SystemTime) -> CertificateAuthority {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    CertificateAuthority::self_signed(
        "kubernetes",
        key,
        Validity::kubeadm(now, Duration::from_secs(86400 * 3650)),
    )
    .unwrap()
}

fn fixture() -> Fixture {
    let now = SystemTime::now();
    Fixture {
        ca: new_ca(now),
        key: PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
        now,
    }
}

impl Fixture {
    fn request(&self) -> client::Request<'_> {
        client::Request::kubelet_client(
            "worker-1",
            &self.key,
            Naming::Digest,
            None,
            vec![self.ca.certificate().clone()],
        )
        .unwrap()
    }
    fn name(&self) -> String {
        self.request().csr().metadata.name.clone().unwrap()
    }
    fn request_pem(&self) -> String {
        String::from_utf8(self.request().csr().spec.request.0.clone()).unwrap()
    }
    fn issued(&self) -> String {
        self.ca
            .issue(
                &CertProfile::client(node_subject("worker-1"), self.now),
                self.key.public_key_der(),
            )
            .unwrap()
            .to_pem()
    }
    /// The CSR object as the server returns it.
    fn object(&self, rv: &str, conditions: &[(&str, &str, &str)], certificate: Option<&str>) -> Value {
        self.object_with(&self.request_pem(), UID, rv, conditions, certificate)
    }
    fn object_with(
        &self,
        request_pem: &str,
        uid: &str,
        rv: &str,
        conditions: &[(&str, &str, &str)],
        certificate: Option<&str>,
    ) -> Value {
        common::csr_json(&self.name(), request_pem, uid, rv, conditions, certificate)
    }
    fn list(&self, rv: &str, items: Vec<Value>) -> Value {
        common::csr_list(rv, items)
    }
}

fn options() -> Options {
    Options::default()
        .with_timeout(Duration::from_secs(10))
        .with_retry_backoff(Duration::from_millis(1), Duration::from_millis(4))
        .with_poll_interval(Duration::from_millis(1))
}

async fn run(f: &Fixture, script: Vec<Step>, options: Options) -> Result<Issued, Error> {
    let (client, handle) = common::mock();
    let request = f.request();
    let (result, ()) = tokio::join!(
        client::request_certificate(&client, &request, &options),
        serve(handle, script)
    );
    result
}

#[tokio::test]
async fn happy_path_watch_delivers_approval_then_certificate() {
    let f = fixture();
    let name = f.name();
    let cert = f.issued();
    let watch_body = event("MODIFIED", f.object("2", &[APPROVED], None))
        + &event("MODIFIED", f.object("3", &[APPROVED], Some(&cert)));
    let script = vec![
        Step::Posted {
            // The digest name is bound to our public key.
            expect: vec![
                ("/metadata/name", json!(name)),
                (
                    "/spec/signerName",
                    json!("kubernetes.io/kube-apiserver-client-kubelet"),
                ),
                ("/spec/usages", json!(["digital signature", "client auth"])),
            ],
            status: 201,
            body: f.object("1", &[], None).to_string(),
        },
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(&name, "1", 200, watch_body),
    ];
    let issued = run(&f, script, options()).await.unwrap();
    assert_eq!(issued.name, name);
    assert_eq!(issued.uid, UID);
    assert_eq!(issued.chain, [Certificate::from_pem(cert.as_bytes()).unwrap()]);
}

#[tokio::test]
async fn already_exists_and_ours_is_adopted() {
    let f = fixture();
    let name = f.name();
    let script = vec![
        post(409, &status(409, "AlreadyExists")),
        get(&name, 200, &f.object("7", &[], None)),
        list(
            &name,
            &f.list("7", vec![f.object("7", &[APPROVED], Some(&f.issued()))]),
        ),
    ];
    let issued = run(&f, script, options()).await.unwrap();
    assert_eq!(issued.name, name);
}

#[tokio::test]
async fn already_exists_with_another_key_is_refused_by_name() {
    let f = fixture();
    let name = f.name();
    let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let theirs = client::Request::kubelet_client("worker-1", &other, Naming::Digest, None, vec![]).unwrap();
    let their_pem = String::from_utf8(theirs.csr().spec.request.0.clone()).unwrap();
    let script = vec![
        post(409, &status(409, "AlreadyExists")),
        get(&name, 200, &f.object_with(&their_pem, UID, "7", &[], None)),
    ];
    let error = run(&f, script, options()).await.unwrap_err();
    assert!(
        matches!(&error, Error::NotOurs { name: n, .. } if *n == name),
        "{error:?}"
    );
    assert!(error.to_string().contains("another public key"), "{error}");
}

#[tokio::test]
async fn already_exists_and_denied_is_reported_as_denied() {
    let f = fixture();
    let name = f.name();
    let denied = f.object("7", &[("Denied", "KubectlDeny", "no")], None);
    let script = vec![
        post(409, &status(409, "AlreadyExists")),
        get(&name, 200, &denied),
        list(&name, &f.list("7", vec![denied.clone()])),
    ];
    let error = run(&f, script, options()).await.unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");
}

#[tokio::test]
async fn denied_carries_reason_and_message() {
    let f = fixture();
    let name = f.name();
    let denied = f.object(
        "2",
        &[(
            "Denied",
            "KubectlDeny",
            "This CSR was denied by kubectl certificate deny.",
        )],
        None,
    );
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(&name, "1", 200, event("MODIFIED", denied)),
    ];
    let error = run(&f, script, options()).await.unwrap_err();
    let Error::Denied { reason, message, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(reason, "KubectlDeny");
    assert_eq!(message, "This CSR was denied by kubectl certificate deny.");
    assert!(
        error.to_string().contains("is denied, reason: KubectlDeny"),
        "{error}"
    );
}

#[tokio::test]
async fn failed_condition_fails_at_once() {
    let f = fixture();
    let name = f.name();
    let failed = f.object(
        "3",
        &[
            APPROVED,
            (
                "Failed",
                "SignerValidationFailure",
                "DNS or IP subjectAltName is not allowed",
            ),
        ],
        None,
    );
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![failed])),
    ];
    let error = run(&f, script, options()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Failed { reason, .. } if reason == "SignerValidationFailure"),
        "{error:?}"
    );
}

#[tokio::test]
async fn deletion_and_uid_change_fail() {
    let f = fixture();
    let name = f.name();
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(&name, "1", 200, event("DELETED", f.object("2", &[], None))),
    ];
    let error = run(&f, script, options()).await.unwrap_err();
    assert!(matches!(error, Error::Deleted { .. }), "{error:?}");

    let replaced = f.object_with(
        &f.request_pem(),
        "another-uid",
        "4",
        &[APPROVED],
        Some(&f.issued()),
    );
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(&name, "1", 200, event("MODIFIED", replaced)),
    ];
    let error = run(&f, script, options()).await.unwrap_err();
    assert!(
        matches!(&error, Error::UidChanged { actual, .. } if actual == "another-uid"),
        "{error:?}"
    );
}

#[tokio::test]
async fn ended_watch_resumes_from_the_last_resource_version() {
    let f = fixture();
    let name = f.name();
    let bookmark = format!(
        "{}\n",
        json!({"type": "BOOKMARK", "object": {"kind": "CertificateSigningRequest", "apiVersion": "certificates.k8s.io/v1", "metadata": {"resourceVersion": "9"}}})
    );
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(
            &name,
            "1",
            200,
            event("MODIFIED", f.object("5", &[APPROVED], None)),
        ),
        watch(&name, "5", 200, bookmark),
        watch(
            &name,
            "9",
            200,
            event("MODIFIED", f.object("11", &[APPROVED], Some(&f.issued()))),
        ),
    ];
    run(&f, script, options()).await.unwrap();
}

#[tokio::test]
async fn gone_relists() {
    let f = fixture();
    let name = f.name();
    let gone_event = format!("{}\n", json!({"type": "ERROR", "object": status(410, "Expired")}));
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(&name, "1", 410, status(410, "Expired").to_string()),
        list(&name, &f.list("20", vec![f.object("20", &[], None)])),
        watch(&name, "20", 200, gone_event),
        list(&name, &f.list("30", vec![f.object("30", &[APPROVED], None)])),
        watch(
            &name,
            "30",
            200,
            event("MODIFIED", f.object("31", &[APPROVED], Some(&f.issued()))),
        ),
    ];
    run(&f, script, options()).await.unwrap();
}

#[tokio::test]
async fn server_errors_are_retried() {
    let f = fixture();
    let name = f.name();
    let script = vec![
        post(500, &status(500, "InternalError")),
        post(429, &status(429, "TooManyRequests")),
        post(201, &f.object("1", &[], None)),
        Step::Reply {
            method: Method::GET,
            path: CSRS.into(),
            query: vec![],
            status: 503,
            body: status(503, "ServiceUnavailable").to_string(),
        },
        list(
            &name,
            &f.list("1", vec![f.object("1", &[APPROVED], Some(&f.issued()))]),
        ),
    ];
    run(&f, script, options()).await.unwrap();
}

#[tokio::test]
async fn failing_watches_fall_back_to_polling() {
    let f = fixture();
    let name = f.name();
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[], None)])),
        watch(&name, "1", 500, status(500, "InternalError").to_string()),
        watch(&name, "1", 500, status(500, "InternalError").to_string()),
        watch(&name, "1", 200, String::new()),
        get(&name, 200, &f.object("2", &[APPROVED], None)),
        get(&name, 200, &f.object("3", &[APPROVED], Some(&f.issued()))),
    ];
    run(&f, script, options()).await.unwrap();
}

#[tokio::test]
async fn timeout_names_the_wait_and_the_state() {
    let f = fixture();
    let name = f.name();
    let script = vec![
        post(201, &f.object("1", &[], None)),
        list(&name, &f.list("1", vec![f.object("1", &[APPROVED], None)])),
        Step::Hang,
    ];
    let error = run(&f, script, options().with_timeout(Duration::from_millis(200)))
        .await
        .unwrap_err();
    let Error::Timeout { waited, state, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(*waited >= Duration::from_millis(200));
    assert_eq!(*state, CsrState::Approved);
    assert!(
        error.to_string().contains("approved, waiting to be issued"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_issued_certificates_are_refused() {
    let f = fixture();
    let name = f.name();
    let other_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let profile = CertProfile::client(node_subject("worker-1"), f.now);
    let wrong_key = f.ca.issue(&profile, other_key.public_key_der()).unwrap().to_pem();
    let wrong_ca = new_ca(f.now)
        .issue(&profile, f.key.public_key_der())
        .unwrap()
        .to_pem();
    let wrong_subject =
        f.ca.issue(
            &CertProfile::client(node_subject("worker-2"), f.now),
            f.key.public_key_der(),
        )
        .unwrap()
        .to_pem();
    let expired =
        f.ca.issue(
            &CertProfile::client(node_subject("worker-1"), f.now - Duration::from_secs(400 * 86400)),
            f.key.public_key_der(),
        )
        .unwrap()
        .to_pem();
    type Check = fn(&Error) -> bool;
    let cases: [(&str, Check); 4] = [
        (&wrong_key, |e| matches!(e, Error::IssuedKeyMismatch)),
        (&wrong_ca, |e| matches!(e, Error::IssuedUntrusted { .. })),
        (&wrong_subject, |e| {
            matches!(e, Error::IssuedSubjectMismatch { .. })
        }),
        (&expired, |e| matches!(e, Error::IssuedNotValidNow { .. })),
    ];
    for (cert, check) in cases {
        let script = vec![
            post(201, &f.object("1", &[], None)),
            list(&name, &f.list("1", vec![f.object("1", &[APPROVED], Some(cert))])),
        ];
        let error = run(&f, script, options()).await.unwrap_err();
        let Error::Refused { source, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(check(source), "{source:?}");
    }
}

#[tokio::test]
async fn serving_certificate_with_generated_name() {
    let f = fixture();
    let addresses = [NodeAddress {
        type_: "InternalIP".into(),
        address: "10.0.0.21".into(),
    }];
    let ca = vec![f.ca.certificate().clone()];
    let request = client::Request::kubelet_serving("worker-1", &f.key, &addresses, None, ca).unwrap();
    let request_pem = String::from_utf8(request.csr().spec.request.0.clone()).unwrap();
    let object = |rv: &str, conditions: &[(&str, &str, &str)], certificate: Option<&str>| {
        let mut object = common::csr_json("csr-x7k2p", &request_pem, UID, rv, conditions, certificate);
        object["spec"]["signerName"] = json!("kubernetes.io/kubelet-serving");
        object
    };
    let alt_names = AltNames::from_parts([], ["10.0.0.21".parse().unwrap()]);
    let serving = |usages: Vec<ExtKeyUsage>| {
        f.ca.issue(
            &CertProfile::server(node_subject("worker-1"), alt_names.clone(), f.now).with_usages(usages),
            f.key.public_key_der(),
        )
        .unwrap()
        .to_pem()
    };
    let good = serving(vec![ExtKeyUsage::ServerAuth]);
    let client_only = serving(vec![ExtKeyUsage::ClientAuth]);
    for (certificate, ok) in [(&good, true), (&client_only, false)] {
        let script = vec![
            Step::Posted {
                expect: vec![
                    ("/metadata/generateName", json!("csr-")),
                    ("/spec/signerName", json!("kubernetes.io/kubelet-serving")),
                    ("/spec/usages", json!(["digital signature", "server auth"])),
                ],
                status: 201,
                body: object("1", &[], None).to_string(),
            },
            list(
                "csr-x7k2p",
                &f.list("2", vec![object("2", &[APPROVED], Some(certificate))]),
            ),
        ];
        let (mock, handle) = common::mock();
        let options = options();
        let (result, ()) = tokio::join!(
            client::request_certificate(&mock, &request, &options),
            serve(handle, script)
        );
        match (result, ok) {
            (Ok(issued), true) => assert_eq!(issued.name, "csr-x7k2p"),
            (Err(Error::Refused { source, .. }), false) => assert!(
                matches!(
                    *source,
                    Error::IssuedMissingUsage {
                        usage: ExtKeyUsage::ServerAuth
                    }
                ),
                "{source:?}"
            ),
            (other, _) => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn kube_renewer_sends_a_fresh_generated_request() {
    let f = fixture();
    let (mock, handle) = common::mock();
    let renewer = KubeRenewer::new(
        Credentials::Client(mock),
        "worker-1",
        Kind::Client,
        vec![f.ca.certificate().clone()],
    )
    .with_options(options());
    let fresh = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let request_pem = String::from_utf8(
        client_csr("worker-1", &fresh, Naming::Generated, None)
            .unwrap()
            .spec
            .request
            .0,
    )
    .unwrap();
    let issued =
        f.ca.issue(
            &CertProfile::client(node_subject("worker-1"), f.now),
            fresh.public_key_der(),
        )
        .unwrap()
        .to_pem();
    let script = vec![
        Step::Posted {
            expect: vec![
                ("/metadata/generateName", json!("csr-")),
                (
                    "/spec/signerName",
                    json!("kubernetes.io/kube-apiserver-client-kubelet"),
                ),
            ],
            status: 201,
            body: common::csr_json("csr-b4d7q", &request_pem, UID, "1", &[], None).to_string(),
        },
        list(
            "csr-b4d7q",
            &f.list(
                "2",
                vec![common::csr_json(
                    "csr-b4d7q",
                    &request_pem,
                    UID,
                    "2",
                    &[APPROVED],
                    Some(&issued),
                )],
            ),
        ),
    ];
    let (chain, ()) = tokio::join!(renewer.renew(&fresh), serve(handle, script));
    assert!(chain.unwrap()[0].matches_key(&fresh));
}
