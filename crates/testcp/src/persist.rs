//! The store on disk, so a restarted control plane keeps its objects: one JSON snapshot
//! (`state.json`, mode 0600: it holds token Secrets) written through kubetrust-fs after changes
//! settle and on shutdown. A crash loses at most the last moments, never the whole file.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use kubetrust_pki::{Certificate, CertificateAuthority, KeyAlgorithm, PrivateKey};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use crate::store::{ObjectKey, Resource, Store};

/// The snapshot's file name in the state directory.
pub const STATE_FILE: &str = "state.json";
/// A generated CA's certificate in the state directory.
pub const CA_CERT_FILE: &str = "ca.crt";
/// A generated CA's key in the state directory.
pub const CA_KEY_FILE: &str = "ca.key";
/// How long changes may settle before they are written.
const SETTLE: Duration = Duration::from_millis(50);

/// Why the saved state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PersistError {
    /// Reading or writing the state directory failed.
    #[error("cannot persist the control plane's state in {path:?}")]
    Io {
        /// The state file or directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: kubetrust_fs::Error,
    },
    /// The state file is not a snapshot this version wrote.
    #[error("{path:?} is not a testcp state snapshot: {reason}")]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What did not parse (no object contents are quoted).
        reason: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Snapshot {
    revision: u64,
    objects: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    group: String,
    resource: String,
    namespace: String,
    name: String,
    object: Value,
}

/// Fills `store` from `dir`'s snapshot; `false` when there is none yet.
///
/// # Errors
/// When the file cannot be read or is not a snapshot.
pub fn load(store: &Store, dir: &Path) -> Result<bool, PersistError> {
    let path = dir.join(STATE_FILE);
    if !path.exists() {
        return Ok(false);
    }
    let bytes = kubetrust_fs::read(&path).map_err(|source| PersistError::Io {
        path: path.clone(),
        source,
    })?;
    let snapshot: Snapshot = serde_json::from_slice(&bytes).map_err(|e| PersistError::Corrupt {
        path: path.clone(),
        // Line and column only: serde's messages may quote values, and values hold secrets.
        reason: format!("{:?} at line {} column {}", e.classify(), e.line(), e.column()),
    })?;
    let objects = snapshot
        .objects
        .into_iter()
        .map(|entry| {
            let key = ObjectKey {
                resource: Resource::new(&entry.group, &entry.resource),
                namespace: entry.namespace,
                name: entry.name,
            };
            (key, entry.object)
        })
        .collect();
    store.restore(objects, snapshot.revision);
    Ok(true)
}

