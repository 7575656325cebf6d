//! The `discovery` section of kubeadm's `JoinConfiguration`, so an installer can hand kubetrust
//! the same config it gives kubeadm.

use std::time::Duration;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_kubeconfig::SecretString;
use serde::Deserialize;

use crate::{Error, Trust};

/// kubeadm's default `timeouts.discovery` (v1beta4) / `discovery.timeout` (v1beta3).
pub const DEFAULT_DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How the node finds and trusts the control plane, validated as kubeadm validates it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DiscoveryConfig {
    /// Token or file discovery.
    pub method: DiscoveryMethod,
    /// The token the kubelet uses for its CSR; defaults to the discovery token.
    pub tls_bootstrap_token: Option<BootstrapToken>,
    /// How long discovery may poll (`timeouts.discovery`).
    pub timeout: Duration,
}

/// The two discovery mechanisms; exactly one is configured.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum DiscoveryMethod {
    /// `discovery.bootstrapToken`: JWS-signed cluster-info and CA pins.
    BootstrapToken {
        /// `apiServerEndpoint`, `host:port`.
        api_server_endpoint: String,
        /// `token`.
        token: BootstrapToken,
        /// `caCertHashes`, or the explicit `unsafeSkipCAVerification`.
        trust: Trust,
    },
    /// `discovery.file.kubeConfigPath`: a local path or an `https://` URL.
    File {
        /// The path or URL (`file://` URLs are turned into paths, as kubeadm does).
        kube_config_path: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinConfiguration {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    discovery: Discovery,
    #[serde(default)]
    timeouts: Timeouts,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Discovery {
    bootstrap_token: Option<BootstrapTokenDiscovery>,
    file: Option<FileDiscovery>,
    #[serde(default)]
    tls_bootstrap_token: SecretString,
    /// v1beta3 only.
    timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BootstrapTokenDiscovery {
    #[serde(default)]
    token: SecretString,
    #[serde(default)]
    api_server_endpoint: String,
    #[serde(default)]
    ca_cert_hashes: Vec<String>,
    #[serde(default, rename = "unsafeSkipCAVerification")]
    unsafe_skip_ca_verification: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileDiscovery {
    #[serde(default)]
    kube_config_path: String,
}

#[derive(Default, Deserialize)]
struct Timeouts {
    discovery: Option<String>,
}

impl DiscoveryConfig {
    /// Reads a kubeadm config file (YAML or JSON, one or several `---`-separated documents)
    /// and validates the `JoinConfiguration` in it.
    pub fn from_kubeadm_config(text: &str) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidConfig { reason };
        let documents: Vec<serde_json::Value> =
            serde_saphyr::from_multiple(text).map_err(|e| invalid(format!("not YAML or JSON: {e}")))?;
        let join = documents
            .into_iter()
            .find(|d| d.get("kind").and_then(serde_json::Value::as_str) == Some("JoinConfiguration"))
            .ok_or_else(|| invalid("no JoinConfiguration document".into()))?;
        let join: JoinConfiguration =
            serde_json::from_value(join).map_err(|e| invalid(format!("JoinConfiguration: {e}")))?;
        join.validate()
    }
}

impl JoinConfiguration {
    fn validate(self) -> Result<DiscoveryConfig, Error> {
        let invalid = |reason: &str| Error::InvalidConfig {
            reason: reason.to_owned(),
        };
        if !self.api_version.starts_with("kubeadm.k8s.io/") || self.kind != "JoinConfiguration" {
            return Err(invalid(
                "want apiVersion kubeadm.k8s.io/v1beta4 (or v1beta3), kind JoinConfiguration",
            ));
        }
        let discovery = self.discovery;
        let timeout = match self.timeouts.discovery.or_else(|| discovery.timeout.clone()) {
            Some(text) => kubetrust_pki::parse_duration(&text).map_err(|e| Error::InvalidConfig {
                reason: format!("timeouts.discovery: {e}"),
            })?,
            None => DEFAULT_DISCOVERY_TIMEOUT,
        };
        let method = match (discovery.bootstrap_token, discovery.file) {
            (None, None) => return Err(invalid("bootstrapToken or file must be set")),
            (Some(_), Some(_)) => return Err(invalid("bootstrapToken and file cannot both be set")),
            (Some(bootstrap), None) => {
                if bootstrap.api_server_endpoint.is_empty() {
                    return Err(invalid("APIServerEndpoint is not set"));
                }
                kubetrust_pki::split_host_port(&bootstrap.api_server_endpoint)
                    .ok()
                    .and_then(|(_, port)| port)
                    .ok_or_else(|| invalid("apiServerEndpoint must be host:port (IPv6 in brackets)"))?;
                let token: BootstrapToken =
                    bootstrap
                        .token
                        .expose_secret()
                        .parse()
                        .map_err(|e| Error::InvalidConfig {
                            reason: format!("the bootstrap token is invalid: {e}"),
                        })?;
                let trust =
                    Trust::from_flags(&bootstrap.ca_cert_hashes, bootstrap.unsafe_skip_ca_verification)?;
                DiscoveryMethod::BootstrapToken {
                    api_server_endpoint: bootstrap.api_server_endpoint,
                    token,
                    trust,
                }
            }
            (None, Some(file)) => DiscoveryMethod::File {
                kube_config_path: file_path(&file.kube_config_path)?,
            },
        };
        let tls_bootstrap_token = if discovery.tls_bootstrap_token.is_empty() {
            match &method {
                DiscoveryMethod::BootstrapToken { token, .. } => Some(token.clone()),
                DiscoveryMethod::File { .. } => None,
            }
        } else {
            Some(
                discovery
                    .tls_bootstrap_token
                    .expose_secret()
                    .parse()
                    .map_err(|e| Error::InvalidConfig {
                        reason: format!("tlsBootstrapToken is invalid: {e}"),
                    })?,
            )
        };
        Ok(DiscoveryConfig {
            method,
            tls_bootstrap_token,
            timeout,
        })
    }
}

/// kubeadm's rules for `kubeConfigPath`: `file://` becomes a path, `https://` stays a URL, any
/// other scheme is refused; plain paths are checked when they are read.
fn file_path(path: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidConfig {
        reason: reason.to_owned(),
    };
    if path.is_empty() {
        return Err(invalid("file.kubeConfigPath is not set"));
    }
    match path.split_once("://") {
        None => Ok(path.to_owned()),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => Ok(rest.to_owned()),
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => Ok(path.to_owned()),
        Some(_) => Err(invalid("if a URL is used, the scheme must be https")),
    }
}
