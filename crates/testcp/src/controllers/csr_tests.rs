//! The CSR controllers together over a store with the default RBAC and kubeadm's bindings:
//! auto-approval and issuance, RBAC-gated approval, Failed requests, garbage collection.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_bootstrap_token::node_bootstrap_cluster_role_bindings;
use kubetrust_csr_bootstrap::csr::{Naming, client_csr};
use kubetrust_csr_bootstrap::policy::signer::SignerConfig;
use kubetrust_pki::{
    AltNames, Certificate, CertificateAuthority, CertificateRequest, KeyAlgorithm, PrivateKey, Subject,
};
use serde_json::{Value, json};

use super::csr_object::{csrs, key as csr_key};
use super::csr_signer::Signer;
use super::{csr_approver, csr_cleaner, csr_signer};
use crate::clock::Clock;
use crate::identity::UserInfo;
use crate::store::{Resource, Store};
use crate::{rbac, strategy};

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

fn cluster_role_bindings() -> Resource {
    Resource::new("rbac.authorization.k8s.io", "clusterrolebindings")
}

struct Plane {
    store: Store,
    ca: Arc<CertificateAuthority>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Plane {
    fn drop(&mut self) {
        self.tasks.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

fn plane() -> Plane {
    let store = Store::new(Clock::default());
    for (resource, object) in rbac::bootstrap_policy() {
        store.create(&resource, "", object).unwrap();
    }
    for binding in node_bootstrap_cluster_role_bindings() {
        store
            .create(
                &cluster_role_bindings(),
                "",
                serde_json::to_value(binding).unwrap(),
            )
            .unwrap();
    }
    let ca = Arc::new(
        CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, store.clock().now()).unwrap(),
    );
    let signer = Signer {
        ca: ca.clone(),
        config: SignerConfig::default(),
        delay: Arc::new(|| Duration::ZERO),
    };
    let tasks = vec![
        csr_approver::spawn(store.clone()),
        csr_signer::spawn(store.clone(), signer),
        csr_cleaner::spawn(store.clone()),
    ];
    Plane { store, ca, tasks }
}

/// Creates a CSR through the API's create path, as `user`.
fn submit(store: &Store, csr: &CertificateSigningRequest, user: &UserInfo) -> String {
    let mut object = serde_json::to_value(csr).unwrap();
    strategy::before_create(&csrs(), &mut object, user, store).unwrap();
    let created = store.create(&csrs(), "", object).unwrap();
    created["metadata"]["name"].as_str().unwrap().to_owned()
}

fn node_csr(store: &Store) -> (String, PrivateKey) {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = client_csr("worker-1", &key, Naming::Generated, None).unwrap();
    (submit(store, &csr, &bootstrapper()), key)
}

async fn eventually(store: &Store, name: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..300 {
        if let Ok(object) = store.get(&csr_key(name))
            && done(&object)
        {
            return object.as_ref().clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{name} never got there: {:?}", store.get(&csr_key(name)));
}

fn has_certificate(object: &Value) -> bool {
    object["status"]["certificate"].is_string()
}

fn condition_types(object: &Value) -> Vec<String> {
    object["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["type"].as_str().unwrap().to_owned())
        .collect()
}

fn certificate(object: &Value) -> Certificate {
    let pem = base64::engine::general_purpose::STANDARD
        .decode(object["status"]["certificate"].as_str().unwrap())
        .unwrap();
    Certificate::from_pem(&pem).unwrap()
}

#[tokio::test]
async fn a_bootstrap_csr_is_approved_and_issued() {
    let plane = plane();
    let (name, key) = node_csr(&plane.store);
    let object = eventually(&plane.store, &name, has_certificate).await;
    let approved = &object["status"]["conditions"][0];
    assert_eq!(approved["type"], "Approved");
    assert_eq!(approved["reason"], "AutoApproved");
    assert_eq!(
        approved["message"],
        "Auto approving kubelet client certificate after SubjectAccessReview."
    );
    assert!(approved["lastUpdateTime"].is_string());
    let cert = certificate(&object);
    assert!(cert.matches_key(&key));
    assert!(plane.ca.verifies(&cert, &[]));
    assert_eq!(cert.subject().common_name, "system:node:worker-1");
}

#[tokio::test]
async fn without_the_autoapprove_binding_csrs_wait_until_it_returns() {
    let plane = plane();
    let autoapprove = crate::store::ObjectKey {
        resource: cluster_role_bindings(),
        namespace: String::new(),
        name: "kubeadm:node-autoapprove-bootstrap".into(),
    };
    let binding = plane.store.delete(&autoapprove, None).unwrap();
    let (name, _) = node_csr(&plane.store);
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(condition_types(&plane.store.get(&csr_key(&name)).unwrap()).is_empty());
    // RBAC granted afterwards takes effect without recreating the CSR.
    plane
        .store
        .create(&cluster_role_bindings(), "", binding.as_ref().clone())
        .unwrap();
    eventually(&plane.store, &name, has_certificate).await;
}

#[tokio::test]
async fn a_rotation_by_the_node_itself_is_approved_as_selfnodeclient() {
    let plane = plane();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = client_csr("worker-1", &key, Naming::Generated, None).unwrap();
    let node = UserInfo {
        name: "system:node:worker-1".into(),
        groups: vec!["system:nodes".into(), "system:authenticated".into()],
        ..UserInfo::default()
    };
    let name = submit(&plane.store, &csr, &node);
    let object = eventually(&plane.store, &name, has_certificate).await;
    assert_eq!(
        object["status"]["conditions"][0]["message"],
        "Auto approving self kubelet client certificate after SubjectAccessReview."
    );
}

#[tokio::test]
async fn a_manually_approved_csr_with_sans_fails_with_the_signer_text() {
    let plane = plane();
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut sans = AltNames::default();
    sans.add_dns("worker-1.example.com");
    let subject = Subject::new("system:node:worker-1").with_organization("system:nodes");
    let request = CertificateRequest::new(&subject, &sans, &key).unwrap();
    let mut csr = client_csr("worker-1", &key, Naming::Generated, None).unwrap();
    csr.spec.request = k8s_openapi::ByteString(request.to_pem().into_bytes());
    let name = submit(&plane.store, &csr, &bootstrapper());
    // The approver does not recognise it; an admin approves it by hand.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut object = plane.store.get(&csr_key(&name)).unwrap().as_ref().clone();
    assert!(condition_types(&object).is_empty());
    object["status"]["conditions"] =
        json!([{"type": "Approved", "status": "True", "reason": "KubectlApprove"}]);
    let admin = UserInfo {
        name: "kubernetes-admin".into(),
        groups: vec!["system:masters".into()],
        ..UserInfo::default()
    };
    let old = plane.store.get(&csr_key(&name)).unwrap();
    strategy::before_update(&csrs(), "approval", &old, &mut object, &admin, &plane.store).unwrap();
    plane.store.update(&csr_key(&name), object).unwrap();
    let failed = eventually(&plane.store, &name, |o| {
        condition_types(o).contains(&"Failed".to_owned())
    })
    .await;
    let condition = &failed["status"]["conditions"][1];
    assert_eq!(condition["reason"], "SignerValidationFailure");
    assert_eq!(condition["message"], "DNS subjectAltNames are not allowed");
    assert!(!has_certificate(&failed));
}

#[tokio::test]
async fn the_cleaner_collects_issued_csrs_an_hour_later() {
    let plane = plane();
    let (name, _) = node_csr(&plane.store);
    eventually(&plane.store, &name, has_certificate).await;
    plane.store.clock().advance(Duration::from_secs(3601));
    for _ in 0..100 {
        if plane.store.get(&csr_key(&name)).is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the issued CSR was not collected");
}
