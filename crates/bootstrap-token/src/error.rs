//! The crate's one error type.

use std::fmt;

use crate::spec::Usage;
use crate::{TOKEN_SECRET_LEN, TokenId};

/// What [`echo`] prints in place of text that may be a token secret.
const REDACTED: &str = "[redacted]";

/// Input text as an error may show it: lossy UTF-8, with every run of 16 or more ASCII letters
/// and digits replaced by `[redacted]`. A token secret is such a run, and it turns up where it
/// does not belong (a whole token pasted as a group, an expiration, a usage); no legitimate
/// token id, usage, group part, name or RFC 3339 time has one.
pub(crate) fn echo(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let mut out = String::with_capacity(text.len());
    let mut rest = &*text;
    while !rest.is_empty() {
        // Both split points are character boundaries: ASCII bytes are whole characters.
        let run = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let gap = rest
            .bytes()
            .skip(run)
            .take_while(|b| !b.is_ascii_alphanumeric())
            .count();
        let Some((word, tail)) = rest.split_at_checked(run) else {
            break;
        };
        let Some((between, tail)) = tail.split_at_checked(gap) else {
            break;
        };
        out.push_str(if run >= TOKEN_SECRET_LEN { REDACTED } else { word });
        out.push_str(between);
        rest = tail;
    }
    out
}

/// Which string a token-format error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPart {
    /// A whole bootstrap token, `<id>.<secret>`.
    Token,
    /// A token id on its own.
    Id,
    /// A token secret on its own.
    Secret,
}

impl fmt::Display for TokenPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Token => "bootstrap token",
            Self::Id => "token id",
            Self::Secret => "token secret",
        })
    }
}

