//! What a policy tells its controller to do.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec};
use k8s_openapi::api::certificates::v1::CertificateSigningRequestCondition;

use super::Reason;

/// A policy's verdict on one CSR.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decision {
    /// Add the Approved condition ([`Approval::condition`]) through `/approval`.
    Approve(Approval),
    /// Ask this SubjectAccessReview, then pass the answer to the policy's `decide`.
    AskAccessReview(AccessReview),
    /// Add a Denied condition ([`Decision::condition`]); every failed check is listed.
    Deny(Vec<Reason>),
    /// Leave the CSR alone (not this policy's, already handled, or not recognised); a human or
    /// another controller may still act. Upstream's client approver never denies.
    Ignore(Reason),
}

impl Decision {
    /// The condition to write for `Approve` and `Deny`; `None` when there is nothing to write.
    pub fn condition(&self) -> Option<CertificateSigningRequestCondition> {
        match self {
            Self::Approve(approval) => Some(approval.condition()),
            Self::Deny(reasons) => Some(CertificateSigningRequestCondition {
                type_: "Denied".into(),
                status: "True".into(),
                reason: Some(DENY_REASON.into()),
                message: Some(
                    reasons
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                ..Default::default()
            }),
            Self::AskAccessReview(_) | Self::Ignore(_) => None,
        }
    }
}

/// `reason` of the Denied conditions this crate's policies write.
pub const DENY_REASON: &str = "KubetrustPolicyDenied";

/// The reason and message of an Approved condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// The condition's `reason` (upstream's client approver: `AutoApproved`).
    pub reason: &'static str,
    /// The condition's `message`.
    pub message: &'static str,
}

impl Approval {
    /// The Approved condition; the server fills its timestamps.
    pub fn condition(&self) -> CertificateSigningRequestCondition {
        CertificateSigningRequestCondition {
            type_: "Approved".into(),
            status: "True".into(),
            reason: Some(self.reason.into()),
            message: Some(self.message.into()),
            ..Default::default()
        }
    }
}

/// The `certificatesigningrequests` subresource a kubelet client CSR's access review asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Subresource {
    /// `selfnodeclient`: a node renewing its own client certificate (requester == CN).
    SelfNodeClient,
    /// `nodeclient`: anyone (e.g. a bootstrap token) asking for a node client certificate.
    NodeClient,
}

impl Subresource {
    /// The subresource name in RBAC rules and access reviews.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfNodeClient => "selfnodeclient",
            Self::NodeClient => "nodeclient",
        }
    }
}

impl fmt::Display for Subresource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SubjectAccessReview question: may the CSR's requester `create`
/// `certificatesigningrequests/<subresource>` in `certificates.k8s.io`?
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessReview {
    /// `spec.username` of the CSR.
    pub user: String,
    /// `spec.uid` of the CSR.
    pub uid: Option<String>,
    /// `spec.groups` of the CSR.
    pub groups: Vec<String>,
    /// `spec.extra` of the CSR.
    pub extra: BTreeMap<String, Vec<String>>,
    /// The subresource asked about.
    pub subresource: Subresource,
}

impl AccessReview {
    /// API group of the resource asked about.
    pub const GROUP: &'static str = "certificates.k8s.io";
    /// Resource asked about.
    pub const RESOURCE: &'static str = "certificatesigningrequests";
    /// Verb asked about.
    pub const VERB: &'static str = "create";
    /// Version asked about (every version).
    pub const VERSION: &'static str = "*";

    /// The review as the API object a controller POSTs (`authorization.k8s.io/v1`).
    pub fn to_subject_access_review(&self) -> SubjectAccessReview {
        SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(self.user.clone()),
                uid: self.uid.clone(),
                groups: Some(self.groups.clone()),
                extra: (!self.extra.is_empty()).then(|| self.extra.clone()),
                resource_attributes: Some(ResourceAttributes {
                    group: Some(Self::GROUP.into()),
                    resource: Some(Self::RESOURCE.into()),
                    subresource: Some(self.subresource.as_str().into()),
                    verb: Some(Self::VERB.into()),
                    version: Some(Self::VERSION.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}
