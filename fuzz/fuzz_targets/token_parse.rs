//! Token, token-id, token-secret, group and expiration parsing never panic, and whatever
//! parses as a token round-trips to the same bytes.

#![no_main]

use kubetrust_bootstrap_token::{BootstrapToken, Expiration, TokenId, TokenSecret, is_valid_group};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Expirations are Secret data: arbitrary bytes.
    let _ = Expiration::parse(data);

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = text.parse::<BootstrapToken>() {
        assert_eq!(token.expose_secret().as_str(), text);
        assert_eq!(text.len(), 23);
    }
    if let Ok(id) = text.parse::<TokenId>() {
        assert_eq!(id.as_str(), text);
    }
    if let Ok(secret) = text.parse::<TokenSecret>() {
        assert_eq!(secret.expose_secret(), text);
    }
    let _ = TokenId::from_secret_name(text);
    let _ = is_valid_group(text);
});
