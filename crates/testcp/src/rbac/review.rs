//! Access reviews and signer checks: questions about a user other than the requester, answered
//! by the same evaluator as requests.

use k8s_openapi::api::authorization::v1::{SubjectAccessReviewSpec, SubjectAccessReviewStatus};

use super::{Attributes, authorize};
use crate::identity::UserInfo;
use crate::store::Store;

/// Answers a SubjectAccessReview (or a SelfSubjectAccessReview, once the caller has filled in
/// the requester) for exactly the user, groups and extra of `spec` — no group is added, as in
/// the apiserver. A spec with neither resource nor non-resource attributes is denied with an
/// `evaluationError` saying so (the HTTP layer rejects it before, as the apiserver's
/// validation does).
pub fn review(store: &Store, spec: &SubjectAccessReviewSpec) -> SubjectAccessReviewStatus {
    let user = UserInfo {
        name: spec.user.clone().unwrap_or_default(),
        uid: spec.uid.clone().unwrap_or_default(),
        groups: spec.groups.clone().unwrap_or_default(),
        extra: spec.extra.clone().unwrap_or_default(),
    };
    let attributes = if let Some(resource) = &spec.resource_attributes {
        Attributes {
            user,
            verb: resource.verb.clone().unwrap_or_default(),
            resource_request: true,
            api_group: resource.group.clone().unwrap_or_default(),
            api_version: resource.version.clone().unwrap_or_default(),
            resource: resource.resource.clone().unwrap_or_default(),
            subresource: resource.subresource.clone().unwrap_or_default(),
            namespace: resource.namespace.clone().unwrap_or_default(),
            name: resource.name.clone().unwrap_or_default(),
            path: String::new(),
        }
    } else if let Some(path) = &spec.non_resource_attributes {
        Attributes {
            user,
            verb: path.verb.clone().unwrap_or_default(),
            path: path.path.clone().unwrap_or_default(),
            ..Attributes::default()
        }
    } else {
        return SubjectAccessReviewStatus {
            evaluation_error: Some(
                "exactly one of nonResourceAttributes or resourceAttributes must be specified".into(),
            ),
            ..SubjectAccessReviewStatus::default()
        };
    };
    let decision = authorize(store, &attributes);
    SubjectAccessReviewStatus {
        allowed: decision.allowed,
        reason: Some(decision.reason).filter(|r| !r.is_empty()),
        ..SubjectAccessReviewStatus::default()
    }
}

/// Whether `user` may `verb` (`approve` or `sign`) requests for `signer_name`, as the
/// CertificateApproval and CertificateSigning admission plugins ask: `verb` on resource
/// `signers` of `certificates.k8s.io` named the signer, or else named `<domain>/*`.
pub fn signer_allowed(store: &Store, user: &UserInfo, verb: &str, signer_name: &str) -> bool {
    let domain = signer_name.split('/').next().unwrap_or_default();
    [signer_name.to_owned(), format!("{domain}/*")]
        .into_iter()
        .any(|name| {
            let attributes = Attributes {
                user: user.clone(),
                verb: verb.into(),
                resource_request: true,
                api_group: "certificates.k8s.io".into(),
                api_version: "*".into(),
                resource: "signers".into(),
                name,
                ..Attributes::default()
            };
            authorize(store, &attributes).allowed
        })
}
