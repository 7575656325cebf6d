//! The token itself: [`TokenId`], [`TokenSecret`], [`BootstrapToken`] and generation.

use std::fmt;
use std::str::FromStr;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, TokenPart};
use crate::{JWS_KEY_PREFIX, SECRET_NAME_PREFIX, USER_PREFIX};

/// Characters in a token id.
pub const TOKEN_ID_LEN: usize = 6;
/// Characters in a token secret.
pub const TOKEN_SECRET_LEN: usize = 16;
/// Characters in a full token, `<id>.<secret>`.
pub const TOKEN_LEN: usize = TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN;

/// Whether `b` is in the token alphabet `[a-z0-9]`.
#[inline]
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_digit() || b.is_ascii_lowercase()
}

/// Whether every byte is in the token alphabet.
#[inline]
fn all_token_bytes(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| is_token_byte(b))
}

/// The `&str` view of bytes that are known to be ASCII.
#[inline]
fn ascii_str(bytes: &[u8]) -> &str {
    // Invariant: callers only pass bytes that passed `all_token_bytes`.
    std::str::from_utf8(bytes).unwrap_or_default()
}

/// The public half of a bootstrap token: 6 characters from `[a-z0-9]`.
///
/// The id appears in Secret names, in the JWS `kid`, in user names and in logs, so it has
/// `Display`.
///
/// ```
/// use kubetrust_bootstrap_token::TokenId;
/// let id: TokenId = "7h3k9q".parse()?;
/// assert_eq!(id.secret_name(), "bootstrap-token-7h3k9q");
/// assert_eq!(id.user_name(), "system:bootstrap:7h3k9q");
/// assert!("7H3K9Q".parse::<TokenId>().is_err());
/// # Ok::<(), kubetrust_bootstrap_token::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId([u8; TOKEN_ID_LEN]);

impl TokenId {
    /// The id as a string.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.0)
    }

    /// The name of the token's Secret in `kube-system`: `bootstrap-token-<id>`.
    pub fn secret_name(&self) -> String {
        format!("{SECRET_NAME_PREFIX}{self}")
    }

    /// The `cluster-info` data key holding this token's signature: `jws-kubeconfig-<id>`.
    pub fn jws_key(&self) -> String {
        format!("{JWS_KEY_PREFIX}{self}")
    }

    /// The user the apiserver authenticates this token as: `system:bootstrap:<id>`.
    pub fn user_name(&self) -> String {
        format!("{USER_PREFIX}{self}")
    }

    /// Parses the id out of a Secret name `bootstrap-token-<id>` (the signer's
    /// `^bootstrap-token-([a-z0-9]{6})$`).
    pub fn from_secret_name(name: &str) -> Option<Self> {
        let id = name.strip_prefix(SECRET_NAME_PREFIX)?;
        Self::from_bytes(id.as_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; TOKEN_ID_LEN] = bytes.try_into().ok()?;
        all_token_bytes(&arr).then_some(Self(arr))
    }
}

impl FromStr for TokenId {
    type Err = Error;

    /// Parses an id with the upstream regex `\A([a-z0-9]{6})\z`.
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_bytes(s.as_bytes()).ok_or_else(|| diagnose(s, TokenPart::Id))
    }
}

impl fmt::Display for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for TokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokenId").field(&self.as_str()).finish()
    }
}

/// The secret half of a bootstrap token: 16 characters from `[a-z0-9]`.
///
/// Zeroized on drop, `[redacted]` in `Debug`, no `Display`; equality is constant-time. The
/// characters are reachable only through [`TokenSecret::expose_secret`].
///
/// ```
/// use kubetrust_bootstrap_token::TokenSecret;
/// let secret: TokenSecret = "x2m5p8r1t4w7z0c3".parse()?;
/// assert_eq!(format!("{secret:?}"), "[redacted]");
/// assert_eq!(secret.expose_secret(), "x2m5p8r1t4w7z0c3");
/// # Ok::<(), kubetrust_bootstrap_token::Error>(())
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TokenSecret([u8; TOKEN_SECRET_LEN]);

impl TokenSecret {
    /// The secret characters. Never log or print them.
    pub fn expose_secret(&self) -> &str {
        ascii_str(&self.0)
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; TOKEN_SECRET_LEN] = bytes.try_into().ok()?;
        let secret = Self(arr);
        all_token_bytes(&secret.0).then_some(secret)
    }
}

impl FromStr for TokenSecret {
    type Err = Error;

