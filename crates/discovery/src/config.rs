//! The `discovery` section of kubeadm's `JoinConfiguration`, so an installer can hand kubetrust
//! the same config it gives kubeadm.

use std::time::Duration;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_kubeadm_config::ConfigFile;
use kubetrust_kubeconfig::SecretString;

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

impl DiscoveryConfig {
    /// Reads a kubeadm config file (YAML or JSON, one or several `---`-separated documents)
    /// and validates the `JoinConfiguration` in it.
    pub fn from_kubeadm_config(text: &str) -> Result<Self, Error> {
        Self::from_config_file(ConfigFile::from_text(text)?)
    }

    /// Validates the discovery of an already read config file's `JoinConfiguration`, as
    /// kubeadm does.
    pub fn from_config_file(file: ConfigFile) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidConfig {
            reason: reason.to_owned(),
        };
        let join = file
            .join
            .ok_or_else(|| invalid("no JoinConfiguration document"))?;
        let timeout = join
            .discovery_timeout
            .map_or(DEFAULT_DISCOVERY_TIMEOUT, |timeout| timeout.value);
        let discovery = join.discovery;
        let method = match (discovery.bootstrap_token, discovery.file) {
            (None, None) => return Err(invalid("bootstrapToken or file must be set")),
            (Some(_), Some(_)) => return Err(invalid("bootstrapToken and file cannot both be set")),
            (Some(bootstrap), None) => {
                let endpoint = bootstrap
                    .api_server_endpoint
                    .ok_or_else(|| invalid("APIServerEndpoint is not set"))?;
                let token = token(&bootstrap.token, "the bootstrap token is invalid")?;
                let trust =
                    Trust::from_flags(&bootstrap.ca_cert_hashes, bootstrap.unsafe_skip_ca_verification)?;
                DiscoveryMethod::BootstrapToken {
                    api_server_endpoint: endpoint.to_string(),
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
            Some(token(
                &discovery.tls_bootstrap_token,
                "tlsBootstrapToken is invalid",
            )?)
        };
        Ok(DiscoveryConfig {
            method,
            tls_bootstrap_token,
            timeout,
        })
    }
}

/// A token field; the error says which field, and the token's own error never shows the
/// secret.
fn token(text: &SecretString, field: &str) -> Result<BootstrapToken, Error> {
    text.expose_secret().parse().map_err(|e| Error::InvalidConfig {
        reason: format!("{field}: {e}"),
    })
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
