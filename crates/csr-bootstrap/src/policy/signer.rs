//! The CSR signer, deciding and issuing as kube-controller-manager's `csrsigning` controllers
//! do for the three Kubernetes signers kubeadm clusters use: approved requests only, the
//! signer's shape checks (a violation is a terminal `Failed` condition with upstream's text),
//! usages mapped to Key Usage and EKUs, and upstream's validity rules (backdated five minutes,
//! `expirationSeconds` capped and floored, clamped to the CA's own expiry).

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use kubetrust_pki::{
    CERTIFICATE_BACKDATE, CertificateAuthority, CertificateRequest, ExtKeyUsage, KeyUsage, Validity,
};

use super::request::{Parsed, parse};
use super::usage::{CLIENT_AUTH, DIGITAL_SIGNATURE, KEY_ENCIPHERMENT};
use super::{Reason, client, serving};
use crate::Error;

/// The signer of client certificates for the apiserver other than kubelets'.
pub const KUBE_APISERVER_CLIENT: &str = "kubernetes.io/kube-apiserver-client";

/// The signers this module issues for.
pub const SIGNERS: [&str; 3] = [client::SIGNER, serving::SIGNER, KUBE_APISERVER_CLIENT];

/// `--cluster-signing-duration`'s default: the longest certificate issued (8760h).
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(8760 * 3600);

/// The shortest certificate issued, whatever `expirationSeconds` asks.
const MIN_DURATION: Duration = Duration::from_secs(600);

/// Certificates shorter than this are not backdated at the end (upstream's short-cert rule).
const SHORT_CERT: Duration = Duration::from_secs(8 * 3600);

/// The reason of the `Failed` condition a shape violation gets.
pub const FAILED_REASON: &str = "SignerValidationFailure";

/// What the signer does with one CSR.
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Not this signer's business now (not approved, denied, failed, issued, other signer).
    Skip(SkipReason),
    /// The request breaks the signer's rules: add this `Failed` condition (terminal).
    Fail(CertificateSigningRequestCondition),
    /// Issued: the PEM to put into `status.certificate` (one `CERTIFICATE` block).
    Issue(String),
}

/// Why the signer leaves a CSR alone.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// No `Approved` condition, or a `Denied` one.
    NotApproved,
    /// A `Failed` condition exists.
    AlreadyFailed,
    /// `status.certificate` is already set.
    AlreadyIssued,
    /// A signer this module does not issue for.
    OtherSigner(String),
}

/// The signer's settings: the longest certificate it issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignerConfig {
    /// `--cluster-signing-duration` (default 8760h).
    pub max_duration: Duration,
}

impl Default for SignerConfig {
    fn default() -> Self {
        Self {
            max_duration: DEFAULT_MAX_DURATION,
        }
    }
}

impl SignerConfig {
    /// Sets the longest certificate issued.
    pub fn with_max_duration(mut self, max_duration: Duration) -> Self {
        self.max_duration = max_duration;
        self
    }
}

/// Decides and, when due, signs `csr` with `ca` at `now`.
///
/// # Errors
/// When the request cannot be read or the CA cannot sign now (expired): upstream returns these and retries later rather than failing the CSR.
pub fn sign(
    csr: &CertificateSigningRequest,
    ca: &CertificateAuthority,
    config: &SignerConfig,
    now: SystemTime,
) -> Result<Outcome, Error> {
    if let Some(skip) = skip_reason(csr) {
        return Ok(Outcome::Skip(skip));
    }
    let request = match parse(csr)? {
        Parsed::Verified(request, _) => request,
        // Email and URI SANs: both kubelet signers refuse them; for kube-apiserver-client
        // upstream would copy them, which kubetrust-pki cannot encode — refused alike.
        Parsed::ForeignSans(extras) => {
            let reason = if extras.email_sans {
                Reason::EmailSansNotAllowed
            } else {
                Reason::UriSansNotAllowed
            };
            return Ok(Outcome::Fail(failed(&reason.to_string())));
        }
    };
    if let Err(message) = validate(csr, &request) {
        return Ok(Outcome::Fail(failed(&message)));
    }
    let (key_usage, ext_key_usages) = certificate_usages(csr);
    let validity = validity(csr, ca, config, now)?;
    let cert = ca
        .sign_request(&request, key_usage, &ext_key_usages, validity)
        .map_err(|e| Error::Sign(Box::new(e)))?;
    Ok(Outcome::Issue(cert.to_pem()))
}

fn skip_reason(csr: &CertificateSigningRequest) -> Option<SkipReason> {
    let status = csr.status.as_ref();
    if status
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
    {
        return Some(SkipReason::AlreadyIssued);
    }
    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .map(Vec::as_slice)
        .unwrap_or_default();
    let has = |type_: &str| conditions.iter().any(|c| c.type_ == type_);
    // upstream: a Failed condition counts when its status is True or empty.
    if conditions
        .iter()
        .any(|c| c.type_ == "Failed" && (c.status == "True" || c.status.is_empty()))
    {
        return Some(SkipReason::AlreadyFailed);
    }
    if !has("Approved") || has("Denied") {
        return Some(SkipReason::NotApproved);
    }
    if !SIGNERS.contains(&csr.spec.signer_name.as_str()) {
        return Some(SkipReason::OtherSigner(csr.spec.signer_name.clone()));
    }
    None
}

/// The signer's shape checks, with upstream's error texts.
fn validate(csr: &CertificateSigningRequest, request: &CertificateRequest) -> Result<(), String> {
    match csr.spec.signer_name.as_str() {
        client::SIGNER => {
            client::validate(request, csr).map_err(|reason| upstream_text(&reason, client::SIGNER))
        }
        serving::SIGNER => {
            serving::validate(request, csr).map_err(|reason| upstream_text(&reason, serving::SIGNER))
        }
        _ => api_server_client_usages(csr),
    }
}

