//! CSR validation with the apiserver's field paths and texts
//! (`pkg/apis/certificates/validation`): the request must be a self-signed PKCS#10, usages known
//! and unique, the signer a qualified name, conditions well-formed, certificates real PEM,
//! and each update path limited to what it may change. All errors are reported at once.

use std::collections::BTreeSet;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;

use super::csr::{conditions, target};
use crate::status::{ApiError, Cause};

/// Which write is validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Path {
    /// `POST`.
    Create,
    /// `PUT`/`PATCH` of the object itself.
    Main,
    /// `/status`.
    Status,
    /// `/approval`.
    Approval,
}

/// The `spec.usages` values the API accepts, in the order the apiserver lists them.
const USAGES: [&str; 23] = [
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "microsoft sgc",
    "netscape sgc",
];

/// Condition types that only a `True` status may carry and that are never removed.
const TERMINAL_TYPES: [&str; 3] = ["Approved", "Denied", "Failed"];
/// Condition types only `/approval` may add or change.
const APPROVAL_TYPES: [&str; 2] = ["Approved", "Denied"];

const LEGACY_SIGNER: &str = "kubernetes.io/legacy-unknown";

pub(super) fn validate(
    csr: &CertificateSigningRequest,
    old: Option<&CertificateSigningRequest>,
    path: Path,
) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    // Relaxations follow the old object: data stored before a rule existed stays updatable.
    if old.is_none_or(|old| old.spec != csr.spec) {
        spec(csr, &mut causes);
    }
    condition_shapes(csr, &mut causes);
    certificate(csr, old, path, &mut causes);
    if let Some(old) = old {
        transitions(csr, old, path, &mut causes);
    }
    if causes.is_empty() {
        return Ok(());
    }
    let mut kind = target(csr);
    kind.kind = "CertificateSigningRequest".into();
    Err(ApiError::invalid(kind, causes))
}

