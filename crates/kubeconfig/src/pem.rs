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

/// Why bytes are not the PEM they should be. No variant carries the content: a key file's
/// bytes are secret, so only labels (from the `BEGIN` line) and offsets are reported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PemError {
    /// The bytes are not UTF-8.
    #[error("not text")]
    NotText,
    /// A `-----BEGIN ` line does not end with `-----`.
    #[error("unterminated BEGIN line")]
    UnterminatedBegin,
    /// A block without its `-----END <label>-----` line.
    #[error("block {label:?} has no END line")]
    NoEnd {
        /// The block's label.
        label: String,
    },
    /// A block body that is not base64.
    #[error("block {label:?} is not valid base64: {}", match offset {
        Some(offset) => format!("bad character at offset {offset}"),
        None => "bad length or padding".to_owned(),
    })]
    Base64 {
        /// The block's label.
        label: String,
        /// Where the first bad character is in the body without whitespace, when one is.
        offset: Option<usize>,
    },
    /// A block without content.
    #[error("block {label:?} is empty")]
    Empty {
        /// The block's label.
        label: String,
    },
    /// None of the blocks has a wanted label.
    #[error("no {} block found", labels.join(" or "))]
    NoBlock {
        /// The labels looked for.
        labels: Vec<String>,
    },
}

/// Decodes every PEM block in `data`, in order.
pub fn parse(data: &[u8]) -> Result<Vec<Block>, PemError> {
    let text = std::str::from_utf8(data).map_err(|_| PemError::NotText)?;
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after_begin = rest.get(start + "-----BEGIN ".len()..).unwrap_or_default();
        // The label ends on its own line: a BEGIN line without its dashes must not swallow
        // the body into the label (which errors quote).
        let line = after_begin.split('\n').next().unwrap_or_default();
        let Some(label_end) = line.find("-----") else {
            return Err(PemError::UnterminatedBegin);
        };
        let label = after_begin.get(..label_end).unwrap_or_default();
        let body_and_rest = after_begin.get(label_end + 5..).unwrap_or_default();
        let end_line = format!("-----END {label}-----");
        let Some(body_end) = body_and_rest.find(&end_line) else {
            return Err(PemError::NoEnd {
                label: label.to_owned(),
            });
        };
        let body = body_and_rest.get(..body_end).unwrap_or_default();
        rest = body_and_rest.get(body_end + end_line.len()..).unwrap_or_default();
        let (has_headers, base64_text) = body_base64(body);
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64_text)
            .map_err(|e| PemError::Base64 {
                label: label.to_owned(),
                offset: bad_offset(&e),
            })?;
        if der.is_empty() {
            return Err(PemError::Empty {
                label: label.to_owned(),
            });
        }
        blocks.push(Block {
            label: label.to_owned(),
            has_headers,
            der,
        });
    }
    Ok(blocks)
}

/// The offset of a base64 error; the offending byte itself is not kept (it may be key data).
fn bad_offset(error: &base64::DecodeError) -> Option<usize> {
    match *error {
        base64::DecodeError::InvalidByte(offset, _)
        | base64::DecodeError::InvalidLastSymbol { offset, .. } => Some(offset),
        base64::DecodeError::InvalidLength(_) | base64::DecodeError::InvalidPadding => None,
    }
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
pub(crate) fn check_blocks(data: &[u8], labels: &[&str]) -> Result<usize, PemError> {
    let found = parse(data)?
        .iter()
        .filter(|b| labels.contains(&b.label.as_str()))
        .count();
    if found == 0 {
        return Err(PemError::NoBlock {
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        });
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
        let none = check_blocks(b"hello", &["CERTIFICATE"]).unwrap_err();
        assert_eq!(none.to_string(), "no CERTIFICATE block found");
        let bad = b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n";
        assert_eq!(
            check_blocks(bad, &["CERTIFICATE"]),
            Err(PemError::Base64 {
                label: "CERTIFICATE".into(),
                offset: Some(0)
            })
        );
        let open = b"-----BEGIN CERTIFICATE-----\nAQID\n";
        assert_eq!(
            check_blocks(open, &["CERTIFICATE"]).unwrap_err().to_string(),
            "block \"CERTIFICATE\" has no END line"
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

    #[test]
    fn errors_never_quote_the_body() {
        let body = "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oPn6Yvu5vVC9oAoGCCqGSM49";
        // A BEGIN line without its dashes must not turn the body into a label.
        let torn = format!("-----BEGIN EC PRIVATE KEY\n{body}\n-----END EC PRIVATE KEY-----\n");
        assert_eq!(parse(torn.as_bytes()).unwrap_err(), PemError::UnterminatedBegin);
        // A valid symbol with stray low bits: base64's own message would print the symbol.
        let last = format!("-----BEGIN EC PRIVATE KEY-----\n{body}AB==\n-----END EC PRIVATE KEY-----\n");
        let err = parse(last.as_bytes()).unwrap_err();
        let label = "EC PRIVATE KEY".to_owned();
        assert_eq!(
            err,
            PemError::Base64 {
                label,
                offset: Some(65)
            }
        );
        assert!(!err.to_string().contains("66"), "{err}");
    }
}