/// Writes `store`'s snapshot into `dir` (created 0700 if missing).
///
/// # Errors
/// When the directory or file cannot be written.
pub fn save(store: &Store, dir: &Path) -> Result<(), PersistError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PersistError::Io { path, source }
    };
    kubetrust_fs::create_dir_all(dir, kubetrust_fs::Mode::PRIVATE_DIR).map_err(io(dir))?;
    let (objects, revision) = store.snapshot();
    let snapshot = Snapshot {
        revision,
        objects: objects
            .into_iter()
            .map(|(key, object)| Entry {
                group: key.resource.group,
                resource: key.resource.resource,
                namespace: key.namespace,
                name: key.name,
                object: object.as_ref().clone(),
            })
            .collect(),
    };
    let path = dir.join(STATE_FILE);
    let bytes = serde_json::to_vec(&snapshot).map_err(|e| PersistError::Corrupt {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    kubetrust_fs::write_atomic(&path, &bytes, kubetrust_fs::Mode::PRIVATE).map_err(io(&path))
}

/// The CA kept in `dir`, or a new one (written there, key 0600) when there is none yet.
///
/// # Errors
/// When the files cannot be read or written, or do not hold a CA and its key.
pub fn load_or_create_ca(
    dir: &Path,
    algorithm: KeyAlgorithm,
    now: SystemTime,
) -> Result<CertificateAuthority, PersistError> {
    let (cert_path, key_path) = (dir.join(CA_CERT_FILE), dir.join(CA_KEY_FILE));
    let corrupt = |path: &Path| {
        let path = path.to_path_buf();
        move |e: &dyn std::fmt::Display| PersistError::Corrupt {
            path,
            reason: e.to_string(),
        }
    };
    if cert_path.exists() {
        let read = |path: &Path| {
            kubetrust_fs::read(path).map_err(|source| PersistError::Io {
                path: path.to_path_buf(),
                source,
            })
        };
        let bundle = Certificate::chain_from_pem(&read(&cert_path)?).map_err(|e| corrupt(&cert_path)(&e))?;
        let key = PrivateKey::from_pem(&read(&key_path)?).map_err(|e| corrupt(&key_path)(&e))?;
        return CertificateAuthority::new(bundle, key).map_err(|e| corrupt(&cert_path)(&e));
    }
    let ca =
        CertificateAuthority::generate("kubernetes", algorithm, now).map_err(|e| corrupt(&cert_path)(&e))?;
    kubetrust_fs::create_dir_all(dir, kubetrust_fs::Mode::PRIVATE_DIR).map_err(|source| {
        PersistError::Io {
            path: dir.to_path_buf(),
            source,
        }
    })?;
    let (key_pem, cert_pem) = (ca.key().to_pem(), ca.bundle_pem());
    let files = [
        kubetrust_fs::NewFile {
            path: &key_path,
            contents: key_pem.as_bytes(),
            mode: kubetrust_fs::Mode::PRIVATE,
        },
        kubetrust_fs::NewFile {
            path: &cert_path,
            contents: cert_pem.as_bytes(),
            mode: kubetrust_fs::Mode::PUBLIC,
        },
    ];
    kubetrust_fs::write_new_all(&files).map_err(|source| PersistError::Io {
        path: cert_path.clone(),
        source,
    })?;
    Ok(ca)
}

/// Saves `store` into `dir` whenever changes have settled, until the store's feed closes or
/// the task is aborted (the owner saves once more on shutdown).
pub fn spawn_saver(store: Store, dir: PathBuf) -> tokio::task::JoinHandle<()> {
    // Subscribed before the task first runs, so no change made after this call is missed.
    let mut feed = store.subscribe();
    tokio::spawn(async move {
        loop {
            match feed.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
            tokio::time::sleep(SETTLE).await;
            feed = feed.resubscribe();
            if let Err(error) = save(&store, &dir) {
                tracing::warn!(%error, "testcp: state not saved");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::clock::Clock;

    #[tokio::test]
    async fn a_saved_store_comes_back_with_its_revision() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Clock::default());
        let saver = spawn_saver(store.clone(), dir.path().join("state"));
        let secrets = Resource::new("", "secrets");
        let created = store
            .create(
                &secrets,
                "kube-system",
                json!({"metadata": {"name": "bootstrap-token-abcdef"}}),
            )
            .unwrap();
        tokio::time::sleep(SETTLE * 4).await;
        saver.abort();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("state").join(STATE_FILE))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);

        let restored = Store::new(Clock::default());
        assert!(load(&restored, &dir.path().join("state")).unwrap());
        assert_eq!(restored.revision(), store.revision());
        let key = ObjectKey {
            resource: secrets,
            namespace: "kube-system".into(),
            name: "bootstrap-token-abcdef".into(),
        };
        assert_eq!(restored.get(&key).unwrap(), created);
    }

    #[test]
    fn no_snapshot_is_a_fresh_start_and_garbage_is_an_error_without_contents() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(Clock::default());
        assert!(!load(&store, dir.path()).unwrap());
        std::fs::write(
            dir.path().join(STATE_FILE),
            "{\"revision\": \"abcdef.0123456789abcdef\"}",
        )
        .unwrap();
        let err = load(&store, dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not a testcp state snapshot"), "{err}");
        assert!(!err.contains("0123456789abcdef"), "{err}");
    }
}
