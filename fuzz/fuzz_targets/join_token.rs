//! One-string join tokens and k3s tokens: parsing never panics; whatever parses as a join
//! token emits the same text again; neither `Debug` nor any error shows the token's secret;
//! a k3s token is only turned into a join token for a CA bundle whose hash it names.

#![no_main]

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::{JoinToken, K3sCredentials, K3sToken};
use libfuzzer_sys::fuzz_target;

/// The vector CA bundle: two certificates (P-256, RSA-2048).
const BUNDLE: &[u8] = include_bytes!("../../testdata/discovery/ca-bundle.pem");

/// A token-shaped secret: 16 of `[a-z0-9]` (shorter strings occur in any message).
fn token_shaped(secret: &str) -> bool {
    secret.len() == 16
        && secret
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The join token's secret: its third field.
    let join_secret = text.split('.').nth(2).filter(|s| token_shaped(s));
    match text.parse::<JoinToken>() {
        Ok(token) => {
            assert_eq!(token.expose_secret().as_str(), text);
            assert!(!token.pins().pins().is_empty());
            let secret = token.token().secret().expose_secret();
            // The endpoint is shown; it may, by chance, spell the secret.
            let in_endpoint = token.endpoint().is_some_and(|e| e.contains(secret));
            assert!(in_endpoint || !format!("{token:?}").contains(secret));
        }
        Err(error) => {
            if let Some(secret) = join_secret {
                assert!(!format!("{error} {error:?}").contains(secret), "{error}");
            }
        }
    }
    // A k3s token's bootstrap-token secret (a password is checked through the exact `Debug`).
    let credentials = text
        .strip_prefix("K10")
        .map_or(text, |rest| rest.split_once("::").map_or(rest, |(_, c)| c));
    let k3s_secret = credentials
        .parse::<BootstrapToken>()
        .ok()
        .and_then(|_| credentials.split_once('.').map(|(_, secret)| secret));
    match text.parse::<K3sToken>() {
        Ok(token) => {
            let shown = format!("{token:?}");
            // The CA hash is shown; it may, by chance, spell the secret.
            if let Some(secret) = k3s_secret.filter(|s| !token.ca_hash().is_some_and(|h| h.contains(s))) {
                assert!(!shown.contains(secret));
            }
            if let K3sCredentials::Password { user, .. } = token.credentials() {
                let expected = format!(
                    "K3sToken {{ ca_hash: {:?}, credentials: Password {{ user: {user:?}, password: \"[redacted]\" }} }}",
                    token.ca_hash()
                );
                assert_eq!(shown, expected);
            }
            if let Ok(join) = token.to_join_token(BUNDLE) {
                assert_eq!(token.ca_hash(), K3sToken::hash_ca(BUNDLE).ok().as_deref());
                assert_eq!(join.pins().pins().len(), 2);
                assert!(credentials.parse::<BootstrapToken>().is_ok());
            }
        }
        Err(error) => {
            if let Some(secret) = k3s_secret {
                assert!(!format!("{error} {error:?}").contains(secret), "{error}");
            }
        }
    }
});
