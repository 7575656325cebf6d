//! The detached HS256 JWS on `kube-public/cluster-info`, byte for byte as the bootstrap signer
//! makes it and as kubeadm checks it.
//!
//! * protected header: exactly `{"alg":"HS256","kid":"<token-id>"}`;
//! * signing input: `BASE64URL(header) "." BASE64URL(payload)`, unpadded;
//! * key: the 16-character token **secret** only (not `<id>.<secret>`);
//! * stored value: `BASE64URL(header) ".." BASE64URL(HMAC-SHA256)`.
//!
//! Verification recomputes the whole string and compares it in constant time, so every
//! non-canonical form (padding, another or re-ordered header, a missing `kid`, `alg: none`, an
//! attached payload, a non-canonical last base64 character) is rejected, as kubeadm rejects it.
//! The payload is opaque bytes: never re-serialise or normalise it.
//!
//! ```
//! use kubetrust_bootstrap_token::{jws, BootstrapToken};
//! let token: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
//! let payload = b"apiVersion: v1\n";
//! let signature = token.sign_jws(payload);
//! assert!(signature.starts_with("eyJhbGciOiJIUzI1NiIsImtpZCI6IjdoM2s5cSJ9.."));
//! token.verify_jws(&signature, payload)?;
//! assert!(token.verify_jws(&signature, b"apiVersion: v2\n").is_err());
//! # Ok::<(), kubetrust_bootstrap_token::Error>(())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ct::bytes_eq;
use crate::error::Error;
use crate::hs256::mac_b64;
use crate::token::TOKEN_ID_LEN;
use crate::{BootstrapToken, TokenId};

/// `{"alg":"HS256","kid":` is 21 bytes, a multiple of 3, so its base64 is a constant prefix.
const HEADER_PREFIX_JSON: &[u8; 21] = br#"{"alg":"HS256","kid":"#;
const HEADER_PREFIX_B64: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6";
/// The rest of the header: `"<id>"}` = 9 bytes = 12 base64 characters.
const HEADER_TAIL_LEN: usize = 1 + TOKEN_ID_LEN + 2;
/// Length of the encoded header for a 6-character id.
pub const HEADER_B64_LEN: usize = HEADER_PREFIX_B64.len() + HEADER_TAIL_LEN / 3 * 4;
/// Length of the encoded MAC (32 bytes, unpadded).
pub const SIGNATURE_B64_LEN: usize = 43;
/// Length of a detached JWS for a 6-character id: 40 + 2 + 43.
pub const DETACHED_JWS_LEN: usize = HEADER_B64_LEN + 2 + SIGNATURE_B64_LEN;

/// The protected header bytes, `{"alg":"HS256","kid":"<id>"}`.
pub fn header_json(token_id: &TokenId) -> String {
    format!(r#"{{"alg":"HS256","kid":"{token_id}"}}"#)
}

/// The encoded protected header, `BASE64URL({"alg":"HS256","kid":"<id>"})` (40 characters).
pub fn header_b64(token_id: &TokenId) -> String {
    let mut out = String::with_capacity(HEADER_B64_LEN);
    push_header_b64(&mut out, token_id);
    out
}

fn push_header_b64(out: &mut String, token_id: &TokenId) {
    debug_assert_eq!(URL_SAFE_NO_PAD.encode(HEADER_PREFIX_JSON), HEADER_PREFIX_B64);
    let mut tail = [0u8; HEADER_TAIL_LEN];
    let (quote_open, rest) = tail.split_at_mut(1);
    let (id, close) = rest.split_at_mut(TOKEN_ID_LEN);
    quote_open.copy_from_slice(b"\"");
    id.copy_from_slice(token_id.as_str().as_bytes());
    close.copy_from_slice(b"\"}");
    out.push_str(HEADER_PREFIX_B64);
    URL_SAFE_NO_PAD.encode_string(tail, out);
}

/// Computes the detached JWS the bootstrap signer stores as `jws-kubeconfig-<id>`.
///
/// `key` is the token secret as bytes. Any length is accepted, including the 16 bytes of a
/// real token and the arbitrary strings of upstream's test vectors. Use
/// [`BootstrapToken::sign_jws`] when you hold a whole token.
pub fn sign_detached(payload: &[u8], token_id: &TokenId, key: &[u8]) -> String {
    let mut out = String::with_capacity(DETACHED_JWS_LEN);
    push_header_b64(&mut out, token_id);
    out.push('.');
    let tag = mac_b64(key, out.as_bytes(), payload);
    out.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut out);
    out
}

/// Verifies a detached JWS by recomputing it and comparing the whole string in constant time.
///
/// On failure the error says which part differs ([`Error::JwsNotDetached`],
/// [`Error::JwsHeaderMismatch`], [`Error::JwsSignatureMismatch`]); the decision itself is the
/// single constant-time comparison.
pub fn verify_detached(jws: &str, payload: &[u8], token_id: &TokenId, key: &[u8]) -> Result<(), Error> {
    let expected = sign_detached(payload, token_id, key);
    if bytes_eq(expected.as_bytes(), jws.as_bytes()) {
        return Ok(());
    }
    Err(explain_mismatch(jws, token_id))
}

/// Names the part of a rejected JWS that differs. Only public structure is inspected.
fn explain_mismatch(jws: &str, token_id: &TokenId) -> Error {
    let token_id = *token_id;
    let mut parts = jws.split('.');
    let (Some(header), Some(""), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Error::JwsNotDetached { token_id };
    };
    if header != header_b64(&token_id) {
        return Error::JwsHeaderMismatch { token_id };
    }
    Error::JwsSignatureMismatch { token_id }
}

impl BootstrapToken {
    /// Signs `payload` (the `cluster-info` `kubeconfig` value, as bytes) the way the bootstrap
    /// signer does: see [`sign_detached`].
    pub fn sign_jws(&self, payload: &[u8]) -> String {
        sign_detached(payload, self.id(), self.secret().expose_secret().as_bytes())
    }

    /// Verifies a `jws-kubeconfig-<id>` value against `payload` as kubeadm does: see
    /// [`verify_detached`].
    pub fn verify_jws(&self, jws: &str, payload: &[u8]) -> Result<(), Error> {
        verify_detached(jws, payload, self.id(), self.secret().expose_secret().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_generic_encoding() {
        let id: TokenId = "7h3k9q".parse().unwrap();
        assert_eq!(
            header_b64(&id),
            URL_SAFE_NO_PAD.encode(header_json(&id).as_bytes())
        );
        assert_eq!(header_b64(&id).len(), HEADER_B64_LEN);
        assert_eq!(header_b64(&id), "eyJhbGciOiJIUzI1NiIsImtpZCI6IjdoM2s5cSJ9");
    }

    #[test]
    fn matches_a_one_shot_reference() {
        use hmac::{Hmac, KeyInit, Mac};
        let id: TokenId = "abcdef".parse().unwrap();
        for len in [0, 1, 2, 3, 47, 48, 49, 767, 768, 769, 1536, 2048, 5000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let input = format!("{}.{}", header_b64(&id), URL_SAFE_NO_PAD.encode(&payload));
            let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"0123456789abcdef").unwrap();
            mac.update(input.as_bytes());
            let want = format!(
                "{}..{}",
                header_b64(&id),
                URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
            );
            assert_eq!(sign_detached(&payload, &id, b"0123456789abcdef"), want, "{len}");
        }
    }
}