/// Upstream words a usage mismatch with the full usage set, sorted; every other check reads as
/// the [`Reason`] does.
fn upstream_text(reason: &Reason, signer: &str) -> String {
    match reason {
        Reason::UsagesMismatch { .. } => {
            let mut full: Vec<&str> = if signer == client::SIGNER {
                client::ALLOWED_USAGES
                    .first()
                    .copied()
                    .unwrap_or_default()
                    .to_vec()
            } else {
                serving::RSA_USAGES.first().copied().unwrap_or_default().to_vec()
            };
            full.sort_unstable();
            format!("usages did not match [{}]", full.join(" "))
        }
        other => other.to_string(),
    }
}

/// kube-apiserver-client: usages within {digital signature, key encipherment, client auth},
/// client auth required.
fn api_server_client_usages(csr: &CertificateSigningRequest) -> Result<(), String> {
    let usages = csr.spec.usages.as_deref().unwrap_or_default();
    if let Some(bad) = usages
        .iter()
        .find(|u| ![DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, CLIENT_AUTH].contains(&u.as_str()))
    {
        return Err(format!("invalid usage for client certificate: {bad}"));
    }
    if !usages.iter().any(|u| u == CLIENT_AUTH) {
        return Err(format!(
            "missing required usage for client certificate: {CLIENT_AUTH}"
        ));
    }
    Ok(())
}

/// `spec.usages` as Key Usage bits and EKUs (upstream's `keyUsagesFromStrings`): EKUs in Go's
/// enum order, duplicates (`email protection` and `s/mime`) once. Every signer's validation
/// has already admitted only known usages.
fn certificate_usages(csr: &CertificateSigningRequest) -> (KeyUsage, Vec<ExtKeyUsage>) {
    let mut key_usage = KeyUsage::default();
    let mut ext_key_usages = BTreeSet::new();
    for usage in csr.spec.usages.iter().flatten() {
        match usage.as_str() {
            "signing" | "digital signature" => key_usage |= KeyUsage::DIGITAL_SIGNATURE,
            "content commitment" => key_usage |= KeyUsage::CONTENT_COMMITMENT,
            "key encipherment" => key_usage |= KeyUsage::KEY_ENCIPHERMENT,
            "key agreement" => key_usage |= KeyUsage::KEY_AGREEMENT,
            "data encipherment" => key_usage |= KeyUsage::DATA_ENCIPHERMENT,
            "cert sign" => key_usage |= KeyUsage::CERT_SIGN,
            "crl sign" => key_usage |= KeyUsage::CRL_SIGN,
            "encipher only" => key_usage |= KeyUsage::ENCIPHER_ONLY,
            "decipher only" => key_usage |= KeyUsage::DECIPHER_ONLY,
            other => ext_key_usages.extend(ext_key_usage(other)),
        }
    }
    (key_usage, ext_key_usages.into_iter().collect())
}

fn ext_key_usage(usage: &str) -> Option<ExtKeyUsage> {
    Some(match usage {
        "any" => ExtKeyUsage::Any,
        "server auth" => ExtKeyUsage::ServerAuth,
        "client auth" => ExtKeyUsage::ClientAuth,
        "code signing" => ExtKeyUsage::CodeSigning,
        "email protection" | "s/mime" => ExtKeyUsage::EmailProtection,
        "ipsec end system" => ExtKeyUsage::IpsecEndSystem,
        "ipsec tunnel" => ExtKeyUsage::IpsecTunnel,
        "ipsec user" => ExtKeyUsage::IpsecUser,
        "timestamping" => ExtKeyUsage::TimeStamping,
        "ocsp signing" => ExtKeyUsage::OcspSigning,
        "microsoft sgc" => ExtKeyUsage::MicrosoftServerGatedCrypto,
        "netscape sgc" => ExtKeyUsage::NetscapeServerGatedCrypto,
        _ => return None,
    })
}

/// Upstream's validity: TTL = min(expirationSeconds, max), at least 10 min; NotBefore = now −
/// 5 min; NotAfter = now + TTL (− 5 min unless the TTL is under 8 h), clamped to the CA's end.
fn validity(
    csr: &CertificateSigningRequest,
    ca: &CertificateAuthority,
    config: &SignerConfig,
    now: SystemTime,
) -> Result<Validity, Error> {
    let requested = csr
        .spec
        .expiration_seconds
        .and_then(|s| u64::try_from(s).ok())
        .map(Duration::from_secs);
    let ttl = requested
        .map_or(config.max_duration, |r| r.min(config.max_duration))
        .max(MIN_DURATION);
    let not_before = now.checked_sub(CERTIFICATE_BACKDATE).unwrap_or(now);
    let end = now.checked_add(ttl).unwrap_or(now);
    let not_after = if ttl < SHORT_CERT {
        end
    } else {
        end.checked_sub(CERTIFICATE_BACKDATE).unwrap_or(end)
    };
    let ca_end = ca.certificate().not_after();
    if now >= ca_end || not_before >= ca_end {
        return Err(Error::SignerExpired { not_after: ca_end });
    }
    Ok(Validity {
        not_before,
        not_after: not_after.min(ca_end),
    })
}

/// The `Failed` condition; the apiserver stamps `lastUpdateTime` on the `/status` write.
fn failed(message: &str) -> CertificateSigningRequestCondition {
    CertificateSigningRequestCondition {
        type_: "Failed".into(),
        status: "True".into(),
        reason: Some(FAILED_REASON.into()),
        message: Some(message.into()),
        ..Default::default()
    }
}