/// Everything that can go wrong in this crate, one variant per failed check.
///
/// No variant ever carries a token secret: format errors name the position of the offending
/// character, not the character, and the authenticator's mismatch error names only the token id.
/// Text copied from the input (a group, a usage, an expiration, a Secret's name, type or
/// `token-id`) has every run of 16 or more letters and digits replaced by `[redacted]`, since a
/// token secret pasted into the wrong place is such a run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ----- token format -----
    /// The token string is empty.
    #[error("the bootstrap token is empty; expected the form [a-z0-9]{{6}}.[a-z0-9]{{16}}")]
    TokenEmpty,

    /// The string contains whitespace (often a trailing newline from a file or a paste).
    #[error(
        "the {part} contains whitespace at character {position}; remove surrounding spaces and \
         newlines (a token has the form [a-z0-9]{{6}}.[a-z0-9]{{16}})"
    )]
    TokenWhitespace {
        /// What was being parsed.
        part: TokenPart,
        /// 1-based character position in the parsed string.
        position: usize,
    },

    /// A full token without the `.` between id and secret.
    #[error(
        "the bootstrap token has no '.' between the 6-character id and the 16-character secret; \
         expected the form [a-z0-9]{{6}}.[a-z0-9]{{16}}"
    )]
    TokenMissingDot,

    /// The id (the part before the `.`) is not 6 characters long.
    #[error("the token id has {found} characters; it must have exactly 6 characters from [a-z0-9]")]
    TokenIdLength {
        /// Characters found.
        found: usize,
    },

    /// The secret (the part after the `.`) is not 16 characters long.
    #[error("the token secret has {found} characters; it must have exactly 16 characters from [a-z0-9]")]
    TokenSecretLength {
        /// Characters found.
        found: usize,
    },

    /// An upper-case letter; bootstrap tokens are lower case only.
    #[error(
        "the {part} has an upper-case letter at character {position}; bootstrap tokens use only \
         lower-case letters and digits ([a-z0-9])"
    )]
    TokenUppercase {
        /// What was being parsed.
        part: TokenPart,
        /// 1-based character position in the parsed string.
        position: usize,
    },

    /// A character outside `[a-z0-9]` (other than the one separating `.`).
    #[error(
        "the {part} has an invalid character at character {position}; only a-z and 0-9 are \
         allowed (form [a-z0-9]{{6}}.[a-z0-9]{{16}})"
    )]
    TokenInvalidCharacter {
        /// What was being parsed.
        part: TokenPart,
        /// 1-based character position in the parsed string.
        position: usize,
    },

    /// The operating system's random number generator failed.
    #[error("cannot generate a bootstrap token: the OS random number generator failed: {source}")]
    Random {
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    // ----- token spec validation -----
    /// A usage other than `signing` and `authentication`.
    #[error("invalid bootstrap token usage string: {usage}, valid usage options: signing,authentication")]
    InvalidUsage {
        /// The usage given.
        usage: String,
    },

    /// Extra groups were given for a token that cannot authenticate.
    #[error(
        "token groups cannot be specified unless --usages includes \"authentication\"; add the \
         authentication usage or drop the groups"
    )]
    GroupsWithoutAuthentication,

    /// An extra group that does not match `\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\z`.
    /// One bad group rejects the whole token.
    #[error(
        "bootstrap group {group:?} is invalid (must match \
         \\Asystem:bootstrappers:[a-z0-9:-]{{0,255}}[a-z0-9]\\z)"
    )]
    InvalidGroup {
        /// The offending group as found (no trimming; possible secrets redacted).
        group: String,
    },

    /// The computed expiration time cannot be written as RFC 3339 (year beyond 9999, or the
    /// TTL overflows the clock).
    #[error(
        "the expiration time of bootstrap token {token_id} is out of range (the year must be \
         0000-9999); use a shorter TTL"
    )]
    ExpirationOutOfRange {
        /// The token id.
        token_id: String,
    },

    // ----- Secret shape -----
    /// The Secret's `type` is not `bootstrap.kubernetes.io/token`.
    #[error(
        "Secret {name:?} has type {found:?}, expected \"bootstrap.kubernetes.io/token\"; it is not \
         a bootstrap token"
    )]
    WrongSecretType {
        /// The Secret's name.
        name: String,
        /// The type found (empty if none).
        found: String,
    },

    /// The Secret has no `data`.
    #[error("bootstrap token Secret {name:?} has no data")]
    SecretNoData {
        /// The Secret's name.
        name: String,
    },

    /// The Secret's name is not `bootstrap-token-<id>` for a valid id.
    #[error(
        "Secret name {name:?} is not of the form \"bootstrap-token-<id>\" with a 6-character \
         [a-z0-9] id"
    )]
    SecretNameInvalid {
        /// The Secret's name.
        name: String,
    },

    /// The Secret has no (or an empty) `token-id`.
    #[error("bootstrap Token Secret has no token-id data: {name}")]
    SecretMissingTokenId {
        /// The Secret's name.
        name: String,
    },

    /// The Secret's name does not match its `token-id` (or the token that was looked up).
    #[error(
        "bootstrap token name is not of the form 'bootstrap-token-(token-id)'. Actual: {found:?}. \
         Expected: {expected:?}"
    )]
    SecretNameMismatch {
        /// The name the Secret should have.
        expected: String,
        /// The name it has.
        found: String,
    },

    /// The Secret has no (or an empty) `token-secret`.
    #[error("bootstrap token Secret {name:?} has no token-secret data")]
    SecretMissingTokenSecret {
        /// The Secret's name.
        name: String,
    },

    /// The Secret's `token-id` or `token-secret` is not in token format.
    #[error("bootstrap token Secret {name:?} holds a malformed token: {source}")]
    SecretMalformedToken {
        /// The Secret's name.
        name: String,
        /// What is wrong (never includes the secret).
        #[source]
        source: Box<Error>,
    },

    /// The Secret's `expiration` is not RFC 3339; such a token counts as expired.
    #[error(
        "can't parse expiration time of bootstrap token {token_id:?}: {value:?} is not RFC 3339 \
         (e.g. 2006-01-02T15:04:05Z); the token is treated as expired"
    )]
    UnparseableExpiration {
        /// The token id.
        token_id: String,
        /// The value found.
        value: String,
    },

    // ----- authenticator and signer -----
    /// The Secret has a deletion timestamp.
    #[error("bootstrap token {token_id} is deleted and awaiting removal")]
    SecretBeingDeleted {
        /// The token id.
        token_id: TokenId,
    },

    /// The presented secret differs from the Secret's `token-secret`.
    #[error("bootstrap token {token_id}: the presented token secret does not match the stored one")]
    SecretMismatch {
        /// The token id.
        token_id: TokenId,
    },

    /// The Secret's `token-id` differs from the presented token's id.
    #[error("bootstrap token Secret for {expected} has token-id {found:?}; the Secret is inconsistent")]
    TokenIdMismatch {
        /// The id that was presented (and is in the Secret's name).
        expected: TokenId,
        /// The `token-id` found in the Secret.
        found: String,
    },

    /// The token has expired (`now >= expiration`).
    #[error(
        "token id \"{token_id}\" is invalid for this cluster or it has expired (expiration \
         {expiration}). Use \"kubeadm token create\" on the control-plane node to create a new \
         valid token"
    )]
    TokenExpired {
        /// The token id.
        token_id: TokenId,
        /// The `expiration` value.
        expiration: String,
    },

    /// The Secret does not enable the usage the operation needs.
    #[error(
        "bootstrap token {token_id} is not marked usage-bootstrap-{usage}=true; create a token \
         with the {usage} usage"
    )]
    UsageNotEnabled {
        /// The token id.
        token_id: TokenId,
        /// The usage that is missing.
        usage: Usage,
    },

    /// Two Secrets carry the same token id; the signer uses the first one only.
    #[error("more than one bootstrap token Secret has token id {token_id}; only the first is used")]
    DuplicateTokenId {
        /// The token id.
        token_id: TokenId,
    },

    // ----- JWS -----
    /// The value is not a detached JWS `<header>..<signature>`.
    #[error(
        "failed to verify JWS signature of received cluster info object, can't trust this API \
         Server: the signature for token id {token_id} is not a detached JWS \
         (<header>..<signature>)"
    )]
    JwsNotDetached {
        /// The token id.
        token_id: TokenId,
    },

    /// The protected header is not exactly `{"alg":"HS256","kid":"<id>"}` (other alg, other or
    /// missing kid, reordered members, whitespace, padding).
    #[error(
        "failed to verify JWS signature of received cluster info object, can't trust this API \
         Server: the JWS header for token id {token_id} is not {{\"alg\":\"HS256\",\"kid\":\"{token_id}\"}}"
    )]
    JwsHeaderMismatch {
        /// The token id.
        token_id: TokenId,
    },

    /// The HMAC does not match: the payload was changed, or the token is wrong.
    #[error(
        "failed to verify JWS signature of received cluster info object, can't trust this API \
         Server: the signature does not match the payload for token id {token_id} (wrong token \
         or tampered content)"
    )]
    JwsSignatureMismatch {
        /// The token id.
        token_id: TokenId,
    },

    /// The `cluster-info` ConfigMap has no `kubeconfig` key.
    #[error(
        "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up \
         for token bootstrapping, can't connect"
    )]
    ClusterInfoMissingKubeconfig,

    // ----- API (feature `kube`) -----
    /// A token with this id already exists.
    #[cfg(feature = "kube")]
    #[error("a token with id \"{token_id}\" already exists; delete it or choose another token")]
    TokenExists {
        /// The token id.
        token_id: TokenId,
    },

    /// The `kube-public/cluster-info` ConfigMap does not exist (or has no `kubeconfig`).
    #[cfg(feature = "kube")]
    #[error(
        "the cluster-info ConfigMap (kube-public/cluster-info) was not found; run the \
         bootstrap-token phase first"
    )]
    ClusterInfoNotFound,

    /// A Kubernetes API call failed.
    #[cfg(feature = "kube")]
    #[error("failed to {action}: {source}")]
    Api {
        /// What was being done, e.g. `create Secret kube-system/bootstrap-token-abcdef`.
        action: String,
        /// The client error.
        #[source]
        source: Box<kube::Error>,
    },
}

