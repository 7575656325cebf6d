//! The CSR client's pure decisions on what the API server returns: CSR objects and watch events
//! (as JSON, one per line, or built by `arbitrary` from a real issued certificate, its CA and
//! mutations of them) are judged by `outcome` and checked by `check_ours` and
//! `verify::verify_issued`. Nothing may panic, `Issued` only comes from an approved object of
//! our UID with a non-empty certificate, and a certificate is only accepted when it is for our
//! key, with our subject, chaining to the cluster CA.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestStatus,
};
use kubetrust_csr_bootstrap::csr::{Naming, client_csr, node_subject};
use kubetrust_csr_bootstrap::outcome::{EventType, Outcome, check_ours, observe, on_event};
use kubetrust_csr_bootstrap::verify::{Expected, verify_issued};
use kubetrust_pki::{Certificate, ExtKeyUsage, PrivateKey, Subject, verify_chain};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

/// The UID of the CSR the client created (the vectors' UID).
const UID: &str = "3f1c2a7e-8d4b-4e0f-9a61-2b7c5d9e1f08";
/// 2026-12-01T00:00:00Z: inside the vector certificate's validity, so the run is deterministic.
const NOW_UNIX: u64 = 1_796_083_200;

/// The node's side: its key (the one the vector certificate was issued for), the cluster CA,
/// the subject and its own CSR object.
struct Node {
    key: PrivateKey,
    ca: Vec<Certificate>,
    subject: Subject,
    ours: CertificateSigningRequest,
    issued: Vec<u8>,
}

fn node() -> &'static Node {
    static NODE: OnceLock<Node> = OnceLock::new();
    NODE.get_or_init(|| {
        let key = PrivateKey::from_pem(include_bytes!("../../testdata/csr/kubelet-client.key.tmp.pem"))
            .expect("vector key");
        let ca =
            Certificate::chain_from_pem(include_bytes!("../../testdata/csr/test-ca.crt")).expect("vector CA");
        let ours = client_csr("worker-1", &key, Naming::Digest, None).expect("our CSR");
        Node {
            key,
            ca,
            subject: node_subject("worker-1"),
            ours,
            issued: include_bytes!("../../testdata/csr/issued-kubelet-client.crt").to_vec(),
        }
    })
}

fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_UNIX)
}

/// Judges one object (optionally as a watch event) and checks every invariant.
fn judge(kind: Option<EventType>, csr: &CertificateSigningRequest) {
    let node = node();
    let expected = Expected {
        key: &node.key,
        ca: &node.ca,
        subject: &node.subject,
        usage: ExtKeyUsage::ClientAuth,
    };
    let outcome = match kind {
        Some(kind) => on_event(kind, csr, UID),
        None => observe(csr, UID),
    };
    let certificate = csr.status.as_ref().and_then(|s| s.certificate.as_ref());
    match &outcome {
        Outcome::Issued(pem) => {
            assert_ne!(kind, Some(EventType::Deleted), "a deletion is never an issue");
            assert_eq!(csr.metadata.uid.as_deref(), Some(UID), "issued for another UID");
            assert!(!pem.is_empty(), "issued without a certificate");
            assert_eq!(
                certificate.map(|c| &c.0),
                Some(pem),
                "issued bytes are not status.certificate"
            );
            let approved = csr
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .into_iter()
                .flatten()
                .any(|c| c.type_ == "Approved" && c.status == "True");
            assert!(approved, "issued without an Approved condition");
        }
        Outcome::Replaced { actual, .. } => assert_ne!(actual, UID),
        _ => {}
    }
    // The check runs on every certificate, issued or not: only ours may pass.
    if let Some(pem) = certificate
        && let Ok(chain) = verify_issued(&pem.0, &expected, now())
    {
        let leaf = chain.first().expect("a verified chain has a leaf");
        assert!(
            leaf.matches_key(&node.key),
            "accepted a certificate for another key"
        );
        assert_eq!(leaf.subject(), node.subject, "accepted another subject");
        assert!(verify_chain(leaf, chain.get(1..).unwrap_or_default(), &node.ca));
    }
    let _ = check_ours(csr, &node.ours, &expected, now());
}

/// One line of JSON: a watch event (`{"type": ..., "object": ...}`) or a CSR object.
fn judge_json(line: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(line) else {
        return;
    };
    let event = value
        .get("type")
        .and_then(|t| t.as_str())
        .zip(value.get("object"));
    let (kind, object) = match event {
        Some((kind, object)) => match EventType::from_wire(kind) {
            Some(kind) => (Some(kind), object.clone()),
            None => return,
        },
        None => (None, value),
    };
    if let Ok(csr) = serde_json::from_value::<CertificateSigningRequest>(object) {
        judge(kind, &csr);
    }
}

/// Which bytes `status.certificate` holds in a built object.
#[derive(Arbitrary, Debug)]
enum IssuedBytes {
    None,
    /// The real certificate issued for our key.
    Issued,
    /// The cluster CA itself (not for our key).
    Ca,
    /// The issued certificate with one byte changed.
    Flipped {
        at: u16,
        xor: u8,
    },
    /// The issued certificate followed by the CA (leaf, then an "intermediate").
    IssuedThenCa,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Condition {
    type_: u8,
    status: bool,
    reason: String,
}

/// A CSR object built from the vectors.
#[derive(Arbitrary, Debug)]
struct Built {
    event: u8,
    same_uid: bool,
    our_request: bool,
    conditions: Vec<Condition>,
    certificate: IssuedBytes,
}

impl Built {
    fn csr(&self) -> CertificateSigningRequest {
        let node = node();
        let mut csr = node.ours.clone();
        csr.metadata.uid = Some(if self.same_uid {
            UID.to_owned()
        } else {
            "other".to_owned()
        });
        if !self.our_request {
            csr.spec.request = ByteString(node.issued.clone());
        }
        let ca_pem = || {
            node.ca
                .iter()
                .map(Certificate::to_pem)
                .collect::<String>()
                .into_bytes()
        };
        let certificate = match &self.certificate {
            IssuedBytes::None => None,
            IssuedBytes::Issued => Some(node.issued.clone()),
            IssuedBytes::Ca => Some(ca_pem()),
            IssuedBytes::Flipped { at, xor } => {
                let mut bytes = node.issued.clone();
                let at = usize::from(*at).checked_rem(bytes.len()).unwrap_or_default();
                if let Some(byte) = bytes.get_mut(at) {
                    *byte ^= xor;
                }
                Some(bytes)
            }
            IssuedBytes::IssuedThenCa => Some([node.issued.clone(), ca_pem()].concat()),
            IssuedBytes::Raw(bytes) => Some(bytes.clone()),
        };
        let conditions = self
            .conditions
            .iter()
            .map(|c| CertificateSigningRequestCondition {
                type_: ["Approved", "Denied", "Failed", "Other"][usize::from(c.type_ % 4)].to_owned(),
                status: if c.status { "True" } else { "False" }.to_owned(),
                reason: Some(c.reason.clone()),
                ..Default::default()
            })
            .collect();
        csr.status = Some(CertificateSigningRequestStatus {
            certificate: certificate.map(ByteString),
            conditions: Some(conditions),
        });
        csr
    }

    fn kind(&self) -> Option<EventType> {
        ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]
            .get(usize::from(self.event % 5))
            .and_then(|kind| EventType::from_wire(kind))
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        data.split(|b| *b == b'\n').for_each(judge_json);
        return;
    }
    if let Ok(built) = Built::arbitrary_take_rest(Unstructured::new(data)) {
        judge(built.kind(), &built.csr());
    }
});
