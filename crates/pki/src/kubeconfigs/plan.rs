//! Which kubeconfig files to write, reuse or refuse, with kubeadm's reuse rule: an existing
//! file is kept when its current cluster trusts the cluster CA; a different server is only a
//! warning.

use std::fmt;
use std::path::{Path, PathBuf};

use kubetrust_kubeconfig::Config;

use super::KubeconfigSpec;
use crate::tree::{CLUSTER_CA, TreeConfig};
use crate::{Dirs, Error, read};

/// What happens to one kubeconfig file.
#[derive(Debug)]
#[non_exhaustive]
pub enum KubeconfigAction {
    /// Write it.
    Create,
    /// It exists with the right CA; leave it.
    Reuse,
    /// It exists but cannot be used (or cannot be made); nothing is written.
    Refuse(KubeconfigRefusal),
}

/// Why an existing kubeconfig file cannot be used: one variant per failed check, with
/// kubeadm's texts.
#[derive(Debug)]
#[non_exhaustive]
pub enum KubeconfigRefusal {
    /// The file is missing and `ca.key` is too (external CA): it cannot be generated here.
    MissingUnderExternalCa,
    /// The file does not load as a kubeconfig.
    Unloadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: kubetrust_kubeconfig::Error,
    },
    /// `current-context` names no context.
    NoCurrentContext {
        /// The file.
        path: PathBuf,
    },
    /// The current context names no cluster.
    NoCurrentCluster {
        /// The file.
        path: PathBuf,
    },
    /// The cluster's `certificate-authority` file cannot be read.
    CaUnreadable(Error),
    /// The cluster trusts another CA.
    WrongCa {
        /// The file.
        path: PathBuf,
    },
}

impl fmt::Display for KubeconfigRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingUnderExternalCa => {
                f.write_str("missing, and ca.key is absent (external CA mode): provide it")
            }
            Self::Unloadable { path, source } => {
                write!(f, "failed to load kubeconfig file {}: {source}", path.display())
            }
            Self::NoCurrentContext { path } => write!(
                f,
                "failed to find CurrentContext in Contexts of the kubeconfig file {}",
                path.display()
            ),
            Self::NoCurrentCluster { path } => write!(
                f,
                "failed to find the given CurrentContext Cluster in Clusters of the kubeconfig file {}",
                path.display()
            ),
            Self::CaUnreadable(error) => write!(f, "{error}"),
            Self::WrongCa { path } => write!(
                f,
                "a kubeconfig file {:?} exists already but has got the wrong CA cert",
                path.display()
            ),
        }
    }
}

/// The decision for one file, with kubeadm's warning when the server differs.
#[derive(Debug)]
#[non_exhaustive]
pub struct KubeconfigPlanItem {
    /// The file.
    pub path: PathBuf,
    /// The decision.
    pub action: KubeconfigAction,
    /// A non-fatal finding (a different server URL).
    pub warning: Option<String>,
}

impl KubeconfigPlanItem {
    /// kubeadm's `[kubeconfig]` line for this item.
    pub fn line(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match &self.action {
            KubeconfigAction::Create => format!("[kubeconfig] Writing {name:?} kubeconfig file"),
            KubeconfigAction::Reuse => format!(
                "[kubeconfig] Using existing kubeconfig file: {:?}",
                self.path.display().to_string()
            ),
            KubeconfigAction::Refuse(refusal) => format!("[kubeconfig] Refusing {name:?}: {refusal}"),
        }
    }
}

/// Decides for each file of `files` whether to write, reuse or refuse it, against the cluster
/// CA in the cert dir. Reads only.
pub fn plan(
    dirs: &Dirs,
    config: &TreeConfig,
    files: &[KubeconfigSpec],
) -> Result<Vec<KubeconfigPlanItem>, Error> {
    let ca_path = CLUSTER_CA.cert_path(&dirs.cert_dir);
    let ca_cert = read::certificate(&ca_path).map_err(|e| Error::LoadCa {
        path: ca_path,
        source: Box::new(e),
    })?;
    let ca_has_key = CLUSTER_CA.key_path(&dirs.cert_dir).exists();
    let expected_ca = ca_cert.to_pem();
    files
        .iter()
        .map(|spec| {
            let path = dirs.kubeconfig_dir.join(spec.file_name);
            let server = spec.server_url(config)?;
            let (action, warning) = inspect(&path, expected_ca.trim().as_bytes(), &server, ca_has_key);
            Ok(KubeconfigPlanItem {
                path,
                action,
                warning,
            })
        })
        .collect()
}

fn inspect(
    path: &Path,
    expected_ca: &[u8],
    server: &str,
    ca_has_key: bool,
) -> (KubeconfigAction, Option<String>) {
    if path.symlink_metadata().is_err() {
        let action = if ca_has_key {
            KubeconfigAction::Create
        } else {
            KubeconfigAction::Refuse(KubeconfigRefusal::MissingUnderExternalCa)
        };
        return (action, None);
    }
    match check_existing(path, expected_ca, server) {
        Ok(warning) => (KubeconfigAction::Reuse, warning),
        Err(refusal) => (KubeconfigAction::Refuse(refusal), None),
    }
}

/// Whether an existing file trusts the expected CA; if so, kubeadm's warning when its server
/// differs.
fn check_existing(
    path: &Path,
    expected_ca: &[u8],
    server: &str,
) -> Result<Option<String>, KubeconfigRefusal> {
    let existing = Config::from_file(path).map_err(|source| KubeconfigRefusal::Unloadable {
        path: path.to_owned(),
        source,
    })?;
    let context =
        existing
            .context(&existing.current_context)
            .ok_or_else(|| KubeconfigRefusal::NoCurrentContext {
                path: path.to_owned(),
            })?;
    let cluster =
        existing
            .cluster(&context.context.cluster)
            .ok_or_else(|| KubeconfigRefusal::NoCurrentCluster {
                path: path.to_owned(),
            })?;
    let referenced = &cluster.cluster.certificate_authority;
    let from_file;
    let ca: &[u8] = if cluster.cluster.certificate_authority_data.is_empty() && !referenced.is_empty() {
        from_file = read::file(Path::new(referenced)).map_err(KubeconfigRefusal::CaUnreadable)?;
        &from_file
    } else {
        &cluster.cluster.certificate_authority_data
    };
    if ca.trim_ascii() != expected_ca {
        return Err(KubeconfigRefusal::WrongCa {
            path: path.to_owned(),
        });
    }
    Ok((cluster.cluster.server != server).then(|| {
        format!(
            "a kubeconfig file {:?} exists already but has an unexpected API Server URL: expected: {server}, got: {}",
            path.display(),
            cluster.cluster.server
        )
    }))
}
