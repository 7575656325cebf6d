//! Reading a CSR object: its state, its usages and its PKCS#10 request.

use std::collections::BTreeSet;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_pki::CertificateRequest;

use super::Reason;
use super::inspect::{Extras, inspect};
use crate::Error;

/// The CSR's name, for messages.
pub(crate) fn name(csr: &CertificateSigningRequest) -> String {
    csr.metadata.name.clone().unwrap_or_default()
}

/// Why no policy should act any more: issued, or already approved/denied.
pub(crate) fn already_handled(csr: &CertificateSigningRequest) -> Option<Reason> {
    let status = csr.status.as_ref()?;
    if status.certificate.as_ref().is_some_and(|c| !c.0.is_empty()) {
        return Some(Reason::AlreadyIssued);
    }
    status
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Approved" || c.type_ == "Denied")
        .then_some(Reason::AlreadyDecided)
}

/// `Ok` when the usage *set* equals one of `allowed` (upstream compares sets, not lists).
pub(crate) fn usages_match(
    csr: &CertificateSigningRequest,
    allowed: &[&[&'static str]],
) -> Result<(), Reason> {
    let requested = csr.spec.usages.clone().unwrap_or_default();
    let set: BTreeSet<&str> = requested.iter().map(String::as_str).collect();
    if allowed
        .iter()
        .any(|a| a.iter().copied().collect::<BTreeSet<_>>() == set)
    {
        return Ok(());
    }
    let allowed = allowed
        .iter()
        .map(|a| {
            let mut sorted = a.to_vec();
            sorted.sort_unstable();
            sorted
        })
        .collect();
    Err(Reason::UsagesMismatch { requested, allowed })
}

/// A request as far as it could be read.
pub(crate) enum Parsed {
    /// Self-signature verified; subject, DNS and IP SANs available.
    Verified(CertificateRequest, Extras),
    /// Email or URI SANs, which the pki parser does not read: refused on those alone (refusing
    /// needs no proof of key possession).
    ForeignSans(Extras),
}

/// Decodes `spec.request` (PEM) and parses it.
pub(crate) fn parse(csr: &CertificateSigningRequest) -> Result<Parsed, Error> {
    let name = name(csr);
    let blocks = kubetrust_kubeconfig::pem::parse(&csr.spec.request.0)
        .map_err(|_| Error::RequestNotPem { name: name.clone() })?;
    let der = match blocks.first() {
        Some(block) if block.label == "CERTIFICATE REQUEST" => &block.der,
        _ => return Err(Error::RequestNotPem { name }),
    };
    let extras = inspect(der).map_err(|e| Error::RequestUnparsable {
        name: name.clone(),
        reason: e.to_string(),
    })?;
    if extras.email_sans || extras.uri_sans {
        return Ok(Parsed::ForeignSans(extras));
    }
    let request = CertificateRequest::from_der(der).map_err(|e| Error::RequestUnparsable {
        name,
        reason: e.to_string(),
    })?;
    Ok(Parsed::Verified(request, extras))
}

/// The refusals for email/URI SANs, in upstream's check order.
pub(crate) fn foreign_san_reasons(extras: &Extras) -> Vec<Reason> {
    let mut reasons = Vec::new();
    if extras.email_sans {
        reasons.push(Reason::EmailSansNotAllowed);
    }
    if extras.uri_sans {
        reasons.push(Reason::UriSansNotAllowed);
    }
    reasons
}
