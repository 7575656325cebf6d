//! What a join reports while it runs, so the CLI prints kubeadm's phase lines and a program can
//! log or draw progress.

use std::path::PathBuf;
use std::time::Duration;

use kubetrust_csr_bootstrap::flow::Progress;
use kubetrust_pki::upload_certs::{NAMESPACE, SECRET_NAME};

use super::Phase;

/// One step of a join.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A phase began.
    PhaseStarted(Phase),
    /// The control plane was found and trusted.
    Discovered {
        /// The API server the node will talk to.
        server: String,
        /// Whether the CA was checked against a pin (false for the unsafe skip and for a
        /// discovery file, whose CA is trusted as given).
        pinned: bool,
    },
    /// The `kubeadm-certs` Secret is being read (control-plane join).
    DownloadingCerts,
    /// The Secret was decrypted and checked; the shared files go to this directory.
    SavingCerts {
        /// The cert dir.
        cert_dir: PathBuf,
    },
    /// One of pki's `[certs]` plan lines for this node's certificates.
    Certs(String),
    /// One of pki's `[kubeconfig]` plan lines for this node's kubeconfig files.
    Kubeconfig(String),
    /// A step of the TLS bootstrap.
    TlsBootstrap(Progress),
    /// A phase ended successfully.
    PhaseFinished {
        /// Which.
        phase: Phase,
        /// How long it took.
        elapsed: Duration,
    },
}

impl Event {
    /// The line kubeadm-style output prints for this event (`[phase] text`), if any.
    pub fn phase_line(&self) -> Option<String> {
        let line = match self {
            Self::PhaseStarted(Phase::Preflight) => "[preflight] Running pre-flight checks".to_owned(),
            Self::PhaseStarted(Phase::Discovery) => {
                "[discovery] Fetching and validating cluster-info".to_owned()
            }
            Self::PhaseStarted(Phase::KubeletStart) => {
                "[kubelet-start] Performing the TLS Bootstrap".to_owned()
            }
            Self::Discovered { server, pinned } => {
                let trust = if *pinned {
                    "its CA matches a pinned public key"
                } else {
                    "its CA was not pinned"
                };
                format!("[discovery] cluster-info is valid and {trust}; using API Server {server:?}")
            }
            Self::DownloadingCerts => format!(
                "[download-certs] Downloading the certificates in Secret {SECRET_NAME:?} in the {NAMESPACE:?} Namespace"
            ),
            Self::SavingCerts { cert_dir } => format!(
                "[download-certs] Saving the certificates to the folder: {:?}",
                cert_dir.display().to_string()
            ),
            Self::Certs(line) | Self::Kubeconfig(line) => line.clone(),
            Self::TlsBootstrap(progress) => format!("[kubelet-start] {}", describe(progress)?),
            Self::PhaseFinished { phase, elapsed } => {
                format!("[{phase}] done in {:.0?}", elapsed)
            }
            Self::PhaseStarted(_) => return None,
        };
        Some(line)
    }
}

fn describe(progress: &Progress) -> Option<String> {
    Some(match progress {
        Progress::BootstrapNeeded { reason } => format!("A client certificate is needed: {reason}"),
        Progress::PendingKey { path } => format!("Using the key {path:?}"),
        Progress::Requesting { name } => {
            format!("Certificate signing request {name:?} sent; waiting for approval and signing")
        }
        Progress::Issued { name } => {
            format!("Certificate signing request {name:?} approved and issued; the certificate checks out")
        }
        Progress::Stored { path } => format!("Stored the client certificate and key in {path:?}"),
        Progress::KubeconfigWritten { path } => format!("Wrote the kubelet's kubeconfig {path:?}"),
        _ => return None,
    })
}
