//! Who a request comes from, as kube-apiserver's authenticator chain decides: a client
//! certificate signed by the client CA, else a bootstrap-token bearer token, else anonymous.

use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use kubetrust_bootstrap_token::{BootstrapToken, SECRET_NAMESPACE};
use kubetrust_pki::{Certificate, ExtKeyUsage, verify_chain};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::identity::{AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, UserInfo};
use crate::status::ApiError;
use crate::store::{ObjectKey, Resource, Store};

/// The extra key under which the apiserver records which credential authenticated a user.
pub const CREDENTIAL_ID_KEY: &str = "authentication.kubernetes.io/credential-id";

/// What a request presented.
pub struct Credentials<'a> {
    /// The value after `Authorization: Bearer `, if any.
    pub bearer_token: Option<&'a str>,
    /// The TLS client certificate chain (DER, leaf first); empty without one.
    pub client_chain: &'a [Vec<u8>],
}

/// Authenticates a request as the apiserver does. A client certificate is tried first: it must
/// chain to `client_ca` (the rest of the chain serving as intermediates), be valid at `now`
/// and allow client authentication; its CN is the user, its O values the groups, and the extra
/// `authentication.kubernetes.io/credential-id` is `X509SHA256=<hex of the leaf>`. A certificate
/// that fails leaves the bearer token to decide. A bearer token must be a bootstrap token that
/// `kubetrust_bootstrap_token::authenticate` accepts against its Secret — no other token
/// authenticator is configured. Authenticated users are in `system:authenticated`. Nothing
/// presented: `system:anonymous`. Anything presented and not accepted: 401.
pub fn authenticate(
    store: &Store,
    client_ca: &[Certificate],
    credentials: &Credentials<'_>,
    now: SystemTime,
) -> Result<UserInfo, ApiError> {
    let certificate_user = match credentials.client_chain.split_first() {
        Some((leaf, intermediates)) => certificate_user(client_ca, leaf, intermediates, now),
        None => Ok(None),
    };
    match (certificate_user, credentials.bearer_token) {
        (Ok(Some(user)), _) => Ok(user),
        (_, Some(token)) => token_user(store, token, now).ok_or_else(ApiError::unauthorized),
        (Ok(None), None) => Ok(UserInfo::anonymous()),
        (Err(err), None) => Err(err),
    }
}

/// The user of a client certificate; `None` for a valid certificate without a CN (the
/// apiserver's x509 authenticator then has no opinion).
fn certificate_user(
    client_ca: &[Certificate],
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    now: SystemTime,
) -> Result<Option<UserInfo>, ApiError> {
    let rejected = |why: &str| {
        tracing::debug!(why, "client certificate rejected");
        ApiError::unauthorized()
    };
    let cert = Certificate::from_der(leaf).map_err(|_| rejected("leaf is not X.509"))?;
    let intermediates: Vec<Certificate> = intermediates
        .iter()
        .filter_map(|der| Certificate::from_der(der).ok())
        .collect();
    if !verify_chain(&cert, &intermediates, client_ca) {
        return Err(rejected("not signed by the client CA"));
    }
    if !cert.is_valid_at(now) {
        return Err(rejected("outside its validity period"));
    }
    let usages = cert.ext_key_usages();
    if !usages.is_empty() && !usages.contains(&ExtKeyUsage::ClientAuth) {
        return Err(rejected("no client authentication usage"));
    }
    let subject = cert.subject();
    if subject.common_name.is_empty() {
        return Ok(None);
    }
    let fingerprint: String = Sha256::digest(leaf).iter().map(|b| format!("{b:02x}")).collect();
    let mut user = UserInfo {
        name: subject.common_name,
        groups: subject.organizations,
        ..UserInfo::default()
    };
    user.extra
        .insert(CREDENTIAL_ID_KEY.into(), vec![format!("X509SHA256={fingerprint}")]);
    Ok(Some(authenticated(user)))
}

/// The user of a bootstrap token, or `None` when it is not one or is not accepted.
fn token_user(store: &Store, presented: &str, now: SystemTime) -> Option<UserInfo> {
    let token: BootstrapToken = presented.parse().ok()?;
    let key = ObjectKey {
        resource: Resource::new("", "secrets"),
        namespace: SECRET_NAMESPACE.into(),
        name: token.id().secret_name(),
    };
    let stored = store.get(&key).ok()?;
    let secret = Secret::deserialize(stored.as_ref()).ok()?;
    match kubetrust_bootstrap_token::authenticate(&token, &secret, now) {
        Ok(user) => Some(authenticated(UserInfo {
            name: user.name,
            groups: user.groups,
            ..UserInfo::default()
        })),
        Err(error) => {
            // The library's errors never contain the presented secret.
            tracing::debug!(token_id = %token.id(), %error, "bootstrap token rejected");
            None
        }
    }
}

/// Adds `system:authenticated` unless the user already names either all-users group, as the
/// apiserver's group adder does.
fn authenticated(mut user: UserInfo) -> UserInfo {
    if !user.in_group(AUTHENTICATED_GROUP) && !user.in_group(UNAUTHENTICATED_GROUP) {
        user.groups.push(AUTHENTICATED_GROUP.into());
    }
    user
}
