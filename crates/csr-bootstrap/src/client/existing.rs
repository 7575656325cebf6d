//! Proving that a CSR found under our fixed name is ours (spec §1.7): krustlet reused any CSR
//! of its name and paired a new key with an old certificate after a crash.

use std::collections::BTreeSet;
use std::time::SystemTime;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_pki::{Certificate, CertificateRequest};

use super::Request;
use crate::verify::{describe, rfc3339};

/// Checks `existing` against `request`: its PKCS#10 request parses and verifies, carries our
/// public key and our subject, and signer and usages (as sets) are ours; a certificate already
/// issued for it must not be expired. Returns the failed check.
pub(crate) fn check_ours(existing: &CertificateSigningRequest, request: &Request<'_>) -> Result<(), String> {
    let theirs = CertificateRequest::from_pem(&existing.spec.request.0).map_err(|e| e.to_string())?;
    let ours = request.csr();
    if theirs.public_key_der() != request.key().public_key_der() {
        return Err("its request is for another public key".to_owned());
    }
    let expected = request.expected();
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
        let now = SystemTime::now();
        if let Some(expired) = chain.iter().find(|c| now > c.not_after()) {
            return Err(format!(
                "one of the certificates for the CSR has expired: {}",
                rfc3339(expired.not_after())
            ));
        }
    }
    Ok(())
}
