//! The external-CA workflow: generate keys and CSRs in `kubeadm certs generate-csr`'s layout,
//! let an outside CA sign them, then import and validate the signed certificates.

mod import;

use std::fmt;
use std::path::{Path, PathBuf};

use kubetrust_fs::Mode;
use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretBytes};

pub use import::{ImportProblem, import_signed};

use crate::kubeconfigs::{KUBECONFIG_FILES, KubeconfigSpec};
use crate::tree::{CERTIFICATES, CertSpec, TreeConfig};
use crate::{AltNames, CertificateRequest, Dirs, Error, PrivateKey};

/// One key + CSR pair written by [`generate_csrs`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsrItem {
    /// The certificate or kubeconfig name (`apiserver`, `admin.conf`, ...).
    pub name: String,
    /// Where the CSR went.
    pub csr_path: PathBuf,
}

/// A file `generate_csrs` would write that already exists.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrTarget {
    /// `<cert_dir>/<base>.key` or `.csr` of a leaf (the path without extension).
    KeyOrCsr(PathBuf),
    /// A kubeconfig file.
    Kubeconfig(PathBuf),
    /// A kubeconfig's `.csr`.
    Csr(PathBuf),
}

impl fmt::Display for CsrTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyOrCsr(base) => write!(f, "file already exists: key or CSR {}", base.display()),
            Self::Kubeconfig(path) => write!(f, "file already exists: kube config: {}", path.display()),
            Self::Csr(path) => write!(f, "file already exists: csr: {}", path.display()),
        }
    }
}

/// Writes a key and a CSR for every leaf certificate of the local-etcd tree
/// (`<cert_dir>/<base>.key` + `.csr`) and for every kubeconfig (a partial
/// `<kubeconfig_dir>/<file>` holding only the server, names and `client-key-data`, plus
/// `<file>.csr`). CSRs carry only subject and SANs: the CA decides usages. Refuses, writing
/// nothing, if any target exists.
pub fn generate_csrs(dirs: &Dirs, config: &TreeConfig) -> Result<Vec<CsrItem>, Error> {
    config.validate()?;
    let (cert_dir, kubeconfig_dir) = (&dirs.cert_dir, &dirs.kubeconfig_dir);
    let leaves: Vec<&CertSpec> = CERTIFICATES.iter().filter(|s| !s.is_ca()).collect();
    let mut existing = Vec::new();
    for spec in &leaves {
        let (key, csr) = (spec.key_path(cert_dir), csr_path(&spec.cert_path(cert_dir)));
        if key.exists() || csr.exists() {
            existing.push(CsrTarget::KeyOrCsr(cert_dir.join(spec.base_name)));
        }
    }
    for spec in &KUBECONFIG_FILES {
        let path = kubeconfig_dir.join(spec.file_name);
        let csr = csr_path(&path);
        if path.exists() {
            existing.push(CsrTarget::Kubeconfig(path));
        }
        if csr.exists() {
            existing.push(CsrTarget::Csr(csr));
        }
    }
    if !existing.is_empty() {
        return Err(Error::CsrTargetsExist {
            cert_dir: cert_dir.clone(),
            existing,
        });
    }

    let mut items = Vec::new();
    for spec in leaves {
        let (alt_names, _) = spec.alt_names(config)?;
        let subject = spec.subject(config);
        let key = PrivateKey::generate(config.encryption_algorithm)?;
        let request = CertificateRequest::new(&subject, &alt_names, &key)?;
        let csr = csr_path(&spec.cert_path(cert_dir));
        if let Some(dir) = csr.parent() {
            kubetrust_fs::create_dir_all(dir, Mode::PUBLIC_DIR)?;
        }
        kubetrust_fs::write_new(&spec.key_path(cert_dir), key.to_pem().as_bytes(), Mode::PRIVATE)?;
        kubetrust_fs::write_new(&csr, request.to_pem().as_bytes(), Mode::PRIVATE)?;
        items.push(CsrItem {
            name: spec.name.to_owned(),
            csr_path: csr,
        });
    }
    kubetrust_fs::create_dir_all(kubeconfig_dir, Mode::PUBLIC_DIR)?;
    for spec in &KUBECONFIG_FILES {
        let key = PrivateKey::generate(config.encryption_algorithm)?;
        let request = CertificateRequest::new(&spec.subject(config), &AltNames::default(), &key)?;
        let path = kubeconfig_dir.join(spec.file_name);
        let partial = partial_kubeconfig(spec, config, &key)?;
        // The partial kubeconfig holds the new key.
        let yaml = zeroize::Zeroizing::new(partial.to_yaml().map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?);
        kubetrust_fs::write_new(&path, yaml.as_bytes(), Mode::PRIVATE)?;
        let csr = csr_path(&path);
        kubetrust_fs::write_new(&csr, request.to_pem().as_bytes(), Mode::PRIVATE)?;
        items.push(CsrItem {
            name: spec.file_name.to_owned(),
            csr_path: csr,
        });
    }
    Ok(items)
}

fn partial_kubeconfig(spec: &KubeconfigSpec, config: &TreeConfig, key: &PrivateKey) -> Result<Config, Error> {
    let endpoint = ClusterEndpoint::new(spec.server_url(config)?, Vec::new()).with_name(&config.cluster_name);
    let credentials = ClientCredentials::EmbeddedCertificate {
        certificate_pem: Vec::new(),
        key_pem: SecretBytes::new(key.to_pem().as_bytes().to_vec()),
    };
    Ok(Config::for_user(
        &endpoint,
        &spec.client_name(config),
        credentials,
    ))
}

/// `<file>.csr` next to `<file>.crt` (or `<name>.conf.csr` next to a kubeconfig).
fn csr_path(path: &Path) -> PathBuf {
    let mut csr = path.to_owned();
    if csr.extension().is_some_and(|e| e == "crt") {
        csr.set_extension("csr");
    } else {
        csr.as_mut_os_string().push(".csr");
    }
    csr
}
