//! A secure approver for kubelet *serving* certificates, which kube-controller-manager never
//! auto-approves because their SANs are self-reported. This one approves only what the requesting
//! node could not use against another: its own identity, and SANs that are its Node's addresses.
//!
//! It denies (rather than ignores) every CSR for [`SIGNER`] that fails a check, listing every
//! failed check. Node addresses are written by kubelets themselves, so where an out-of-band
//! inventory exists, pass a Node whose `status.addresses` come from it.

use std::net::IpAddr;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Node;
use kubetrust_pki::CertificateRequest;

use super::inspect::Extras;
use super::request::{Parsed, already_handled, foreign_san_reasons, parse, usages_match};
use super::usage::{DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, SERVER_AUTH};
use super::{Approval, Decision, KeyKind, NODE_USER_PREFIX, NODES_GROUP, Reason};
use crate::Error;

/// The signer of kubelet serving certificates.
pub const SIGNER: &str = "kubernetes.io/kubelet-serving";

/// Usages for ECDSA keys: `key encipherment` means nothing for them.
pub const EC_USAGES: [&[&str]; 1] = [&[DIGITAL_SIGNATURE, SERVER_AUTH]];
/// Usages for RSA keys: with `key encipherment` (what the kubelet sends) or without.
pub const RSA_USAGES: [&[&str]; 2] = [
    &[DIGITAL_SIGNATURE, KEY_ENCIPHERMENT, SERVER_AUTH],
    &[DIGITAL_SIGNATURE, SERVER_AUTH],
];

const APPROVAL: Approval = Approval {
    reason: "KubetrustServingApproved",
    message: "Auto approving kubelet serving certificate: requester, subject, SANs and usages match its Node.",
};

/// The kubelet-serving signer's shape checks (`ValidateKubeletServingCSR`), first failure first,
/// in upstream's order: O, a DNS or IP SAN, usages (either key type's set), CN. Unlike
/// [`evaluate`] this does not look at the requester or its Node: the signer trusts the approval.
pub fn validate(request: &CertificateRequest, csr: &CertificateSigningRequest) -> Result<(), Reason> {
    if request.subject().organizations != [NODES_GROUP] {
        return Err(Reason::OrganizationNotSystemNodes);
    }
    if request.alt_names().dns_names().is_empty() && request.alt_names().ip_addresses().is_empty() {
        return Err(Reason::SanRequired);
    }
    usages_match(csr, &RSA_USAGES)?;
    if !request.subject().common_name.starts_with(NODE_USER_PREFIX) {
        return Err(Reason::CommonNameNotNode);
    }
    Ok(())
}

/// Decides a kubelet serving CSR against the requester's `node`.
///
/// # Errors
/// Only when `spec.request` cannot be read.
pub fn evaluate(csr: &CertificateSigningRequest, node: &Node) -> Result<Decision, Error> {
    if let Some(reason) = already_handled(csr) {
        return Ok(Decision::Ignore(reason));
    }
    if csr.spec.signer_name != SIGNER {
        return Ok(Decision::Ignore(Reason::OtherSigner {
            signer: csr.spec.signer_name.clone(),
        }));
    }
    let mut reasons = requester_reasons(csr, node);
    match parse(csr)? {
        Parsed::ForeignSans(extras) => {
            reasons.extend(extras_reasons(csr, &extras));
            reasons.extend(foreign_san_reasons(&extras));
        }
        Parsed::Verified(request, extras) => {
            let username = csr.spec.username.as_deref().unwrap_or_default();
            let subject = request.subject();
            if subject.common_name != username {
                reasons.push(Reason::CommonNameNotRequester {
                    common_name: subject.common_name.clone(),
                    username: username.into(),
                });
            }
            if subject.organizations != [NODES_GROUP] {
                reasons.push(Reason::OrganizationNotSystemNodes);
            }
            let (dns, ips) = (
                request.alt_names().dns_names(),
                request.alt_names().ip_addresses(),
            );
            if dns.is_empty() && ips.is_empty() {
                reasons.push(Reason::SanRequired);
            }
            let addresses = NodeAddresses::of(node);
            reasons.extend(
                dns.into_iter()
                    .filter(|name| !addresses.dns.contains(name))
                    .map(|name| Reason::DnsSanNotNodeAddress { name }),
            );
            reasons.extend(
                ips.iter()
                    .filter(|ip| !addresses.ips.contains(ip))
                    .map(|&ip| Reason::IpSanNotNodeAddress { ip }),
            );
            reasons.extend(extras_reasons(csr, &extras));
        }
    }
    Ok(if reasons.is_empty() {
        Decision::Approve(APPROVAL)
    } else {
        Decision::Deny(reasons)
    })
}

/// The requester must be the node itself: `system:node:<node>` in `system:nodes`.
fn requester_reasons(csr: &CertificateSigningRequest, node: &Node) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let username = csr.spec.username.clone().unwrap_or_default();
    match username.strip_prefix(NODE_USER_PREFIX) {
        Some(requester) if !requester.is_empty() => {
            let node_name = node.metadata.name.as_deref().unwrap_or_default();
            if requester != node_name {
                reasons.push(Reason::NodeMismatch {
                    requester: requester.into(),
                    node: node_name.into(),
                });
            }
        }
        _ => reasons.push(Reason::RequesterNotNode { username }),
    }
    if !csr.spec.groups.iter().flatten().any(|g| g == NODES_GROUP) {
        reasons.push(Reason::RequesterNotInNodesGroup);
    }
    reasons
}

/// Key type, usages for it, and no CA.
fn extras_reasons(csr: &CertificateSigningRequest, extras: &Extras) -> Vec<Reason> {
    let mut reasons = Vec::new();
    let allowed: &[&[&'static str]] = match extras.key {
        KeyKind::Rsa => &RSA_USAGES,
        KeyKind::EcdsaP256 | KeyKind::EcdsaP384 => &EC_USAGES,
        _ => {
            reasons.push(Reason::KeyTypeNotAllowed {
                key: extras.key.clone(),
            });
            &EC_USAGES
        }
    };
    if let Err(reason) = usages_match(csr, allowed) {
        reasons.push(reason);
    }
    if extras.ca {
        reasons.push(Reason::CaRequested);
    }
    reasons
}

/// A Node's addresses as the kubelet's serving template reads them: DNS names from
/// `Hostname` (when not an IP), `InternalDNS`, `ExternalDNS`; IPs from `InternalIP`,
/// `ExternalIP` and IP-valued `Hostname`. Other types are not the node's to claim.
struct NodeAddresses {
    dns: Vec<String>,
    ips: Vec<IpAddr>,
}

impl NodeAddresses {
    fn of(node: &Node) -> Self {
        let mut addresses = Self {
            dns: Vec::new(),
            ips: Vec::new(),
        };
        let listed = node.status.as_ref().and_then(|s| s.addresses.as_ref());
        for address in listed.into_iter().flatten() {
            let ip = address.address.parse::<IpAddr>().ok();
            match (address.type_.as_str(), ip) {
                ("Hostname" | "InternalIP" | "ExternalIP", Some(ip)) => addresses.ips.push(ip),
                ("Hostname" | "InternalDNS" | "ExternalDNS", None) => {
                    addresses.dns.push(address.address.clone())
                }
                _ => {}
            }
        }
        addresses
    }
}
