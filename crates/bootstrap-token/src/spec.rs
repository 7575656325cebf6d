//! The token spec (kubeadm's `BootstrapToken` object) and its Secret.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::{Error, echo};
use crate::expiration::Expiration;
use crate::secret::{check_type_and_data, data, lossy};
use crate::time::format_rfc3339;
use crate::{
    BootstrapToken, DEFAULT_NODE_TOKEN_GROUP, DEFAULT_TTL, GROUP_PREFIX, KEY_DESCRIPTION, KEY_EXPIRATION,
    KEY_EXTRA_GROUPS, KEY_TOKEN_ID, KEY_TOKEN_SECRET, SECRET_NAMESPACE, SECRET_TYPE, TokenId, TokenSecret,
    USAGE_KEY_PREFIX,
};

/// What a token may be used for; each is a `usage-bootstrap-<name>: "true"` key in the Secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Usage {
    /// `authentication`: the token is an API bearer token (TLS bootstrap).
    Authentication,
    /// `signing`: the signer signs `kube-public/cluster-info` with it (token discovery).
    Signing,
    /// Any other `usage-bootstrap-*` key found in a Secret. Kept when reading a Secret, as
    /// `kubeadm token list` does; rejected by [`TokenSpec::validate`].
    Other(String),
}

impl Usage {
    /// The usage name (`authentication`, `signing`, ...).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Authentication => "authentication",
            Self::Signing => "signing",
            Self::Other(name) => name,
        }
    }

    /// The Secret data key: `usage-bootstrap-<name>`.
    pub fn secret_key(&self) -> String {
        format!("{USAGE_KEY_PREFIX}{}", self.as_str())
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Usage {
    type Err = Error;

    /// Accepts `signing` and `authentication` (exact, case-sensitive), as kubeadm's validation.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "authentication" => Ok(Self::Authentication),
            "signing" => Ok(Self::Signing),
            other => Err(Error::InvalidUsage {
                usage: echo(other.as_bytes()),
            }),
        }
    }
}

/// Whether `group` matches `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`.
///
/// ```
/// use kubetrust_bootstrap_token::is_valid_group;
/// assert!(is_valid_group("system:bootstrappers:kubeadm:default-node-token"));
/// assert!(!is_valid_group("system:bootstrappers"));
/// assert!(!is_valid_group("system:masters"));
/// ```
pub fn is_valid_group(group: &str) -> bool {
    let Some(rest) = group.strip_prefix(GROUP_PREFIX) else {
        return false;
    };
    let Some((&last, middle)) = rest.as_bytes().split_last() else {
        return false;
    };
    middle.len() <= 255
        && (last.is_ascii_lowercase() || last.is_ascii_digit())
        && middle
            .iter()
            .all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b':' || b == b'-')
}

/// [`is_valid_group`] as a check with kubeadm's error text.
pub fn validate_group(group: &str) -> Result<(), Error> {
    if is_valid_group(group) {
        Ok(())
    } else {
        Err(Error::InvalidGroup {
            group: echo(group.as_bytes()),
        })
    }
}

/// How long a token lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lifetime {
    /// Expires this long after the Secret is built (`--ttl`). A zero TTL writes no
    /// `expiration`, so the token never expires (kubeadm's `--ttl 0`).
    Ttl(Duration),
    /// Expires at this instant (kubeadm's `expires`, which takes priority over a TTL).
    ExpiresAt(SystemTime),
    /// Never expires (no `expiration` key).
    Never,
}

/// A bootstrap token with its metadata: kubeadm's `BootstrapToken` object
/// (`bootstraptoken/v1`), convertible to and from its Secret.
///
/// [`TokenSpec::new`] applies kubeadm's defaults: TTL 24 h, usages `signing` and
/// `authentication`, group `system:bootstrappers:kubeadm:default-node-token`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kubetrust_bootstrap_token::{Lifetime, TokenSpec};
/// let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600); // 2025-01-01T00:00:00Z
/// let spec = TokenSpec::new("7h3k9q.x2m5p8r1t4w7z0c3".parse()?)
///     .with_description("worker join");
/// let secret = spec.to_secret(now)?;
/// assert_eq!(secret.metadata.name.as_deref(), Some("bootstrap-token-7h3k9q"));
/// let data = secret.data.as_ref().unwrap();
/// assert_eq!(data["expiration"].0, b"2025-01-02T00:00:00Z");
/// assert_eq!(data["usage-bootstrap-signing"].0, b"true");
///
/// let back = TokenSpec::from_secret(&secret)?;
/// assert_eq!(back.lifetime, Lifetime::ExpiresAt(now + Duration::from_secs(86_400)));
/// assert_eq!(back.time_left(now), Some(Duration::from_secs(86_400)));
/// # Ok::<(), kubetrust_bootstrap_token::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenSpec {
    /// The token. Its secret shows only through [`BootstrapToken::expose_secret`].
    pub token: BootstrapToken,
    /// Free text, written to `description` when not empty.
    pub description: String,
    /// TTL, absolute expiration, or none.
    pub lifetime: Lifetime,
    /// Usages. From a Secret they are sorted by name.
    pub usages: Vec<Usage>,
    /// Extra groups (besides `system:bootstrappers`), in order.
    pub groups: Vec<String>,
}

