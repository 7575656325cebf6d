//! The kubeconfig files kubeadm writes for a control-plane node (admin.conf, super-admin.conf,
//! kubelet.conf, controller-manager.conf, scheduler.conf) and `kubeadm kubeconfig user`.
//!
//! Each has one cluster (`clusterName`), one user named after the client certificate's CN, and
//! one context `<user>@<cluster>`, with the CA and client credentials embedded.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretBytes, SecretString};

use crate::tree::{CERTIFICATES, TreeConfig, load_ca};
use crate::{CertProfile, Certificate, CertificateAuthority, Error, PrivateKey, Subject, Validity};

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

/// What happens to one kubeconfig file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KubeconfigAction {
    /// Write it.
    Create,
    /// It exists with the right CA; leave it.
    Reuse,
    /// It exists but cannot be used; nothing is written.
    Refuse(String),
}

/// The decision for one file, with kubeadm's warning when the server differs.
#[derive(Clone, Debug, PartialEq, Eq)]
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
            KubeconfigAction::Refuse(reason) => format!("[kubeconfig] Refusing {name:?}: {reason}"),
        }
    }
}

/// Decides for each file of `files` whether to write, reuse or refuse it. Reads only.
pub fn plan(
    kubeconfig_dir: &Path,
    ca_cert: &Certificate,
    ca_has_key: bool,
    config: &TreeConfig,
    files: &[KubeconfigSpec],
) -> Result<Vec<KubeconfigPlanItem>, Error> {
    let expected_ca = ca_cert.to_pem();
    files
        .iter()
        .map(|spec| {
            let path = kubeconfig_dir.join(spec.file_name);
            let server = spec.server_url(config)?;
            Ok(inspect(&path, expected_ca.trim().as_bytes(), &server, ca_has_key))
        })
        .collect()
}

fn inspect(path: &Path, expected_ca: &[u8], server: &str, ca_has_key: bool) -> KubeconfigPlanItem {
    let item = |action, warning| KubeconfigPlanItem {
        path: path.to_owned(),
        action,
        warning,
    };
    if path.symlink_metadata().is_err() {
        return if ca_has_key {
            item(KubeconfigAction::Create, None)
        } else {
            item(
                KubeconfigAction::Refuse(
                    "missing, and ca.key is absent (external CA mode): provide it".into(),
                ),
                None,
            )
        };
    }
    let display = path.display();
    let existing = match Config::from_file(path) {
        Ok(config) => config,
        Err(e) => {
            return item(
                KubeconfigAction::Refuse(format!("failed to load kubeconfig file {display}: {e}")),
                None,
            );
        }
    };
    let Some(context) = existing.context(&existing.current_context) else {
        return item(
            KubeconfigAction::Refuse(format!(
                "failed to find CurrentContext in Contexts of the kubeconfig file {display}"
            )),
            None,
        );
    };
    let Some(cluster) = existing.cluster(&context.context.cluster) else {
        return item(
            KubeconfigAction::Refuse(format!(
                "failed to find the given CurrentContext Cluster in Clusters of the kubeconfig file {display}"
            )),
            None,
        );
    };
    let ca = if cluster.cluster.certificate_authority_data.is_empty()
        && !cluster.cluster.certificate_authority.is_empty()
    {
        std::fs::read(&cluster.cluster.certificate_authority).unwrap_or_default()
    } else {
        cluster.cluster.certificate_authority_data.clone()
    };
    if ca.trim_ascii() != expected_ca {
        return item(
            KubeconfigAction::Refuse(format!(
                "a kubeconfig file {display:?} exists already but has got the wrong CA cert"
            )),
            None,
        );
    }
    let warning = (cluster.cluster.server != server).then(|| {
        format!(
            "a kubeconfig file {display:?} exists already but has an unexpected API Server URL: expected: {server}, got: {}",
            cluster.cluster.server
        )
    });
    item(KubeconfigAction::Reuse, warning)
}

