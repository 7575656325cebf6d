//! Property tests: parsing, JWS tamper resistance, authenticator secrecy.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, UNIX_EPOCH};

use kubetrust_bootstrap_token::{BootstrapToken, Error, TokenId, TokenSpec, authenticate, jws};
use proptest::prelude::*;

/// The upstream regex `\A[a-z0-9]{6}\.[a-z0-9]{16}\z`, written independently.
fn matches_token_regex(s: &str) -> bool {
    let b = s.as_bytes();
    let ok = |c: &u8| c.is_ascii_digit() || c.is_ascii_lowercase();
    b.len() == 23 && b[6] == b'.' && b[..6].iter().all(ok) && b[7..].iter().all(ok)
}

fn token_strategy() -> impl Strategy<Value = BootstrapToken> {
    "[a-z0-9]{6}\\.[a-z0-9]{16}".prop_map(|s| s.parse().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generate_then_parse_round_trips(_seed in any::<u8>()) {
        let token = BootstrapToken::generate().unwrap();
        let text = token.expose_secret();
        prop_assert!(matches_token_regex(&text));
        let parsed: BootstrapToken = text.parse().unwrap();
        prop_assert_eq!(&parsed, &token);
        prop_assert_eq!(&*parsed.expose_secret(), &*text);
    }

    #[test]
    fn parse_accepts_exactly_the_regex(s in "\\PC{0,30}|[a-zA-Z0-9. \n_-]{20,26}") {
        let parsed = s.parse::<BootstrapToken>();
        prop_assert_eq!(parsed.is_ok(), matches_token_regex(&s), "{:?}", s);
        if let Ok(t) = parsed {
            prop_assert_eq!(&*t.expose_secret(), s.as_str());
        }
    }

    #[test]
    fn valid_tokens_parse(s in "[a-z0-9]{6}\\.[a-z0-9]{16}") {
        let t: BootstrapToken = s.parse().unwrap();
        prop_assert_eq!(t.id().as_str(), &s[..6]);
        prop_assert_eq!(t.secret().expose_secret(), &s[7..]);
    }

    #[test]
    fn sign_verify_round_trip(token in token_strategy(), payload in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let sig = token.sign_jws(&payload);
        prop_assert_eq!(sig.len(), jws::DETACHED_JWS_LEN);
        prop_assert!(token.verify_jws(&sig, &payload).is_ok());
    }

    #[test]
    fn any_single_byte_change_to_the_payload_never_verifies(
        token in token_strategy(),
        payload in proptest::collection::vec(any::<u8>(), 1..2048),
        index in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let sig = token.sign_jws(&payload);
        let mut tampered = payload.clone();
        let i = index.index(tampered.len());
        tampered[i] = tampered[i].wrapping_add(delta);
        let mismatch = matches!(
            token.verify_jws(&sig, &tampered),
            Err(Error::JwsSignatureMismatch { .. })
        );
        prop_assert!(mismatch);
    }

    #[test]
    fn any_single_byte_change_to_header_or_signature_never_verifies(
        token in token_strategy(),
        payload in proptest::collection::vec(any::<u8>(), 0..512),
        index in any::<prop::sample::Index>(),
        delta in 1u8..=255,
    ) {
        let sig = token.sign_jws(&payload);
        let mut bytes = sig.clone().into_bytes();
        let i = index.index(bytes.len());
        bytes[i] = bytes[i].wrapping_add(delta);
        // The verifier takes &str: a change that breaks UTF-8 is still a different string.
        let tampered = String::from_utf8_lossy(&bytes).into_owned();
        prop_assert_ne!(&tampered, &sig);
        prop_assert!(token.verify_jws(&tampered, &payload).is_err());
    }

    #[test]
    fn another_tokens_signature_never_verifies(
        a in token_strategy(),
        b in token_strategy(),
        payload in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        prop_assume!(a != b);
        prop_assert!(b.verify_jws(&a.sign_jws(&payload), &payload).is_err());
    }

    #[test]
    fn verify_never_panics_on_hostile_input(
        token in token_strategy(),
        jws_text in "\\PC{0,120}",
        payload in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let _ = token.verify_jws(&jws_text, &payload);
        let _ = jws_text.parse::<BootstrapToken>();
        let _ = jws_text.parse::<TokenId>();
    }

    #[test]
    fn authenticator_never_accepts_a_differing_secret(
        stored in token_strategy(),
        other_secret in "[a-z0-9]{16}",
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
        let secret = TokenSpec::new(stored.clone()).to_secret(now).unwrap();
        let presented: BootstrapToken = format!("{}.{other_secret}", stored.id()).parse().unwrap();
        let result = authenticate(&presented, &secret, now);
        if presented == stored {
            prop_assert!(result.is_ok());
        } else {
            let mismatch = matches!(result, Err(Error::SecretMismatch { .. }));
            prop_assert!(mismatch, "{:?}", result);
        }
    }
}