    /// Parses a secret: exactly 16 characters from `[a-z0-9]`. Errors never echo the input.
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_bytes(s.as_bytes()).ok_or_else(|| diagnose(s, TokenPart::Secret))
    }
}

impl PartialEq for TokenSecret {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for TokenSecret {}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A bootstrap token `<id>.<secret>` (`abcdef.0123456789abcdef`).
///
/// Parsing accepts exactly what the upstream regex `\A([a-z0-9]{6})\.([a-z0-9]{16})\z`
/// accepts: no surrounding whitespace, no trailing newline, no upper case. An error names what
/// is wrong and where, never the secret. The type has no `Display`; the full string comes only
/// from [`BootstrapToken::expose_secret`], and `Debug` shows the id only.
///
/// ```
/// use kubetrust_bootstrap_token::{BootstrapToken, Error};
/// let token: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
/// assert_eq!(token.id().as_str(), "7h3k9q");
/// assert_eq!(format!("{token:?}"), r#"BootstrapToken { id: "7h3k9q", secret: [redacted] }"#);
/// assert_eq!(&*token.expose_secret(), "7h3k9q.x2m5p8r1t4w7z0c3");
///
/// let err = "7h3k9q.x2m5p8r1t4w7z0c3\n".parse::<BootstrapToken>().unwrap_err();
/// assert!(matches!(err, Error::TokenWhitespace { position: 24, .. }));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BootstrapToken {
    id: TokenId,
    secret: TokenSecret,
}

impl BootstrapToken {
    /// Builds a token from its two halves.
    pub fn new(id: TokenId, secret: TokenSecret) -> Self {
        Self { id, secret }
    }

    /// Generates a fresh token from the operating system's CSPRNG: 22 characters each drawn
    /// uniformly from `[0-9a-z]` (rejection sampling, no modulo bias), about 82.7 bits of secret.
    ///
    /// ```
    /// let token = kubetrust_bootstrap_token::BootstrapToken::generate()?;
    /// let again: kubetrust_bootstrap_token::BootstrapToken = token.expose_secret().parse()?;
    /// assert_eq!(token, again);
    /// # Ok::<(), kubetrust_bootstrap_token::Error>(())
    /// ```
    pub fn generate() -> Result<Self, Error> {
        generate_with(|buf| {
            getrandom::fill(buf).map_err(|e| Error::Random {
                source: std::io::Error::other(e),
            })
        })
    }

    /// The public id.
    pub fn id(&self) -> &TokenId {
        &self.id
    }

    /// The secret half.
    pub fn secret(&self) -> &TokenSecret {
        &self.secret
    }

    /// The full token `<id>.<secret>`, in a string that is zeroized when dropped. Never log it.
    pub fn expose_secret(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(String::with_capacity(TOKEN_LEN));
        s.push_str(self.id.as_str());
        s.push('.');
        s.push_str(self.secret.expose_secret());
        s
    }
}

impl FromStr for BootstrapToken {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bytes = s.as_bytes();
        if let (Some(id), Some(b'.'), Some(secret)) = (
            bytes.get(..TOKEN_ID_LEN),
            bytes.get(TOKEN_ID_LEN),
            bytes.get(TOKEN_ID_LEN + 1..),
        ) && let (Some(id), Some(secret)) = (TokenId::from_bytes(id), TokenSecret::from_bytes(secret))
        {
            return Ok(Self { id, secret });
        }
        Err(diagnose(s, TokenPart::Token))
    }
}

impl fmt::Debug for BootstrapToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BootstrapToken")
            .field("id", &self.id.as_str())
            .field("secret", &self.secret)
            .finish()
    }
}

/// Generates a fresh token from the OS CSPRNG; shorthand for [`BootstrapToken::generate`].
pub fn generate() -> Result<BootstrapToken, Error> {
    BootstrapToken::generate()
}

/// Maps 0..36 to `0-9a-z` (the upstream alphabet order).
#[inline]
fn alphabet_char(x: u8) -> u8 {
    if x < 10 { b'0' + x } else { b'a' + (x - 10) }
}

/// Random bytes below this bound are used (`x % 36`); the rest are rejected so every character
/// is equally likely. 252 = 7 * 36.
const REJECTION_BOUND: u8 = 252;

