//! Garbage collection of CSRs, deciding as kube-controller-manager's `csrcleaner` does: finished
//! requests go an hour after their last condition, pending ones after a day, issued ones as soon
//! as their certificate expires. A client has stored its certificate long before.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use kubetrust_pki::Certificate;

/// How long an approved-and-issued, denied or failed CSR is kept after its condition.
pub const FINISHED_TTL: Duration = Duration::from_secs(3600);
/// How long a CSR without any condition is kept after its creation.
pub const PENDING_TTL: Duration = Duration::from_secs(24 * 3600);

/// Why a CSR is due for deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// Approved and issued more than [`FINISHED_TTL`] ago.
    Issued,
    /// Denied more than [`FINISHED_TTL`] ago.
    Denied,
    /// Failed more than [`FINISHED_TTL`] ago.
    Failed,
    /// Without any condition for more than [`PENDING_TTL`].
    Pending,
    /// Its issued certificate has expired.
    CertificateExpired,
}

/// Whether the cleaner deletes `csr` at `now`, and why.
pub fn expiry(csr: &CertificateSigningRequest, now: SystemTime) -> Option<Expiry> {
    let status = csr.status.as_ref();
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or_default();
    let certificate = status
        .and_then(|s| s.certificate.as_ref())
        .map(|c| c.0.as_slice())
        .unwrap_or_default();
    let older_than = |condition: &CertificateSigningRequestCondition, ttl: Duration| {
        condition
            .last_update_time
            .as_ref()
            .map(|t| SystemTime::from(t.0))
            .is_some_and(|t| t + ttl < now)
    };
    let find = |type_: &str| conditions.iter().find(|c| c.type_ == type_);
    if let Some(approved) = find("Approved")
        && !certificate.is_empty()
    {
        if older_than(approved, FINISHED_TTL) {
            return Some(Expiry::Issued);
        }
        // An unreadable certificate is left for the age rules above.
        if Certificate::from_pem(certificate).is_ok_and(|cert| cert.not_after() < now) {
            return Some(Expiry::CertificateExpired);
        }
    }
    if find("Denied").is_some_and(|c| older_than(c, FINISHED_TTL)) {
        return Some(Expiry::Denied);
    }
    if find("Failed").is_some_and(|c| older_than(c, FINISHED_TTL)) {
        return Some(Expiry::Failed);
    }
    let created = csr
        .metadata
        .creation_timestamp
        .as_ref()
        .map(|t| SystemTime::from(t.0));
    if conditions.is_empty() && created.is_some_and(|t| t + PENDING_TTL < now) {
        return Some(Expiry::Pending);
    }
    None
}