#[cfg(test)]
mod tests {
    use super::echo;

    #[test]
    fn echo_redacts_runs_that_may_be_a_secret() {
        let cases: &[(&[u8], &str)] = &[
            (b"", ""),
            (b"2025-01-02T00:00:00Z", "2025-01-02T00:00:00Z"),
            (
                b"system:bootstrappers:kubeadm:default-node-token",
                "system:bootstrappers:kubeadm:default-node-token",
            ),
            (
                b"system:bootstrappers:x2m5p8r1t4w7z0c3",
                "system:bootstrappers:[redacted]",
            ),
            (b"7h3k9q.x2m5p8r1t4w7z0c3\n", "7h3k9q.[redacted]\n"),
            (b"X2M5P8R1T4W7Z0C3", "[redacted]"),
            (b"x2m5p8r1t4w7z0c", "x2m5p8r1t4w7z0c"),
            (b"ax2m5p8r1t4w7z0c3b, c", "[redacted], c"),
            ("éx2m5p8r1t4w7z0c3é".as_bytes(), "é[redacted]é"),
            (b"\xffx2m5p8r1t4w7z0c3", "\u{fffd}[redacted]"),
            (b" a  b ", " a  b "),
        ];
        for (input, want) in cases {
            assert_eq!(echo(input), *want, "{:?}", String::from_utf8_lossy(input));
        }
    }
}
