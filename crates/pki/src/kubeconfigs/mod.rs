//! The kubeconfig files kubeadm writes for a control-plane node (admin.conf, super-admin.conf,
//! kubelet.conf, controller-manager.conf, scheduler.conf) and `kubeadm kubeconfig user`.
//!
//! Each has one cluster (`clusterName`), one user named after the client certificate's CN, and
//! one context `<user>@<cluster>`, with the CA and client credentials embedded.

mod embedded;
mod plan;

use std::time::{Duration, SystemTime};

use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretBytes, SecretString};

pub use embedded::EmbeddedClient;
pub use plan::{KubeconfigAction, KubeconfigPlanItem, KubeconfigRefusal, plan};

use crate::keygen::KeySupply;
use crate::tree::{CLUSTER_CA, TreeConfig, load_ca};
use crate::{CertProfile, CertificateAuthority, Dirs, Error, KeyAlgorithm, PrivateKey, Subject, Validity};

/// Which API endpoint a kubeconfig talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Server {
    /// `controlPlaneEndpoint` (or the local endpoint when unset): admin, super-admin, kubelet.
    ControlPlane,
    /// This node's `https://<advertiseAddress>:<bindPort>`: controller-manager, scheduler.
    Local,
}

/// One of kubeadm's kubeconfig files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KubeconfigSpec {
    /// The file name under the kubeconfig dir.
    pub file_name: &'static str,
    /// The client certificate's CN, `None` for kubelet.conf (`system:node:<node name>`).
    client_name: Option<&'static str>,
    /// O values: the groups.
    pub organizations: &'static [&'static str],
    /// Which endpoint.
    pub server: Server,
    /// kubeadm's description (renewal messages).
    pub long_name: &'static str,
}

/// kubeadm 1.29+'s files, in the order `kubeadm init` writes them.
pub const KUBECONFIG_FILES: [KubeconfigSpec; 5] = [
    KubeconfigSpec {
        file_name: "admin.conf",
        client_name: Some("kubernetes-admin"),
        organizations: &["kubeadm:cluster-admins"],
        server: Server::ControlPlane,
        long_name: "certificate embedded in the kubeconfig file for the admin to use and for kubeadm itself",
    },
    KubeconfigSpec {
        file_name: "super-admin.conf",
        client_name: Some("kubernetes-super-admin"),
        organizations: &["system:masters"],
        server: Server::ControlPlane,
        long_name: "certificate embedded in the kubeconfig file for the super-admin",
    },
    KubeconfigSpec {
        file_name: "kubelet.conf",
        client_name: None,
        organizations: &["system:nodes"],
        server: Server::ControlPlane,
        long_name: "certificate embedded in the kubeconfig file for the kubelet to use",
    },
    KubeconfigSpec {
        file_name: "controller-manager.conf",
        client_name: Some("system:kube-controller-manager"),
        organizations: &[],
        server: Server::Local,
        long_name: "certificate embedded in the kubeconfig file for the controller manager to use",
    },
    KubeconfigSpec {
        file_name: "scheduler.conf",
        client_name: Some("system:kube-scheduler"),
        organizations: &[],
        server: Server::Local,
        long_name: "certificate embedded in the kubeconfig file for the scheduler manager to use",
    },
];

impl KubeconfigSpec {
    /// Looks a file up by name (`admin.conf`, ...).
    pub fn by_file_name(name: &str) -> Option<&'static KubeconfigSpec> {
        KUBECONFIG_FILES.iter().find(|s| s.file_name == name)
    }

    /// The user (client certificate CN) for this node.
    pub fn client_name(&self, config: &TreeConfig) -> String {
        match self.client_name {
            Some(name) => name.to_owned(),
            None => format!("system:node:{}", config.node_name),
        }
    }

    /// The server URL for this node.
    pub fn server_url(&self, config: &TreeConfig) -> Result<String, Error> {
        match self.server {
            Server::ControlPlane => config.control_plane_url(),
            Server::Local => Ok(config.local_api_endpoint()),
        }
    }

    /// The subject of the client certificate.
    pub fn subject(&self, config: &TreeConfig) -> Subject {
        let mut subject = Subject::new(self.client_name(config));
        subject.organizations = self.organizations.iter().map(|o| (*o).to_owned()).collect();
        subject
    }
}

/// Writes the kubeconfig files that are missing, each with a new client certificate from the
/// cluster CA in the cert dir. Fails, writing nothing, if any existing file is refused.
pub fn create(
    dirs: &Dirs,
    config: &TreeConfig,
    files: &[KubeconfigSpec],
    now: SystemTime,
) -> Result<Vec<KubeconfigPlanItem>, Error> {
    create_with(
        dirs,
        config,
        files,
        now,
        &mut KeySupply::new(config.encryption_algorithm),
    )
}

