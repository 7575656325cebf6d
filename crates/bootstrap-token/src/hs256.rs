//! HMAC-SHA256 over `<header>.BASE64URL(payload)`, fused with the base64 encoding.
//!
//! Why not `hmac::Hmac` fed with an encoded buffer: SHA-256 on SHA-NI is bound by the latency
//! of its round instructions, which leaves the other execution units idle. Encoding one
//! 64-character block of base64 and then compressing it, block after block, lets the CPU
//! overlap the encoding with the hashing; calling the hash once per block needs the raw
//! compression function. For a 2 KiB payload on the project machine this took HMAC + encoding
//! from 3.1–3.4 µs to 2.6–2.9 µs (see `BENCHMARKS.md`, section bootstrap-token).
//!
//! HMAC is RFC 2104 over `sha2`'s SHA-256 compression function; the tests compare it with
//! the `hmac` crate for keys of every length class and payloads of every length up to several
//! blocks.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::block_api::compress256;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// SHA-256 block size, also the HMAC key block.
const BLOCK: usize = 64;

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// The URL-safe base64 alphabet (RFC 4648 §5).
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Two base64 characters for every 12-bit value, first character in the low byte.
static PAIRS: [u16; 4096] = pairs();

// Evaluated at compile time: an out-of-bounds index would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
const fn pairs() -> [u16; 4096] {
    let mut table = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        table[i] = ALPHABET[i >> 6] as u16 | (ALPHABET[i & 63] as u16) << 8;
        i += 1;
    }
    table
}

#[inline(always)]
fn pair(bits: u64) -> u64 {
    // The mask keeps the index in range, so the compiler drops the bounds check.
    u64::from(PAIRS.get((bits & 0xfff) as usize).copied().unwrap_or_default())
}

/// Encodes 48 bytes into 64 base64url characters, six bytes (eight characters) at a time.
#[inline(always)]
fn encode_block(input: &[u8; 48], out: &mut [u8; BLOCK]) {
    let [a, b, c, d, e, f, ..] = *input;
    let first = u64::from_be_bytes([0, 0, a, b, c, d, e, f]);
    // Every later group is read together with the two bytes before it: one eight-byte load
    // instead of six byte loads (the extra bytes fall outside the 48 bits used below).
    let later = input
        .get(4..)
        .unwrap_or_default()
        .windows(8)
        .step_by(6)
        .map(|bytes| u64::from_be_bytes(bytes.try_into().unwrap_or_default()));
    let (outs, _) = out.as_chunks_mut::<8>();
    for (w, chars) in std::iter::once(first).chain(later).zip(outs) {
        let v = pair(w >> 36) | pair(w >> 24) << 16 | pair(w >> 12) << 32 | pair(w) << 48;
        *chars = v.to_le_bytes();
    }
}

/// Incremental SHA-256 over `compress256`.
///
/// The buffer is two blocks long so that a whole encoded block can be written behind the
/// pending bytes and hashed without an intermediate copy.
struct Sha256Stream {
    state: [u32; 8],
    buf: [u8; 2 * BLOCK],
    len: usize,
    total: u64,
}

/// After the key block, the chaining state is as good as the key (an HMAC midstate forges
/// tags), so it is wiped like the key.
impl Drop for Sha256Stream {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.state.zeroize();
        self.buf.zeroize();
    }
}

impl Sha256Stream {
    fn new() -> Self {
        Self {
            state: IV,
            buf: [0; 2 * BLOCK],
            len: 0,
            total: 0,
        }
    }

    /// Hashes the first block of the buffer and moves what follows it to the front.
    fn flush_block(&mut self) {
        let (block, _) = self.buf.as_chunks::<BLOCK>();
        compress256(&mut self.state, block.get(..1).unwrap_or_default());
        self.len -= BLOCK;
        // A fixed-size copy of the whole second block: inlined moves instead of a memmove call.
        let (front, back) = self.buf.split_at_mut(BLOCK);
        front.copy_from_slice(back);
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.len > 0 {
            let take = (BLOCK - self.len).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(dst) = self.buf.get_mut(self.len..self.len + take) {
                dst.copy_from_slice(head);
            }
            self.len += take;
            data = rest;
            if self.len < BLOCK {
                return;
            }
            self.flush_block();
        }
        let (blocks, rest) = data.as_chunks::<BLOCK>();
        if !blocks.is_empty() {
            compress256(&mut self.state, blocks);
        }
        if let Some(dst) = self.buf.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.len = rest.len();
    }

    /// Appends `BASE64URL(group)` (64 characters) and hashes the block it completes.
    #[inline(always)]
    fn update_encoded(&mut self, group: &[u8; 48]) {
        if let Some(out) = self
            .buf
            .get_mut(self.len..self.len + BLOCK)
            .and_then(|out| <&mut [u8; BLOCK]>::try_from(out).ok())
        {
            encode_block(group, out);
        }
        self.total = self.total.wrapping_add(BLOCK as u64);
        self.len += BLOCK;
        self.flush_block();
    }

