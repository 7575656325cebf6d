//! The file steps of a node's bootstrap, without the network, in the order that makes a crash
//! at any point recoverable (spec §1.3, §1.9):
//!
//! 1. [`start`]: a valid `kubelet.conf` means done; a valid current pair in the store (a crash
//!    after storing it) means only `kubelet.conf` is missing, which is written; otherwise the
//!    pending key is loaded or created (0600, once), and the caller requests a certificate for it.
//! 2. [`finish`]: store the issued pair (one atomic file, then the `current` symlink swap),
//!    write `kubelet.conf`, remove the pending key, optionally the bootstrap kubeconfig.
//!
//! A crash before step 2's symlink swap leaves the pending key, so the next run rebuilds the same
//! `node-csr-<digest>` name and adopts its CSR; a crash after it leaves a valid current pair,
//! from which [`start`] completes the rest. A key never sits beside another key's certificate.

use std::path::PathBuf;
use std::time::SystemTime;

use kubetrust_kubeconfig::Config;
use kubetrust_pki::{Certificate, KeyAlgorithm, PrivateKey};

use crate::Error;
use crate::conf::{ConfState, client_config_state, kubelet_conf, write_conf};
use crate::store::{CertStore, Current};

/// Where a bootstrap writes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Layout {
    /// The client certificate store (`/var/lib/kubelet/pki`, prefix `kubelet-client`).
    pub store: CertStore,
    /// The kubeconfig to write (`/etc/kubernetes/kubelet.conf`).
    pub kubeconfig: PathBuf,
    /// The bootstrap kubeconfig to delete after success, if any.
    pub remove_after: Option<PathBuf>,
}

impl Default for Layout {
    fn default() -> Self {
        Self {
            store: CertStore::kubelet_client(kubetrust_kubeconfig::KUBELET_PKI_DIR),
            kubeconfig: PathBuf::from("/etc/kubernetes/kubelet.conf"),
            remove_after: None,
        }
    }
}

impl Layout {
    /// The store's directory instead.
    pub fn with_cert_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.store = CertStore::kubelet_client(dir);
        self
    }

    /// The kubeconfig path instead.
    pub fn with_kubeconfig(mut self, path: impl Into<PathBuf>) -> Self {
        self.kubeconfig = path.into();
        self
    }

    /// Delete this bootstrap kubeconfig after success (kubeadm deletes
    /// `bootstrap-kubelet.conf`).
    pub fn with_remove_after(mut self, path: impl Into<PathBuf>) -> Self {
        self.remove_after = Some(path.into());
        self
    }
}

/// What a bootstrap did, step by step (a join prints its phase lines from these).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The existing kubeconfig is valid: nothing to do.
    AlreadyBootstrapped {
        /// The kubeconfig.
        kubeconfig: PathBuf,
    },
    /// Why a bootstrap is needed.
    BootstrapNeeded {
        /// The reason, for the log.
        reason: String,
    },
    /// The pending key is ready.
    PendingKey {
        /// Its path.
        path: PathBuf,
    },
    /// The CSR was sent (or adopted).
    Requesting {
        /// Its name.
        name: String,
    },
    /// The certificate arrived and passed the check.
    Issued {
        /// The CSR's name.
        name: String,
    },
    /// The pair was stored and `current` points at it.
    Stored {
        /// The timestamped file.
        path: PathBuf,
    },
    /// The kubeconfig was written.
    KubeconfigWritten {
        /// Its path.
        path: PathBuf,
    },
    /// The bootstrap kubeconfig was deleted.
    BootstrapKubeconfigRemoved {
        /// Its path.
        path: PathBuf,
    },
}

/// What [`start`] found.
#[derive(Debug)]
#[non_exhaustive]
pub enum Start {
    /// Nothing (more) to do: the kubeconfig is valid (possibly just written from the store).
    Done,
    /// Request a certificate for this (pending) key, then call [`finish`].
    Request(PrivateKey),
}

/// Step 1 (see the module docs).
pub fn start(
    layout: &Layout,
    bootstrap: &Config,
    algorithm: KeyAlgorithm,
    now: SystemTime,
    progress: &mut dyn FnMut(Progress),
) -> Result<Start, Error> {
    let reason = match client_config_state(&layout.kubeconfig, now)? {
        ConfState::Valid(_) => {
            progress(Progress::AlreadyBootstrapped {
                kubeconfig: layout.kubeconfig.clone(),
            });
            // A run killed after writing kubelet.conf may have left these.
            clean_up(layout, progress)?;
            return Ok(Start::Done);
        }
        ConfState::Invalid(why) => why.to_string(),
    };
    progress(Progress::BootstrapNeeded { reason });
    if let Current::Valid(_) = layout.store.current(now)? {
        complete(layout, bootstrap, progress)?;
        return Ok(Start::Done);
    }
    let key = layout.store.load_or_create_pending_key(algorithm)?;
    progress(Progress::PendingKey {
        path: layout.store.pending_key_path(),
    });
    Ok(Start::Request(key))
}

/// Step 2 (see the module docs); `chain` must already have passed
/// [`verify_issued`](crate::verify::verify_issued). Returns the stored file.
pub fn finish(
    layout: &Layout,
    bootstrap: &Config,
    chain: &[Certificate],
    key: &PrivateKey,
    now: SystemTime,
    progress: &mut dyn FnMut(Progress),
) -> Result<PathBuf, Error> {
    let path = layout.store.update(chain, key, now)?;
    progress(Progress::Stored { path: path.clone() });
    complete(layout, bootstrap, progress)?;
    Ok(path)
}

/// Writes `kubelet.conf` for the store's current pair and cleans up.
fn complete(layout: &Layout, bootstrap: &Config, progress: &mut dyn FnMut(Progress)) -> Result<(), Error> {
    // The stored pair holds the pending key now. It goes before `kubelet.conf` is written: a
    // crash after that would leave a second copy of the key that no rerun removes (a join
    // stops at the valid `kubelet.conf`).
    layout.store.remove_pending_key()?;
    write_conf(
        &layout.kubeconfig,
        &kubelet_conf(bootstrap, &layout.store.current_path())?,
    )?;
    progress(Progress::KubeconfigWritten {
        path: layout.kubeconfig.clone(),
    });
    clean_up(layout, progress)
}

/// Removes the pending key and, when asked, the bootstrap kubeconfig (each if present).
fn clean_up(layout: &Layout, progress: &mut dyn FnMut(Progress)) -> Result<(), Error> {
    layout.store.remove_pending_key()?;
    let Some(path) = &layout.remove_after else {
        return Ok(());
    };
    if kubetrust_fs::remove(path)? {
        progress(Progress::BootstrapKubeconfigRemoved { path: path.clone() });
    }
    Ok(())
}
