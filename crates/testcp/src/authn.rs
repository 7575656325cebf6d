//! Authentication stand-in: client certificates chained to the cluster CA (CN → user, O →
//! groups), anonymous without credentials. The real module (bootstrap tokens, credential-id
//! extra) replaces this file with the same signature.

use std::time::SystemTime;

use kubetrust_pki::Certificate;

use crate::identity::{AUTHENTICATED_GROUP, UserInfo};
use crate::status::ApiError;
use crate::store::Store;

/// What a request presented to prove who it is.
pub struct Credentials<'a> {
    /// `Authorization: Bearer <token>`, if sent.
    pub bearer_token: Option<&'a str>,
    /// The TLS client certificate chain (DER), leaf first; empty when none was sent.
    pub client_chain: &'a [Vec<u8>],
}

/// Who sent the request: 401 for credentials that do not check out, anonymous for none.
pub fn authenticate(
    _store: &Store,
    client_ca: &[Certificate],
    credentials: &Credentials<'_>,
    now: SystemTime,
) -> Result<UserInfo, ApiError> {
    if credentials.bearer_token.is_some() {
        return Err(ApiError::unauthorized());
    }
    let Some((leaf, rest)) = credentials.client_chain.split_first() else {
        return Ok(UserInfo::anonymous());
    };
    let leaf = Certificate::from_der(leaf).map_err(|_| ApiError::unauthorized())?;
    let intermediates: Vec<Certificate> = rest
        .iter()
        .filter_map(|der| Certificate::from_der(der).ok())
        .collect();
    if !leaf.is_valid_at(now) || !kubetrust_pki::verify_chain(&leaf, &intermediates, client_ca) {
        return Err(ApiError::unauthorized());
    }
    let subject = leaf.subject();
    let mut groups = subject.organizations;
    groups.push(AUTHENTICATED_GROUP.into());
    Ok(UserInfo {
        name: subject.common_name,
        groups,
        ..UserInfo::default()
    })
}