fn spec(csr: &CertificateSigningRequest, causes: &mut Vec<Cause>) {
    if let Err(reason) = kubetrust_pki::CertificateRequest::from_pem(&csr.spec.request.0) {
        let detail = match reason {
            kubetrust_pki::Error::InvalidRequest { reason } if reason.contains("no CERTIFICATE REQUEST") => {
                "PEM block type must be CERTIFICATE REQUEST".to_owned()
            }
            other => other.to_string(),
        };
        causes.push(Cause::invalid("spec.request", "\"<request data>\"", &detail));
    }
    let usages = csr.spec.usages.as_deref().unwrap_or_default();
    if usages.is_empty() {
        causes.push(Cause::required("spec.usages"));
    }
    let mut seen = BTreeSet::new();
    for (i, usage) in usages.iter().enumerate() {
        let field = format!("spec.usages[{i}]");
        if !USAGES.contains(&usage.as_str()) {
            causes.push(Cause::not_supported(field, usage, &USAGES));
        } else if !seen.insert(usage.as_str()) {
            causes.push(Cause::duplicate(field, usage));
        }
    }
    signer_name(&csr.spec.signer_name, causes);
    if let Some(seconds) = csr.spec.expiration_seconds
        && seconds < 600
    {
        causes.push(Cause::invalid(
            "spec.expirationSeconds",
            &seconds.to_string(),
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }
}

/// `ValidateSignerName`: `<DNS-1123 subdomain>/<path>`, the legacy signer refused in v1.
fn signer_name(name: &str, causes: &mut Vec<Cause>) {
    const FIELD: &str = "spec.signerName";
    if name.is_empty() {
        causes.push(Cause::required(FIELD));
        return;
    }
    if name == LEGACY_SIGNER {
        causes.push(Cause::invalid(
            FIELD,
            &format!("{name:?}"),
            "the legacy signerName is not allowed via this API version",
        ));
        return;
    }
    let well_formed = match name.split_once('/') {
        Some((domain, path)) => {
            !path.is_empty()
                && !path.contains('/')
                && domain.len() <= 253
                && name.len() <= 571
                && is_dns_subdomain(domain)
                && domain.contains('.')
        }
        None => false,
    };
    if !well_formed {
        causes.push(Cause::invalid(
            FIELD,
            &format!("{name:?}"),
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
    }
}

fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn condition_shapes(csr: &CertificateSigningRequest, causes: &mut Vec<Cause>) {
    let mut seen = BTreeSet::new();
    let mut approved = false;
    let mut denied = false;
    for (i, condition) in conditions(csr).iter().enumerate() {
        let field = |name: &str| format!("status.conditions[{i}].{name}");
        let type_ = condition.type_.as_str();
        if type_.is_empty() {
            causes.push(Cause::required(field("type")));
        } else if !seen.insert(type_) {
            causes.push(Cause::duplicate(field("type"), type_));
        }
        approved |= type_ == "Approved";
        denied |= type_ == "Denied";
        if (type_ == "Approved" && denied) || (type_ == "Denied" && approved) {
            causes.push(Cause::invalid(
                field("type"),
                &format!("{type_:?}"),
                "Approved and Denied conditions are mutually exclusive",
            ));
        }
        let status = condition.status.as_str();
        if status.is_empty() {
            causes.push(Cause::required(field("status")));
        } else if TERMINAL_TYPES.contains(&type_) {
            if status != "True" {
                causes.push(Cause::not_supported(field("status"), status, &["True"]));
            }
        } else if !["True", "False", "Unknown"].contains(&status) {
            causes.push(Cause::not_supported(
                field("status"),
                status,
                &["False", "True", "Unknown"],
            ));
        }
    }
}

/// `status.certificate`: only settable through `/status`, never changed once set, and then
/// only `CERTIFICATE` PEM blocks without headers.
fn certificate(
    csr: &CertificateSigningRequest,
    old: Option<&CertificateSigningRequest>,
    path: Path,
    causes: &mut Vec<Cause>,
) {
    const FIELD: &str = "status.certificate";
    let bytes = |csr: &CertificateSigningRequest| {
        csr.status
            .as_ref()
            .and_then(|s| s.certificate.as_ref())
            .map(|c| c.0.clone())
            .unwrap_or_default()
    };
    let new = bytes(csr);
    let old = old.map(bytes).unwrap_or_default();
    if new == old || new.is_empty() && old.is_empty() {
        return;
    }
    if path != Path::Status {
        causes.push(Cause::forbidden(FIELD, "updates may not set certificate content"));
        return;
    }
    if !old.is_empty() {
        causes.push(Cause::forbidden(
            FIELD,
            "updates may not modify existing certificate content",
        ));
        return;
    }
    let placeholder = "\"<certificate data>\"";
    let blocks = match kubetrust_kubeconfig::pem::parse(&new) {
        Ok(blocks) => blocks,
        Err(_) => {
            causes.push(Cause::invalid(
                FIELD,
                placeholder,
                "must contain at least one CERTIFICATE PEM block",
            ));
            return;
        }
    };
    if blocks.is_empty() {
        causes.push(Cause::invalid(
            FIELD,
            placeholder,
            "must contain at least one CERTIFICATE PEM block",
        ));
    }
    for block in &blocks {
        if block.label != "CERTIFICATE" {
            let detail = format!("only CERTIFICATE PEM blocks are allowed, found {:?}", block.label);
            causes.push(Cause::invalid(FIELD, placeholder, &detail));
        } else if kubetrust_pki::Certificate::from_der(&block.der).is_err() {
            causes.push(Cause::invalid(
                FIELD,
                placeholder,
                "must contain valid X.509 certificates",
            ));
        }
    }
    if blocks.iter().any(|b| b.has_headers) {
        causes.push(Cause::invalid(
            FIELD,
            placeholder,
            "no PEM block headers are permitted",
        ));
    }
}

/// Terminal conditions are never removed; Approved and Denied change only through `/approval`.
fn transitions(
    csr: &CertificateSigningRequest,
    old: &CertificateSigningRequest,
    path: Path,
    causes: &mut Vec<Cause>,
) {
    let new_conditions = conditions(csr);
    let old_conditions = conditions(old);
    for type_ in TERMINAL_TYPES {
        let before = old_conditions.iter().find(|c| c.type_ == type_);
        let after = new_conditions.iter().find(|c| c.type_ == type_);
        match (before, after) {
            (Some(_), None) => causes.push(Cause::forbidden(
                "status.conditions",
                &format!("updates may not remove a condition of type {type_:?}"),
            )),
            (None, Some(_)) if APPROVAL_TYPES.contains(&type_) && path != Path::Approval => {
                causes.push(Cause::forbidden(
                    "status.conditions",
                    &format!("updates may not add a condition of type {type_:?}"),
                ))
            }
            (Some(before), Some(after))
                if APPROVAL_TYPES.contains(&type_) && path != Path::Approval && before != after =>
            {
                causes.push(Cause::forbidden(
                    "status.conditions",
                    &format!("updates may not modify a condition of type {type_:?}"),
                ));
            }
            _ => {}
        }
    }
}
