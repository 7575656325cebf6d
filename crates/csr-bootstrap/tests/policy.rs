//! Behaviour of the approval policies, including the known attacks on kubelet CSR approval.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::IpAddr;
use std::process::Command;

use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestSpec};
use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubetrust_csr_bootstrap::Error;
use kubetrust_csr_bootstrap::policy::{Decision, KeyKind, Reason, Subresource, client, serving};
use kubetrust_pki::{AltNames, CertificateRequest, KeyAlgorithm, PrivateKey, Subject};

const BOOTSTRAP_USER: &str = "system:bootstrap:abcdef";
const NODE_USER: &str = "system:node:worker-1";
const CLIENT_USAGES: &[&str] = &["digital signature", "client auth"];
const SERVING_USAGES: &[&str] = &["digital signature", "server auth"];

fn pem_for(cn: &str, orgs: &[&str], sans: AltNames, algorithm: KeyAlgorithm) -> Vec<u8> {
    let key = PrivateKey::generate(algorithm).unwrap();
    let mut subject = Subject::new(cn);
    for o in orgs {
        subject = subject.with_organization(*o);
    }
    CertificateRequest::new(&subject, &sans, &key)
        .unwrap()
        .to_pem()
        .into_bytes()
}

fn csr(
    request: Vec<u8>,
    signer: &str,
    usages: &[&str],
    user: &str,
    groups: &[&str],
) -> CertificateSigningRequest {
    CertificateSigningRequest {
        metadata: ObjectMeta {
            name: Some("csr-test".into()),
            ..Default::default()
        },
        spec: CertificateSigningRequestSpec {
            request: ByteString(request),
            signer_name: signer.into(),
            usages: Some(usages.iter().map(|u| u.to_string()).collect()),
            username: Some(user.into()),
            groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            ..Default::default()
        },
        status: None,
    }
}

fn bootstrap_client_csr(
    cn: &str,
    orgs: &[&str],
    sans: AltNames,
    usages: &[&str],
) -> CertificateSigningRequest {
    csr(
        pem_for(cn, orgs, sans, KeyAlgorithm::EcdsaP256),
        client::SIGNER,
        usages,
        BOOTSTRAP_USER,
        &[
            "system:bootstrappers",
            "system:bootstrappers:kubeadm:default-node-token",
            "system:authenticated",
        ],
    )
}

fn ask(decision: Decision) -> kubetrust_csr_bootstrap::policy::AccessReview {
    match decision {
        Decision::AskAccessReview(review) => review,
        other => panic!("expected an access review, got {other:?}"),
    }
}

fn ignored(csr: &CertificateSigningRequest) -> Reason {
    match client::evaluate(csr).unwrap() {
        Decision::Ignore(reason) => reason,
        other => panic!("expected Ignore, got {other:?}"),
    }
}

// ---- kubelet client approver ----

#[test]
fn bootstrap_nodeclient_asks_the_upstream_access_review_then_approves() {
    let csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
    let review = ask(client::evaluate(&csr).unwrap());
    assert_eq!(review.subresource, Subresource::NodeClient);
    let sar = serde_json::to_value(review.to_subject_access_review()).unwrap();
    assert_eq!(
        sar["spec"]["resourceAttributes"],
        serde_json::json!({"group": "certificates.k8s.io", "resource": "certificatesigningrequests",
            "subresource": "nodeclient", "verb": "create", "version": "*"})
    );
    assert_eq!(sar["spec"]["user"], BOOTSTRAP_USER);
    assert_eq!(
        sar["spec"]["groups"][1],
        "system:bootstrappers:kubeadm:default-node-token"
    );

    let condition = client::decide(&csr, &review, true).unwrap().condition().unwrap();
    assert_eq!(condition.type_, "Approved");
    assert_eq!(condition.status, "True");
    assert_eq!(condition.reason.as_deref(), Some("AutoApproved"));
    assert_eq!(
        condition.message.as_deref(),
        Some("Auto approving kubelet client certificate after SubjectAccessReview.")
    );
}

#[test]
fn the_three_usage_set_and_any_order_are_accepted() {
    let usages = ["client auth", "key encipherment", "digital signature"];
    let csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), &usages);
    ask(client::evaluate(&csr).unwrap());
}

