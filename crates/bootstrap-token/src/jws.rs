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
use hmac::digest::Key;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::Error;
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
    if bool::from(expected.as_bytes().ct_eq(jws.as_bytes())) {
        return Ok(());
    }
    Err(explain_mismatch(jws, token_id))
}

/// SHA-256's block: the HMAC key block (RFC 2104 §2).
const KEY_BLOCK: usize = 64;
/// Payload bytes encoded per MAC update: a multiple of 3, so each chunk encodes without
/// padding, and small enough that its encoding sits on the stack.
const CHUNK: usize = 768;
/// The encoding of one chunk.
const CHUNK_B64: usize = CHUNK / 3 * 4;
const _: () = assert!(CHUNK.is_multiple_of(3));

/// base64url without padding for the payload, with AVX2 or NEON where the CPU has them. The
/// scalar engine's encoding of a 2 KiB payload costs half as much as its HMAC; with SIMD, sign
/// and verify stay within 1.5 × the HMAC alone (see `BENCHMARKS.md`).
#[cfg(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon")))]
static PAYLOAD_ENGINE: std::sync::LazyLock<base64::engine::Simd> =
    std::sync::LazyLock::new(|| base64::engine::Simd::url_safe(base64::engine::general_purpose::NO_PAD));
/// base64url without padding for the payload (no SIMD engine for this target).
#[cfg(not(any(target_arch = "x86_64", all(target_arch = "aarch64", target_feature = "neon"))))]
static PAYLOAD_ENGINE: base64::engine::GeneralPurpose = URL_SAFE_NO_PAD;

/// HMAC-SHA256 with `key` over `prefix ‖ BASE64URL(payload)` (unpadded), the payload encoded
/// chunk by chunk into a stack buffer: no allocation, and the encoded chunk is still in L1
/// when it is hashed.
///
/// Key hygiene: the key block built here is wiped on drop, and with the `zeroize` features of
/// `hmac` and `sha2` (enabled by this crate) so are the MAC's inner and outer SHA-256 states.
/// What neither wipes is the stack of the `hmac` crate's key setup (the key block XORed with
/// the pads) and of the compression function; that memory is reused by the next calls.
fn mac_b64(key: &[u8], prefix: &[u8], payload: &[u8]) -> [u8; 32] {
    let block = key_block(key);
    let mut mac = Hmac::<Sha256>::new(<&Key<Hmac<Sha256>>>::from(&*block));
    mac.update(prefix);
    let mut encoded = [0u8; CHUNK_B64];
    for chunk in payload.chunks(CHUNK) {
        // The buffer holds the encoding of a whole chunk, so this never fails.
        let len = PAYLOAD_ENGINE.encode_slice(chunk, &mut encoded).unwrap_or(0);
        mac.update(encoded.get(..len).unwrap_or_default());
    }
    mac.finalize().into_bytes().into()
}

/// The key as HMAC uses it (RFC 2104 §2): zero-padded to a block, or first hashed when longer
/// than a block. Passing the block makes the MAC's construction infallible, where
/// `new_from_slice` returns a `Result` that cannot be an error.
fn key_block(key: &[u8]) -> Zeroizing<[u8; KEY_BLOCK]> {
    let hashed;
    let key = if key.len() > KEY_BLOCK {
        hashed = Zeroizing::new(<[u8; 32]>::from(Sha256::digest(key)));
        hashed.as_slice()
    } else {
        key
    };
    let mut block = Zeroizing::new([0u8; KEY_BLOCK]);
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    block
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

    /// The chunked MAC equals the `hmac` crate over the materialised signing input, across
    /// chunk boundaries and for keys of every length class (empty, token, block, longer).
    #[test]
    fn matches_a_one_shot_reference() {
        let id: TokenId = "abcdef".parse().unwrap();
        let keys: [&[u8]; 6] = [b"", b"0123456789abcdef", &[7; 64], &[9; 65], &[1; 200], b"k"];
        for key in keys {
            for len in [0, 1, 2, 3, 47, 48, 49, 767, 768, 769, 1536, 2048, 5000] {
                let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
                let input = format!("{}.{}", header_b64(&id), URL_SAFE_NO_PAD.encode(&payload));
                let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
                mac.update(input.as_bytes());
                let want = format!(
                    "{}..{}",
                    header_b64(&id),
                    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
                );
                assert_eq!(
                    sign_detached(&payload, &id, key),
                    want,
                    "key {} len {len}",
                    key.len()
                );
            }
        }
    }
}
