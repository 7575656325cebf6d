//! The live-API edge of the commands: `--kubeconfig`, the client built from it, and the
//! runtime the async library calls run on. Everything else in a command stays synchronous.

use std::future::Future;
use std::path::{Path, PathBuf};

use clap::Args;
use kubetrust::kubeconfig::Config;

/// kubeadm's admin kubeconfig, where kubeadm's API commands look by default.
const DEFAULT_KUBECONFIG: &str = "/etc/kubernetes/admin.conf";

/// `--kubeconfig` of the commands that call the API.
#[derive(Debug, Args)]
pub(crate) struct KubeconfigArg {
    /// The kubeconfig file to talk to the cluster with (its current context).
    #[arg(long, value_name = "FILE", default_value = DEFAULT_KUBECONFIG)]
    kubeconfig: PathBuf,
}

/// A cluster to talk to: the kubeconfig as loaded (for its server and CA) and a client.
pub(crate) struct Cluster {
    /// The API server URL the client talks to.
    pub(crate) server: String,
    /// The CA bundle (PEM) the kubeconfig trusts for it.
    pub(crate) ca_pem: Vec<u8>,
    /// The client.
    pub(crate) client: kube::Client,
}

impl KubeconfigArg {
    /// Loads the kubeconfig and builds a client for its current context; `server` replaces the
    /// context's server URL.
    pub(crate) async fn connect(&self, server: Option<&str>) -> Result<Cluster, Box<dyn std::error::Error>> {
        let path = &self.kubeconfig;
        let config = Config::from_file(path)?;
        let resolved = config.resolve(None)?;
        let mut options = kube::Config::from_custom_kubeconfig(config.to_kube()?, &Default::default())
            .await
            .map_err(|e| format!("the kubeconfig {} gives no client: {e}", path.display()))?;
        let server = server.map_or(resolved.cluster.server, str::to_owned);
        options.cluster_url = server
            .parse()
            .map_err(|e| format!("the server URL {server:?} is not a URL: {e}"))?;
        let client = kube::Client::try_from(options)
            .map_err(|e| format!("the kubeconfig {} gives no client: {e}", path.display()))?;
        Ok(Cluster {
            server,
            ca_pem: resolved.cluster.certificate_authority_data,
            client,
        })
    }
}

/// Runs an async command body on a fresh multi-threaded runtime.
pub(crate) fn block_on<T>(
    future: impl Future<Output = Result<T, Box<dyn std::error::Error>>>,
) -> Result<T, Box<dyn std::error::Error>> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(future)
}

/// The cluster `kubeconfig` talks to.
pub(crate) async fn client_for(kubeconfig: &Path) -> Result<Cluster, Box<dyn std::error::Error>> {
    KubeconfigArg {
        kubeconfig: kubeconfig.to_owned(),
    }
    .connect(None)
    .await
}

/// A client from `kubeconfig`, or without one as a pod's would be built: the in-cluster service
/// account, else `$KUBECONFIG` or `~/.kube/config`.
pub(crate) async fn client_from(
    kubeconfig: Option<PathBuf>,
) -> Result<kube::Client, Box<dyn std::error::Error>> {
    match kubeconfig {
        Some(kubeconfig) => Ok(client_for(&kubeconfig).await?.client),
        None => kube::Client::try_default()
            .await
            .map_err(|e| format!("no --kubeconfig, and no in-cluster or default kubeconfig: {e}").into()),
    }
}
