//! The node's TLS bootstrap in one call (feature `kube`), as the kubelet's deterministic path
//! does it (`LoadClientCert`, spec §1): nothing if `kubelet.conf` is valid; else a pending key
//! kept on disk, a `node-csr-<digest>` CSR authenticated by the bootstrap kubeconfig, the issued
//! certificate checked, stored and pointed at by a new `kubelet.conf`.

use std::time::SystemTime;

use kube::config::KubeConfigOptions;
use kubetrust_kubeconfig::Config;
use kubetrust_pki::{Certificate, KeyAlgorithm};

use crate::Error;
use crate::client::{Options, Request, request_certificate};
use crate::csr::Naming;
use crate::flow::{Layout, Progress, Start, finish, start};

/// What [`bootstrap`] needs besides the bootstrap kubeconfig and the node name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BootstrapOptions {
    /// Where to write.
    pub layout: Layout,
    /// The algorithm of a new pending key (the kubelet's default: ECDSA P-256).
    pub key_algorithm: KeyAlgorithm,
    /// How the request waits and retries (default timeout 1 h, as the kubelet).
    pub request: Options,
    /// `spec.expirationSeconds` of the CSR (at least 600); `None` leaves the lifetime to the
    /// signer, as the kubelet does.
    pub expiration_seconds: Option<i32>,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            layout: Layout::default(),
            key_algorithm: KeyAlgorithm::EcdsaP256,
            request: Options::default(),
            expiration_seconds: None,
        }
    }
}

impl BootstrapOptions {
    /// Sets [`BootstrapOptions::layout`].
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Sets [`BootstrapOptions::key_algorithm`].
    pub fn with_key_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.key_algorithm = algorithm;
        self
    }

    /// Sets [`BootstrapOptions::request`].
    pub fn with_request(mut self, request: Options) -> Self {
        self.request = request;
        self
    }

    /// Sets [`BootstrapOptions::expiration_seconds`] (a short-lived certificate, for rotation).
    pub fn with_expiration_seconds(mut self, seconds: i32) -> Self {
        self.expiration_seconds = Some(seconds);
        self
    }
}

/// Bootstraps `node_name` with the credentials of `bootstrap` (see the module docs).
///
/// ```no_run
/// use kubetrust_csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap};
/// use kubetrust_csr_bootstrap::flow::Layout;
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let config = kubetrust_kubeconfig::Config::from_file("/etc/kubernetes/bootstrap-kubelet.conf")?;
/// let layout = Layout::default().with_remove_after("/etc/kubernetes/bootstrap-kubelet.conf");
/// let options = BootstrapOptions::default().with_layout(layout);
/// bootstrap(&config, "worker-1", &options, &mut |step| println!("[kubelet-start] {step:?}")).await?;
/// # Ok(()) }
/// ```
pub async fn bootstrap(
    bootstrap: &Config,
    node_name: &str,
    options: &BootstrapOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<(), Error> {
    let kubeconfig = bootstrap.to_kube().map_err(Error::BootstrapKubeconfig)?;
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| Error::ApiClient(Box::new(e)))?;
    let client = kube::Client::try_from(config).map_err(|e| Error::ApiClient(Box::new(e)))?;
    bootstrap_with_client(&client, bootstrap, node_name, options, progress).await
}

/// [`bootstrap`] with a client the caller built (from `bootstrap` or otherwise); `bootstrap`
/// still supplies the server and CA written into `kubelet.conf` and checked against.
pub async fn bootstrap_with_client(
    client: &kube::Client,
    bootstrap: &Config,
    node_name: &str,
    options: &BootstrapOptions,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<(), Error> {
    let layout = &options.layout;
    let key = match start(
        layout,
        bootstrap,
        options.key_algorithm,
        SystemTime::now(),
        progress,
    )? {
        Start::Done => return Ok(()),
        Start::Request(key) => key,
    };
    let request = Request::kubelet_client(
        node_name,
        &key,
        Naming::Digest,
        options.expiration_seconds,
        cluster_ca(bootstrap)?,
    )?;
    progress(Progress::Requesting {
        name: request.csr().metadata.name.clone().unwrap_or_default(),
    });
    let issued = request_certificate(client, &request, &options.request).await?;
    progress(Progress::Issued {
        name: issued.name.clone(),
    });
    finish(
        layout,
        bootstrap,
        &issued.chain,
        &key,
        SystemTime::now(),
        progress,
    )?;
    Ok(())
}

/// The CA bundle of the bootstrap kubeconfig's current cluster (file or data).
pub(crate) fn cluster_ca(config: &Config) -> Result<Vec<Certificate>, Error> {
    let resolved = config.resolve(None).map_err(Error::BootstrapKubeconfig)?;
    let ca = Certificate::chain_from_pem(&resolved.cluster.certificate_authority_data).map_err(|e| {
        Error::NoClusterCa {
            reason: e.to_string(),
        }
    })?;
    if ca.is_empty() {
        return Err(Error::NoClusterCa {
            reason: "no certificate".to_owned(),
        });
    }
    Ok(ca)
}