/// Writes the kubeconfig files that are missing, each with a new client certificate from the
/// cluster CA in `cert_dir`. Fails, writing nothing, if any existing file is refused.
pub fn create(
    cert_dir: &Path,
    kubeconfig_dir: &Path,
    config: &TreeConfig,
    files: &[KubeconfigSpec],
    now: SystemTime,
) -> Result<Vec<KubeconfigPlanItem>, Error> {
    config.validate()?;
    let ca_spec = CERTIFICATES.first().ok_or(Error::EmptyBundle)?;
    let ca_cert = read_ca_cert(&ca_spec.cert_path(cert_dir))?;
    let ca_has_key = ca_spec.key_path(cert_dir).exists();
    let items = plan(kubeconfig_dir, &ca_cert, ca_has_key, config, files)?;
    let problems: Vec<String> = items
        .iter()
        .filter_map(|i| match &i.action {
            KubeconfigAction::Refuse(reason) => Some(format!("{}: {reason}", i.path.display())),
            _ => None,
        })
        .collect();
    if !problems.is_empty() {
        return Err(Error::TreeRefused {
            cert_dir: kubeconfig_dir.to_owned(),
            problems,
        });
    }
    if items.iter().all(|i| i.action != KubeconfigAction::Create) {
        return Ok(items);
    }
    let ca = load_ca(ca_spec, cert_dir)?;
    let to_create = items
        .iter()
        .filter(|i| i.action == KubeconfigAction::Create)
        .count();
    let mut keys = crate::keygen::generate(config.encryption_algorithm, to_create)?.into_iter();
    let mut written = Vec::new();
    for (item, spec) in items.iter().zip(files) {
        if item.action != KubeconfigAction::Create {
            continue;
        }
        let credentials = ClientCredentialsSpec::Certificate {
            subject: spec.subject(config),
            validity: client_validity(&ca, now, config.certificate_validity),
        };
        let kubeconfig = build_with(
            &ca,
            &config.cluster_name,
            &spec.server_url(config)?,
            &spec.client_name(config),
            credentials,
            || {
                keys.next().ok_or(Error::KeyGeneration {
                    algorithm: config.encryption_algorithm,
                })
            },
        )?;
        written.push((item.path.clone(), kubeconfig));
    }
    let mut yaml = Vec::with_capacity(written.len());
    for (path, kubeconfig) in &written {
        yaml.push(kubeconfig.to_yaml().map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?);
    }
    kubetrust_fs::create_dir_all(kubeconfig_dir, kubetrust_fs::Mode::PUBLIC_DIR)?;
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

/// Builds a kubeconfig as `kubeadm kubeconfig user` does: one cluster with the CA embedded,
/// one user, one context `<user>@<cluster>`.
pub fn build(
    ca: &CertificateAuthority,
    cluster_name: &str,
    server: &str,
    user: &str,
    credentials: ClientCredentialsSpec,
    config: &TreeConfig,
) -> Result<Config, Error> {
    build_with(ca, cluster_name, server, user, credentials, || {
        PrivateKey::generate(config.encryption_algorithm)
    })
}

fn build_with(
    ca: &CertificateAuthority,
    cluster_name: &str,
    server: &str,
    user: &str,
    credentials: ClientCredentialsSpec,
    new_key: impl FnOnce() -> Result<PrivateKey, Error>,
) -> Result<Config, Error> {
    let endpoint =
        ClusterEndpoint::new(server, ca.certificate().to_pem().into_bytes()).with_name(cluster_name);
    let credentials = match credentials {
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
    Ok(Config::for_user(&endpoint, user, credentials))
}

fn read_ca_cert(path: &Path) -> Result<Certificate, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::LoadCa {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Certificate::from_pem(&bytes).map_err(|e| Error::LoadCa {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// The current context's user and cluster of a kubeconfig file: what `certs renew` and
/// `check-expiration` read and rewrite. Errors use kubeadm's texts.
#[derive(Debug)]
pub struct EmbeddedClient {
    path: PathBuf,
    config: Config,
    user: usize,
    cluster: usize,
}

impl EmbeddedClient {
    /// Loads `path` and finds its current context's user and cluster.
    pub fn load(path: &Path) -> Result<Self, String> {
        let display = path.display();
        let config =
            Config::from_file(path).map_err(|e| format!("failed to load kubeConfig file {display}: {e}"))?;
        let context = config
            .context(&config.current_context)
            .ok_or_else(|| {
                format!(
                    "invalid kubeConfig file {display}: missing context {}",
                    config.current_context
                )
            })?
            .context
            .clone();
        let cluster = config
            .clusters
            .iter()
            .position(|c| c.name == context.cluster)
            .ok_or_else(|| {
                format!(
                    "invalid kubeConfig file {display}: missing cluster {}",
                    context.cluster
                )
            })?;
        let user = config
            .users
            .iter()
            .position(|u| u.name == context.user)
            .ok_or_else(|| {
                format!(
                    "invalid kubeConfig file {display}: missing authInfo {}",
                    context.user
                )
            })?;
        Ok(Self {
            path: path.to_owned(),
            config,
            user,
            cluster,
        })
    }

    fn auth(&self) -> Option<&kubetrust_kubeconfig::AuthInfo> {
        self.config.users.get(self.user).map(|u| &u.user)
    }

    /// The embedded client certificate chain (file references cannot be renewed).
    pub fn certificate_chain(&self) -> Result<Vec<Certificate>, String> {
        let data = self
            .auth()
            .map(|a| a.client_certificate_data.as_slice())
            .unwrap_or_default();
        if data.is_empty() {
            return Err(format!(
                "kubeConfig file {} does not have an embedded client certificate",
                self.path.display()
            ));
        }
        Certificate::chain_from_pem(data)
            .map_err(|e| format!("{}: client-certificate-data: {e}", self.path.display()))
    }

    /// The embedded client key.
    pub fn private_key(&self) -> Result<PrivateKey, String> {
        let data = self
            .auth()
            .map(|a| a.client_key_data.expose_secret())
            .unwrap_or_default();
        PrivateKey::from_pem(data).map_err(|e| format!("{}: client-key-data: {e}", self.path.display()))
    }

    /// Whether the cluster embeds its CA (`certificate-authority-data`).
    pub fn has_embedded_ca(&self) -> bool {
        self.config
            .clusters
            .get(self.cluster)
            .is_some_and(|c| !c.cluster.certificate_authority_data.is_empty())
    }

    /// Replaces the client certificate and key and the cluster's CA, keeping everything else.
    pub fn replace(&mut self, certificate: &Certificate, key: &PrivateKey, ca: &Certificate) {
        if let Some(user) = self.config.users.get_mut(self.user) {
            user.user.client_certificate_data = certificate.to_pem().into_bytes();
            user.user.client_key_data = SecretBytes::new(key.to_pem().as_bytes().to_vec());
        }
        if let Some(cluster) = self.config.clusters.get_mut(self.cluster) {
            cluster.cluster.certificate_authority_data = ca.to_pem().into_bytes();
        }
    }

    /// Writes the file back atomically with mode 0600.
    pub fn save(&self) -> Result<(), Error> {
        self.config.save(&self.path).map_err(|source| Error::Kubeconfig {
            path: self.path.clone(),
            source,
        })
    }
}
