//! Cluster settings for the `certs` and `kubeconfig` commands, in kubeadm's order of strength:
//! a flag, then the kubeadm `--config` file, then kubeadm's default (for the node facts: the
//! hostname and the address of the default route). So a script can hand kubetrust the file it
//! hands kubeadm.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;
use kubetrust::pki::KeyAlgorithm;
use kubetrust::pki::kubeadm_config::KubeadmConfig;
use kubetrust::pki::tree::TreeConfig;

/// kubeadm's certificate directory.
const DEFAULT_CERT_DIR: &str = "/etc/kubernetes/pki";

/// `--config`.
#[derive(Debug, Args)]
pub(crate) struct ConfigArg {
    /// A kubeadm config file (InitConfiguration or JoinConfiguration, ClusterConfiguration;
    /// v1beta4 or v1beta3). Flags given as well win over its values.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ConfigArg {
    /// Reads the file, if one was given, and prints kubeadm's warnings about it.
    pub(crate) fn load(&self) -> Result<Option<KubeadmConfig>, kubetrust::pki::Error> {
        let Some(path) = &self.config else {
            return Ok(None);
        };
        let config = KubeadmConfig::from_file(path)?;
        config
            .warnings
            .iter()
            .for_each(|w| eprintln!("[config] WARNING: {w}"));
        Ok(Some(config))
    }
}

/// Where the tree and the kubeconfig files live.
#[derive(Debug, Args)]
pub(crate) struct DirArgs {
    /// The certificate directory [default: `certificatesDir` of --config, else /etc/kubernetes/pki].
    #[arg(long, value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    /// The kubeconfig directory.
    #[arg(long, value_name = "KDIR", default_value = "/etc/kubernetes")]
    pub(crate) kubeconfig_dir: PathBuf,
}

impl DirArgs {
    pub(crate) fn cert_dir(&self, file: Option<&KubeadmConfig>) -> PathBuf {
        cert_dir(self.cert_dir.as_ref(), file)
    }
}

/// The flag, else the file's `certificatesDir`, else kubeadm's default.
pub(crate) fn cert_dir(flag: Option<&PathBuf>, file: Option<&KubeadmConfig>) -> PathBuf {
    flag.cloned()
        .or_else(|| file.and_then(|f| f.certificates_dir.clone()))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CERT_DIR))
}

/// The node facts the tree depends on; required unless --config is given.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// This node's name (CN of the etcd certificates, a SAN of the apiserver's) [default with
    /// --config: `nodeRegistration.name`, else the hostname].
    #[arg(long, value_name = "NAME", required_unless_present = "config")]
    node_name: Option<String>,
    /// The IP the API server advertises [default with --config: `advertiseAddress`, else the
    /// address of the default route].
    #[arg(long, value_name = "IP", required_unless_present = "config")]
    advertise_address: Option<IpAddr>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

impl NodeArgs {
    /// The tree config: flags, then the file, then kubeadm's defaults.
    pub(crate) fn tree_config(&self, file: Option<&KubeadmConfig>) -> TreeConfig {
        let tree = node_tree_config(self.node_name.clone(), self.advertise_address, file);
        self.cluster.apply(tree)
    }
}

/// Settings every tree command may override.
#[derive(Debug, Args)]
pub(crate) struct ClusterArgs {
    /// A stable address for the control plane: DNS name or IP, optional port.
    #[arg(long, value_name = "HOST[:PORT]")]
    control_plane_endpoint: Option<String>,
    /// The encryption algorithm of every generated key [default: `encryptionAlgorithm` of
    /// --config, else RSA-2048].
    #[arg(long, value_name = "ALGORITHM")]
    encryption_algorithm: Option<KeyAlgorithm>,
}

impl ClusterArgs {
    /// Applies the flags that were given over `tree`.
    pub(crate) fn apply(&self, mut tree: TreeConfig) -> TreeConfig {
        if let Some(endpoint) = &self.control_plane_endpoint {
            tree.control_plane_endpoint.clone_from(endpoint);
        }
        if let Some(algorithm) = self.encryption_algorithm {
            tree.encryption_algorithm = algorithm;
        }
        tree
    }
}

/// A tree config for this node: each fact from its flag, else the file, else kubeadm's
/// fallback; the rest from the file.
pub(crate) fn node_tree_config(
    node_name: Option<String>,
    advertise_address: Option<IpAddr>,
    file: Option<&KubeadmConfig>,
) -> TreeConfig {
    let node_name = node_name
        .or_else(|| file.and_then(|f| f.node_name.clone()))
        .unwrap_or_else(hostname);
    let address = advertise_address
        .or_else(|| file.and_then(|f| f.advertise_address))
        .unwrap_or_else(default_route_address);
    match file {
        Some(file) => file.tree_config(node_name, address),
        None => TreeConfig::new(node_name, address),
    }
}

/// The node name kubeadm defaults to: the hostname, lower-cased.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_lowercase())
        .unwrap_or_else(|_| "localhost".into())
}

/// The local address the kernel would use for the default route, as kubeadm's default
/// advertise address; a UDP "connect" sends nothing. Loopback when there is no route.
pub(crate) fn default_route_address() -> IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| socket.connect("192.0.2.1:9").map(|()| socket))
        .and_then(|socket| socket.local_addr())
        .map_or(IpAddr::from([127, 0, 0, 1]), |addr| addr.ip())
}
