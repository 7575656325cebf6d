//! The network side of rotation (feature `kube`): the system clock, and renewal through the
//! API server with the node's *current* client certificate (the `selfnodeclient` path), as
//! client-go's certificate manager does.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::NodeAddress;
use kube::config::KubeConfigOptions;
use kubetrust_kubeconfig::Config;
use kubetrust_pki::{Certificate, PrivateKey};

use crate::Error;
use crate::client::{Options, Request, request_certificate};
use crate::csr::Naming;
use crate::rotation::{Clock, Renew};

/// The system clock, sleeping with tokio.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Which certificate is renewed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Kind {
    /// The kubelet client certificate.
    Client,
    /// The kubelet serving certificate for these Node addresses.
    Serving(Vec<NodeAddress>),
}

/// How the renewer authenticates.
#[derive(Clone)]
#[non_exhaustive]
pub enum Credentials {
    /// A kubeconfig (`kubelet.conf`) re-read for every attempt, so each attempt uses the
    /// certificate that is current then.
    Kubeconfig(PathBuf),
    /// A client the caller built.
    Client(kube::Client),
}

/// Renews through the API server: a fresh-key CSR with `generateName: csr-`, waited for with a
/// 15-minute timeout per attempt (client-go's `certificateWaitTimeout`), checked against `ca`.
#[derive(Clone)]
pub struct KubeRenewer {
    credentials: Credentials,
    node_name: String,
    kind: Kind,
    ca: Vec<Certificate>,
    options: Options,
}

impl KubeRenewer {
    /// A renewer of `node_name`'s `kind` certificate, checking issued certificates against `ca`.
    pub fn new(
        credentials: Credentials,
        node_name: impl Into<String>,
        kind: Kind,
        ca: Vec<Certificate>,
    ) -> Self {
        Self {
            credentials,
            node_name: node_name.into(),
            kind,
            ca,
            options: Options::default().with_timeout(Duration::from_secs(15 * 60)),
        }
    }

    /// Request options instead of the defaults (timeout 15 min).
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    async fn client(&self) -> Result<kube::Client, Error> {
        match &self.credentials {
            Credentials::Client(client) => Ok(client.clone()),
            Credentials::Kubeconfig(path) => {
                let unusable = |source| Error::ClientKubeconfig {
                    path: path.clone(),
                    source,
                };
                let theirs = Config::from_file(path)
                    .and_then(|ours| ours.to_kube())
                    .map_err(unusable)?;
                let config = kube::Config::from_custom_kubeconfig(theirs, &KubeConfigOptions::default())
                    .await
                    .map_err(|e| Error::ApiClient(Box::new(e)))?;
                kube::Client::try_from(config).map_err(|e| Error::ApiClient(Box::new(e)))
            }
        }
    }
}

impl Renew for KubeRenewer {
    async fn renew(&self, key: &PrivateKey) -> Result<Vec<Certificate>, Error> {
        let client = self.client().await?;
        let ca = self.ca.clone();
        let request = match &self.kind {
            Kind::Client => Request::kubelet_client(&self.node_name, key, Naming::Generated, None, ca),
            Kind::Serving(addresses) => Request::kubelet_serving(&self.node_name, key, addresses, None, ca),
        }?;
        Ok(request_certificate(&client, &request, &self.options).await?.chain)
    }
}