/// [`create`] with keys from `keys`, topped up in one parallel batch.
pub(crate) fn create_with(
    dirs: &Dirs,
    config: &TreeConfig,
    files: &[KubeconfigSpec],
    now: SystemTime,
    keys: &mut KeySupply,
) -> Result<Vec<KubeconfigPlanItem>, Error> {
    config.validate()?;
    kubetrust_fs::recover(&dirs.kubeconfig_dir)?;
    let mut items = Vec::new();
    let mut refusals = Vec::new();
    for item in plan(dirs, config, files)? {
        match item.action {
            KubeconfigAction::Refuse(refusal) => refusals.push((item.path, refusal)),
            _ => items.push(item),
        }
    }
    if !refusals.is_empty() {
        return Err(Error::KubeconfigsRefused {
            kubeconfig_dir: dirs.kubeconfig_dir.clone(),
            refusals,
        });
    }
    let is_create = |i: &&KubeconfigPlanItem| matches!(i.action, KubeconfigAction::Create);
    let to_create = items.iter().filter(is_create).count();
    if to_create == 0 {
        return Ok(items);
    }
    let ca = load_ca(&CLUSTER_CA, &dirs.cert_dir)?;
    keys.reserve(to_create);
    let mut written = Vec::new();
    for (item, spec) in items.iter().zip(files).filter(|(item, _)| is_create(item)) {
        let request = UserKubeconfig {
            cluster_name: config.cluster_name.clone(),
            server: spec.server_url(config)?,
            user: spec.client_name(config),
            credentials: ClientCredentialsSpec::Certificate {
                subject: spec.subject(config),
                validity: client_validity(&ca, now, config.certificate_validity),
            },
            key_algorithm: config.encryption_algorithm,
        };
        let kubeconfig = build_with(&ca, request, || keys.take())?;
        written.push((item.path.clone(), kubeconfig));
    }
    let mut yaml = Vec::with_capacity(written.len());
    for (path, kubeconfig) in &written {
        yaml.push(kubeconfig.to_yaml().map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?);
    }
    kubetrust_fs::create_dir_all(&dirs.kubeconfig_dir, kubetrust_fs::Mode::PUBLIC_DIR)?;
    let batch: Vec<kubetrust_fs::NewFile<'_>> = written
        .iter()
        .zip(&yaml)
        .map(|((path, _), yaml)| kubetrust_fs::NewFile {
            path,
            contents: yaml.as_bytes(),
            mode: kubetrust_fs::Mode::PRIVATE,
        })
        .collect();
    let result = kubetrust_fs::write_new_all(&batch);
    drop(batch);
    yaml.iter_mut().for_each(zeroize::Zeroize::zeroize);
    result?;
    Ok(items)
}

/// The validity kubeadm gives kubeconfig client certificates: the CA's NotBefore (1.31+ passes
/// only NotAfter, so pkiutil falls back to the CA's start) until `now + period`.
pub fn client_validity(ca: &CertificateAuthority, now: SystemTime, period: Duration) -> Validity {
    Validity {
        not_before: ca.certificate().not_before(),
        not_after: crate::profile::later(now, period),
    }
}

/// How the user of a kubeconfig authenticates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ClientCredentialsSpec {
    /// A client certificate with this subject and validity, and a new key.
    Certificate {
        /// CN = user name, O = groups.
        subject: Subject,
        /// Validity window.
        validity: Validity,
    },
    /// A bearer token (`kubeadm kubeconfig user --token`).
    Token(SecretString),
}

/// One user's kubeconfig, as `kubeadm kubeconfig user` makes it.
#[derive(Debug)]
#[non_exhaustive]
pub struct UserKubeconfig {
    /// The cluster's name in the file (`clusterName`).
    pub cluster_name: String,
    /// The API server URL.
    pub server: String,
    /// The user's name; the context is `<user>@<cluster>`.
    pub user: String,
    /// How the user authenticates.
    pub credentials: ClientCredentialsSpec,
    /// The algorithm of a new client key (`encryptionAlgorithm`).
    pub key_algorithm: KeyAlgorithm,
}

impl UserKubeconfig {
    /// kubeadm's choices from the config: `clusterName`, the control-plane endpoint (else the
    /// local one) and `encryptionAlgorithm`.
    pub fn new(
        config: &TreeConfig,
        user: impl Into<String>,
        credentials: ClientCredentialsSpec,
    ) -> Result<Self, Error> {
        Ok(Self {
            cluster_name: config.cluster_name.clone(),
            server: config.control_plane_url()?,
            user: user.into(),
            credentials,
            key_algorithm: config.encryption_algorithm,
        })
    }
}

/// Builds a kubeconfig as `kubeadm kubeconfig user` does: one cluster with the CA embedded,
/// one user, one context `<user>@<cluster>`.
pub fn build(ca: &CertificateAuthority, request: UserKubeconfig) -> Result<Config, Error> {
    let algorithm = request.key_algorithm;
    build_with(ca, request, || PrivateKey::generate(algorithm))
}

fn build_with(
    ca: &CertificateAuthority,
    request: UserKubeconfig,
    new_key: impl FnOnce() -> Result<PrivateKey, Error>,
) -> Result<Config, Error> {
    let endpoint = ClusterEndpoint::new(request.server, ca.certificate().to_pem().into_bytes())
        .with_name(&request.cluster_name);
    let credentials = match request.credentials {
        ClientCredentialsSpec::Token(token) => ClientCredentials::Token(token),
        ClientCredentialsSpec::Certificate { subject, validity } => {
            let key = new_key()?;
            let profile = CertProfile::client(subject, validity.not_before).with_validity(validity);
            let cert = ca.issue(&profile, key.public_key_der())?;
            ClientCredentials::EmbeddedCertificate {
                certificate_pem: cert.to_pem().into_bytes(),
                key_pem: SecretBytes::new(key.to_pem().as_bytes().to_vec()),
            }
        }
    };
    Ok(Config::for_user(&endpoint, &request.user, credentials))
}
