//! Write strategies stand-in (validation, defaulting, admission): accepts every write as sent.
//! The lead's module (CSR strategy, validation, admission) replaces it with the same signatures.

use serde_json::Value;

use crate::identity::UserInfo;
use crate::status::ApiError;
use crate::store::{Resource, Store};

/// Checks and completes `object` before it is created.
pub fn before_create(
    _resource: &Resource,
    _object: &mut Value,
    _user: &UserInfo,
    _store: &Store,
) -> Result<(), ApiError> {
    Ok(())
}

/// Checks and completes `new` (replacing `old`, through `subresource` if not empty) before it
/// is stored.
pub fn before_update(
    _resource: &Resource,
    _subresource: &str,
    _old: &Value,
    _new: &mut Value,
    _user: &UserInfo,
    _store: &Store,
) -> Result<(), ApiError> {
    Ok(())
}
