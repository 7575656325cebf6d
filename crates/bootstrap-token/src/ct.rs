//! Constant-time equality for byte strings.

use std::hint::black_box;

use subtle::ConstantTimeEq;

/// Whether `a == b`, taking time that depends only on the lengths (which are public here: a
/// token secret is always 16 bytes, a detached JWS 85).
///
/// `subtle`'s slice comparison passes every byte through an optimisation barrier (about 5 ns
/// per byte); this folds the differences first and passes only the result through `subtle`.
/// The fold has no data-dependent branch, and the inputs go through `black_box` so the
/// compiler cannot specialise on their contents.
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a, b) = (black_box(a), black_box(b));
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    bool::from(diff.ct_eq(&0))
}

#[cfg(test)]
mod tests {
    use super::bytes_eq;

    #[test]
    fn equality() {
        assert!(bytes_eq(b"", b""));
        assert!(bytes_eq(b"abc", b"abc"));
        assert!(!bytes_eq(b"abc", b"abd"));
        assert!(!bytes_eq(b"abc", b"ab"));
        for i in 0..85 {
            let a = [7u8; 85];
            let mut b = a;
            b[i] ^= 0x80;
            assert!(!bytes_eq(&a, &b));
        }
    }
}
