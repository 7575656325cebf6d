//! The apiserver's bootstrap-token authenticator, as a pure function.

use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use subtle::ConstantTimeEq;

use crate::error::{Error, echo};
use crate::expiration::Expiration;
use crate::secret::{check_type_and_data, data, user_groups};
use crate::spec::Usage;
use crate::{BootstrapToken, KEY_EXPIRATION, KEY_TOKEN_ID, KEY_TOKEN_SECRET, KEY_USAGE_AUTHENTICATION};

/// Who a bootstrap token authenticates as.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthenticatedUser {
    /// `system:bootstrap:<token-id>`.
    pub name: String,
    /// `system:bootstrappers` plus the token's extra groups, de-duplicated and sorted.
    pub groups: Vec<String>,
}

/// Authenticates a presented bearer token against its Secret, as kube-apiserver's
/// bootstrap-token authenticator does, in the same order:
///
/// 1. the bearer string parses as a token — done by the caller with
///    [`BootstrapToken::from_str`](std::str::FromStr); a string that does not parse is not a
///    bootstrap token (let other authenticators try it);
/// 2. the Secret is `kube-system/bootstrap-token-<id>` — the caller looks it up by
///    [`TokenId::secret_name`](crate::TokenId::secret_name) (not found: not authenticated); its
///    name is checked here ([`Error::SecretNameMismatch`]);
/// 3. no deletion timestamp ([`Error::SecretBeingDeleted`]);
/// 4. type `bootstrap.kubernetes.io/token` and `data` present ([`Error::WrongSecretType`],
///    [`Error::SecretNoData`]);
/// 5. `token-secret` equals the presented secret, compared in constant time
///    ([`Error::SecretMismatch`]);
/// 6. `token-id` equals the presented id ([`Error::TokenIdMismatch`]);
/// 7. not expired at `now`, an unparseable expiration counting as expired
///    ([`Error::TokenExpired`], [`Error::UnparseableExpiration`]);
/// 8. `usage-bootstrap-authentication` is exactly `true` ([`Error::UsageNotEnabled`]);
/// 9. every extra group is valid ([`Error::InvalidGroup`]).
///
/// Every error means "not authenticated". Unlike upstream, no error ever contains the
/// presented secret.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kubetrust_bootstrap_token::{authenticate, BootstrapToken, Error, TokenSpec};
/// let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
/// let stored = TokenSpec::new("7h3k9q.x2m5p8r1t4w7z0c3".parse()?).to_secret(now)?;
///
/// // The apiserver side: parse the bearer token, look up its Secret, authenticate.
/// let presented: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
/// assert_eq!(stored.metadata.name, Some(presented.id().secret_name()));
/// let user = authenticate(&presented, &stored, now)?;
/// assert_eq!(user.name, "system:bootstrap:7h3k9q");
/// assert_eq!(user.groups, ["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token"]);
///
/// let wrong: BootstrapToken = "7h3k9q.0000000000000000".parse()?;
/// assert!(matches!(authenticate(&wrong, &stored, now), Err(Error::SecretMismatch { .. })));
/// # Ok::<(), Error>(())
/// ```
pub fn authenticate(
    token: &BootstrapToken,
    secret: &Secret,
    now: SystemTime,
) -> Result<AuthenticatedUser, Error> {
    let id = *token.id();
    let expected_name = id.secret_name();
    let name = secret.metadata.name.as_deref().unwrap_or_default();
    if name != expected_name {
        return Err(Error::SecretNameMismatch {
            expected: expected_name,
            found: echo(name.as_bytes()),
        });
    }
    if secret.metadata.deletion_timestamp.is_some() {
        return Err(Error::SecretBeingDeleted { token_id: id });
    }
    check_type_and_data(secret, name)?;

    let stored = data(secret, KEY_TOKEN_SECRET).unwrap_or_default();
    let presented = token.secret().expose_secret().as_bytes();
    if !bool::from(stored.ct_eq(presented)) {
        return Err(Error::SecretMismatch { token_id: id });
    }

    let stored_id = data(secret, KEY_TOKEN_ID).unwrap_or_default();
    if stored_id != id.as_str().as_bytes() {
        return Err(Error::TokenIdMismatch {
            expected: id,
            found: echo(stored_id),
        });
    }

    match Expiration::of_secret(secret) {
        Expiration::Never => {}
        Expiration::At(at) if now < at => {}
        Expiration::At(_) => {
            return Err(Error::TokenExpired {
                token_id: id,
                expiration: echo(data(secret, KEY_EXPIRATION).unwrap_or_default()),
            });
        }
        Expiration::Unparseable => {
            return Err(Error::UnparseableExpiration {
                token_id: id.to_string(),
                value: echo(data(secret, KEY_EXPIRATION).unwrap_or_default()),
            });
        }
    }

    if data(secret, KEY_USAGE_AUTHENTICATION) != Some(b"true".as_slice()) {
        return Err(Error::UsageNotEnabled {
            token_id: id,
            usage: Usage::Authentication,
        });
    }

    Ok(AuthenticatedUser {
        name: id.user_name(),
        groups: user_groups(secret)?,
    })
}
