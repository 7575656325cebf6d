//! The kubelet client certificate approver, deciding as kube-controller-manager's
//! `csrapproving` controller does (sarapprove.go, released versions 1.19–1.34).
//!
//! A CSR for [`SIGNER`] whose request passes `ValidateKubeletClientCSR` is *recognised*:
//! as `selfnodeclient` when the requester is the CN (a node renewing), and always as
//! `nodeclient`. Each recognition is gated by a SubjectAccessReview, asked in that order; the
//! first allowed one approves. Nothing is ever denied: unrecognised CSRs are left to humans, and
//! refused reviews are asked again later, so RBAC granted afterwards still takes effect.
//!
//! Like upstream, the extension request's other contents (e.g. `basicConstraints`) are not
//! looked at: the signer discards them and always issues CA:FALSE.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust_pki::CertificateRequest;

use super::request::{Parsed, already_handled, name, parse, usages_match};
use super::usage::{CLIENT_AUTH, DIGITAL_SIGNATURE, KEY_ENCIPHERMENT};
use super::{AccessReview, Approval, Decision, NODE_USER_PREFIX, NODES_GROUP, Reason, Subresource};
use crate::Error;

/// The signer of kubelet client certificates.
pub const SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";

/// The usage sets a kubelet client CSR may ask for (with `key encipherment` for RSA keys and old
/// kubelets, without for current kubelets' ECDSA keys).
pub const ALLOWED_USAGES: [&[&str]; 2] = [
    &[DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, CLIENT_AUTH],
    &[DIGITAL_SIGNATURE, CLIENT_AUTH],
];

const SELF_APPROVAL: Approval = Approval {
    reason: "AutoApproved",
    message: "Auto approving self kubelet client certificate after SubjectAccessReview.",
};
const NODE_APPROVAL: Approval = Approval {
    reason: "AutoApproved",
    message: "Auto approving kubelet client certificate after SubjectAccessReview.",
};

/// First look at a CSR: the access review to ask, or why there is nothing to do.
///
/// # Errors
/// Only when `spec.request` cannot be read (upstream requeues these).
pub fn evaluate(csr: &CertificateSigningRequest) -> Result<Decision, Error> {
    Ok(match recognise(csr)? {
        Ok(first) => Decision::AskAccessReview(review(csr, first)),
        Err(reason) => Decision::Ignore(reason),
    })
}

/// Continues after the caller answered `review` (which [`evaluate`] or an earlier `decide`
/// returned for this CSR) with `allowed` = the review's `status.allowed`.
///
/// # Errors
/// When `spec.request` cannot be read, or `review` is not a question this policy asks for `csr`.
pub fn decide(
    csr: &CertificateSigningRequest,
    review: &AccessReview,
    allowed: bool,
) -> Result<Decision, Error> {
    let asks = match recognise(csr)? {
        Ok(first) => asks(first),
        Err(reason) => return Ok(Decision::Ignore(reason)),
    };
    let unasked = || Error::UnaskedAccessReview {
        name: name(csr),
        subresource: review.subresource.as_str().into(),
    };
    let position = asks
        .iter()
        .position(|&s| s == review.subresource)
        .ok_or_else(unasked)?;
    if *review != self::review(csr, review.subresource) {
        return Err(unasked());
    }
    if allowed {
        return Ok(Decision::Approve(match review.subresource {
            Subresource::SelfNodeClient => SELF_APPROVAL,
            Subresource::NodeClient => NODE_APPROVAL,
        }));
    }
    Ok(match asks.get(position + 1) {
        Some(&next) => Decision::AskAccessReview(self::review(csr, next)),
        None => Decision::Ignore(Reason::AccessReviewNotAllowed {
            name: name(csr),
            tried: asks.iter().map(|s| s.as_str()).collect(),
        }),
    })
}

/// The kubelet-client shape checks of `ValidateKubeletClientCSR`, first failure first, in
/// upstream's order (O, DNS, email, IP, URI, CN, usages). The kubelet-client signer applies the
/// same checks; a controller signing for [`SIGNER`] can call this.
pub fn validate(request: &CertificateRequest, csr: &CertificateSigningRequest) -> Result<(), Reason> {
    if request.subject().organizations != [NODES_GROUP] {
        return Err(Reason::OrganizationNotSystemNodes);
    }
    if !request.alt_names().dns_names().is_empty() {
        return Err(Reason::DnsSansNotAllowed);
    }
    if !request.alt_names().ip_addresses().is_empty() {
        return Err(Reason::IpSansNotAllowed);
    }
    if !request.subject().common_name.starts_with(NODE_USER_PREFIX) {
        return Err(Reason::CommonNameNotNode);
    }
    usages_match(csr, &ALLOWED_USAGES)
}

/// Every subresource to ask, in order, when `first` is the first.
fn asks(first: Subresource) -> &'static [Subresource] {
    match first {
        Subresource::SelfNodeClient => &[Subresource::SelfNodeClient, Subresource::NodeClient],
        Subresource::NodeClient => &[Subresource::NodeClient],
    }
}

/// The first subresource to ask (see [`asks`]), or why the CSR is not recognised.
fn recognise(csr: &CertificateSigningRequest) -> Result<Result<Subresource, Reason>, Error> {
    if let Some(reason) = already_handled(csr) {
        return Ok(Err(reason));
    }
    if csr.spec.signer_name != SIGNER {
        return Ok(Err(Reason::OtherSigner {
            signer: csr.spec.signer_name.clone(),
        }));
    }
    let request = match parse(csr)? {
        Parsed::Verified(request, _) => request,
        Parsed::ForeignSans(extras) if extras.email_sans => return Ok(Err(Reason::EmailSansNotAllowed)),
        Parsed::ForeignSans(_) => return Ok(Err(Reason::UriSansNotAllowed)),
    };
    if let Err(reason) = validate(&request, csr) {
        return Ok(Err(reason));
    }
    let is_self = csr.spec.username.as_deref() == Some(request.subject().common_name.as_str());
    Ok(Ok(if is_self {
        Subresource::SelfNodeClient
    } else {
        Subresource::NodeClient
    }))
}

fn review(csr: &CertificateSigningRequest, subresource: Subresource) -> AccessReview {
    AccessReview {
        user: csr.spec.username.clone().unwrap_or_default(),
        uid: csr.spec.uid.clone(),
        groups: csr.spec.groups.clone().unwrap_or_default(),
        extra: csr.spec.extra.clone().unwrap_or_default(),
        subresource,
    }
}