/// Generates a token, drawing random bytes from `fill`.
pub(crate) fn generate_with(
    mut fill: impl FnMut(&mut [u8]) -> Result<(), Error>,
) -> Result<BootstrapToken, Error> {
    let mut chars = Zeroizing::new([0u8; TOKEN_ID_LEN + TOKEN_SECRET_LEN]);
    let mut pool = Zeroizing::new([0u8; 32]);
    let mut filled = 0;
    while filled < chars.len() {
        fill(&mut pool[..])?;
        for &b in pool.iter() {
            if b >= REJECTION_BOUND {
                continue;
            }
            match chars.get_mut(filled) {
                Some(slot) => {
                    *slot = alphabet_char(b % 36);
                    filled += 1;
                }
                None => break,
            }
        }
    }
    let (id, secret) = chars.split_at(TOKEN_ID_LEN);
    match (TokenId::from_bytes(id), TokenSecret::from_bytes(secret)) {
        (Some(id), Some(secret)) => Ok(BootstrapToken { id, secret }),
        // Unreachable: every generated byte is in the alphabet.
        _ => Err(Error::TokenInvalidCharacter {
            part: TokenPart::Token,
            position: 1,
        }),
    }
}

/// Explains why `input` is not a valid `part`. Only called after the fast path failed.
///
/// Order: empty, whitespace anywhere, missing dot, characters left to right, then lengths.
/// Positions are 1-based and count characters, not bytes.
pub(crate) fn diagnose(input: &str, part: TokenPart) -> Error {
    if input.is_empty() {
        return match part {
            TokenPart::Token => Error::TokenEmpty,
            TokenPart::Id => Error::TokenIdLength { found: 0 },
            TokenPart::Secret => Error::TokenSecretLength { found: 0 },
        };
    }
    if let Some(i) = input.chars().position(char::is_whitespace) {
        return Error::TokenWhitespace {
            part,
            position: i + 1,
        };
    }
    let (id, secret, secret_offset) = match part {
        TokenPart::Token => match input.split_once('.') {
            Some((id, secret)) => (Some(id), Some(secret), id.chars().count() + 1),
            None => return Error::TokenMissingDot,
        },
        TokenPart::Id => (Some(input), None, 0),
        TokenPart::Secret => (None, Some(input), 0),
    };
    let bad_char = |s: &str, offset: usize| {
        s.chars().enumerate().find_map(|(i, c)| {
            let position = offset + i + 1;
            if c.is_ascii_uppercase() {
                Some(Error::TokenUppercase { part, position })
            } else if c.is_ascii_digit() || c.is_ascii_lowercase() {
                None
            } else {
                Some(Error::TokenInvalidCharacter { part, position })
            }
        })
    };
    if let Some(err) = id
        .and_then(|id| bad_char(id, 0))
        .or_else(|| secret.and_then(|s| bad_char(s, secret_offset)))
    {
        return err;
    }
    if let Some(id) = id {
        let found = id.chars().count();
        if found != TOKEN_ID_LEN {
            return Error::TokenIdLength { found };
        }
    }
    if let Some(secret) = secret {
        let found = secret.chars().count();
        if found != TOKEN_SECRET_LEN {
            return Error::TokenSecretLength { found };
        }
    }
    // Unreachable when the fast path rejected the input; kept total for safety.
    Error::TokenInvalidCharacter { part, position: 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alphabet_mapping_matches_upstream_order() {
        let mapped: Vec<u8> = (0u8..36).map(alphabet_char).collect();
        assert_eq!(mapped, b"0123456789abcdefghijklmnopqrstuvwxyz");
    }

    #[test]
    fn rejection_sampling_skips_biased_bytes_and_is_uniform() {
        // Feed every byte value in turn: each accepted value maps to x % 36, 252..=255 are skipped.
        let mut next = 0u16;
        let mut fed = Vec::new();
        let token = generate_with(|buf| {
            for b in buf.iter_mut() {
                *b = (next % 256) as u8;
                fed.push(*b);
                next += 1;
            }
            Ok(())
        })
        .unwrap();
        let full = token.expose_secret();
        assert_eq!(&full[..6], "012345");
        assert_eq!(&full[7..], "6789abcdefghijkl");

        // Counting over one full cycle of 0..=255: each of the 36 characters appears 7 times.
        let mut counts = [0u32; 36];
        for b in 0u8..=255 {
            if b < REJECTION_BOUND {
                counts[usize::from(b % 36)] += 1;
            }
        }
        assert!(counts.iter().all(|&c| c == 7));
    }

    #[test]
    fn rejected_bytes_are_never_used() {
        let mut calls = 0;
        let token = generate_with(|buf| {
            calls += 1;
            // First pool: only rejected bytes. Second pool: all 'z' (35).
            buf.fill(if calls == 1 { 255 } else { 35 });
            Ok(())
        })
        .unwrap();
        assert_eq!(&*token.expose_secret(), "zzzzzz.zzzzzzzzzzzzzzzz");
        assert_eq!(calls, 2);
    }

    #[test]
    fn random_failure_is_reported() {
        let err = generate_with(|_| {
            Err(Error::Random {
                source: std::io::Error::other("no entropy"),
            })
        })
        .unwrap_err();
        assert!(matches!(err, Error::Random { .. }));
    }

    #[test]
    fn generated_tokens_differ() {
        let a = BootstrapToken::generate().unwrap();
        let b = BootstrapToken::generate().unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn diagnosis_names_the_problem() {
        let cases: &[(&str, Error)] = &[
            ("", Error::TokenEmpty),
            (
                " abcdef.0123456789abcdef",
                Error::TokenWhitespace {
                    part: TokenPart::Token,
                    position: 1,
                },
            ),
            (
                "abcdef.0123456789abcdef\n",
                Error::TokenWhitespace {
                    part: TokenPart::Token,
                    position: 24,
                },
            ),
            ("abcdef0123456789abcdef", Error::TokenMissingDot),
            ("abcdef:0123456789abcdef", Error::TokenMissingDot),
            ("abcde.0123456789abcdef", Error::TokenIdLength { found: 5 }),
            ("abcdefg.0123456789abcdef", Error::TokenIdLength { found: 7 }),
            ("abcdef.0123456789abcde", Error::TokenSecretLength { found: 15 }),
            (
                "abcdef.0123456789abcdef.x",
                Error::TokenInvalidCharacter {
                    part: TokenPart::Token,
                    position: 24,
                },
            ),
            ("abcdef.0123456789abcdef0", Error::TokenSecretLength { found: 17 }),
            (
                "ABCDEF.0123456789abcdef",
                Error::TokenUppercase {
                    part: TokenPart::Token,
                    position: 1,
                },
            ),
            (
                "abcdef.0123456789abcDEF",
                Error::TokenUppercase {
                    part: TokenPart::Token,
                    position: 21,
                },
            ),
            (
                "abc-ef.0123456789abcdef",
                Error::TokenInvalidCharacter {
                    part: TokenPart::Token,
                    position: 4,
                },
            ),
            (
                "abcdef.0123456789abcdé",
                Error::TokenInvalidCharacter {
                    part: TokenPart::Token,
                    position: 22,
                },
            ),
        ];
        for (input, want) in cases {
            let got = input.parse::<BootstrapToken>().unwrap_err();
            assert_eq!(format!("{got:?}"), format!("{want:?}"), "input {input:?}");
        }
    }

    #[test]
    fn errors_never_echo_the_secret() {
        for input in [
            "abcdef.s3cr3tsecretval",
            "abcdef.S3CR3TSECRETVALU",
            "abcdef.s3cr3t_secretval",
            "abcdef.s3cr3tsecretvalue-",
            "abcdef.s3cr3tsecretvalu ",
        ] {
            let err = input.parse::<BootstrapToken>().unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(!text.to_lowercase().contains("s3cr3t"), "{text}");
        }
    }

    #[test]
    fn id_and_secret_parse_on_their_own() {
        assert!("abcdef".parse::<TokenId>().is_ok());
        assert!(matches!(
            "abc".parse::<TokenId>(),
            Err(Error::TokenIdLength { found: 3 })
        ));
        assert!(matches!(
            "abcdeF".parse::<TokenId>(),
            Err(Error::TokenUppercase {
                part: TokenPart::Id,
                position: 6
            })
        ));
        assert!("0123456789abcdef".parse::<TokenSecret>().is_ok());
        assert!(matches!(
            "0123456789abcdef\n".parse::<TokenSecret>(),
            Err(Error::TokenWhitespace {
                part: TokenPart::Secret,
                position: 17
            })
        ));
        assert_eq!(
            TokenId::from_secret_name("bootstrap-token-abcdef").map(|i| i.to_string()),
            Some("abcdef".to_owned())
        );
        assert_eq!(TokenId::from_secret_name("bootstrap-token-abcdef\n"), None);
        assert_eq!(TokenId::from_secret_name("bootstrap-token-abcdeg1"), None);
    }
}
