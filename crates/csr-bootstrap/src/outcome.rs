//! What a CSR object, as the API server returned it, means for the client waiting on it (spec
//! §1.7, §1.8). Pure decisions without I/O, so they are the same whether the object came from a
//! create, a `GET`, a list or a watch event, and can be tested (and fuzzed) on their own; the
//! network client (feature `kube`) only fetches objects and acts on the [`Outcome`].

use std::collections::BTreeSet;
use std::fmt;
use std::time::SystemTime;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_pki::{Certificate, CertificateRequest};

use crate::verify::{Expected, describe, rfc3339};

/// How far a CSR had got while the client waits (reported when the wait times out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrState {
    /// The create never succeeded.
    NotCreated,
    /// Created, not approved.
    Pending,
    /// Approved, no certificate yet.
    Approved,
}

impl fmt::Display for CsrState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotCreated => "not created",
            Self::Pending => "pending approval",
            Self::Approved => "approved, waiting to be issued",
        })
    }
}

/// What one observed object means for the wait.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Keep waiting; the state it is in.
    Waiting(CsrState),
    /// Approved and issued: `status.certificate` verbatim, still to be checked with
    /// [`verify_issued`](crate::verify::verify_issued) before anything is written.
    Issued(Vec<u8>),
    /// A `Denied` condition: the wait ends at once.
    Denied {
        /// The condition's reason.
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// A `Failed` condition (the signer gave up): the wait ends at once.
    Failed {
        /// The condition's reason.
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// The object was deleted.
    Deleted,
    /// Another object now has the name: its UID is not the one created or adopted.
    Replaced {
        /// The UID we created or adopted.
        expected: String,
        /// The UID seen.
        actual: String,
    },
}

/// The type of a watch event that carries a CSR object (`BOOKMARK` and `ERROR` carry none and
/// say nothing about the CSR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventType {
    /// `ADDED`.
    Added,
    /// `MODIFIED`.
    Modified,
    /// `DELETED`.
    Deleted,
}

impl EventType {
    /// The event type of a watch event's `type` field; `None` for `BOOKMARK`, `ERROR` and
    /// anything unknown, which the client ignores as client-go does.
    pub fn from_wire(kind: &str) -> Option<Self> {
        match kind {
            "ADDED" => Some(Self::Added),
            "MODIFIED" => Some(Self::Modified),
            "DELETED" => Some(Self::Deleted),
            _ => None,
        }
    }
}

/// Judges an object seen by `GET`, list or create, for the CSR of UID `uid`, in client-go's
/// order: a changed UID, then any `Denied` or `Failed` condition, then `Approved` with a
/// non-empty certificate. Conditions whose status is not `True` are not counted (the API only
/// admits `True` for `Approved` and `Denied`).
pub fn observe(csr: &CertificateSigningRequest, uid: &str) -> Outcome {
    let actual = csr.metadata.uid.as_deref().unwrap_or_default();
    if actual != uid {
        return Outcome::Replaced {
            expected: uid.to_owned(),
            actual: actual.to_owned(),
        };
    }
    let status = csr.status.as_ref();
    let mut approved = false;
    for condition in status.and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
        if condition.status != "True" {
            continue;
        }
        let reason = condition.reason.clone().unwrap_or_default();
        let message = condition.message.clone().unwrap_or_default();
        match condition.type_.as_str() {
            "Denied" => return Outcome::Denied { reason, message },
            "Failed" => return Outcome::Failed { reason, message },
            "Approved" => approved = true,
            _ => {}
        }
    }
    let certificate = status
        .and_then(|s| s.certificate.as_ref())
        .filter(|c| !c.0.is_empty());
    match (approved, certificate) {
        (true, Some(certificate)) => Outcome::Issued(certificate.0.clone()),
        (true, None) => Outcome::Waiting(CsrState::Approved),
        (false, _) => Outcome::Waiting(CsrState::Pending),
    }
}

/// Judges a watch event: `DELETED` ends the wait whatever the object says; `ADDED` and
/// `MODIFIED` are judged by [`observe`].
pub fn on_event(kind: EventType, csr: &CertificateSigningRequest, uid: &str) -> Outcome {
    match kind {
        EventType::Deleted => Outcome::Deleted,
        EventType::Added | EventType::Modified => observe(csr, uid),
    }
}

