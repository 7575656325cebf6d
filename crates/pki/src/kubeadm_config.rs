//! The parts of a kubeadm config file that the certificate tree depends on, so an installer can
//! hand kubetrust the same `--config` file it gives kubeadm.
//!
//! Read: `InitConfiguration` (`nodeRegistration.name`, `localAPIEndpoint`),
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

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::tree::TreeConfig;
use crate::{CA_CERTIFICATE_VALIDITY, CERTIFICATE_VALIDITY, Error, KeyAlgorithm, parse_duration};

const GROUP: &str = "kubeadm.k8s.io";

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
        let text = std::fs::read_to_string(path).map_err(|e| Error::KubeadmConfig {
            reason: format!("cannot read {}: {e}", path.display()),
        })?;
        Self::from_yaml(&text).map_err(|e| match e {
            Error::KubeadmConfig { reason } => Error::KubeadmConfig {
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })
    }

    /// Parses and validates kubeadm config documents (YAML or JSON).
    pub fn from_yaml(text: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::KubeadmConfig { reason };
        let documents: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(text).map_err(|e| invalid(format!("not YAML or JSON: {e}")))?;
        let mut by_kind: BTreeMap<String, (Version, serde_json::Value)> = BTreeMap::new();
        for document in documents.into_iter().filter(|d| !d.is_null()) {
            let field = |name: &str| {
                document
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("")
            };
            let (api_version, kind) = (field("apiVersion").to_owned(), field("kind").to_owned());
            if api_version.is_empty() || kind.is_empty() {
                return Err(invalid("a document without apiVersion or kind".into()));
            }
            let Some(version) = Version::of(&api_version)? else {
                continue;
            };
            if by_kind.insert(kind.clone(), (version, document)).is_some() {
                return Err(invalid(format!("kind {kind:?} is specified twice")));
            }
        }
        let init: Option<(Version, InitConfiguration)> = decode(&mut by_kind, "InitConfiguration")?;
        let join: Option<(Version, JoinConfiguration)> = decode(&mut by_kind, "JoinConfiguration")?;
        let cluster: Option<(Version, ClusterConfiguration)> = decode(&mut by_kind, "ClusterConfiguration")?;
        if init.is_none() && join.is_none() && cluster.is_none() {
            return Err(invalid(
                "no InitConfiguration, JoinConfiguration or ClusterConfiguration document".into(),
            ));
        }

        let (registration, endpoint) = match (init, join) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "InitConfiguration and JoinConfiguration cannot both be given".into(),
                ));
            }
            (Some((_, init)), None) => (init.node_registration, init.local_api_endpoint),
            (None, Some((_, join))) => (join.node_registration, join.control_plane.local_api_endpoint),
            (None, None) => (NodeRegistration::default(), ApiEndpoint::default()),
        };
        let mut config = Self {
            node_name: registration.name.filter(|n| !n.is_empty()),
            advertise_address: endpoint.advertise_address()?,
            certificates_dir: None,
            warnings: Vec::new(),
            tree: TreeConfig::default(),
        };
        if let Some(name) = &config.node_name {
            config.tree.node_name.clone_from(name);
        }
        if let Some(address) = config.advertise_address {
            config.tree.advertise_address = address;
        }
        if let Some(port) = endpoint.bind_port {
            config.tree.bind_port = u16::try_from(port)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| invalid(format!("localAPIEndpoint.bindPort {port} is not a valid port")))?;
        }
        if let Some((version, cluster)) = cluster {
            config.apply(version, cluster)?;
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

    fn apply(&mut self, version: Version, cluster: ClusterConfiguration) -> Result<(), Error> {
        let tree = &mut self.tree;
        let set = |field: &mut String, value: Option<String>| {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                *field = value;
            }
        };
        set(&mut tree.cluster_name, cluster.cluster_name);
        set(&mut tree.control_plane_endpoint, cluster.control_plane_endpoint);
        set(&mut tree.service_subnet, cluster.networking.service_subnet);
        set(&mut tree.dns_domain, cluster.networking.dns_domain);
        tree.apiserver_cert_sans = cluster.api_server.cert_sans;
        tree.etcd_server_cert_sans = cluster.etcd.local.server_cert_sans;
        tree.etcd_peer_cert_sans = cluster.etcd.local.peer_cert_sans;
        tree.external_etcd = cluster.etcd.external.is_some();
        if let Some(dir) = cluster.certificates_dir.filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            if !dir.is_absolute() {
                return Err(Error::KubeadmConfig {
                    reason: format!(
                        "certificatesDir: Invalid value: {:?}: path is not absolute",
                        dir.display()
                    ),
                });
            }
            self.certificates_dir = Some(dir);
        }
        // The v1beta3 schema has none of these fields; kubeadm ignores them there too.
        if version == Version::V1beta4 {
            if let Some(algorithm) = cluster.encryption_algorithm {
                tree.encryption_algorithm = algorithm.parse::<KeyAlgorithm>()?;
            }
            // kubeadm prints durations the Go way; the defaults are whole hours.
            let mut period = |value: &Option<String>, name: &str, default: Duration, what: &str| {
                let Some(text) = value else {
                    return Ok(default);
                };
                let period = parse_duration(text).map_err(|e| Error::KubeadmConfig {
                    reason: format!("{name}: {e}"),
                })?;
                if period > default {
                    self.warnings.push(format!(
                        "{name}: the value {text} is more than the recommended default for {what}: {}h0m0s",
                        default.as_secs() / 3600
                    ));
                }
                Ok::<_, Error>(period)
            };
            let leaf_text = cluster.certificate_validity_period;
            let ca_text = cluster.ca_certificate_validity_period;
            let leaf = period(
                &leaf_text,
                "certificateValidityPeriod",
                CERTIFICATE_VALIDITY,
                "certificate expiration",
            )?;
            let ca = period(
                &ca_text,
                "caCertificateValidityPeriod",
                CA_CERTIFICATE_VALIDITY,
                "CA certificate expiration",
            )?;
            if leaf > ca {
                self.warnings.push(format!(
                    "certificateValidityPeriod: the value {} is more than the caCertificateValidityPeriod {}",
                    leaf_text.as_deref().unwrap_or("8760h0m0s"),
                    ca_text.as_deref().unwrap_or("87600h0m0s"),
                ));
            }
            tree.certificate_validity = leaf;
            tree.ca_certificate_validity = ca;
        }
        Ok(())
    }
}

