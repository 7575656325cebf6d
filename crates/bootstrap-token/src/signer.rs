//! The bootstrap signer (kube-controller-manager's `bootstrapsigner`) as a pure function.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::SystemTime;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use zeroize::Zeroizing;

use crate::error::{Error, echo};
use crate::expiration::Expiration;
use crate::jws::sign_detached;
use crate::secret::data;
use crate::spec::Usage;
use crate::{
    JWS_KEY_PREFIX, KEY_EXPIRATION, KEY_TOKEN_ID, KEY_TOKEN_SECRET, KEY_USAGE_SIGNING, KUBECONFIG_KEY,
    SECRET_NAMESPACE, SECRET_TYPE, TokenId,
};

/// A token Secret that may sign `cluster-info`: its id and its secret (as stored; the signer
/// does not re-check the secret's format). Zeroized on drop; the key is `[redacted]` in `Debug`.
#[derive(Clone)]
pub struct SigningToken {
    id: TokenId,
    key: Zeroizing<Vec<u8>>,
}

impl SigningToken {
    /// The token id.
    pub fn id(&self) -> &TokenId {
        &self.id
    }

    /// Signs `payload` with this token: see [`crate::jws::sign_detached`].
    pub fn sign(&self, payload: &[u8]) -> String {
        sign_detached(payload, &self.id, &self.key)
    }
}

impl fmt::Debug for SigningToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningToken")
            .field("id", &self.id.as_str())
            .field("key", &format_args!("[redacted]"))
            .finish()
    }
}

/// Checks a Secret the way the signer's `validateSecretForSigning` does, in its order: name
/// `bootstrap-token-<id>`, non-empty `token-id` equal to that id, non-empty `token-secret`,
/// not expired at `now` (unparseable counts as expired), `usage-bootstrap-signing` exactly
/// `true`. Deletion timestamps and the authentication usage are not considered.
pub fn signing_token(secret: &Secret, now: SystemTime) -> Result<SigningToken, Error> {
    let name = secret.metadata.name.as_deref().unwrap_or_default();
    let id = TokenId::from_secret_name(name).ok_or_else(|| Error::SecretNameInvalid {
        name: echo(name.as_bytes()),
    })?;
    let data_id = data(secret, KEY_TOKEN_ID).unwrap_or_default();
    if data_id.is_empty() {
        return Err(Error::SecretMissingTokenId {
            name: echo(name.as_bytes()),
        });
    }
    if data_id != id.as_str().as_bytes() {
        return Err(Error::SecretNameMismatch {
            expected: format!("{}{}", crate::SECRET_NAME_PREFIX, echo(data_id)),
            found: echo(name.as_bytes()),
        });
    }
    let key = data(secret, KEY_TOKEN_SECRET).unwrap_or_default();
    if key.is_empty() {
        return Err(Error::SecretMissingTokenSecret {
            name: echo(name.as_bytes()),
        });
    }
    let expiration = Expiration::of_secret(secret);
    if expiration.is_expired(now) {
        let value = echo(data(secret, KEY_EXPIRATION).unwrap_or_default());
        return Err(match expiration {
            Expiration::Unparseable => Error::UnparseableExpiration {
                token_id: id.to_string(),
                value,
            },
            _ => Error::TokenExpired {
                token_id: id,
                expiration: value,
            },
        });
    }
    if data(secret, KEY_USAGE_SIGNING) != Some(b"true".as_slice()) {
        return Err(Error::UsageNotEnabled {
            token_id: id,
            usage: Usage::Signing,
        });
    }
    Ok(SigningToken {
        id,
        key: Zeroizing::new(key.to_vec()),
    })
}

/// A Secret the signer passed over, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct SkippedSecret {
    /// The Secret's name.
    pub name: String,
    /// The failed check.
    pub reason: Error,
}

/// What one signer pass decided for `cluster-info`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClusterInfoSignatures {
    /// Every `jws-kubeconfig-<id>` key the ConfigMap must hold, with its value.
    pub signatures: BTreeMap<String, String>,
    /// `jws-kubeconfig-*` keys present now that must be removed (deleted, expired or
    /// signing-disabled tokens, or hand-added keys).
    pub stale: Vec<String>,
    /// Whether the ConfigMap must be written back (a signature is new or changed, or a key is
    /// stale). When false, the ConfigMap already holds exactly `signatures`.
    pub changed: bool,
}

