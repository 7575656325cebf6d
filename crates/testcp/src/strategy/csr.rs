//! The CSR registry strategy (kube-apiserver's `pkg/registry/certificates/certificates`): the
//! server, not the client, says who asked; status starts empty; each update path may change
//! only its own part; the approval and signing admission plugins ask RBAC about the signer.

use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::Value;

use super::csr_validation::{self, Path};
use super::{CSR_GROUP, CSR_RESOURCE};
use crate::identity::UserInfo;
use crate::rbac;
use crate::status::{ApiError, Target};
use crate::store::Store;

const APISERVER_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client";

pub(super) fn before_create(object: &mut Value, user: &UserInfo) -> Result<(), ApiError> {
    let mut csr = decode(object)?;
    csr.spec.username = Some(user.name.clone());
    csr.spec.uid = (!user.uid.is_empty()).then(|| user.uid.clone());
    csr.spec.groups = Some(user.groups.clone());
    csr.spec.extra = (!user.extra.is_empty()).then(|| user.extra.clone());
    csr.status = Some(CertificateSigningRequestStatus::default());
    csr_validation::validate(&csr, None, Path::Create)?;
    admit_subject(&csr)?;
    encode(&csr, object)
}

pub(super) fn before_update(
    subresource: &str,
    old: &Value,
    new: &mut Value,
    user: &UserInfo,
    store: &Store,
) -> Result<(), ApiError> {
    let old = decode(old)?;
    let mut csr = decode(new)?;
    let now =
        Time(jiff::Timestamp::try_from(store.clock().now()).map_err(|e| ApiError::internal(e.to_string()))?);
    let path = match subresource {
        "" => {
            csr.spec = old.spec.clone();
            csr.status = old.status.clone();
            Path::Main
        }
        "status" => {
            csr.spec = old.spec.clone();
            Path::Status
        }
        "approval" => {
            csr.spec = old.spec.clone();
            let certificate = old.status.as_ref().and_then(|s| s.certificate.clone());
            csr.status.get_or_insert_with(Default::default).certificate = certificate;
            Path::Approval
        }
        _ => return Err(ApiError::unknown_path()),
    };
    stamp_conditions(&mut csr, &old, &now);
    csr_validation::validate(&csr, Some(&old), path)?;
    admit_signer_action(path, &old, &csr, user, store)?;
    encode(&csr, new)
}

/// Server-filled condition times: a missing `lastUpdateTime` is now; a missing
/// `lastTransitionTime` keeps the old one of the same type and status, else now.
fn stamp_conditions(csr: &mut CertificateSigningRequest, old: &CertificateSigningRequest, now: &Time) {
    let old_conditions = conditions(old);
    for condition in csr
        .status
        .iter_mut()
        .flat_map(|s| s.conditions.iter_mut().flatten())
    {
        if condition.last_update_time.is_none() {
            condition.last_update_time = Some(now.clone());
        }
        if condition.last_transition_time.is_none() {
            let previous = old_conditions
                .iter()
                .find(|c| c.type_ == condition.type_ && c.status == condition.status)
                .and_then(|c| c.last_transition_time.clone());
            condition.last_transition_time = Some(previous.unwrap_or_else(|| now.clone()));
        }
    }
}

pub(super) fn conditions(csr: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

/// CertificateSubjectRestriction: no `system:masters` through the kube-apiserver-client signer.
fn admit_subject(csr: &CertificateSigningRequest) -> Result<(), ApiError> {
    if csr.spec.signer_name != APISERVER_CLIENT_SIGNER {
        return Ok(());
    }
    let masters = kubetrust_pki::CertificateRequest::from_pem(&csr.spec.request.0).is_ok_and(|request| {
        request
            .subject()
            .organizations
            .iter()
            .any(|o| o == crate::identity::MASTERS_GROUP)
    });
    if masters {
        return Err(ApiError::forbidden(
            target(csr),
            "use of kubernetes.io/kube-apiserver-client signer with system:masters group is not allowed",
        ));
    }
    Ok(())
}

/// CertificateApproval and CertificateSigning: approving needs `approve`, and changing the
/// certificate or conditions through `/status` needs `sign`, on `signers` named by the old
/// object's signer (or its `<domain>/*`).
fn admit_signer_action(
    path: Path,
    old: &CertificateSigningRequest,
    new: &CertificateSigningRequest,
    user: &UserInfo,
    store: &Store,
) -> Result<(), ApiError> {
    let verb = match path {
        Path::Approval => "approve",
        Path::Status if status_changed(old, new) => "sign",
        _ => return Ok(()),
    };
    let signer = old.spec.signer_name.as_str();
    let allowed = rbac::signer_allowed(store, user, verb, signer);
    if allowed {
        return Ok(());
    }
    Err(ApiError::forbidden(
        target(old),
        &format!("user not permitted to {verb} requests with signerName {signer:?}"),
    ))
}

fn status_changed(old: &CertificateSigningRequest, new: &CertificateSigningRequest) -> bool {
    let certificate =
        |csr: &CertificateSigningRequest| csr.status.as_ref().and_then(|s| s.certificate.clone());
    certificate(old) != certificate(new) || conditions(old) != conditions(new)
}

pub(super) fn target(csr: &CertificateSigningRequest) -> Target {
    Target::new(
        CSR_GROUP,
        CSR_RESOURCE,
        csr.metadata.name.as_deref().unwrap_or_default(),
    )
}

fn decode(object: &Value) -> Result<CertificateSigningRequest, ApiError> {
    serde_json::from_value(object.clone()).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a certificates.k8s.io/v1 CertificateSigningRequest: {e}"
        ))
    })
}

/// Writes the typed object back, keeping the metadata the store and the handler manage.
fn encode(csr: &CertificateSigningRequest, object: &mut Value) -> Result<(), ApiError> {
    let metadata = object.get("metadata").cloned();
    let mut encoded = serde_json::to_value(csr).map_err(|e| ApiError::internal(e.to_string()))?;
    if let (Some(metadata), Some(map)) = (metadata, encoded.as_object_mut()) {
        map.insert("metadata".into(), metadata);
    }
    *object = encoded;
    Ok(())
}
