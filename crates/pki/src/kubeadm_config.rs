//! The parts of a kubeadm config file that the certificate tree depends on, so an installer can
//! hand kubetrust the same `--config` file it gives kubeadm.
//!
//! The file is read by `kubetrust-kubeadm-config` (the workspace's one reader of kubeadm's
//! config API); this module maps it onto the tree. Read: `InitConfiguration` (`nodeRegistration.name`, `localAPIEndpoint`),
//! `JoinConfiguration` (`nodeRegistration.name`, `controlPlane.localAPIEndpoint`, for a
//! control-plane node joining) and `ClusterConfiguration` (`clusterName`,
//! `controlPlaneEndpoint`, `certificatesDir`, `networking`, `apiServer.certSANs`, the etcd SANs
//! or `etcd.external`, and in v1beta4 `encryptionAlgorithm` and the two validity periods), in
//! `kubeadm.k8s.io/v1beta3` or `v1beta4`, YAML or JSON, one or several `---`-separated
//! documents. Documents of other API groups (kubelet, kube-proxy) are skipped, as kubeadm
//! skips them here. What the file leaves out keeps kubeadm's default.
//!
//! ```
//! use kubetrust_pki::kubeadm_config::KubeadmConfig;
//! let config = KubeadmConfig::from_yaml(
//!     "apiVersion: kubeadm.k8s.io/v1beta4
//! kind: ClusterConfiguration
//! controlPlaneEndpoint: cp.example.com:6443
//! encryptionAlgorithm: ECDSA-P256
//! ",
//! )?;
//! let tree = config.tree_config("node1", "10.0.0.10".parse()?);
//! assert_eq!(tree.control_plane_endpoint, "cp.example.com:6443");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kubetrust_kubeadm_config::{ApiEndpoint, ClusterConfiguration, ConfigFile, GoDuration};

use crate::error::UnusableConfig;
use crate::tree::TreeConfig;
use crate::{CA_CERTIFICATE_VALIDITY, CERTIFICATE_VALIDITY, Error, KeyAlgorithm};

/// What a kubeadm config file says about this node and its certificates.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KubeadmConfig {
    /// `nodeRegistration.name`, when the file sets it (kubeadm falls back to the hostname).
    pub node_name: Option<String>,
    /// The local API endpoint's `advertiseAddress`, when the file sets it (kubeadm falls back
    /// to the address of the default route).
    pub advertise_address: Option<IpAddr>,
    /// `certificatesDir`, when the file sets it.
    pub certificates_dir: Option<PathBuf>,
    /// Warnings kubeadm prints for this file (validity periods above the defaults).
    pub warnings: Vec<String>,
    /// Everything the file says, with kubeadm's defaults where it is silent; the node facts
    /// the file leaves out stay empty (see [`Self::tree_config`]).
    pub tree: TreeConfig,
}

