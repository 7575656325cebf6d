//! PEM as Go's `encoding/pem` reads it: any line length, text between blocks ignored, RFC 1421
//! headers recognised. kubeconfig `-data` fields and kubeadm's key and certificate files are
//! both read this way.

use base64::Engine as _;

/// Labels a private key block may carry (PKCS#1, SEC1, PKCS#8).
pub const PRIVATE_KEY_LABELS: [&str; 3] = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"];

/// One decoded PEM block.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Block {
    /// The label between `BEGIN ` and `-----`, e.g. `CERTIFICATE`.
    pub label: String,
    /// Whether the block had RFC 1421 headers (`Proc-Type: ...`); client-go skips such
    /// certificate blocks.
    pub has_headers: bool,
    /// The decoded content.
    pub der: Vec<u8>,
}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The content may be a private key.
        f.debug_struct("Block")
            .field("label", &self.label)
            .field("der", &format_args!("[{} bytes]", self.der.len()))
            .finish_non_exhaustive()
    }
}

/// Decodes every PEM block in `data`, in order. The error says which block is broken; it
/// never quotes the content.
pub fn parse(data: &[u8]) -> Result<Vec<Block>, String> {
    let text = std::str::from_utf8(data).map_err(|_| "not text".to_owned())?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = rest.get(start + "-----BEGIN ".len()..).unwrap_or_default();
        let Some(label_end) = after_begin.find("-----") else {
            return Err("unterminated BEGIN line".to_owned());
        };
        let label = after_begin.get(..label_end).unwrap_or_default();
        let body_and_rest = after_begin.get(label_end + 5..).unwrap_or_default();
        let end_line = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_line) else {
            return Err(format!("block {label:?} has no END line"));
        };
        let body = body_and_rest.get(..body_end).unwrap_or_default();
        rest = body_and_rest.get(body_end + end_line.len()..).unwrap_or_default();
        let (has_headers, base64_text) = body_base64(body);
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64_text)
            .map_err(|e| format!("block {label:?} is not valid base64: {e}"))?;
        if der.is_empty() {
            return Err(format!("block {label:?} is empty"));
        }
        blocks.push(Block {
            label: label.to_owned(),
            has_headers,
            der,
        });
    }
    Ok(blocks)
}

/// The base64 text of a block body, whitespace removed, after any RFC 1421 header lines.
fn body_base64(body: &str) -> (bool, Vec<u8>) {
    let mut has_headers = false;
    let mut text = Vec::with_capacity(body.len());
    for line in body.lines() {
        if line.contains(':') {
            has_headers = true;
            continue;
        }
        let line = line.trim().as_bytes();
        if line.iter().any(u8::is_ascii_whitespace) {
            text.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
        } else {
            text.extend_from_slice(line);
        }
    }
    (has_headers, text)
}

/// Checks that `data` holds at least one block with one of `labels` (all blocks decoding).
/// Returns how many there are.
pub(crate) fn check_blocks(data: &[u8], labels: &[&str]) -> Result<usize, String> {
    let found = parse(data)?
        .iter()
        .filter(|b| labels.contains(&b.label.as_str()))
        .count();
    if found == 0 {
        return Err(format!("no {} block found", labels.join(" or ")));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_checks_blocks() {
        let two = b"junk\n-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\nBAUG\n-----END CERTIFICATE-----\n";
        assert_eq!(check_blocks(two, &["CERTIFICATE"]), Ok(2));
        assert_eq!(parse(two).unwrap()[1].der, [4, 5, 6]);
        assert!(
            check_blocks(b"hello", &["CERTIFICATE"])
                .unwrap_err()
                .contains("no CERTIFICATE block")
        );
        let bad = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert!(
            check_blocks(bad, &["CERTIFICATE"])
                .unwrap_err()
                .contains("not valid base64")
        );
        let open = b"-----BEGIN CERTIFICATE-----\nAQID\n";
        assert!(
            check_blocks(open, &["CERTIFICATE"])
                .unwrap_err()
                .contains("no END line")
        );
        let key = b"-----BEGIN EC PRIVATE KEY-----\nAQ ID\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(check_blocks(key, &PRIVATE_KEY_LABELS), Ok(1));
        assert!(check_blocks(key, &["CERTIFICATE"]).is_err());
        let headers = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END RSA PRIVATE KEY-----\n";
        let parsed = parse(headers).unwrap();
        assert!(parsed[0].has_headers);
        assert_eq!(
            format!("{parsed:?}"),
            "[Block { label: \"RSA PRIVATE KEY\", der: [3 bytes], .. }]"
        );
    }
}
