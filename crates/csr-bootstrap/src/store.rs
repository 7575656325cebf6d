//! The kubelet's certificate store, file for file as the kubelet lays it out, so a real kubelet
//! reads what kubetrust wrote (and the other way round):
//!
//! * `<prefix>.key.tmp` — the pending key of a bootstrap (0600), kept until the certificate is
//!   stored so a restarted client rebuilds the same `node-csr-<digest>` name and finds its CSR;
//! * `<prefix>-<YYYY-MM-DD-HH-MM-SS>.pem` — certificate block(s) then the key (0600), written
//!   atomically, so the pair in one file is always a pair;
//! * `<prefix>-current.pem` — a symlink to the newest such file, swapped atomically.
//!
//! No write here can leave a key next to a certificate that is not its own: the pair only ever
//! lives together in one atomically written file, and `current` moves from one complete file to
//! another. Timestamps are UTC (the kubelet uses local time; only the name differs).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use kubetrust_fs::{Mode, Operation};
use kubetrust_pki::{Certificate, KeyAlgorithm, PrivateKey};

use crate::Error;
use crate::verify::rfc3339;

/// The prefix of the kubelet's client certificate files.
pub const CLIENT_PREFIX: &str = "kubelet-client";
/// The prefix of the kubelet's serving certificate files.
pub const SERVER_PREFIX: &str = "kubelet-server";

/// The state of the store's current pair, as the kubelet judges a client config
/// (spec §1.2 `isClientConfigStillValid`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Current {
    /// A pair that loads, matches and has not expired.
    Valid(Pair),
    /// No usable pair: a (re-)bootstrap is needed. The reason is for logs.
    Invalid(Invalidity),
}

/// A certificate chain and its key.
#[derive(Debug)]
#[non_exhaustive]
pub struct Pair {
    /// Leaf first, then intermediates.
    pub chain: Vec<Certificate>,
    /// The leaf's private key.
    pub key: PrivateKey,
}

impl Pair {
    /// The leaf certificate.
    pub fn leaf(&self) -> Option<&Certificate> {
        self.chain.first()
    }
}

/// Why a pair (or a client config) is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalidity {
    /// Nothing at the path.
    #[error("{path:?} does not exist")]
    Missing {
        /// The path.
        path: PathBuf,
    },
    /// Not a certificate list and a key, or not loadable as a kubeconfig.
    #[error("{path:?} is unusable: {reason}")]
    Unparsable {
        /// The path.
        path: PathBuf,
        /// What failed.
        reason: String,
    },
    /// The key does not belong to the certificate.
    #[error("the private key in {path:?} does not match its certificate")]
    KeyMismatch {
        /// The path.
        path: PathBuf,
    },
    /// A certificate of the chain is past NotAfter.
    #[error("part of the existing bootstrap client certificate in {path:?} is expired: {not_after}")]
    Expired {
        /// The path.
        path: PathBuf,
        /// The expired certificate's NotAfter, RFC 3339.
        not_after: String,
    },
}

/// Judges PEM certificate(s) and a PEM key as the kubelet does: at least one certificate, the
/// key matching the first, every certificate unexpired at `now` (NotBefore is not checked).
pub fn check_pair(
    path: &Path,
    certificate_pem: &[u8],
    key_pem: &[u8],
    now: SystemTime,
) -> Result<Pair, Invalidity> {
    let unparsable = |reason: String| Invalidity::Unparsable {
        path: path.to_owned(),
        reason,
    };
    let chain = Certificate::chain_from_pem(certificate_pem).map_err(|e| unparsable(e.to_string()))?;
    let key = PrivateKey::from_pem(key_pem).map_err(|e| unparsable(e.to_string()))?;
    let leaf = chain
        .first()
        .ok_or_else(|| unparsable("no certificate".to_owned()))?;
    if !leaf.matches_key(&key) {
        return Err(Invalidity::KeyMismatch {
            path: path.to_owned(),
        });
    }
    if let Some(expired) = chain.iter().find(|c| now > c.not_after()) {
        return Err(Invalidity::Expired {
            path: path.to_owned(),
            not_after: rfc3339(expired.not_after()),
        });
    }
    Ok(Pair { chain, key })
}

/// One certificate store: a directory and a file prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertStore {
    dir: PathBuf,
    prefix: String,
}

impl CertStore {
    /// A store of `prefix` files in `dir`.
    pub fn new(dir: impl Into<PathBuf>, prefix: impl Into<String>) -> Self {
        Self {
            dir: dir.into(),
            prefix: prefix.into(),
        }
    }

    /// The kubelet's client certificate store in `dir` (normally `/var/lib/kubelet/pki`).
    pub fn kubelet_client(dir: impl Into<PathBuf>) -> Self {
        Self::new(dir, CLIENT_PREFIX)
    }