    fn finalize(mut self) -> [u8; 32] {
        let bits = self.total.wrapping_mul(8);
        // 0x80, then zeros up to 56 mod 64, then the bit length.
        let mut pad = [0u8; BLOCK];
        if let Some(first) = pad.first_mut() {
            *first = 0x80;
        }
        let zeros = (119 - self.len) % BLOCK;
        self.update(pad.get(..1 + zeros).unwrap_or_default());
        self.update(&bits.to_be_bytes());
        let mut out = [0u8; 32];
        for (dst, word) in out.chunks_exact_mut(4).zip(self.state) {
            dst.copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// The key block of RFC 2104: the key zero-padded, or its hash if longer than a block.
fn key_block(key: &[u8]) -> Zeroizing<[u8; BLOCK]> {
    let mut block = Zeroizing::new([0u8; BLOCK]);
    let digest;
    let key = if key.len() > BLOCK {
        digest = Sha256::digest(key);
        digest.as_slice()
    } else {
        key
    };
    for (dst, src) in block.iter_mut().zip(key) {
        *dst = *src;
    }
    block
}

fn keyed(key_block: &[u8; BLOCK], pad: u8) -> Sha256Stream {
    let mut block = Zeroizing::new([0u8; BLOCK]);
    for (dst, k) in block.iter_mut().zip(key_block) {
        *dst = k ^ pad;
    }
    let mut stream = Sha256Stream::new();
    stream.update(&*block);
    stream
}

/// HMAC-SHA256(key, `prefix` ‖ BASE64URL(payload)), the payload unpadded.
pub(crate) fn mac_b64(key: &[u8], prefix: &[u8], payload: &[u8]) -> [u8; 32] {
    let key_block = key_block(key);
    let mut inner = keyed(&key_block, 0x36);
    inner.update(prefix);
    let (groups, rest) = payload.as_chunks::<48>();
    for group in groups {
        inner.update_encoded(group);
    }
    // Fewer than 48 bytes remain: at most 64 characters.
    let mut chars = [0u8; BLOCK];
    let n = URL_SAFE_NO_PAD.encode_slice(rest, &mut chars).unwrap_or(0);
    inner.update(chars.get(..n).unwrap_or_default());
    let inner = inner.finalize();

    let mut outer = keyed(&key_block, 0x5c);
    outer.update(&inner);
    outer.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, KeyInit, Mac};

    fn reference(key: &[u8], prefix: &[u8], payload: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
        mac.update(prefix);
        mac.update(URL_SAFE_NO_PAD.encode(payload).as_bytes());
        mac.finalize().into_bytes().into()
    }

    #[test]
    fn pair_table_is_the_alphabet() {
        for i in 0..4096usize {
            let [a, b] = PAIRS[i].to_le_bytes();
            assert_eq!(a, ALPHABET[i >> 6]);
            assert_eq!(b, ALPHABET[i & 63]);
        }
    }

    #[test]
    fn block_encoding_matches_base64() {
        let input: [u8; 48] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        let mut out = [0u8; 64];
        encode_block(&input, &mut out);
        assert_eq!(&out[..], URL_SAFE_NO_PAD.encode(input).as_bytes());
        let input = [0xffu8; 48];
        encode_block(&input, &mut out);
        assert_eq!(&out[..], URL_SAFE_NO_PAD.encode(input).as_bytes());
    }

    #[test]
    fn sha256_matches_sha2_for_every_length() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 1) as u8).collect();
        for len in 0..data.len() {
            for split in [0, 1, len / 2, len] {
                let mut s = Sha256Stream::new();
                s.update(&data[..split.min(len)]);
                s.update(&data[split.min(len)..len]);
                assert_eq!(s.finalize(), <[u8; 32]>::from(Sha256::digest(&data[..len])));
            }
        }
    }

    #[test]
    fn hmac_matches_the_hmac_crate() {
        let payload: Vec<u8> = (0..700u32).map(|i| (i * 13 + 5) as u8).collect();
        let keys: [&[u8]; 6] = [
            b"",
            b"0123456789abcdef",
            b"my voice is my passcode",
            &[7; 64],
            &[9; 65],
            &[1; 200],
        ];
        for key in keys {
            for prefix in [&b""[..], b"eyJhbGciOiJIUzI1NiIsImtpZCI6IjdoM2s5cSJ9."] {
                for len in 0..payload.len() {
                    assert_eq!(
                        mac_b64(key, prefix, &payload[..len]),
                        reference(key, prefix, &payload[..len]),
                        "key {} prefix {} len {len}",
                        key.len(),
                        prefix.len()
                    );
                }
            }
        }
    }
}
