//! PEM in and out: Go's lenient reader (shared with the kubeconfig crate) and the 64-column
//! writer Go's `encoding/pem` uses, so our files are byte-identical in layout to kubeadm's.

use base64::Engine as _;
use zeroize::Zeroize;

pub(crate) use kubetrust_kubeconfig::pem::{Block, PemError};

/// The labels kubeadm's files use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PemLabel {
    Certificate,
    CertificateRequest,
    RsaPrivateKey,
    EcPrivateKey,
    PrivateKey,
}

impl PemLabel {
    pub(crate) fn of(label: &str) -> Option<Self> {
        Some(match label {
            "CERTIFICATE" => Self::Certificate,
            "CERTIFICATE REQUEST" => Self::CertificateRequest,
            "RSA PRIVATE KEY" => Self::RsaPrivateKey,
            "EC PRIVATE KEY" => Self::EcPrivateKey,
            "PRIVATE KEY" => Self::PrivateKey,
            _ => return None,
        })
    }
}

/// Decoded blocks that are wiped when dropped: a key file's blocks hold the private key.
pub(crate) struct Blocks(Vec<Block>);

impl std::ops::Deref for Blocks {
    type Target = [Block];
    fn deref(&self) -> &[Block] {
        &self.0
    }
}

impl Drop for Blocks {
    fn drop(&mut self) {
        for block in &mut self.0 {
            block.der.zeroize();
        }
    }
}

/// Decodes every block; the error names the broken block, never its content.
pub(crate) fn parse(data: &[u8]) -> Result<Blocks, PemError> {
    kubetrust_kubeconfig::pem::parse(data).map(Blocks)
}

/// The DER of every `CERTIFICATE` block without headers, in file order (client-go's
/// `ParseCertsPEM` rule).
pub(crate) fn certificates(data: &[u8]) -> Result<Vec<Vec<u8>>, PemError> {
    let blocks = parse(data)?;
    Ok(blocks
        .iter()
        .filter(|b| !b.has_headers && PemLabel::of(&b.label) == Some(PemLabel::Certificate))
        .map(|b| b.der.clone())
        .collect())
}

/// Encodes one block with 64-character lines and a trailing newline.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for line in b64.as_bytes().chunks(64) {
        // base64 output is ASCII, so every chunk is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_wraps_at_64_and_parses_back() {
        let der: Vec<u8> = (0..=255).collect();
        let pem = encode("CERTIFICATE", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        assert_eq!(pem.lines().nth(1).map(str::len), Some(64));
        assert_eq!(certificates(pem.as_bytes()).unwrap(), vec![der]);
    }

    #[test]
    fn certificates_skips_other_labels_and_headers() {
        let with_headers =
            "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END CERTIFICATE-----\n";
        let text = format!(
            "{}{with_headers}{}",
            encode("EC PARAMETERS", b"x"),
            encode("CERTIFICATE", b"y")
        );
        assert_eq!(certificates(text.as_bytes()).unwrap(), vec![b"y".to_vec()]);
    }
}