#[test]
fn refused_nodeclient_review_is_left_pending_never_denied() {
    let csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
    let review = ask(client::evaluate(&csr).unwrap());
    let reason = match client::decide(&csr, &review, false).unwrap() {
        Decision::Ignore(reason) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason.to_string(),
        r#"recognized csr "csr-test" as [nodeclient] but subject access review was not approved"#
    );
}

#[test]
fn rotation_asks_selfnodeclient_first_then_falls_back_to_nodeclient() {
    let csr = csr(
        pem_for(
            NODE_USER,
            &["system:nodes"],
            AltNames::default(),
            KeyAlgorithm::EcdsaP256,
        ),
        client::SIGNER,
        CLIENT_USAGES,
        NODE_USER,
        &["system:nodes", "system:authenticated"],
    );
    let first = ask(client::evaluate(&csr).unwrap());
    assert_eq!(first.subresource, Subresource::SelfNodeClient);
    let approved = client::decide(&csr, &first, true).unwrap().condition().unwrap();
    assert_eq!(
        approved.message.as_deref(),
        Some("Auto approving self kubelet client certificate after SubjectAccessReview.")
    );

    let second = ask(client::decide(&csr, &first, false).unwrap());
    assert_eq!(second.subresource, Subresource::NodeClient);
    match client::decide(&csr, &second, false).unwrap() {
        Decision::Ignore(reason) => assert_eq!(
            reason,
            Reason::AccessReviewNotAllowed {
                name: "csr-test".into(),
                tried: vec!["selfnodeclient", "nodeclient"]
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_bootstrap_token_cannot_get_a_selfnodeclient_review() {
    let csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
    let mut forged = ask(client::evaluate(&csr).unwrap());
    forged.subresource = Subresource::SelfNodeClient;
    assert!(matches!(
        client::decide(&csr, &forged, true),
        Err(Error::UnaskedAccessReview { .. })
    ));
}

#[test]
fn an_answer_for_another_requester_is_refused() {
    let csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
    let mut forged = ask(client::evaluate(&csr).unwrap());
    forged.user = "system:bootstrap:other1".into();
    assert!(client::decide(&csr, &forged, true).is_err());
}

#[test]
fn client_shape_violations_are_not_recognised() {
    let san_dns = AltNames::from_parts(["worker-2".to_string()], []);
    let san_ip = AltNames::from_parts([], ["10.0.0.2".parse::<IpAddr>().unwrap()]);
    let cases: Vec<(CertificateSigningRequest, Reason)> = vec![
        (
            bootstrap_client_csr(NODE_USER, &["system:masters"], AltNames::default(), CLIENT_USAGES),
            Reason::OrganizationNotSystemNodes,
        ),
        (
            bootstrap_client_csr(
                NODE_USER,
                &["system:nodes", "system:masters"],
                AltNames::default(),
                CLIENT_USAGES,
            ),
            Reason::OrganizationNotSystemNodes,
        ),
        (
            bootstrap_client_csr(NODE_USER, &["system:nodes"], san_dns, CLIENT_USAGES),
            Reason::DnsSansNotAllowed,
        ),
        (
            bootstrap_client_csr(NODE_USER, &["system:nodes"], san_ip, CLIENT_USAGES),
            Reason::IpSansNotAllowed,
        ),
        (
            bootstrap_client_csr("admin", &["system:nodes"], AltNames::default(), CLIENT_USAGES),
            Reason::CommonNameNotNode,
        ),
    ];
    for (csr, expected) in cases {
        assert_eq!(ignored(&csr), expected);
    }
}

#[test]
fn extra_usages_are_not_recognised() {
    for usages in [
        &["digital signature", "client auth", "server auth"][..],
        &["client auth"][..],
        &["digital signature", "client auth", "cert sign"][..],
    ] {
        let csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), usages);
        let reason = ignored(&csr);
        assert!(
            matches!(reason, Reason::UsagesMismatch { .. }),
            "{usages:?}: {reason:?}"
        );
        assert!(
            reason
                .to_string()
                .contains("[client auth digital signature key encipherment]")
        );
    }
}

#[test]
fn another_signer_is_not_the_client_approvers_business() {
    for signer in [
        serving::SIGNER,
        "kubernetes.io/kube-apiserver-client",
        "example.com/kubelet",
    ] {
        let mut csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
        csr.spec.signer_name = signer.into();
        assert_eq!(
            ignored(&csr),
            Reason::OtherSigner {
                signer: signer.into()
            }
        );
    }
}

#[test]
fn decided_or_issued_csrs_are_never_redecided() {
    let mut csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
    let review = ask(client::evaluate(&csr).unwrap());
    let denied = Decision::Deny(vec![Reason::CaRequested]).condition().unwrap();
    csr.status = Some(
        k8s_openapi::api::certificates::v1::CertificateSigningRequestStatus {
            conditions: Some(vec![denied]),
            certificate: None,
        },
    );
    assert_eq!(ignored(&csr), Reason::AlreadyDecided);
    assert_eq!(
        client::decide(&csr, &review, true).unwrap(),
        Decision::Ignore(Reason::AlreadyDecided)
    );
    csr.status = Some(
        k8s_openapi::api::certificates::v1::CertificateSigningRequestStatus {
            conditions: None,
            certificate: Some(ByteString(b"x".to_vec())),
        },
    );
    assert_eq!(ignored(&csr), Reason::AlreadyIssued);
}

#[test]
fn garbage_requests_are_errors_not_decisions() {
    let mut csr = bootstrap_client_csr(NODE_USER, &["system:nodes"], AltNames::default(), CLIENT_USAGES);
    csr.spec.request = ByteString(b"not pem".to_vec());
    assert!(matches!(client::evaluate(&csr), Err(Error::RequestNotPem { .. })));
    csr.spec.request = ByteString(
        b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".to_vec(),
    );
    assert!(matches!(
        client::evaluate(&csr),
        Err(Error::RequestUnparsable { .. })
    ));
}

#[test]
fn a_tampered_request_signature_is_an_error() {
    let pem = pem_for(
        NODE_USER,
        &["system:nodes"],
        AltNames::default(),
        KeyAlgorithm::EcdsaP256,
    );
    let blocks = kubetrust_kubeconfig::pem::parse(&pem).unwrap();
    let mut der = blocks[0].der.clone();
    let last = der.len() - 1;
    der[last] ^= 1;
    let tampered = CertificateRequest::from_der(&der);
    assert!(tampered.is_err(), "pki must refuse a broken self-signature");
}

// ---- serving approver ----

fn node(name: &str, addresses: &[(&str, &str)]) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        status: Some(NodeStatus {
            addresses: Some(
                addresses
                    .iter()
                    .map(|(t, a)| NodeAddress {
                        type_: t.to_string(),
                        address: a.to_string(),
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn worker_1() -> Node {
    node(
        "worker-1",
        &[
            ("Hostname", "worker-1"),
            ("InternalIP", "10.0.0.1"),
            ("InternalDNS", "worker-1.internal"),
        ],
    )
}

fn own_sans() -> AltNames {
    AltNames::from_parts(
        ["worker-1".to_string(), "worker-1.internal".to_string()],
        ["10.0.0.1".parse::<IpAddr>().unwrap()],
    )
}

fn serving_csr(
    cn: &str,
    sans: AltNames,
    algorithm: KeyAlgorithm,
    usages: &[&str],
) -> CertificateSigningRequest {
    csr(
        pem_for(cn, &["system:nodes"], sans, algorithm),
        serving::SIGNER,
        usages,
        NODE_USER,
        &["system:nodes", "system:authenticated"],
    )
}

fn denied(csr: &CertificateSigningRequest, node: &Node) -> Vec<Reason> {
    match serving::evaluate(csr, node).unwrap() {
        Decision::Deny(reasons) => reasons,
        other => panic!("expected Deny, got {other:?}"),
    }
}

#[test]
fn serving_request_for_own_addresses_is_approved() {
    let csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    let decision = serving::evaluate(&csr, &worker_1()).unwrap();
    assert!(matches!(decision, Decision::Approve(_)), "{decision:?}");
    assert_eq!(decision.condition().unwrap().type_, "Approved");
}

#[test]
fn rsa_serving_request_may_carry_key_encipherment_ecdsa_may_not() {
    let rsa = serving_csr(
        NODE_USER,
        own_sans(),
        KeyAlgorithm::Rsa2048,
        &["digital signature", "key encipherment", "server auth"],
    );
    assert!(matches!(
        serving::evaluate(&rsa, &worker_1()).unwrap(),
        Decision::Approve(_)
    ));
    let ec = serving_csr(
        NODE_USER,
        own_sans(),
        KeyAlgorithm::EcdsaP256,
        &["digital signature", "key encipherment", "server auth"],
    );
    assert!(matches!(
        denied(&ec, &worker_1())[..],
        [Reason::UsagesMismatch { .. }]
    ));
}

#[test]
fn another_nodes_ip_or_name_in_a_san_is_denied() {
    let sans = AltNames::from_parts(["worker-2".to_string()], ["10.0.0.2".parse::<IpAddr>().unwrap()]);
    let csr = serving_csr(NODE_USER, sans, KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    assert_eq!(
        denied(&csr, &worker_1()),
        vec![
            Reason::DnsSanNotNodeAddress {
                name: "worker-2".into()
            },
            Reason::IpSanNotNodeAddress {
                ip: "10.0.0.2".parse().unwrap()
            },
        ]
    );
    // The node's name is no licence by itself: only listed addresses count.
    let bare = node("worker-1", &[("InternalIP", "10.0.0.1")]);
    let named = serving_csr(
        NODE_USER,
        AltNames::from_parts(["worker-1".to_string()], []),
        KeyAlgorithm::EcdsaP256,
        SERVING_USAGES,
    );
    assert_eq!(
        denied(&named, &bare),
        vec![Reason::DnsSanNotNodeAddress {
            name: "worker-1".into()
        }]
    );
}

#[test]
fn a_hostname_address_that_is_an_ip_counts_as_an_ip_only() {
    let n = node("worker-1", &[("Hostname", "10.0.0.9")]);
    let ip = serving_csr(
        NODE_USER,
        AltNames::from_parts([], ["10.0.0.9".parse::<IpAddr>().unwrap()]),
        KeyAlgorithm::EcdsaP256,
        SERVING_USAGES,
    );
    assert!(matches!(
        serving::evaluate(&ip, &n).unwrap(),
        Decision::Approve(_)
    ));
}

#[test]
fn cn_requester_mismatch_and_foreign_node_are_denied() {
    let csr = serving_csr(
        "system:node:worker-2",
        own_sans(),
        KeyAlgorithm::EcdsaP256,
        SERVING_USAGES,
    );
    assert_eq!(
        denied(&csr, &worker_1()),
        vec![Reason::CommonNameNotRequester {
            common_name: "system:node:worker-2".into(),
            username: NODE_USER.into()
        }]
    );
    let csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    let other = node(
        "worker-2",
        &[
            ("Hostname", "worker-1"),
            ("InternalIP", "10.0.0.1"),
            ("InternalDNS", "worker-1.internal"),
        ],
    );
    assert_eq!(
        denied(&csr, &other),
        vec![Reason::NodeMismatch {
            requester: "worker-1".into(),
            node: "worker-2".into()
        }]
    );
}

#[test]
fn a_bootstrap_token_requester_gets_no_serving_certificate() {
    let mut csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    csr.spec.username = Some(BOOTSTRAP_USER.into());
    csr.spec.groups = Some(vec!["system:bootstrappers".into()]);
    let reasons = denied(&csr, &worker_1());
    assert!(reasons.contains(&Reason::RequesterNotNode {
        username: BOOTSTRAP_USER.into()
    }));
    assert!(reasons.contains(&Reason::RequesterNotInNodesGroup));
    assert!(
        reasons
            .iter()
            .any(|r| matches!(r, Reason::CommonNameNotRequester { .. }))
    );
}

#[test]
fn serving_without_sans_or_with_other_orgs_is_denied() {
    let csr = serving_csr(
        NODE_USER,
        AltNames::default(),
        KeyAlgorithm::EcdsaP256,
        SERVING_USAGES,
    );
    assert_eq!(denied(&csr, &worker_1()), vec![Reason::SanRequired]);
    let mut masters = csr.clone();
    masters.spec.request = ByteString(pem_for(
        NODE_USER,
        &["system:masters"],
        own_sans(),
        KeyAlgorithm::EcdsaP256,
    ));
    assert_eq!(
        denied(&masters, &worker_1()),
        vec![Reason::OrganizationNotSystemNodes]
    );
}

#[test]
fn smuggling_another_signer_past_the_serving_approver_is_ignored() {
    let mut csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    csr.spec.signer_name = "kubernetes.io/kube-apiserver-client".into();
    assert!(matches!(
        serving::evaluate(&csr, &worker_1()).unwrap(),
        Decision::Ignore(Reason::OtherSigner { .. })
    ));
    // and a serving CSR is never the client approver's to approve
    csr.spec.signer_name = serving::SIGNER.into();
    assert!(matches!(
        client::evaluate(&csr).unwrap(),
        Decision::Ignore(Reason::OtherSigner { .. })
    ));
}

#[test]
fn serving_extra_usages_are_denied() {
    let csr = serving_csr(
        NODE_USER,
        own_sans(),
        KeyAlgorithm::EcdsaP256,
        &["digital signature", "server auth", "client auth"],
    );
    assert!(matches!(
        denied(&csr, &worker_1())[..],
        [Reason::UsagesMismatch { .. }]
    ));
}

#[test]
fn ed25519_keys_are_refused_for_serving() {
    let csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::Ed25519, SERVING_USAGES);
    assert_eq!(
        denied(&csr, &worker_1()),
        vec![Reason::KeyTypeNotAllowed {
            key: KeyKind::Ed25519
        }]
    );
}

// ---- requests only openssl makes here: CA:TRUE, email and URI SANs ----

/// A P-256 CSR from openssl with `-addext` extensions, or `None` (with a note) when openssl is
/// missing on a developer machine; under CI=true a missing openssl fails.
fn openssl_csr(cn: &str, addext: &[&str]) -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!(
        "kubetrust-csr-policy-{}-{}",
        std::process::id(),
        addext.join("_").replace(['/', ':', ' ', ',', '@'], "-")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    let mut command = Command::new("openssl");
    command.args([
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
    ]);
    command
        .arg(&key)
        .args(["-subj", &format!("/O=system:nodes/CN={cn}")]);
    for ext in addext {
        command.args(["-addext", ext]);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true and openssl failed to run: {e}")
        }
        Err(e) => {
            eprintln!("skipping: openssl not runnable ({e})");
            return None;
        }
    };
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

#[test]
fn ca_true_serving_request_is_denied() {
    let Some(pem) = openssl_csr(
        NODE_USER,
        &["basicConstraints=critical,CA:TRUE", "subjectAltName=IP:10.0.0.1"],
    ) else {
        return;
    };
    let mut csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    csr.spec.request = ByteString(pem);
    assert_eq!(denied(&csr, &worker_1()), vec![Reason::CaRequested]);
}

#[test]
fn openssl_serving_request_without_ca_is_approved() {
    // The control for the CA:TRUE test: the same openssl request minus the CA flag passes.
    let Some(pem) = openssl_csr(NODE_USER, &["subjectAltName=IP:10.0.0.1"]) else {
        return;
    };
    let mut csr = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    csr.spec.request = ByteString(pem);
    assert!(matches!(
        serving::evaluate(&csr, &worker_1()).unwrap(),
        Decision::Approve(_)
    ));
}

#[test]
fn ca_true_client_request_is_still_recognised_as_upstream_does() {
    // Upstream's approver ignores the extension request; the signer issues CA:FALSE regardless.
    let Some(pem) = openssl_csr(NODE_USER, &["basicConstraints=critical,CA:TRUE"]) else {
        return;
    };
    let csr = csr(
        pem,
        client::SIGNER,
        CLIENT_USAGES,
        BOOTSTRAP_USER,
        &["system:bootstrappers"],
    );
    ask(client::evaluate(&csr).unwrap());
}

#[test]
fn email_and_uri_sans_are_refused() {
    let Some(email) = openssl_csr(NODE_USER, &["subjectAltName=email:root@example.com"]) else {
        return;
    };
    let Some(uri) = openssl_csr(
        NODE_USER,
        &["subjectAltName=IP:10.0.0.1,URI:spiffe://cluster/ns/x"],
    ) else {
        return;
    };
    let client_email = csr(email.clone(), client::SIGNER, CLIENT_USAGES, BOOTSTRAP_USER, &[]);
    assert_eq!(ignored(&client_email), Reason::EmailSansNotAllowed);
    let client_uri = csr(uri.clone(), client::SIGNER, CLIENT_USAGES, BOOTSTRAP_USER, &[]);
    assert_eq!(ignored(&client_uri), Reason::UriSansNotAllowed);

    let mut serving_email = serving_csr(NODE_USER, own_sans(), KeyAlgorithm::EcdsaP256, SERVING_USAGES);
    serving_email.spec.request = ByteString(email);
    assert_eq!(
        denied(&serving_email, &worker_1()),
        vec![Reason::EmailSansNotAllowed]
    );
    let mut serving_uri = serving_email.clone();
    serving_uri.spec.request = ByteString(uri);
    assert_eq!(denied(&serving_uri, &worker_1()), vec![Reason::UriSansNotAllowed]);
}
