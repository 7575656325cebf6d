//! One-string join tokens: the bootstrap token, the CA pins and optionally the API server
//! endpoint in one copy-paste, so that the pin cannot be left behind. With kubeadm the pin
//! travels apart from the token (`--discovery-token-ca-cert-hash`), and users skip it
//! (kubeadm#534; Cluster API falls back to the unsafe mode when it has no pin).
//!
//! Version 1, five fields separated by `.` (the endpoint, last, may itself hold dots):
//!
//! ```text
//! kjt1.<token id>.<token secret>.<pins>[.<host:port>]
//! ```
//!
//! - `kjt1`: a fixed prefix and the format's version. Secret scanners find leaked tokens with
//!   `\bkjt1\.[a-z0-9]{6}\.[a-z0-9]{16}\.[A-Za-z0-9_-]{43,}`.
//! - the token id and secret: a kubeadm bootstrap token's two halves.
//! - `<pins>`: the SHA-256 SubjectPublicKeyInfo pins (kubeadm's `sha256:` hashes), 32 bytes
//!   each, concatenated and base64url-encoded without padding: one pin is 43 characters.
//!   Several pins let a token stay valid across a CA rotation. Pins are of the key, not of
//!   the certificate file, so a CA re-issued with the same key keeps its tokens working.
//! - `<host:port>`: optional, the API server endpoint the node dials (an IPv6 address in
//!   brackets), exactly as after `kubeadm join`.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kubetrust_bootstrap_token::{BootstrapToken, JoinCommand};
use kubetrust_kubeadm_config::net::HostPort;
use kubetrust_pki::CaCertHash;
use zeroize::Zeroizing;

use crate::{Error, PinSet, Trust};

/// The prefix, with the version, of every version-1 join token.
pub const JOIN_TOKEN_PREFIX: &str = "kjt1.";

/// At most this many pins in one token (a rotation needs two; a few more cover bundles).
pub const MAX_JOIN_TOKEN_PINS: usize = 8;

const PIN_LEN: usize = 32;

/// A bootstrap token with the CA pins it must be used with, and optionally where to use it.
///
/// Like the token it holds, it has no `Display` and a redacted `Debug`: the text form comes
/// only from [`expose_secret`](Self::expose_secret).
///
/// ```
/// use kubetrust_discovery::{JoinToken, PinSet};
///
/// let token = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
/// let pins = PinSet::parse(["sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"])?;
/// let join = JoinToken::new(token, pins).with_endpoint("10.0.0.10:6443")?;
/// let text = join.expose_secret();
/// assert_eq!(
///     text.as_str(),
///     "kjt1.7h3k9q.x2m5p8r1t4w7z0c3.ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8.10.0.0.10:6443"
/// );
/// assert_eq!(text.parse::<JoinToken>()?, join);
/// assert!(!format!("{join:?}").contains("x2m5p8r1t4w7z0c3"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JoinToken {
    token: BootstrapToken,
    pins: PinSet,
    endpoint: Option<String>,
}

impl JoinToken {
    /// A join token without an endpoint (the node is told where to join apart from it).
    pub fn new(token: BootstrapToken, pins: PinSet) -> Self {
        Self {
            token,
            pins,
            endpoint: None,
        }
    }

    /// The token with the API server endpoint (`host:port`) it is for.
    ///
    /// # Errors
    /// [`Error::JoinTokenEndpoint`] when `endpoint` is not `host:port`.
    pub fn with_endpoint(mut self, endpoint: &str) -> Result<Self, Error> {
        self.endpoint = Some(checked_endpoint(endpoint)?);
        Ok(self)
    }

    /// The bootstrap token (kubeadm's `--token`).
    pub fn token(&self) -> &BootstrapToken {
        &self.token
    }

    /// The CA pins (kubeadm's `--discovery-token-ca-cert-hash` values).
    pub fn pins(&self) -> &PinSet {
        &self.pins
    }

    /// The API server endpoint, when the token carries one.
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// Discovery's trust: the token's pins, never the unsafe skip.
    pub fn trust(&self) -> Trust {
        Trust::Pinned(self.pins.clone())
    }

