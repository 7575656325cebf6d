//! Impersonation stand-in: `Impersonate-User` / `Impersonate-Group` taken as sent, without the
//! `impersonate` permission check the real module adds (same signature).

use crate::identity::{AUTHENTICATED_GROUP, UserInfo};
use crate::status::ApiError;
use crate::store::Store;

/// The user the request acts as: `requester` itself without `Impersonate-*` headers.
pub fn impersonate(
    _store: &Store,
    requester: UserInfo,
    headers: &http::HeaderMap,
) -> Result<UserInfo, ApiError> {
    let Some(user) = headers.get("impersonate-user") else {
        return Ok(requester);
    };
    let name = user
        .to_str()
        .map_err(|_| ApiError::bad_request("Impersonate-User is not valid text"))?
        .to_owned();
    let mut groups = headers
        .get_all("impersonate-group")
        .iter()
        .map(|g| g.to_str().map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::bad_request("Impersonate-Group is not valid text"))?;
    groups.push(AUTHENTICATED_GROUP.into());
    Ok(UserInfo {
        name,
        groups,
        ..UserInfo::default()
    })
}
