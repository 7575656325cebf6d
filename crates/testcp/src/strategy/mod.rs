//! What the apiserver's registry does to an object before storing it, per resource: the
//! create/update strategies, validation and admission. Only CertificateSigningRequests have
//! rules of their own here; other resources are stored as sent.

mod csr;
mod csr_validation;

use serde_json::Value;

use crate::identity::UserInfo;
use crate::status::ApiError;
use crate::store::{Resource, Store};

/// The CSR resource.
pub(crate) const CSR_GROUP: &str = "certificates.k8s.io";
/// The CSR resource's plural.
pub(crate) const CSR_RESOURCE: &str = "certificatesigningrequests";

fn is_csr(resource: &Resource) -> bool {
    resource.group == CSR_GROUP && resource.resource == CSR_RESOURCE
}

/// Prepares, validates and admits `object` for creation by `user`.
///
/// # Errors
/// 422 Invalid with the apiserver's field errors, 403 from admission, 400 for a body that is
/// not the resource's type.
pub fn before_create(
    resource: &Resource,
    object: &mut Value,
    user: &UserInfo,
    _store: &Store,
) -> Result<(), ApiError> {
    if is_csr(resource) {
        return csr::before_create(object, user);
    }
    Ok(())
}

/// Prepares, validates and admits the update of `old` to `new` through `subresource` (empty for
/// the main resource) by `user`; `new` is left as it is to be stored.
///
/// # Errors
/// As [`before_create`].
pub fn before_update(
    resource: &Resource,
    subresource: &str,
    old: &Value,
    new: &mut Value,
    user: &UserInfo,
    store: &Store,
) -> Result<(), ApiError> {
    if is_csr(resource) {
        return csr::before_update(subresource, old, new, user, store);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
