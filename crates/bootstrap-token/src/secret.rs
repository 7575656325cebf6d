//! Reading and updating token Secrets directly (what controllers and Cluster API providers
//! hold).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;

use crate::error::{Error, echo};
use crate::expiration::Expiration;
use crate::spec::validate_group;
use crate::time::format_rfc3339;
use crate::{DEFAULT_GROUP, KEY_EXPIRATION, KEY_EXTRA_GROUPS, SECRET_TYPE};

/// The value of a data key, like Go's `GetData` (but `None` when absent).
pub(crate) fn data<'a>(secret: &'a Secret, key: &str) -> Option<&'a [u8]> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|v| v.0.as_slice())
}

/// Bytes as text for messages and public fields (never used for the token secret).
pub(crate) fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Step 4 of the authenticator: `type` is `bootstrap.kubernetes.io/token` and `data` is set.
pub(crate) fn check_type_and_data(secret: &Secret, name: &str) -> Result<(), Error> {
    let type_ = secret.type_.as_deref().unwrap_or_default();
    if type_ != SECRET_TYPE {
        return Err(Error::WrongSecretType {
            name: echo(name.as_bytes()),
            found: echo(type_.as_bytes()),
        });
    }
    if secret.data.is_none() {
        return Err(Error::SecretNoData {
            name: echo(name.as_bytes()),
        });
    }
    Ok(())
}

/// The groups the apiserver gives a token Secret's user (`GetGroups`): `system:bootstrappers`
/// plus every element of `auth-extra-groups` split on `,` (no trimming, empty elements
/// invalid), de-duplicated and sorted. Any invalid element rejects the token.
///
/// ```
/// use std::collections::BTreeMap;
/// use k8s_openapi::{ByteString, api::core::v1::Secret};
/// use kubetrust_bootstrap_token::{user_groups, Error};
/// let mut secret = Secret::default();
/// let groups = b"system:bootstrappers:b,system:bootstrappers:a,system:bootstrappers:a";
/// secret.data = Some(BTreeMap::from([(
///     "auth-extra-groups".to_owned(),
///     ByteString(groups.to_vec()),
/// )]));
/// assert_eq!(
///     user_groups(&secret)?,
///     ["system:bootstrappers", "system:bootstrappers:a", "system:bootstrappers:b"]
/// );
/// # Ok::<(), Error>(())
/// ```
pub fn user_groups(secret: &Secret) -> Result<Vec<String>, Error> {
    let mut groups = BTreeSet::from([DEFAULT_GROUP.to_owned()]);
    let extra = data(secret, KEY_EXTRA_GROUPS).unwrap_or_default();
    if !extra.is_empty() {
        for group in extra.split(|&b| b == b',') {
            let group = lossy(group);
            validate_group(&group)?;
            groups.insert(group.into_owned());
        }
    }
    Ok(groups.into_iter().collect())
}

/// Extends a token Secret in place so that it lives at least until `now + ttl`, writing
/// `expiration` as kubeadm does (UTC, whole seconds). A later expiration, or none, is kept; an
/// unparseable one is replaced. A zero `ttl` removes the expiration (never expires).
///
/// Returns whether the Secret changed (so a caller knows whether to update it).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kubetrust_bootstrap_token::{extend_secret, Expiration, TokenSpec};
/// let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600); // 2025-01-01T00:00:00Z
/// let mut secret = TokenSpec::new("7h3k9q.x2m5p8r1t4w7z0c3".parse()?)
///     .with_ttl(Duration::from_secs(3600))
///     .to_secret(now)?;
/// assert!(extend_secret(&mut secret, Duration::from_secs(7200), now)?);
/// assert_eq!(
///     Expiration::of_secret(&secret).to_rfc3339().as_deref(),
///     Some("2025-01-01T02:00:00Z")
/// );
/// # Ok::<(), kubetrust_bootstrap_token::Error>(())
/// ```
pub fn extend_secret(secret: &mut Secret, ttl: Duration, now: SystemTime) -> Result<bool, Error> {
    let current = Expiration::of_secret(secret);
    let data = secret.data.get_or_insert_with(Default::default);
    if ttl.is_zero() {
        return Ok(data.remove(KEY_EXPIRATION).is_some());
    }
    let out_of_range = || Error::ExpirationOutOfRange {
        token_id: secret_token_id(data.get(crate::KEY_TOKEN_ID)),
    };
    let target = now.checked_add(ttl).ok_or_else(out_of_range)?;
    match current {
        Expiration::Never => Ok(false),
        Expiration::At(at) if at >= target => Ok(false),
        Expiration::At(_) | Expiration::Unparseable => {
            let value = format_rfc3339(target).ok_or_else(out_of_range)?;
            data.insert(KEY_EXPIRATION.to_owned(), ByteString(value.into_bytes()));
            Ok(true)
        }
    }
}

/// The `token-id` value for an error message.
fn secret_token_id(value: Option<&ByteString>) -> String {
    value.map(|v| echo(&v.0)).unwrap_or_default()
}
