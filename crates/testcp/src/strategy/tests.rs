//! The CSR strategy against the apiserver vectors and its validation texts.

use std::time::Duration;

use serde_json::{Value, json};

use super::{before_create, before_update};
use crate::clock::Clock;
use crate::identity::UserInfo;
use crate::status::ApiError;
use crate::store::{Resource, Store};

fn vector(name: &str) -> Value {
    let path = format!("{}/../../testdata/csr/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn csrs() -> Resource {
    Resource::new("certificates.k8s.io", "certificatesigningrequests")
}

fn bootstrapper() -> UserInfo {
    UserInfo {
        name: "system:bootstrap:abcdef".into(),
        groups: vec![
            "system:bootstrappers".into(),
            "system:bootstrappers:kubeadm:default-node-token".into(),
            "system:authenticated".into(),
        ],
        ..UserInfo::default()
    }
}

/// Approving and signing need RBAC on the signer; `system:masters` has every right.
fn admin() -> UserInfo {
    UserInfo {
        name: "kubernetes-admin".into(),
        groups: vec!["system:masters".into(), "system:authenticated".into()],
        ..UserInfo::default()
    }
}

fn store() -> Store {
    Store::new(Clock::default())
}

fn invalid(err: ApiError) -> Vec<(String, String)> {
    assert_eq!((err.code, err.reason), (422, "Invalid"), "{err:?}");
    err.causes.into_iter().map(|c| (c.field, c.message)).collect()
}

#[test]
fn create_takes_identity_from_the_requester_and_empties_status() {
    let mut object = vector("01-create-request.json");
    object["spec"]["username"] = json!("system:admin");
    object["spec"]["groups"] = json!(["system:masters"]);
    object["spec"]["uid"] = json!("forged");
    object["status"] = json!({"conditions": [{"type": "Approved", "status": "True"}], "certificate": "eA=="});
    before_create(&csrs(), &mut object, &bootstrapper(), &store()).unwrap();
    let expected = vector("02-create-response.json");
    assert_eq!(object["spec"], expected["spec"]);
    assert_eq!(object["status"], json!({}));
    assert_eq!(object["metadata"]["name"], expected["metadata"]["name"]);
}

#[test]
fn create_validation_reports_every_field_with_apiserver_texts() {
    let mut object = vector("01-create-request.json");
    object["spec"]["expirationSeconds"] = json!(599);
    let err = before_create(&csrs(), &mut object, &bootstrapper(), &store()).unwrap_err();
    let mut expected = vector("11-error-invalid-expiration.json");
    expected["message"] = json!(expected["message"].as_str().unwrap().replace(
        "short-lived",
        "node-csr-7nvIpW5ygEf1XYUTfWWENlU0qCudErkPqx6IBgyFHWE"
    ));
    expected["details"]["name"] = object["metadata"]["name"].clone();
    assert_eq!(err.to_status(), expected);

    let mut object = vector("01-create-request.json");
    object["spec"]["usages"] = json!(["client auth", "flying", "client auth"]);
    object["spec"]["signerName"] = json!("kubernetes.io/legacy-unknown");
    object["spec"]["request"] = json!("bm90IHBlbQ==");
    let causes = invalid(before_create(&csrs(), &mut object, &bootstrapper(), &store()).unwrap_err());
    let fields: Vec<&str> = causes.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.request",
            "spec.usages[1]",
            "spec.usages[2]",
            "spec.signerName"
        ]
    );
    assert!(
        causes[1].1.starts_with(
            "Unsupported value: \"flying\": supported values: \"signing\", \"digital signature\""
        ),
        "{causes:?}"
    );
    assert_eq!(causes[2].1, "Duplicate value: \"client auth\"");
    assert_eq!(
        causes[3].1,
        "Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version"
    );

    for bad in [
        "",
        "example.com",
        "Example.com/x",
        "example.com/a/b",
        "localhost/x",
    ] {
        let mut object = vector("01-create-request.json");
        object["spec"]["signerName"] = json!(bad);
        let causes = invalid(before_create(&csrs(), &mut object, &bootstrapper(), &store()).unwrap_err());
        assert_eq!(causes[0].0, "spec.signerName", "{bad:?}");
    }
}

/// The stored object after create, as the handler would keep it.
fn created() -> Value {
    let store = store();
    let mut object = vector("01-create-request.json");
    before_create(&csrs(), &mut object, &bootstrapper(), &store).unwrap();
    store.create(&csrs(), "", object).unwrap().as_ref().clone()
}

