//! The client credentials embedded in a kubeconfig file: what `certs renew` rewrites and
//! `check-expiration` reads.

use std::path::{Path, PathBuf};

use kubetrust_kubeconfig::{Config, SecretBytes};

use crate::{Certificate, Error, KubeconfigEntry, PrivateKey};

/// The current context's user and cluster of a kubeconfig file. Errors use kubeadm's texts.
#[derive(Debug)]
pub struct EmbeddedClient {
    path: PathBuf,
    config: Config,
    user: usize,
    cluster: usize,
}

impl EmbeddedClient {
    /// Loads `path` and finds its current context's user and cluster.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let config = Config::from_file(path).map_err(|source| Error::KubeconfigLoad {
            path: path.to_owned(),
            source,
        })?;
        let missing = |entry, name: &str| Error::KubeconfigEntryMissing {
            path: path.to_owned(),
            entry,
            name: name.to_owned(),
        };
        let context = &config
            .context(&config.current_context)
            .ok_or_else(|| missing(KubeconfigEntry::Context, &config.current_context))?
            .context;
        let cluster = config
            .clusters
            .iter()
            .position(|c| c.name == context.cluster)
            .ok_or_else(|| missing(KubeconfigEntry::Cluster, &context.cluster))?;
        let user = config
            .users
            .iter()
            .position(|u| u.name == context.user)
            .ok_or_else(|| missing(KubeconfigEntry::AuthInfo, &context.user))?;
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
    pub fn certificate_chain(&self) -> Result<Vec<Certificate>, Error> {
        let data = self
            .auth()
            .map(|a| a.client_certificate_data.as_slice())
            .unwrap_or_default();
        if data.is_empty() {
            return Err(Error::NoEmbeddedClientCertificate {
                path: self.path.clone(),
            });
        }
        Certificate::chain_from_pem(data).map_err(|source| Error::EmbeddedCertificate {
            path: self.path.clone(),
            source,
        })
    }

    /// The embedded client key.
    pub fn private_key(&self) -> Result<PrivateKey, Error> {
        let data = self
            .auth()
            .map(|a| a.client_key_data.expose_secret())
            .unwrap_or_default();
        PrivateKey::from_pem(data).map_err(|source| Error::EmbeddedKey {
            path: self.path.clone(),
            source,
        })
    }

    /// Whether the cluster embeds its CA (`certificate-authority-data`).
    pub fn has_embedded_ca(&self) -> bool {
        self.config
            .clusters
            .get(self.cluster)
            .is_some_and(|c| !c.cluster.certificate_authority_data.is_empty())
    }

    /// Replaces the client certificate and key and the cluster's CA certificates (the signing
    /// CA's whole bundle, so that a CA rotation's both CAs stay trusted), keeping everything
    /// else.
    pub fn replace(&mut self, certificate: &Certificate, key: &PrivateKey, ca_bundle: &[Certificate]) {
        if let Some(user) = self.config.users.get_mut(self.user) {
            user.user.client_certificate_data = certificate.to_pem().into_bytes();
            user.user.client_key_data = SecretBytes::new(key.to_pem().as_bytes().to_vec());
        }
        if let Some(cluster) = self.config.clusters.get_mut(self.cluster) {
            cluster.cluster.certificate_authority_data = ca_bundle
                .iter()
                .map(Certificate::to_pem)
                .collect::<String>()
                .into_bytes();
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