/// The kubeadm API versions this module reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    V1beta3,
    V1beta4,
}

impl Version {
    /// `None` for another API group (skipped); an error for kubeadm versions we cannot read.
    fn of(api_version: &str) -> Result<Option<Self>, Error> {
        let Some((group, version)) = api_version.split_once('/') else {
            return Ok(None);
        };
        if group != GROUP {
            return Ok(None);
        }
        match version {
            "v1beta3" => Ok(Some(Self::V1beta3)),
            "v1beta4" => Ok(Some(Self::V1beta4)),
            "v1beta1" | "v1beta2" | "v1alpha1" | "v1alpha2" | "v1alpha3" => Err(Error::KubeadmConfig {
                reason: format!(
                    "your configuration file uses an old API spec: {api_version:?}; migrate it with \
                     'kubeadm config migrate' to kubeadm.k8s.io/v1beta4"
                ),
            }),
            _ => Err(Error::KubeadmConfig {
                reason: format!(
                    "unknown kubeadm API version {api_version:?}: want kubeadm.k8s.io/v1beta4 or v1beta3"
                ),
            }),
        }
    }
}

fn decode<T: DeserializeOwned>(
    by_kind: &mut BTreeMap<String, (Version, serde_json::Value)>,
    kind: &str,
) -> Result<Option<(Version, T)>, Error> {
    let Some((version, document)) = by_kind.remove(kind) else {
        return Ok(None);
    };
    let decoded = serde_json::from_value(document).map_err(|e| Error::KubeadmConfig {
        reason: format!("{kind}: {e}"),
    })?;
    Ok(Some((version, decoded)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InitConfiguration {
    #[serde(default)]
    node_registration: NodeRegistration,
    #[serde(default, rename = "localAPIEndpoint")]
    local_api_endpoint: ApiEndpoint,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinConfiguration {
    #[serde(default)]
    node_registration: NodeRegistration,
    #[serde(default)]
    control_plane: JoinControlPlane,
}

#[derive(Default, Deserialize)]
struct JoinControlPlane {
    #[serde(default, rename = "localAPIEndpoint")]
    local_api_endpoint: ApiEndpoint,
}

#[derive(Default, Deserialize)]
struct NodeRegistration {
    name: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiEndpoint {
    advertise_address: Option<String>,
    bind_port: Option<i64>,
}

impl ApiEndpoint {
    fn advertise_address(&self) -> Result<Option<IpAddr>, Error> {
        match self.advertise_address.as_deref() {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Error::InvalidAdvertiseAddress {
                    value: text.to_owned(),
                }),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClusterConfiguration {
    cluster_name: Option<String>,
    control_plane_endpoint: Option<String>,
    certificates_dir: Option<String>,
    #[serde(default)]
    networking: Networking,
    #[serde(default)]
    api_server: ApiServer,
    #[serde(default)]
    etcd: Etcd,
    encryption_algorithm: Option<String>,
    certificate_validity_period: Option<String>,
    ca_certificate_validity_period: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Networking {
    service_subnet: Option<String>,
    dns_domain: Option<String>,
}

#[derive(Default, Deserialize)]
struct ApiServer {
    #[serde(default, rename = "certSANs")]
    cert_sans: Vec<String>,
}

#[derive(Default, Deserialize)]
struct Etcd {
    #[serde(default)]
    local: LocalEtcd,
    external: Option<serde_json::Value>,
}

#[derive(Default, Deserialize)]
struct LocalEtcd {
    #[serde(default, rename = "serverCertSANs")]
    server_cert_sans: Vec<String>,
    #[serde(default, rename = "peerCertSANs")]
    peer_cert_sans: Vec<String>,
}