    /// kubeadm's form of the same thing: `kubeadm join <endpoint> --token ...
    /// --discovery-token-ca-cert-hash ...`, when the token carries its endpoint.
    pub fn join_command(&self) -> Option<JoinCommand> {
        let endpoint = self.endpoint.as_deref()?;
        Some(
            JoinCommand::new(endpoint, self.token.clone())
                .with_ca_cert_hashes(self.pins.pins().iter().map(ToString::to_string)),
        )
    }

    /// The one-string form, in a string that is zeroized when dropped. Never log it.
    pub fn expose_secret(&self) -> Zeroizing<String> {
        let pins: Vec<u8> = self.pins.pins().iter().flat_map(|pin| *pin.as_bytes()).collect();
        let mut text = Zeroizing::new(String::with_capacity(128));
        text.push_str(JOIN_TOKEN_PREFIX);
        text.push_str(&self.token.expose_secret());
        text.push('.');
        URL_SAFE_NO_PAD.encode_string(pins, &mut text);
        if let Some(endpoint) = &self.endpoint {
            text.push('.');
            text.push_str(endpoint);
        }
        text
    }
}

impl std::str::FromStr for JoinToken {
    type Err = Error;

    /// Parses the one-string form. No error repeats the input: it holds a secret.
    fn from_str(text: &str) -> Result<Self, Error> {
        let Some(rest) = text.strip_prefix(JOIN_TOKEN_PREFIX) else {
            return Err(unsupported_prefix(text));
        };
        let mut fields = rest.splitn(4, '.');
        let (Some(id), Some(secret), Some(pins)) = (fields.next(), fields.next(), fields.next()) else {
            return Err(Error::JoinTokenFields {
                found: 1 + rest.split('.').count().min(4),
            });
        };
        let token = Zeroizing::new(format!("{id}.{secret}"))
            .parse::<BootstrapToken>()
            .map_err(Error::JoinTokenBootstrapToken)?;
        let mut join_token = Self::new(token, decode_pins(pins)?);
        if let Some(endpoint) = fields.next() {
            join_token.endpoint = Some(checked_endpoint(endpoint)?);
        }
        Ok(join_token)
    }
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("token", &self.token)
            .field("pins", &self.pins)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Says what the text is instead, without repeating it: a later version, kubeadm's
/// `id.secret`, k3s's `K10...`, or something else.
fn unsupported_prefix(text: &str) -> Error {
    let version = text
        .strip_prefix("kjt")
        .and_then(|rest| rest.split_once('.'))
        .map(|(version, _)| version)
        .filter(|version| !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()));
    match version {
        Some(version) => Error::JoinTokenVersion {
            version: version.chars().take(8).collect(),
        },
        None => Error::NotAJoinToken {
            looks_like: if text.parse::<BootstrapToken>().is_ok() {
                "a kubeadm bootstrap token (id.secret) without pins"
            } else if text.starts_with("K10") {
                "a k3s token (K10...)"
            } else {
                "none of the known token forms"
            },
        },
    }
}

fn decode_pins(text: &str) -> Result<PinSet, Error> {
    let invalid = |reason| Error::JoinTokenPins { reason };
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| invalid("not base64url without padding"))?;
    if bytes.is_empty() || !bytes.len().is_multiple_of(PIN_LEN) {
        return Err(invalid("not a whole number of 32-byte SHA-256 pins"));
    }
    if bytes.len() / PIN_LEN > MAX_JOIN_TOKEN_PINS {
        return Err(invalid("more than 8 pins"));
    }
    let pins = bytes.chunks_exact(PIN_LEN).map(|chunk| {
        let mut digest = [0u8; PIN_LEN];
        digest.copy_from_slice(chunk);
        CaCertHash::from_bytes(digest)
    });
    PinSet::new(pins)
}