impl TokenSpec {
    /// A spec for `token` with kubeadm's defaults.
    pub fn new(token: BootstrapToken) -> Self {
        Self {
            token,
            description: String::new(),
            lifetime: Lifetime::Ttl(DEFAULT_TTL),
            usages: vec![Usage::Signing, Usage::Authentication],
            groups: vec![DEFAULT_NODE_TOKEN_GROUP.to_owned()],
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets a TTL, counted from the `now` given to [`TokenSpec::to_secret`]; zero means never.
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.lifetime = Lifetime::Ttl(ttl);
        self
    }

    /// Sets an absolute expiration.
    #[must_use]
    pub fn with_expiration(mut self, at: SystemTime) -> Self {
        self.lifetime = Lifetime::ExpiresAt(at);
        self
    }

    /// Sets the lifetime.
    #[must_use]
    pub fn with_lifetime(mut self, lifetime: Lifetime) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Sets the usages.
    #[must_use]
    pub fn with_usages(mut self, usages: impl IntoIterator<Item = Usage>) -> Self {
        self.usages = usages.into_iter().collect();
        self
    }

    /// Sets the extra groups.
    #[must_use]
    pub fn with_groups<S: Into<String>>(mut self, groups: impl IntoIterator<Item = S>) -> Self {
        self.groups = groups.into_iter().map(Into::into).collect();
        self
    }

    /// The token id.
    pub fn id(&self) -> &TokenId {
        self.token.id()
    }

    /// Whether the token has the usage.
    pub fn has_usage(&self, usage: &Usage) -> bool {
        self.usages.contains(usage)
    }

    /// kubeadm's validation: only known usages; groups only with `authentication`; every
    /// group matches the group pattern.
    pub fn validate(&self) -> Result<(), Error> {
        if let Some(Usage::Other(usage)) = self.usages.iter().find(|u| matches!(u, Usage::Other(_))) {
            return Err(Error::InvalidUsage {
                usage: echo(usage.as_bytes()),
            });
        }
        if !self.groups.is_empty() && !self.has_usage(&Usage::Authentication) {
            return Err(Error::GroupsWithoutAuthentication);
        }
        self.groups.iter().try_for_each(|g| validate_group(g))
    }

    /// The expiration the Secret would carry if built at `now`.
    pub fn expiration(&self, now: SystemTime) -> Expiration {
        match self.lifetime {
            Lifetime::ExpiresAt(at) => Expiration::At(at),
            Lifetime::Ttl(ttl) if !ttl.is_zero() => now
                .checked_add(ttl)
                .map_or(Expiration::Unparseable, Expiration::At),
            Lifetime::Ttl(_) | Lifetime::Never => Expiration::Never,
        }
    }

    /// Whether the token is expired at `now` (a TTL counts from `now`, so it is not).
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.expiration(now).is_expired(now)
    }

    /// Time left at `now`: `None` if the token never expires, zero once expired.
    pub fn time_left(&self, now: SystemTime) -> Option<Duration> {
        self.expiration(now).time_left(now)
    }

    /// Extends the token so that it lives at least until `now + ttl` (the refresh Cluster API
    /// providers do). It never shortens the lifetime: a later expiration, or none, is kept.
    /// A zero `ttl` removes the expiration (kubeadm's `--ttl 0`).
    pub fn extend(&mut self, ttl: Duration, now: SystemTime) {
        if ttl.is_zero() {
            self.lifetime = Lifetime::Never;
            return;
        }
        let target = now.checked_add(ttl);
        self.lifetime = match (self.expiration(now), target) {
            (Expiration::Never, _) => Lifetime::Never,
            (Expiration::At(at), Some(target)) if at >= target => Lifetime::ExpiresAt(at),
            (_, Some(target)) => Lifetime::ExpiresAt(target),
            (_, None) => Lifetime::Never,
        };
    }

