//! The one way pki reads a file: errors name the path and the operating system's reason, and
//! the bytes are wiped when dropped (most of what pki reads is a key or holds one).

use std::path::Path;

use zeroize::Zeroizing;

use crate::{CertError, Certificate, Error};

/// The whole file (at most `kubetrust_fs::READ_LIMIT` bytes).
pub(crate) fn file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    kubetrust_fs::read(path)
        .map(Zeroizing::new)
        .map_err(|error| Error::Read {
            path: path.to_owned(),
            source: error.into_io(),
        })
}

/// Every certificate of a PEM file, in order; at least one.
pub(crate) fn certificates(path: &Path) -> Result<Vec<Certificate>, Error> {
    parsed(path, Certificate::chain_from_pem)
}

/// The first certificate of a PEM file.
pub(crate) fn certificate(path: &Path) -> Result<Certificate, Error> {
    parsed(path, Certificate::from_pem)
}

fn parsed<T>(path: &Path, parse: impl FnOnce(&[u8]) -> Result<T, CertError>) -> Result<T, Error> {
    parse(&file(path)?).map_err(|source| Error::LoadCertificate {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_path_and_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let err = file(dir.path()).unwrap_err();
        assert!(
            matches!(&err, Error::Read { path, .. } if path == dir.path()),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot read {}: ", dir.path().display())),
            "{text}"
        );
        assert!(text.contains("directory"), "{text}");

        let junk = dir.path().join("junk.crt");
        std::fs::write(&junk, "no PEM here").unwrap();
        let err = certificates(&junk).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "failure loading certificate {}: no CERTIFICATE block found",
                junk.display()
            )
        );
    }
}