fn checked_endpoint(endpoint: &str) -> Result<String, Error> {
    HostPort::with_port(endpoint).map_err(|reason| Error::JoinTokenEndpoint { reason })?;
    Ok(endpoint.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
    const PIN_A: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const PIN_B: &str = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

    fn join_token(pins: &[&str]) -> JoinToken {
        JoinToken::new(TOKEN.parse().unwrap(), PinSet::parse(pins).unwrap())
    }

    #[test]
    fn round_trips_with_and_without_endpoint_and_keeps_pin_order() {
        for endpoint in [
            None,
            Some("10.0.0.10:6443"),
            Some("[fd00::10]:6443"),
            Some("cp.example.com:443"),
        ] {
            let mut token = join_token(&[PIN_B, PIN_A]);
            if let Some(endpoint) = endpoint {
                token = token.with_endpoint(endpoint).unwrap();
            }
            let text = token.expose_secret();
            let parsed: JoinToken = text.parse().unwrap();
            assert_eq!(parsed, token);
            assert_eq!(parsed.endpoint(), endpoint);
            let pins: Vec<String> = parsed.pins().pins().iter().map(ToString::to_string).collect();
            assert_eq!(pins, [PIN_B, PIN_A]);
            assert_eq!(&*parsed.token().expose_secret(), TOKEN);
        }
    }

    #[test]
    fn two_pins_are_86_characters_and_scanner_shaped() {
        let text = join_token(&[PIN_A, PIN_B]).expose_secret();
        let pins = text.split('.').nth(3).unwrap();
        assert_eq!(pins.len(), 86);
        assert!(
            pins.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert!(text.starts_with("kjt1.7h3k9q.x2m5p8r1t4w7z0c3."));
    }

    #[test]
    fn converts_to_kubeadms_join_command() {
        let token = join_token(&[PIN_A]).with_endpoint("10.0.0.10:6443").unwrap();
        let command = token.join_command().unwrap();
        // kubeadm's own line ends in a space.
        let expected = format!(
            "kubeadm join 10.0.0.10:6443 --token <value withheld> --discovery-token-ca-cert-hash {PIN_A} "
        );
        assert_eq!(command.withheld(), expected);
        assert!(join_token(&[PIN_A]).join_command().is_none());
        assert!(matches!(token.trust(), Trust::Pinned(set) if set.pins().len() == 1));
    }

    #[test]
    fn each_bad_part_is_its_own_error_and_none_repeats_the_secret() {
        let good = join_token(&[PIN_A]).expose_secret();
        let pins = good.split('.').nth(3).unwrap().to_owned();
        type Expected = fn(&Error) -> bool;
        let cases: Vec<(String, Expected)> = vec![
            (
                TOKEN.to_owned(),
                |e| matches!(e, Error::NotAJoinToken { looks_like } if looks_like.contains("kubeadm")),
            ),
            (
                format!("K10{}::{TOKEN}", "0".repeat(64)),
                |e| matches!(e, Error::NotAJoinToken { looks_like } if looks_like.contains("k3s")),
            ),
            (
                format!("kjt2.{TOKEN}.{pins}"),
                |e| matches!(e, Error::JoinTokenVersion { version } if version == "2"),
            ),
            ("kjt1.7h3k9q".to_owned(), |e| {
                matches!(e, Error::JoinTokenFields { found: 2 })
            }),
            (format!("kjt1.{TOKEN}"), |e| {
                matches!(e, Error::JoinTokenFields { found: 3 })
            }),
            (format!("kjt1.7h3k9q.X2m5p8r1t4w7z0c3.{pins}"), |e| {
                matches!(e, Error::JoinTokenBootstrapToken(_))
            }),
            (format!("kjt1.{TOKEN}.{pins}="), |e| {
                matches!(e, Error::JoinTokenPins { .. })
            }),
            (format!("kjt1.{TOKEN}."), |e| {
                matches!(e, Error::JoinTokenPins { .. })
            }),
            (format!("kjt1.{TOKEN}.{}", &pins[..40]), |e| {
                matches!(e, Error::JoinTokenPins { .. })
            }),
            (
                format!("kjt1.{TOKEN}.{}", URL_SAFE_NO_PAD.encode([7u8; 32 * 9])),
                |e| matches!(e, Error::JoinTokenPins { reason } if reason.contains("8")),
            ),
            (format!("kjt1.{TOKEN}.{pins}.10.0.0.10"), |e| {
                matches!(e, Error::JoinTokenEndpoint { .. })
            }),
            (format!("kjt1.{TOKEN}.{pins}."), |e| {
                matches!(e, Error::JoinTokenEndpoint { .. })
            }),
        ];
        for (input, expected) in cases {
            let err = input.parse::<JoinToken>().unwrap_err();
            assert!(expected(&err), "{input}: {err:?}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("x2m5p8r1t4w7z0c3"), "{input}: {shown}");
        }
    }
}