    /// Builds the Secret `kube-system/bootstrap-token-<id>` of type
    /// `bootstrap.kubernetes.io/token` exactly as kubeadm's `BootstrapTokenToSecret` does
    /// (after [`TokenSpec::validate`]). A TTL counts from `now`.
    ///
    /// The Secret's `data` necessarily holds the token secret in plain (non-zeroizing) bytes,
    /// and k8s-openapi's `Debug` prints them: never log the returned Secret.
    pub fn to_secret(&self, now: SystemTime) -> Result<Secret, Error> {
        self.validate()?;
        let id = self.token.id();
        let mut data = BTreeMap::new();
        let mut put = |k: &str, v: &[u8]| {
            data.insert(k.to_owned(), ByteString(v.to_vec()));
        };
        put(KEY_TOKEN_ID, id.as_str().as_bytes());
        put(KEY_TOKEN_SECRET, self.token.secret().expose_secret().as_bytes());
        if !self.description.is_empty() {
            put(KEY_DESCRIPTION, self.description.as_bytes());
        }
        match self.expiration(now) {
            Expiration::Never => {}
            Expiration::At(at) => {
                let value = format_rfc3339(at).ok_or(Error::ExpirationOutOfRange {
                    token_id: id.to_string(),
                })?;
                put(KEY_EXPIRATION, value.as_bytes());
            }
            Expiration::Unparseable => {
                return Err(Error::ExpirationOutOfRange {
                    token_id: id.to_string(),
                });
            }
        }
        for usage in &self.usages {
            put(&usage.secret_key(), b"true");
        }
        if !self.groups.is_empty() {
            put(KEY_EXTRA_GROUPS, self.groups.join(",").as_bytes());
        }
        Ok(Secret {
            metadata: ObjectMeta {
                name: Some(id.secret_name()),
                namespace: Some(SECRET_NAMESPACE.to_owned()),
                ..ObjectMeta::default()
            },
            type_: Some(SECRET_TYPE.to_owned()),
            data: Some(data),
            ..Secret::default()
        })
    }

    /// Reads a token Secret as kubeadm's `BootstrapTokenFromSecret` does (`kubeadm token
    /// list`): `token-id` present and equal to the id in the name, `token-secret` present, both
    /// in token format, `expiration` parseable. Usages are every `usage-bootstrap-*` key whose
    /// value is exactly `true`, sorted; groups are `auth-extra-groups` split on `,` (not
    /// validated here; the authenticator does that).
    pub fn from_secret(secret: &Secret) -> Result<Self, Error> {
        let name = secret.metadata.name.as_deref().unwrap_or_default();
        check_type_and_data(secret, name)?;
        let id_bytes = data(secret, KEY_TOKEN_ID).unwrap_or_default();
        if id_bytes.is_empty() {
            return Err(Error::SecretMissingTokenId {
                name: echo(name.as_bytes()),
            });
        }
        if name.strip_prefix(crate::SECRET_NAME_PREFIX).map(str::as_bytes) != Some(id_bytes) {
            return Err(Error::SecretNameMismatch {
                expected: format!("{}{}", crate::SECRET_NAME_PREFIX, echo(id_bytes)),
                found: echo(name.as_bytes()),
            });
        }
        let secret_bytes = data(secret, KEY_TOKEN_SECRET).unwrap_or_default();
        if secret_bytes.is_empty() {
            return Err(Error::SecretMissingTokenSecret {
                name: echo(name.as_bytes()),
            });
        }
        let malformed = |e: Error| Error::SecretMalformedToken {
            name: echo(name.as_bytes()),
            source: Box::new(e),
        };
        let id: TokenId = lossy(id_bytes).parse().map_err(malformed)?;
        // Parse the secret without an intermediate lossy String copy when it is valid UTF-8.
        let token_secret: TokenSecret = match std::str::from_utf8(secret_bytes) {
            Ok(s) => s.parse().map_err(malformed)?,
            Err(e) => {
                // Position of the first byte that is not UTF-8, counted in characters.
                let valid = secret_bytes.get(..e.valid_up_to()).unwrap_or_default();
                let before = std::str::from_utf8(valid).map_or(0, |s| s.chars().count());
                return Err(malformed(Error::TokenInvalidCharacter {
                    part: crate::TokenPart::Secret,
                    position: before + 1,
                }));
            }
        };
        let lifetime = match Expiration::of_secret(secret) {
            Expiration::Never => Lifetime::Never,
            Expiration::At(at) => Lifetime::ExpiresAt(at),
            Expiration::Unparseable => {
                return Err(Error::UnparseableExpiration {
                    token_id: id.to_string(),
                    value: echo(data(secret, KEY_EXPIRATION).unwrap_or_default()),
                });
            }
        };
        let mut usages: Vec<Usage> = secret
            .data
            .iter()
            .flatten()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix(USAGE_KEY_PREFIX)?;
                (v.0 == b"true").then(|| match name {
                    "authentication" => Usage::Authentication,
                    "signing" => Usage::Signing,
                    other => Usage::Other(other.to_owned()),
                })
            })
            .collect();
        usages.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        let groups = match data(secret, KEY_EXTRA_GROUPS) {
            Some(g) if !g.is_empty() => lossy(g).split(',').map(str::to_owned).collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            token: BootstrapToken::new(id, token_secret),
            description: lossy(data(secret, KEY_DESCRIPTION).unwrap_or_default()).into_owned(),
            lifetime,
            usages,
            groups,
        })
    }
}
