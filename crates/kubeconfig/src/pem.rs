//! Just enough PEM to check that certificate and key data is what it claims, with Go's
//! leniency (any line length, text between blocks ignored).

use base64::Engine as _;

/// Labels a private key block may carry (PKCS#1, SEC1, PKCS#8).
pub(crate) const PRIVATE_KEY_LABELS: [&str; 3] = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"];

/// Checks that `data` holds at least one block with one of `labels` and that every such block
/// decodes. Returns how many there are.
pub(crate) fn check_blocks(data: &[u8], labels: &[&str]) -> Result<usize, String> {
    let text = std::str::from_utf8(data).map_err(|_| "not text".to_owned())?;
    let mut found = 0;
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
        if !labels.contains(&label) {
            continue;
        }
        let mut base64_text = Vec::with_capacity(body.len());
        for line in body.lines().filter(|line| !line.contains(':')) {
            // RFC 1421 header lines are skipped; whitespace anywhere is ignored, as Go does.
            let line = line.trim().as_bytes();
            if line.iter().any(u8::is_ascii_whitespace) {
                base64_text.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
            } else {
                base64_text.extend_from_slice(line);
            }
        }
        match base64::engine::general_purpose::STANDARD.decode(base64_text) {
            Ok(der) if !der.is_empty() => found += 1,
            Ok(_) => return Err(format!("block {label:?} is empty")),
            Err(e) => return Err(format!("block {label:?} is not valid base64: {e}")),
        }
    }
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
        let key = b"-----BEGIN EC PRIVATE KEY-----\nAQID\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(check_blocks(key, &PRIVATE_KEY_LABELS), Ok(1));
        assert!(check_blocks(key, &["CERTIFICATE"]).is_err());
    }
}