/// Whether `existing`, found under the fixed name of `ours` (a `409 AlreadyExists`), may be
/// adopted (spec §1.7; krustlet reused any CSR of its name): its PKCS#10 request parses and
/// verifies, carries our public key and our subject, signer and usages (as sets) are ours, and a
/// certificate already issued for it has not expired at `now`. The error is the failed check,
/// in the kubelet's words where it has them.
pub fn check_ours(
    existing: &CertificateSigningRequest,
    ours: &CertificateSigningRequest,
    expected: &Expected<'_>,
    now: SystemTime,
) -> Result<(), String> {
    let theirs = CertificateRequest::from_pem(&existing.spec.request.0).map_err(|e| e.to_string())?;
    if theirs.public_key_der() != expected.key.public_key_der() {
        return Err("its request is for another public key".to_owned());
    }
    if theirs.subject() != expected.subject {
        return Err(format!(
            "csr subjects differ: new: {}, orig: {}",
            describe(expected.subject),
            describe(theirs.subject())
        ));
    }
    if existing.spec.signer_name != ours.spec.signer_name {
        return Err(format!(
            "csr signerNames differ: new {:?}, orig: {:?}",
            ours.spec.signer_name, existing.spec.signer_name
        ));
    }
    let set = |csr: &CertificateSigningRequest| -> BTreeSet<String> {
        csr.spec.usages.iter().flatten().cloned().collect()
    };
    if set(existing) != set(ours) {
        return Err(format!(
            "csr usages differ: new {:?}, orig: {:?}",
            ours.spec.usages.as_deref().unwrap_or_default(),
            existing.spec.usages.as_deref().unwrap_or_default()
        ));
    }
    let issued = existing
        .status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .filter(|c| !c.0.is_empty());
    if let Some(issued) = issued {
        let chain = Certificate::chain_from_pem(&issued.0).map_err(|e| e.to_string())?;
        if let Some(expired) = chain.iter().find(|c| now > c.not_after()) {
            return Err(format!(
                "one of the certificates for the CSR has expired: {}",
                rfc3339(expired.not_after())
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use k8s_openapi::ByteString;
    use k8s_openapi::api::certificates::v1::{
        CertificateSigningRequestCondition, CertificateSigningRequestStatus,
    };
    use kubetrust_pki::{ExtKeyUsage, KeyAlgorithm, PrivateKey};

    use super::*;
    use crate::csr::{Naming, client_csr, node_subject};

    fn csr(uid: &str, conditions: &[(&str, &str)], certificate: &[u8]) -> CertificateSigningRequest {
        let mut csr = CertificateSigningRequest::default();
        csr.metadata.uid = Some(uid.to_owned());
        csr.status = Some(CertificateSigningRequestStatus {
            certificate: Some(ByteString(certificate.to_vec())),
            conditions: Some(
                conditions
                    .iter()
                    .map(|(type_, status)| CertificateSigningRequestCondition {
                        type_: (*type_).to_owned(),
                        status: (*status).to_owned(),
                        reason: Some(format!("{type_}Reason")),
                        message: Some(format!("{type_} message")),
                        ..Default::default()
                    })
                    .collect(),
            ),
        });
        csr
    }

    #[test]
    fn issued_only_when_approved_with_a_certificate() {
        assert_eq!(
            observe(&csr("u", &[("Approved", "True")], b"PEM"), "u"),
            Outcome::Issued(b"PEM".to_vec())
        );
        assert_eq!(
            observe(&csr("u", &[("Approved", "True")], b""), "u"),
            Outcome::Waiting(CsrState::Approved)
        );
        assert_eq!(
            observe(&csr("u", &[], b"PEM"), "u"),
            Outcome::Waiting(CsrState::Pending)
        );
        assert_eq!(
            observe(&csr("u", &[("Approved", "False")], b"PEM"), "u"),
            Outcome::Waiting(CsrState::Pending)
        );
    }

    #[test]
    fn denial_failure_and_replacement_end_the_wait() {
        assert_eq!(
            observe(
                &csr("u", &[("Approved", "True"), ("Denied", "True")], b"PEM"),
                "u"
            ),
            Outcome::Denied {
                reason: "DeniedReason".into(),
                message: "Denied message".into()
            }
        );
        assert_eq!(
            observe(&csr("u", &[("Failed", "True")], b""), "u"),
            Outcome::Failed {
                reason: "FailedReason".into(),
                message: "Failed message".into()
            }
        );
        assert_eq!(
            observe(&csr("v", &[("Approved", "True")], b"PEM"), "u"),
            Outcome::Replaced {
                expected: "u".into(),
                actual: "v".into()
            }
        );
    }

    #[test]
    fn watch_events() {
        let issued = csr("u", &[("Approved", "True")], b"PEM");
        assert_eq!(on_event(EventType::Deleted, &issued, "u"), Outcome::Deleted);
        assert_eq!(
            on_event(EventType::Modified, &issued, "u"),
            Outcome::Issued(b"PEM".to_vec())
        );
        assert_eq!(EventType::from_wire("ADDED"), Some(EventType::Added));
        assert_eq!(EventType::from_wire("DELETED"), Some(EventType::Deleted));
        assert_eq!(EventType::from_wire("BOOKMARK"), None);
        assert_eq!(EventType::from_wire("ERROR"), None);
    }

    #[test]
    fn only_a_csr_for_our_key_subject_signer_and_usages_is_ours() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let subject = node_subject("worker-1");
        let expected = Expected {
            key: &key,
            ca: &[],
            subject: &subject,
            usage: ExtKeyUsage::ClientAuth,
        };
        let ours = client_csr("worker-1", &key, Naming::Digest, None).unwrap();
        let now = SystemTime::now();
        assert_eq!(check_ours(&ours, &ours, &expected, now), Ok(()));

        let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let theirs = client_csr("worker-1", &stranger, Naming::Digest, None).unwrap();
        assert_eq!(
            check_ours(&theirs, &ours, &expected, now),
            Err("its request is for another public key".to_owned())
        );
        let mut other_signer = ours.clone();
        other_signer.spec.signer_name = "example.com/other".into();
        let why = check_ours(&other_signer, &ours, &expected, now).unwrap_err();
        assert!(why.starts_with("csr signerNames differ"), "{why}");
        let mut other_usages = ours.clone();
        other_usages.spec.usages = Some(vec!["server auth".into()]);
        let why = check_ours(&other_usages, &ours, &expected, now).unwrap_err();
        assert!(why.starts_with("csr usages differ"), "{why}");
        let mut garbage = ours.clone();
        garbage.spec.request = ByteString(b"not a request".to_vec());
        assert!(check_ours(&garbage, &ours, &expected, now).is_err());
    }
}
