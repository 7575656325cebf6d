//! Expiration semantics of a token Secret (`util/secrets` `GetExpiration`).

use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::Secret;

use crate::secret::data;
use crate::time::{format_rfc3339, parse_rfc3339};

/// The `expiration` of a token Secret, read with upstream's rules.
///
/// * key absent or empty ⇒ [`Expiration::Never`];
/// * RFC 3339 as Go reads it ⇒ [`Expiration::At`]; expired iff `now >= at`;
/// * anything else ⇒ [`Expiration::Unparseable`], which counts as expired (fail closed).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use kubetrust_bootstrap_token::Expiration;
/// let exp = Expiration::parse(b"2025-01-02T00:00:00Z");
/// let now = UNIX_EPOCH + Duration::from_secs(1_735_732_800); // 2025-01-01T12:00:00Z
/// assert!(!exp.is_expired(now));
/// assert_eq!(exp.time_left(now), Some(Duration::from_secs(12 * 3600)));
/// assert!(exp.is_expired(now + Duration::from_secs(12 * 3600)));
/// assert!(Expiration::parse(b"2025-01-02 00:00:00Z").is_expired(now));
/// assert_eq!(Expiration::parse(b"").time_left(now), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiration {
    /// No expiration: the token never expires and is never cleaned up.
    Never,
    /// The token expires at this instant.
    At(SystemTime),
    /// The value is not RFC 3339; the token is treated as already expired.
    Unparseable,
}

impl Expiration {
    /// Reads an `expiration` value (bytes, as Secret data are).
    pub fn parse(value: &[u8]) -> Self {
        if value.is_empty() {
            return Self::Never;
        }
        parse_rfc3339(value).map_or(Self::Unparseable, Self::At)
    }

    /// Reads the `expiration` key of a token Secret.
    pub fn of_secret(secret: &Secret) -> Self {
        Self::parse(data(secret, crate::KEY_EXPIRATION).unwrap_or_default())
    }

    /// Whether the token is expired at `now`: at or after the expiration instant, or
    /// unparseable. A token without expiration never is.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        match self {
            Self::Never => false,
            Self::Unparseable => true,
            Self::At(at) => now >= *at,
        }
    }

    /// Time until expiry: `None` if it never expires, zero if it is expired (or unparseable).
    pub fn time_left(&self, now: SystemTime) -> Option<Duration> {
        match self {
            Self::Never => None,
            Self::Unparseable => Some(Duration::ZERO),
            Self::At(at) => Some(at.duration_since(now).unwrap_or(Duration::ZERO)),
        }
    }

    /// The value kubeadm would write for this instant (`YYYY-MM-DDTHH:MM:SSZ`, UTC, fraction
    /// truncated); `None` for [`Expiration::Never`], [`Expiration::Unparseable`], or a year
    /// outside 0000–9999.
    pub fn to_rfc3339(&self) -> Option<String> {
        match self {
            Self::At(at) => format_rfc3339(*at),
            Self::Never | Self::Unparseable => None,
        }
    }
}
