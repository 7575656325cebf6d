//! Why a policy did not approve: one variant per check, with the text a controller puts in
//! the condition message (upstream's wording where upstream has one).

use std::fmt;
use std::net::IpAddr;

use super::KeyKind;

/// One failed check, or why a CSR is not this policy's business.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// `status.certificate` is already set.
    AlreadyIssued,
    /// An `Approved` or `Denied` condition exists; policies never re-decide.
    AlreadyDecided,
    /// `spec.signerName` is not the signer this policy serves.
    OtherSigner {
        /// The requested signer.
        signer: String,
    },
    /// The subject's O is not exactly `[system:nodes]`.
    OrganizationNotSystemNodes,
    /// The subject's CN does not start with `system:node:`.
    CommonNameNotNode,
    /// DNS SANs in a client certificate request.
    DnsSansNotAllowed,
    /// Email SANs in a request.
    EmailSansNotAllowed,
    /// IP SANs in a client certificate request.
    IpSansNotAllowed,
    /// URI SANs in a request.
    UriSansNotAllowed,
    /// A serving request without any DNS or IP SAN.
    SanRequired,
    /// `spec.usages` is not one of the allowed sets.
    UsagesMismatch {
        /// The requested usages, in request order.
        requested: Vec<String>,
        /// The allowed sets, each sorted.
        allowed: Vec<Vec<&'static str>>,
    },
    /// Every access review the request qualified for came back not allowed (upstream requeues
    /// and asks again later, so RBAC granted afterwards takes effect).
    AccessReviewNotAllowed {
        /// CSR name.
        name: String,
        /// The subresources asked, in order.
        tried: Vec<&'static str>,
    },
    /// The requester (`spec.username`) is not a node identity `system:node:<name>`.
    RequesterNotNode {
        /// `spec.username`.
        username: String,
    },
    /// The requester is not in the `system:nodes` group.
    RequesterNotInNodesGroup,
    /// The Node object given is not the requester's Node.
    NodeMismatch {
        /// The requester's node name.
        requester: String,
        /// The given Node's name.
        node: String,
    },
    /// The subject's CN is not the requester's user name.
    CommonNameNotRequester {
        /// The CN asked for.
        common_name: String,
        /// `spec.username`.
        username: String,
    },
    /// A DNS SAN that is not among the Node's DNS or hostname addresses.
    DnsSanNotNodeAddress {
        /// The SAN.
        name: String,
    },
    /// An IP SAN that is not among the Node's IP addresses.
    IpSanNotNodeAddress {
        /// The SAN.
        ip: IpAddr,
    },
    /// A key type the policy does not accept.
    KeyTypeNotAllowed {
        /// The request's key type.
        key: KeyKind,
    },
    /// The extension request asks for `basicConstraints` CA:TRUE.
    CaRequested,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyIssued => f.write_str("the certificate is already issued"),
            Self::AlreadyDecided => f.write_str("the request is already approved or denied"),
            Self::OtherSigner { signer } => write!(f, "signerName {signer:?} is not handled by this policy"),
            Self::OrganizationNotSystemNodes => f.write_str("subject organization is not system:nodes"),
            Self::CommonNameNotNode => f.write_str("subject common name does not begin with system:node:"),
            Self::DnsSansNotAllowed => f.write_str("DNS subjectAltNames are not allowed"),
            Self::EmailSansNotAllowed => f.write_str("Email subjectAltNames are not allowed"),
            Self::IpSansNotAllowed => f.write_str("IP subjectAltNames are not allowed"),
            Self::UriSansNotAllowed => f.write_str("URI subjectAltNames are not allowed"),
            Self::SanRequired => f.write_str("DNS or IP subjectAltName is required"),
            Self::UsagesMismatch { requested, allowed } => {
                write!(f, "usages {requested:?} did not match")?;
                for (i, set) in allowed.iter().enumerate() {
                    let sep = if i == 0 { " " } else { " or " };
                    write!(f, "{sep}[{}]", set.join(" "))?;
                }
                Ok(())
            }
            Self::AccessReviewNotAllowed { name, tried } => write!(
                f,
                "recognized csr {name:?} as [{}] but subject access review was not approved",
                tried.join(" ")
            ),
            Self::RequesterNotNode { username } => {
                write!(f, "requester {username:?} is not a node (system:node:<name>)")
            }
            Self::RequesterNotInNodesGroup => f.write_str("requester is not in group system:nodes"),
            Self::NodeMismatch { requester, node } => {
                write!(
                    f,
                    "requester is node {requester:?} but the Node given is {node:?}"
                )
            }
            Self::CommonNameNotRequester {
                common_name,
                username,
            } => write!(
                f,
                "subject common name {common_name:?} is not the requester {username:?}"
            ),
            Self::DnsSanNotNodeAddress { name } => {
                write!(
                    f,
                    "DNS subjectAltName {name:?} is not an address of the requesting Node"
                )
            }
            Self::IpSanNotNodeAddress { ip } => {
                write!(
                    f,
                    "IP subjectAltName {ip} is not an address of the requesting Node"
                )
            }
            Self::KeyTypeNotAllowed { key } => write!(f, "{key} keys are not allowed"),
            Self::CaRequested => {
                f.write_str("the request asks for a CA certificate (basicConstraints CA:TRUE)")
            }
        }
    }
}
