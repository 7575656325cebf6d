//! Detached-JWS verification never panics, and accepts a value only if it is exactly the
//! signature the bootstrap signer would compute.
//!
//! Input layout: `<candidate JWS> 0x00 <payload>`; without a 0x00 the whole input is the
//! candidate and the payload is empty.

#![no_main]

use kubetrust_bootstrap_token::BootstrapToken;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (candidate, payload) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(token) = "7h3k9q.x2m5p8r1t4w7z0c3".parse::<BootstrapToken>() else {
        return;
    };
    let expected = token.sign_jws(payload);
    assert!(token.verify_jws(&expected, payload).is_ok());

    let candidate = String::from_utf8_lossy(candidate);
    let verdict = token.verify_jws(&candidate, payload);
    assert_eq!(verdict.is_ok(), candidate == expected);
});