    /// The kubelet's serving certificate store in `dir`.
    pub fn kubelet_server(dir: impl Into<PathBuf>) -> Self {
        Self::new(dir, SERVER_PREFIX)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/<prefix>-current.pem`: what kubeconfigs and TLS servers point at.
    pub fn current_path(&self) -> PathBuf {
        self.dir.join(format!("{}-current.pem", self.prefix))
    }

    /// `<dir>/<prefix>.key.tmp`: the pending key of a bootstrap.
    pub fn pending_key_path(&self) -> PathBuf {
        self.dir.join(format!("{}.key.tmp", self.prefix))
    }

    /// The kubelet's intermediate link name, only read for recovery.
    fn updated_path(&self) -> PathBuf {
        self.dir.join(format!("{}-updated.pem", self.prefix))
    }

    /// `<dir>/<prefix>-<YYYY-MM-DD-HH-MM-SS>.pem` for `now` (UTC).
    pub fn timestamped_path(&self, now: SystemTime) -> PathBuf {
        let stamp = jiff::Timestamp::try_from(now)
            .map(|t| t.strftime("%Y-%m-%d-%H-%M-%S").to_string())
            .unwrap_or_else(|_| "0000-00-00-00-00-00".to_owned());
        self.dir.join(format!("{}-{stamp}.pem", self.prefix))
    }

    /// The pending key: loaded when a previous run left one (so its CSR is found again), else
    /// generated with `algorithm` and created 0600 (never overwriting a concurrent writer's).
    pub fn load_or_create_pending_key(&self, algorithm: KeyAlgorithm) -> Result<PrivateKey, Error> {
        let path = self.pending_key_path();
        if let Some(key) = self.read_pending_key(&path)? {
            return Ok(key);
        }
        kubetrust_fs::create_dir_all(&self.dir, Mode::PUBLIC_DIR)?;
        let key = PrivateKey::generate(algorithm).map_err(|e| Error::KeyGeneration(Box::new(e)))?;
        match kubetrust_fs::write_new(&path, key.to_pem().as_bytes(), Mode::PRIVATE) {
            Ok(()) => Ok(key),
            // Another process won the race: use its key, as the CSR name follows it.
            Err(e) if e.operation() == Operation::CreateNew && path.exists() => {
                self.read_pending_key(&path)?.ok_or(Error::Fs(e))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn read_pending_key(&self, path: &Path) -> Result<Option<PrivateKey>, Error> {
        match kubetrust_fs::read(path) {
            Ok(bytes) => PrivateKey::from_pem(&zeroize::Zeroizing::new(bytes))
                .map(Some)
                .map_err(|e| Error::PendingKeyUnparsable {
                    path: path.to_owned(),
                    reason: e.to_string(),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the pending key after its certificate is stored; a missing file is fine.
    pub fn remove_pending_key(&self) -> Result<(), Error> {
        kubetrust_fs::remove(&self.pending_key_path())?;
        Ok(())
    }

    /// Stores a new pair: the timestamped file (certificates, then the key), then the atomic
    /// switch of `current` to it. Returns the timestamped file's path. The previous files stay,
    /// as the kubelet leaves them.
    pub fn update(&self, chain: &[Certificate], key: &PrivateKey, now: SystemTime) -> Result<PathBuf, Error> {
        if !chain.first().is_some_and(|leaf| leaf.matches_key(key)) {
            return Err(Error::PairMismatch);
        }
        self.check_current_is_link()?;
        kubetrust_fs::create_dir_all(&self.dir, Mode::PUBLIC_DIR)?;
        let mut contents: String = chain.iter().map(Certificate::to_pem).collect();
        contents.push_str(&key.to_pem());
        let file = self.timestamped_path(now);
        let bytes = zeroize::Zeroizing::new(contents.into_bytes());
        kubetrust_fs::write_atomic(&file, &bytes, Mode::PRIVATE)?;
        // An absolute target, as the kubelet writes it: a relative one would be resolved from
        // the link's own directory, not from where this process runs.
        kubetrust_fs::replace_symlink(&self.current_path(), &absolute(&file)?)?;
        Ok(file)
    }

    fn check_current_is_link(&self) -> Result<(), Error> {
        let path = self.current_path();
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_symlink() => Err(Error::CurrentNotSymlink { path }),
            _ => Ok(()),
        }
    }

    /// The current pair and whether it is usable at `now`. A kubelet that crashed between its
    /// two renames left `<prefix>-updated.pem` and no `current`: that link is moved into place
    /// first, as the kubelet's store does when it opens.
    pub fn current(&self, now: SystemTime) -> Result<Current, Error> {
        self.recover_updated_link()?;
        let path = self.current_path();
        let bytes = match kubetrust_fs::read(&path) {
            Ok(bytes) => zeroize::Zeroizing::new(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Current::Invalid(Invalidity::Missing { path }));
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match check_pair(&path, &bytes, &bytes, now) {
            Ok(pair) => Current::Valid(pair),
            Err(why) => Current::Invalid(why),
        })
    }

    fn recover_updated_link(&self) -> Result<(), Error> {
        let (current, updated) = (self.current_path(), self.updated_path());
        let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
        if std::fs::symlink_metadata(&current).is_err() && is_link(&updated) {
            std::fs::rename(&updated, &current).map_err(|source| Error::Io {
                action: "rename the updated link to",
                path: current,
                source,
            })?;
        }
        Ok(())
    }
}

/// `path` made absolute against the working directory (without touching the file system).
pub(crate) fn absolute(path: &Path) -> Result<PathBuf, Error> {
    std::path::absolute(path).map_err(|source| Error::Io {
        action: "make an absolute path of",
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    use kubetrust_pki::{CertProfile, CertificateAuthority, Validity};

    use super::*;
    use crate::csr::node_subject;

    fn ca(now: SystemTime) -> CertificateAuthority {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        CertificateAuthority::self_signed(
            "kubernetes",
            key,
            Validity::kubeadm(now, Duration::from_secs(86400)),
        )
        .unwrap()
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn pending_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = CertStore::kubelet_client(dir.path().join("pki"));
        let first = store.load_or_create_pending_key(KeyAlgorithm::EcdsaP256).unwrap();
        assert_eq!(mode(&store.pending_key_path()), 0o600);
        let again = store.load_or_create_pending_key(KeyAlgorithm::EcdsaP256).unwrap();
        assert_eq!(first.public_key_der(), again.public_key_der());
        store.remove_pending_key().unwrap();
        assert!(!store.pending_key_path().exists());
        store.remove_pending_key().unwrap();
    }

    #[test]
    fn unparsable_pending_key_is_kept_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = CertStore::kubelet_client(dir.path());
        std::fs::write(store.pending_key_path(), b"garbage").unwrap();
        let error = store
            .load_or_create_pending_key(KeyAlgorithm::EcdsaP256)
            .unwrap_err();
        assert!(matches!(error, Error::PendingKeyUnparsable { .. }), "{error}");
        assert_eq!(std::fs::read(store.pending_key_path()).unwrap(), b"garbage");
    }

    #[test]
    fn update_writes_the_pair_and_swaps_current() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let ca = ca(now);
        let store = CertStore::kubelet_client(dir.path());
        assert!(matches!(
            store.current(now).unwrap(),
            Current::Invalid(Invalidity::Missing { .. })
        ));
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let cert = ca
            .issue(&CertProfile::client(node_subject("n"), now), key.public_key_der())
            .unwrap();
        let file = store.update(std::slice::from_ref(&cert), &key, now).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert!(
            file.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("kubelet-client-20")
        );
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(text.contains("-----BEGIN EC PRIVATE KEY-----"));
        assert_eq!(std::fs::read_link(store.current_path()).unwrap(), file);
        let Current::Valid(pair) = store.current(now).unwrap() else {
            panic!("not valid")
        };
        assert_eq!(pair.leaf(), Some(&cert));

        let later = now + Duration::from_secs(2);
        let key2 = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let cert2 = ca
            .issue(
                &CertProfile::client(node_subject("n"), later),
                key2.public_key_der(),
            )
            .unwrap();
        assert!(matches!(
            store.update(std::slice::from_ref(&cert2), &key, later),
            Err(Error::PairMismatch)
        ));
        let file2 = store.update(&[cert2], &key2, later).unwrap();
        assert_ne!(file, file2);
        assert!(file.exists(), "old files stay");
        assert_eq!(std::fs::read_link(store.current_path()).unwrap(), file2);
    }

    #[test]
    fn current_judges_expiry_mismatch_and_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let ca = ca(now);
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let cert = ca
            .issue(&CertProfile::client(node_subject("n"), now), key.public_key_der())
            .unwrap();
        let store = CertStore::kubelet_client(dir.path());
        store.update(std::slice::from_ref(&cert), &key, now).unwrap();
        let after = cert.not_after() + Duration::from_secs(1);
        assert!(matches!(
            store.current(after).unwrap(),
            Current::Invalid(Invalidity::Expired { .. })
        ));

        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mismatched = format!("{}{}", cert.to_pem(), other.to_pem().as_str());
        let path = Path::new("x");
        assert_eq!(
            check_pair(path, mismatched.as_bytes(), mismatched.as_bytes(), now).unwrap_err(),
            Invalidity::KeyMismatch { path: path.into() }
        );
        assert!(matches!(
            check_pair(path, b"junk", b"junk", now),
            Err(Invalidity::Unparsable { .. })
        ));
    }

    #[test]
    fn a_regular_current_file_is_refused_and_updated_link_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let ca = ca(now);
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let cert = ca
            .issue(&CertProfile::client(node_subject("n"), now), key.public_key_der())
            .unwrap();
        let store = CertStore::kubelet_client(dir.path());
        std::fs::write(store.current_path(), b"x").unwrap();
        assert!(matches!(
            store.update(std::slice::from_ref(&cert), &key, now),
            Err(Error::CurrentNotSymlink { .. })
        ));
        std::fs::remove_file(store.current_path()).unwrap();
        let file = store.update(&[cert], &key, now).unwrap();
        std::fs::rename(store.current_path(), store.updated_path()).unwrap();
        assert!(matches!(store.current(now).unwrap(), Current::Valid(_)));
        assert_eq!(std::fs::read_link(store.current_path()).unwrap(), file);
    }
}
