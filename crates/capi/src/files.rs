//! [`ClusterPki`] to and from a kubeadm cert dir (`ca.crt`, `etcd/ca.crt`, `front-proxy-ca.crt`,
//! `sa.pub`, with their keys), as a control-plane machine's bootstrap data lays it out.

use std::path::{Path, PathBuf};

use kubetrust_fs::{Mode, NewFile};
use kubetrust_pki::tree::load_ca;
use kubetrust_pki::{Certificate, CertificateAuthority, PrivateKey};
use zeroize::Zeroizing;

use crate::cluster_pki::{EtcdCa, ca_specs};
use crate::{ClusterPki, Error};

/// `sa.key` and `sa.pub`, kubeadm's service-account key files.
const SA_KEY: &str = "sa.key";
const SA_PUB: &str = "sa.pub";

/// One file to write: path, bytes (wiped on drop: most are keys) and mode.
type File = (PathBuf, Zeroizing<Vec<u8>>, Mode);

impl ClusterPki {
    /// Writes kubeadm's files for these CAs and keys under `cert_dir` with kubeadm's modes
    /// (as kubetrust-pki writes its tree: certificates 0644, keys and `sa.pub` 0600), each
    /// atomically through kubetrust-fs. With external etcd only `etcd/ca.crt` is written.
    ///
    /// A file that already exists with the same bytes is left alone; one with other bytes is
    /// [`Error::FileDiffers`], checked for every file before anything is written. Returns the
    /// paths written. (Cluster API's own bootstrap data uses 0640 for certificates.)
    pub fn write_to_dir(&self, cert_dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut to_write = Vec::new();
        for (path, contents, mode) in self.files(cert_dir) {
            match kubetrust_fs::read(&path).map(Zeroizing::new) {
                Ok(existing) if existing == contents => {}
                Ok(_) => return Err(Error::FileDiffers { path }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => to_write.push((path, contents, mode)),
                Err(e) => return Err(e.into()),
            }
        }
        for (path, ..) in &to_write {
            if let Some(dir) = path.parent() {
                kubetrust_fs::create_dir_all(dir, Mode::PUBLIC_DIR)?;
            }
        }
        kubetrust_fs::write_new_all(&NewFile::batch(&to_write))?;
        Ok(to_write.into_iter().map(|(path, ..)| path).collect())
    }

    /// Loads the CAs and service-account keys from a kubeadm cert dir (kubetrust-pki's
    /// loader: each key must match its certificate). `etcd/ca.crt` without `etcd/ca.key` is
    /// an external etcd CA; `sa.pub` must be `sa.key`'s public key.
    pub fn from_dir(cert_dir: &Path) -> Result<Self, Error> {
        let specs = ca_specs();
        let etcd_ca = if specs.etcd.key_path(cert_dir).exists() {
            EtcdCa::Local(Box::new(load_ca(specs.etcd, cert_dir)?))
        } else {
            let path = specs.etcd.cert_path(cert_dir);
            let pem = kubetrust_fs::read(&path)?;
            EtcdCa::External(
                Certificate::chain_from_pem(&pem)
                    .map_err(|source| kubetrust_pki::Error::LoadCertificate { path, source })?,
            )
        };
        let (key_path, pub_path) = (cert_dir.join(SA_KEY), cert_dir.join(SA_PUB));
        let service_account_key = PrivateKey::from_file(&key_path)?;
        let public = kubetrust_fs::read(&pub_path)?;
        let matches = kubetrust_kubeconfig::pem::parse(&public)
            .unwrap_or_default()
            .iter()
            .any(|b| b.label == "PUBLIC KEY" && b.der == service_account_key.public_key_der());
        if !matches {
            return Err(Error::SaPubMismatch { pub_path, key_path });
        }
        Ok(Self {
            cluster_ca: load_ca(specs.cluster, cert_dir)?,
            etcd_ca,
            front_proxy_ca: load_ca(specs.front_proxy, cert_dir)?,
            service_account_key,
        })
    }

    /// Every file of the layout with its bytes and mode, in kubeadm's order.
    fn files(&self, cert_dir: &Path) -> Vec<File> {
        let specs = ca_specs();
        let mut files = Vec::new();
        let mut ca_files = |spec: &kubetrust_pki::tree::CertSpec, ca: &CertificateAuthority| {
            files.push(public(spec.cert_path(cert_dir), ca.bundle_pem()));
            files.push(private(spec.key_path(cert_dir), ca.key()));
        };
        ca_files(specs.cluster, &self.cluster_ca);
        ca_files(specs.front_proxy, &self.front_proxy_ca);
        match &self.etcd_ca {
            EtcdCa::Local(ca) => ca_files(specs.etcd, ca),
            EtcdCa::External(bundle) => files.push(public(
                specs.etcd.cert_path(cert_dir),
                bundle.iter().map(Certificate::to_pem).collect(),
            )),
        }
        let sa = &self.service_account_key;
        files.push(private(cert_dir.join(SA_KEY), sa));
        files.push((
            cert_dir.join(SA_PUB),
            Zeroizing::new(sa.public_key_pem().into_bytes()),
            Mode::PRIVATE,
        ));
        files
    }
}

fn public(path: PathBuf, pem: String) -> File {
    (path, Zeroizing::new(pem.into_bytes()), Mode::PUBLIC)
}

fn private(path: PathBuf, key: &PrivateKey) -> File {
    (
        path,
        Zeroizing::new(key.to_pem().as_bytes().to_vec()),
        Mode::PRIVATE,
    )
}