#[test]
fn approval_adds_conditions_with_server_times_and_keeps_spec() {
    let old = created();
    let store = store();
    let mut new = vector("04-approval-put.json");
    new["spec"]["username"] = json!("forged");
    before_update(&csrs(), "approval", &old, &mut new, &admin(), &store).unwrap();
    assert_eq!(new["spec"], old["spec"]);
    let condition = &new["status"]["conditions"][0];
    assert_eq!(condition["reason"], "AutoApproved");
    assert_eq!(condition["lastUpdateTime"], condition["lastTransitionTime"]);
    assert!(condition["lastUpdateTime"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn each_update_path_changes_only_its_part() {
    let old = created();
    let store = store();
    let approved =
        |status: &str| json!({"conditions": [{"type": "Approved", "status": status, "reason": "x"}]});
    // The main resource keeps spec and status.
    let mut main = old.clone();
    main["status"] = approved("True");
    main["metadata"]["labels"] = json!({"a": "b"});
    before_update(&csrs(), "", &old, &mut main, &admin(), &store).unwrap();
    assert_eq!(main["status"], old["status"]);
    assert_eq!(main["metadata"]["labels"]["a"], "b");
    // /status may not approve.
    let mut status = old.clone();
    status["status"] = approved("True");
    let causes = invalid(before_update(&csrs(), "status", &old, &mut status, &admin(), &store).unwrap_err());
    assert_eq!(
        causes,
        [(
            "status.conditions".into(),
            "Forbidden: updates may not add a condition of type \"Approved\"".into()
        )]
    );
    // Approved may only be True.
    let mut approval = old.clone();
    approval["status"] = approved("False");
    let causes =
        invalid(before_update(&csrs(), "approval", &old, &mut approval, &admin(), &store).unwrap_err());
    assert_eq!(
        causes,
        [(
            "status.conditions[0].status".into(),
            "Unsupported value: \"False\": supported values: \"True\"".into()
        )]
    );
    // Approved and Denied together.
    let mut both = old.clone();
    both["status"] =
        json!({"conditions": [{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]});
    let causes = invalid(before_update(&csrs(), "approval", &old, &mut both, &admin(), &store).unwrap_err());
    assert_eq!(
        causes[0].1,
        "Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"
    );
}

#[test]
fn certificates_are_set_once_through_status_and_must_be_pem() {
    let old = created();
    let store = store();
    let pem = std::fs::read(format!(
        "{}/../../testdata/csr/issued-kubelet-client.crt",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };
    let with_certificate = |value: &str| {
        let mut new = old.clone();
        new["status"] = json!({"certificate": value});
        new
    };
    let mut approval = with_certificate(&b64(&pem));
    before_update(&csrs(), "approval", &old, &mut approval, &admin(), &store).unwrap();
    assert!(
        approval["status"].get("certificate").is_none(),
        "approval may not set the certificate"
    );

    let mut wrong = with_certificate(&b64(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    ));
    let causes = invalid(before_update(&csrs(), "status", &old, &mut wrong, &admin(), &store).unwrap_err());
    assert_eq!(
        causes[0].1,
        "Invalid value: \"<certificate data>\": only CERTIFICATE PEM blocks are allowed, found \"PRIVATE KEY\""
    );

    let mut issued = with_certificate(&b64(&pem));
    before_update(&csrs(), "status", &old, &mut issued, &admin(), &store).unwrap();
    let mut changed = issued.clone();
    changed["status"]["certificate"] = json!(b64(&[pem.as_slice(), pem.as_slice()].concat()));
    let causes =
        invalid(before_update(&csrs(), "status", &issued, &mut changed, &admin(), &store).unwrap_err());
    assert_eq!(
        causes[0].1,
        "Forbidden: updates may not modify existing certificate content"
    );
}

#[test]
fn conditions_are_never_removed_and_keep_their_transition_time() {
    let store = store();
    let mut approved = created();
    approved["status"] = json!({"conditions": [{"type": "Approved", "status": "True", "reason": "x"}]});
    let old = created();
    before_update(&csrs(), "approval", &old, &mut approved, &admin(), &store).unwrap();
    store.clock().advance(Duration::from_secs(60));
    let mut removed = approved.clone();
    removed["status"]["conditions"] = json!([]);
    let causes =
        invalid(before_update(&csrs(), "approval", &approved, &mut removed, &admin(), &store).unwrap_err());
    assert_eq!(
        causes[0].1,
        "Forbidden: updates may not remove a condition of type \"Approved\""
    );
    let mut touched = approved.clone();
    touched["status"]["conditions"][0]["lastUpdateTime"] = Value::Null;
    touched["status"]["conditions"][0]["lastTransitionTime"] = Value::Null;
    before_update(&csrs(), "approval", &approved, &mut touched, &admin(), &store).unwrap();
    let condition = &touched["status"]["conditions"][0];
    assert_eq!(
        condition["lastTransitionTime"],
        approved["status"]["conditions"][0]["lastTransitionTime"]
    );
    assert_ne!(condition["lastUpdateTime"], condition["lastTransitionTime"]);
}

#[test]
fn system_masters_through_the_apiserver_client_signer_is_refused() {
    let key = kubetrust_pki::PrivateKey::generate(kubetrust_pki::KeyAlgorithm::EcdsaP256).unwrap();
    let subject = kubetrust_pki::Subject::new("evil").with_organization("system:masters");
    let request = kubetrust_pki::CertificateRequest::new(&subject, &Default::default(), &key).unwrap();
    use base64::Engine as _;
    let mut object = json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "evil"},
        "spec": {
            "request": base64::engine::general_purpose::STANDARD.encode(request.to_pem()),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
        },
    });
    let err = before_create(&csrs(), &mut object, &bootstrapper(), &store()).unwrap_err();
    assert_eq!(err.code, 403);
    assert!(
        err.message.ends_with(
            "use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed"
        ),
        "{err}"
    );
}

#[test]
fn approving_and_signing_need_rights_on_the_signer() {
    let old = created();
    let store = store();
    let mut approval = vector("04b-kubectl-approve-put.json");
    let err = before_update(&csrs(), "approval", &old, &mut approval, &bootstrapper(), &store).unwrap_err();
    assert_eq!(err.to_status(), vector("11c-error-approve-forbidden.json"));
    let mut failed = old.clone();
    failed["status"] = json!({"conditions": [{"type": "Failed", "status": "True", "reason": "x"}]});
    let err = before_update(&csrs(), "status", &old, &mut failed, &bootstrapper(), &store).unwrap_err();
    assert!(err.message.ends_with("user not permitted to sign requests with signerName \"kubernetes.io/kube-apiserver-client-kubelet\""), "{err}");
    // A label change through /status changes no status: no signing right needed.
    let mut labelled = old.clone();
    labelled["metadata"]["labels"] = json!({"a": "b"});
    before_update(&csrs(), "status", &old, &mut labelled, &bootstrapper(), &store).unwrap();
}
