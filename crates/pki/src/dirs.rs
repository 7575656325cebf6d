//! Where a control plane keeps its PKI: the cert dir and the kubeconfig dir travel together,
//! since kubeconfigs are signed by the cert dir's CA.

use std::path::PathBuf;

/// The cert dir and the kubeconfig dir. `Default` is kubeadm's: `/etc/kubernetes/pki` and
/// `/etc/kubernetes`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dirs {
    /// `certificatesDir`: the CAs, leaves and `sa` keys.
    pub cert_dir: PathBuf,
    /// admin.conf, super-admin.conf, kubelet.conf, controller-manager.conf, scheduler.conf.
    pub kubeconfig_dir: PathBuf,
}

impl Dirs {
    /// The two directories.
    pub fn new(cert_dir: impl Into<PathBuf>, kubeconfig_dir: impl Into<PathBuf>) -> Self {
        Self {
            cert_dir: cert_dir.into(),
            kubeconfig_dir: kubeconfig_dir.into(),
        }
    }
}

impl Default for Dirs {
    fn default() -> Self {
        Self::new("/etc/kubernetes/pki", "/etc/kubernetes")
    }
}