impl ClusterInfoSignatures {
    /// Applies the decision: removes every `jws-kubeconfig-*` key, then inserts `signatures`.
    pub fn apply(&self, config_map: &mut ConfigMap) {
        let data = config_map.data.get_or_insert_with(BTreeMap::new);
        data.retain(|k, _| !k.starts_with(JWS_KEY_PREFIX));
        data.extend(self.signatures.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
}

/// One pass of the bootstrap signer over `kube-public/cluster-info` and the token Secrets of
/// `kube-system`, as `bootstrapsigner.go` does it:
///
/// * no `kubeconfig` key ⇒ [`Error::ClusterInfoMissingKubeconfig`] (the signer does nothing);
/// * Secrets of another type, or from another namespace when one is set, are ignored;
/// * every Secret passing [`signing_token`] at `now` gets `jws-kubeconfig-<id>` over the exact
///   bytes of the `kubeconfig` value; for a duplicate id the first Secret wins;
/// * every other `jws-kubeconfig-*` key is stale.
///
/// Returns the decision and the Secrets that were skipped, with the reason (for logs).
///
/// ```
/// use std::collections::BTreeMap;
/// use std::time::{Duration, UNIX_EPOCH};
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kubetrust_bootstrap_token::{sign_cluster_info, TokenSpec};
/// let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
/// let secret = TokenSpec::new("7h3k9q.x2m5p8r1t4w7z0c3".parse()?).to_secret(now)?;
/// let mut cm = ConfigMap::default();
/// cm.data = Some(BTreeMap::from([
///     ("kubeconfig".to_owned(), "apiVersion: v1\n".to_owned()),
///     ("jws-kubeconfig-zzzzzz".to_owned(), "stale".to_owned()),
/// ]));
/// let (plan, skipped) = sign_cluster_info(&cm, &[secret], now)?;
/// assert!(skipped.is_empty());
/// assert!(plan.changed);
/// assert_eq!(plan.stale, ["jws-kubeconfig-zzzzzz"]);
/// plan.apply(&mut cm);
/// assert!(cm.data.as_ref().unwrap().contains_key("jws-kubeconfig-7h3k9q"));
/// # Ok::<(), kubetrust_bootstrap_token::Error>(())
/// ```
pub fn sign_cluster_info(
    config_map: &ConfigMap,
    secrets: &[Secret],
    now: SystemTime,
) -> Result<(ClusterInfoSignatures, Vec<SkippedSecret>), Error> {
    let current = config_map.data.as_ref();
    let payload = current
        .and_then(|d| d.get(KUBECONFIG_KEY))
        .ok_or(Error::ClusterInfoMissingKubeconfig)?;
    let old: BTreeMap<&str, &str> = current
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with(JWS_KEY_PREFIX))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();

    let mut skipped = Vec::new();
    let mut seen = BTreeSet::new();
    let mut signatures = BTreeMap::new();
    for secret in secrets {
        if secret.type_.as_deref() != Some(SECRET_TYPE) {
            continue;
        }
        if secret
            .metadata
            .namespace
            .as_deref()
            .is_some_and(|ns| ns != SECRET_NAMESPACE)
        {
            continue;
        }
        let name = secret.metadata.name.clone().unwrap_or_default();
        match signing_token(secret, now) {
            Ok(token) if seen.insert(*token.id()) => {
                signatures.insert(token.id().jws_key(), token.sign(payload.as_bytes()));
            }
            Ok(token) => skipped.push(SkippedSecret {
                name,
                reason: Error::DuplicateTokenId {
                    token_id: *token.id(),
                },
            }),
            Err(reason) => skipped.push(SkippedSecret { name, reason }),
        }
    }

    let stale: Vec<String> = old
        .keys()
        .filter(|k| !signatures.contains_key(**k))
        .map(|k| (*k).to_owned())
        .collect();
    let changed = !stale.is_empty()
        || signatures
            .iter()
            .any(|(k, v)| old.get(k.as_str()) != Some(&v.as_str()));
    Ok((
        ClusterInfoSignatures {
            signatures,
            stale,
            changed,
        },
        skipped,
    ))
}