impl KubeadmConfig {
    /// Reads a kubeadm config file; the error names the file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        Self::from_config_file(ConfigFile::from_file(path)?).map_err(|e| match e {
            Error::UnusableKubeadmConfig { path: None, problem } => Error::UnusableKubeadmConfig {
                path: Some(path.to_owned()),
                problem,
            },
            other => other,
        })
    }

    /// Parses and validates kubeadm config documents (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Self, Error> {
        Self::from_config_file(ConfigFile::from_text(text)?)
    }

    /// The tree's settings from an already read config file.
    pub fn from_config_file(file: ConfigFile) -> Result<Self, Error> {
        let unusable = |problem| Error::UnusableKubeadmConfig { path: None, problem };
        if file.is_empty() {
            return Err(unusable(UnusableConfig::NoDocument));
        }
        let (registration, endpoint) = match (file.init, file.join) {
            (Some(_), Some(_)) => return Err(unusable(UnusableConfig::InitAndJoin)),
            (Some(init), None) => (init.node_registration, init.local_api_endpoint),
            (None, Some(join)) => (
                join.node_registration,
                join.control_plane
                    .map(|c| c.local_api_endpoint)
                    .unwrap_or_default(),
            ),
            (None, None) => Default::default(),
        };
        let ApiEndpoint {
            advertise_address,
            bind_port,
            ..
        } = endpoint;
        let mut config = Self {
            node_name: Some(registration.name).filter(|n| !n.is_empty()),
            advertise_address,
            certificates_dir: None,
            warnings: Vec::new(),
            tree: TreeConfig::default(),
        };
        if let Some(name) = &config.node_name {
            config.tree.node_name.clone_from(name);
        }
        if let Some(address) = advertise_address {
            config.tree.advertise_address = address;
        }
        if let Some(port) = bind_port {
            config.tree.bind_port = port;
        }
        if let Some(cluster) = file.cluster {
            config.apply(cluster)?;
        }
        Ok(config)
    }

    /// The tree config for a node: `node_name` and `advertise_address` are this node's facts
    /// (from the file, flags or kubeadm's fallbacks; the caller decides).
    pub fn tree_config(&self, node_name: impl Into<String>, advertise_address: IpAddr) -> TreeConfig {
        let mut tree = self.tree.clone();
        tree.node_name = node_name.into();
        tree.advertise_address = advertise_address;
        tree
    }

    fn apply(&mut self, cluster: ClusterConfiguration) -> Result<(), Error> {
        let tree = &mut self.tree;
        let set = |field: &mut String, value: String| {
            if !value.is_empty() {
                *field = value;
            }
        };
        set(&mut tree.cluster_name, cluster.cluster_name);
        if let Some(endpoint) = cluster.control_plane_endpoint {
            tree.control_plane_endpoint = endpoint.to_string();
        }
        set(&mut tree.service_subnet, cluster.networking.service_subnet);
        set(&mut tree.dns_domain, cluster.networking.dns_domain);
        tree.apiserver_cert_sans = cluster.api_server.cert_sans;
        tree.etcd_server_cert_sans = cluster.etcd.local.server_cert_sans;
        tree.etcd_peer_cert_sans = cluster.etcd.local.peer_cert_sans;
        tree.external_etcd = cluster.etcd.external;
        if !cluster.certificates_dir.is_empty() {
            let dir = PathBuf::from(cluster.certificates_dir);
            if !dir.is_absolute() {
                return Err(Error::UnusableKubeadmConfig {
                    path: None,
                    problem: UnusableConfig::RelativeCertificatesDir(dir),
                });
            }
            self.certificates_dir = Some(dir);
        }
        // The reader leaves the algorithm and the periods empty in v1beta3, whose schema has
        // none of them.
        if let Some(algorithm) = cluster.encryption_algorithm {
            tree.encryption_algorithm = algorithm.parse::<KeyAlgorithm>()?;
        }
        let leaf = cluster.certificate_validity_period;
        let ca = cluster.ca_certificate_validity_period;
        self.tree.certificate_validity = self.period(
            &leaf,
            "certificateValidityPeriod",
            CERTIFICATE_VALIDITY,
            "certificate expiration",
        );
        self.tree.ca_certificate_validity = self.period(
            &ca,
            "caCertificateValidityPeriod",
            CA_CERTIFICATE_VALIDITY,
            "CA certificate expiration",
        );
        if self.tree.certificate_validity > self.tree.ca_certificate_validity {
            self.warnings.push(format!(
                "certificateValidityPeriod: the value {} is more than the caCertificateValidityPeriod {}",
                leaf.as_ref().map_or("8760h0m0s", |p| p.text.as_str()),
                ca.as_ref().map_or("87600h0m0s", |p| p.text.as_str()),
            ));
        }
        Ok(())
    }

    /// A validity period or kubeadm's default, with kubeadm's warning above the default
    /// (kubeadm prints durations the Go way; the defaults are whole hours).
    fn period(&mut self, period: &Option<GoDuration>, name: &str, default: Duration, what: &str) -> Duration {
        let Some(period) = period else {
            return default;
        };
        if period.value > default {
            self.warnings.push(format!(
                "{name}: the value {} is more than the recommended default for {what}: {}h0m0s",
                period.text,
                default.as_secs() / 3600
            ));
        }
        period.value
    }
}
