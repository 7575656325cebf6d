//! The kubeadm kinds, as far as kubetrust reads them: node facts, the certificate settings of
//! `ClusterConfiguration` and the discovery of `JoinConfiguration`. Fields keep kubeadm's
//! meaning; an empty string is "not set", as in Go. Shared field rules (endpoints, addresses,
//! ports, durations) are checked while reading, so every reader gets the same answer. Errors
//! name the field and the rule, never the value: a token pasted into the wrong field must not
//! reach a log.

use std::net::IpAddr;
use std::time::Duration;

use kubetrust_kubeconfig::SecretString;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use crate::ApiVersion;
use crate::duration::parse_duration;
use crate::net::HostPort;

/// `InitConfiguration`: this node's facts on `kubeadm init`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InitConfiguration {
    /// The document's version.
    #[serde(skip)]
    pub api_version: ApiVersion,
    /// `nodeRegistration`.
    #[serde(default)]
    pub node_registration: NodeRegistration,
    /// `localAPIEndpoint`: where this node's API server listens.
    #[serde(default, rename = "localAPIEndpoint")]
    pub local_api_endpoint: ApiEndpoint,
    /// `certificateKey`: the key of the `kubeadm-certs` Secret (`upload-certs`).
    #[serde(default)]
    pub certificate_key: SecretString,
}

/// `JoinConfiguration`: how a node joins.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JoinConfiguration {
    /// The document's version.
    #[serde(skip)]
    pub api_version: ApiVersion,
    /// `nodeRegistration`.
    #[serde(default)]
    pub node_registration: NodeRegistration,
    /// `caCertPath` (kubeadm's default: `/etc/kubernetes/pki/ca.crt`).
    #[serde(default)]
    pub ca_cert_path: String,
    /// `discovery`.
    #[serde(default)]
    pub discovery: Discovery,
    /// `controlPlane`: present when this node joins as a control-plane node.
    #[serde(default)]
    pub control_plane: Option<JoinControlPlane>,
    /// `timeouts.discovery` (v1beta4) or `discovery.timeout` (v1beta3).
    #[serde(skip)]
    pub discovery_timeout: Option<GoDuration>,
    #[serde(default)]
    timeouts: Timeouts,
}

/// `ClusterConfiguration`: the cluster-wide settings the certificates depend on.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClusterConfiguration {
    /// The document's version.
    #[serde(skip)]
    pub api_version: ApiVersion,
    /// `clusterName`.
    #[serde(default)]
    pub cluster_name: String,
    /// `controlPlaneEndpoint`: `host[:port]`.
    #[serde(default, deserialize_with = "endpoint")]
    pub control_plane_endpoint: Option<HostPort>,
    /// `certificatesDir`.
    #[serde(default)]
    pub certificates_dir: String,
    /// `networking`.
    #[serde(default)]
    pub networking: Networking,
    /// `apiServer.certSANs`.
    #[serde(default)]
    pub api_server: ApiServer,
    /// `etcd`.
    #[serde(default)]
    pub etcd: Etcd,
    /// `encryptionAlgorithm` (v1beta4; `None` in v1beta3, which has no such field).
    #[serde(default)]
    pub encryption_algorithm: Option<String>,
    /// `certificateValidityPeriod` (v1beta4).
    #[serde(default, deserialize_with = "duration")]
    pub certificate_validity_period: Option<GoDuration>,
    /// `caCertificateValidityPeriod` (v1beta4).
    #[serde(default, deserialize_with = "duration")]
    pub ca_certificate_validity_period: Option<GoDuration>,
}

/// `nodeRegistration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct NodeRegistration {
    /// `name` (kubeadm falls back to the hostname).
    #[serde(default)]
    pub name: String,
}

/// `localAPIEndpoint`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiEndpoint {
    /// `advertiseAddress` (kubeadm falls back to the default route's address).
    #[serde(default, deserialize_with = "ip_address")]
    pub advertise_address: Option<IpAddr>,
    /// `bindPort` (kubeadm's default: 6443).
    #[serde(default, deserialize_with = "port")]
    pub bind_port: Option<u16>,
}

/// `controlPlane` of a `JoinConfiguration`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct JoinControlPlane {
    /// `localAPIEndpoint`.
    #[serde(default, rename = "localAPIEndpoint")]
    pub local_api_endpoint: ApiEndpoint,
    /// `certificateKey`: decrypts the `kubeadm-certs` Secret.
    #[serde(default)]
    pub certificate_key: SecretString,
}

/// `discovery`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Discovery {
    /// `bootstrapToken`.
    pub bootstrap_token: Option<BootstrapTokenDiscovery>,
    /// `file`.
    pub file: Option<FileDiscovery>,
    /// `tlsBootstrapToken` (kubeadm defaults it to `bootstrapToken.token`).
    #[serde(default)]
    pub tls_bootstrap_token: SecretString,
    #[serde(default, deserialize_with = "duration")]
    timeout: Option<GoDuration>,
}

/// `discovery.bootstrapToken`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BootstrapTokenDiscovery {
    /// `token`.
    #[serde(default)]
    pub token: SecretString,
    /// `apiServerEndpoint`: `host:port`.
    #[serde(default, deserialize_with = "endpoint_with_port")]
    pub api_server_endpoint: Option<HostPort>,
    /// `caCertHashes`: `sha256:<hex>` pins.
    #[serde(default)]
    pub ca_cert_hashes: Vec<String>,
    /// `unsafeSkipCAVerification`.
    #[serde(default, rename = "unsafeSkipCAVerification")]
    pub unsafe_skip_ca_verification: bool,
}

/// `discovery.file`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FileDiscovery {
    /// `kubeConfigPath`: a path, a `file://` URL or an `https://` URL.
    #[serde(default)]
    pub kube_config_path: String,
}

/// `networking`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Networking {
    /// `serviceSubnet`.
    #[serde(default)]
    pub service_subnet: String,
    /// `dnsDomain`.
    #[serde(default)]
    pub dns_domain: String,
}

/// `apiServer`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct ApiServer {
    /// `certSANs`.
    #[serde(default, rename = "certSANs")]
    pub cert_sans: Vec<String>,
}

/// `etcd`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct Etcd {
    /// `local`.
    #[serde(default)]
    pub local: LocalEtcd,
    /// Whether `external` is set (kubeadm then makes no etcd certificates).
    #[serde(default, rename = "external", deserialize_with = "present")]
    pub external: bool,
}

/// `etcd.local`.
#[derive(Clone, Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct LocalEtcd {
    /// `serverCertSANs`.
    #[serde(default, rename = "serverCertSANs")]
    pub server_cert_sans: Vec<String>,
    /// `peerCertSANs`.
    #[serde(default, rename = "peerCertSANs")]
    pub peer_cert_sans: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct Timeouts {
    #[serde(default, deserialize_with = "duration")]
    discovery: Option<GoDuration>,
}

/// A Go duration with the text it was written as (kubeadm's warnings quote the text).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct GoDuration {
    /// As written, e.g. `8760h`.
    pub text: String,
    /// Its value.
    pub value: Duration,
}

impl JoinConfiguration {
    /// Moves the version-specific fields to their common place.
    pub(crate) fn normalize(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        self.discovery_timeout = match version {
            ApiVersion::V1beta4 => self.timeouts.discovery.take(),
            ApiVersion::V1beta3 => self.discovery.timeout.take(),
        };
        self
    }
}

impl ClusterConfiguration {
    /// The v1beta3 schema has no algorithm or validity fields; kubeadm ignores them there.
    pub(crate) fn normalize(mut self, version: ApiVersion) -> Self {
        self.api_version = version;
        if version == ApiVersion::V1beta3 {
            self.encryption_algorithm = None;
            self.certificate_validity_period = None;
            self.ca_certificate_validity_period = None;
        }
        self
    }
}

/// A string field; empty and null are "not set".
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|text| !text.is_empty()))
}

fn endpoint<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<HostPort>, D::Error> {
    text(deserializer)?
        .map(|text| HostPort::parse(&text).map_err(D::Error::custom))
        .transpose()
}

fn endpoint_with_port<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<HostPort>, D::Error> {
    text(deserializer)?
        .map(|text| HostPort::with_port(&text).map_err(D::Error::custom))
        .transpose()
}

fn ip_address<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<IpAddr>, D::Error> {
    text(deserializer)?
        .map(|text| {
            text.parse()
                .map_err(|_| D::Error::custom("not a valid IP address"))
        })
        .transpose()
}

fn port<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u16>, D::Error> {
    match Option::<i64>::deserialize(deserializer)? {
        None | Some(0) => Ok(None),
        Some(port) => u16::try_from(port)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{port} is not a valid port (1..65535)"))),
    }
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<GoDuration>, D::Error> {
    text(deserializer)?
        .map(|text| match parse_duration(&text) {
            Ok(value) => Ok(GoDuration { text, value }),
            Err(e) => Err(D::Error::custom(format!(
                "invalid duration: {e} (examples: 8760h, 168h, 1h30m)"
            ))),
        })
        .transpose()
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Ok(!serde_json::Value::deserialize(deserializer)?.is_null())
}
