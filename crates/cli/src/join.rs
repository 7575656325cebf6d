//! `kubetrust join` and `kubetrust reset`: `kubeadm join`'s trust bootstrap over
//! [`kubetrust::join`], and its undo.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, ValueEnum};
use kubetrust::bootstrap_token::BootstrapToken;
use kubetrust::discovery::{JoinToken, Trust};
use kubetrust::join::{ControlPlane, Event, JoinConfig, Joined, KUBELET_CONF, KUBELET_PKI, join};
use kubetrust::kubeadm_config::{ConfigFile, parse_duration};
use kubetrust::kubeconfig::SecretString;
use kubetrust::pki::Dirs;
use kubetrust::pki::upload_certs::CertificateKey;
use serde_json::json;

use crate::CommandResult;

/// `kubetrust join`.
#[derive(Debug, Args)]
pub(crate) struct JoinArgs {
    /// The API server for token discovery, `host:port`.
    #[arg(value_name = "HOST:PORT")]
    endpoint: Option<String>,
    /// The bootstrap token for both discovery and the TLS bootstrap.
    #[arg(long, value_name = "TOKEN")]
    token: Option<SecretString>,
    /// The token for discovery (instead of --token).
    #[arg(long, value_name = "TOKEN")]
    discovery_token: Option<SecretString>,
    /// The token the CSR is sent with (instead of --token).
    #[arg(long, value_name = "TOKEN")]
    tls_bootstrap_token: Option<SecretString>,
    /// A `sha256:<hex>` pin of the CA's public key; repeat or separate with commas.
    #[arg(
        long = "discovery-token-ca-cert-hash",
        value_name = "HASH",
        value_delimiter = ','
    )]
    ca_cert_hashes: Vec<String>,
    /// Trust the CA in cluster-info without pins. Anyone with the token can then impersonate the control plane.
    #[arg(long = "discovery-token-unsafe-skip-ca-verification")]
    unsafe_skip_ca_verification: bool,
    /// A one-string join token (`kjt1.…`, from `token create --print-join-token`): the token
    /// and its CA pins in one, usually with the endpoint (HOST:PORT, when given, wins).
    #[arg(
        long,
        value_name = "JOIN_TOKEN",
        conflicts_with_all = ["token", "discovery_token", "ca_cert_hashes", "unsafe_skip_ca_verification", "discovery_file", "config"]
    )]
    join_token: Option<SecretString>,
    /// File discovery instead of token discovery: a kubeconfig path or an https:// URL.
    #[arg(long, value_name = "PATH|URL", conflicts_with_all = ["endpoint", "discovery_token"])]
    discovery_file: Option<String>,
    /// A kubeadm config file with a JoinConfiguration; flags given on the command line win.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The node's name (default: the host name).
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
    /// Where `kubelet.conf` and `pki/kubelet-client-current.pem` are written.
    #[arg(long, value_name = "DIR")]
    kubelet_dir: PathBuf,
    /// How long discovery may take (Go duration).
    #[arg(long, value_name = "DURATION")]
    discovery_timeout: Option<String>,
    /// How long the CSR may wait for approval and signing (Go duration).
    #[arg(long, value_name = "DURATION", default_value = "1h0m0s")]
    tls_bootstrap_timeout: String,
    /// Skip the check that cluster-info's server URL serves the same signed cluster-info
    /// (kubeadm does not check it).
    #[arg(long)]
    no_discovery_server_check: bool,
    /// Join as a control-plane node: download the shared certificates that `init phase
    /// upload-certs` stored, then generate this node's own.
    #[arg(long, requires = "certificate_key")]
    control_plane: bool,
    /// The key `init phase upload-certs` printed (64 hex characters).
    #[arg(long, value_name = "KEY")]
    certificate_key: Option<SecretString>,
    /// This control-plane node's API server address (default: the default route's address).
    #[arg(long, value_name = "IP")]
    apiserver_advertise_address: Option<std::net::IpAddr>,
    /// Where the control-plane node's certificates go.
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes/pki")]
    cert_dir: PathBuf,
    /// Where the control-plane node's kubeconfig files go.
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes")]
    kubeconfig_dir: PathBuf,
    /// Output format of the result on stdout.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

/// Output formats of `join`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Output {
    /// kubeadm's closing message.
    Text,
    /// The result as JSON.
    Json,
}

/// `kubetrust reset`.
#[derive(Debug, Args)]
pub(crate) struct ResetArgs {
    /// The kubelet directory a join wrote.
    #[arg(long, value_name = "DIR")]
    kubelet_dir: PathBuf,
}

fn token(text: &SecretString, flag: &str) -> Result<BootstrapToken, String> {
    // The token's own error never shows the secret.
    text.expose_secret().parse().map_err(|e| format!("--{flag}: {e}"))
}

fn duration(text: &str, flag: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| format!("--{flag}: {e}"))
}

impl JoinArgs {
    pub(crate) fn run(self) -> CommandResult {
        let config = self.join_config()?;
        let output = self.output;
        let joined = crate::api::block_on(async move {
            let mut progress = |event: Event| {
                if let Some(line) = event.phase_line() {
                    eprintln!("{line}");
                }
            };
            Ok(join(&config, &mut progress).await?)
        })?;
        print_result(&joined, output)
    }

    /// The flags over the config file over kubeadm's defaults.
    fn join_config(&self) -> Result<JoinConfig, Box<dyn std::error::Error>> {
        let node_name = self.node_name.clone().unwrap_or_else(crate::settings::hostname);
        let shared = self.token.as_ref().map(|t| token(t, "token")).transpose()?;
        let discovery_token = match &self.discovery_token {
            Some(t) => Some(token(t, "discovery-token")?),
            None => shared.clone(),
        };
        let tls_token = match &self.tls_bootstrap_token {
            Some(t) => Some(token(t, "tls-bootstrap-token")?),
            None => shared,
        };
        let mut config = match (
            &self.join_token,
            &self.config,
            &self.discovery_file,
            &self.endpoint,
            discovery_token,
        ) {
            (Some(text), ..) => {
                // The join token's own errors never show its text.
                let join_token: JoinToken = text
                    .expose_secret()
                    .parse()
                    .map_err(|e| format!("--join-token: {e}"))?;
                JoinConfig::join_token(
                    &join_token,
                    self.endpoint.as_deref(),
                    &node_name,
                    &self.kubelet_dir,
                )?
            }
            (None, _, Some(location), _, _) => JoinConfig::file(location, &node_name, &self.kubelet_dir),
            (None, _, None, Some(endpoint), Some(token)) => {
                let trust = Trust::from_flags(&self.ca_cert_hashes, self.unsafe_skip_ca_verification)?;
                JoinConfig::token(endpoint, token, trust, &node_name, &self.kubelet_dir)
            }
            (None, Some(path), None, _, _) => {
                let file = ConfigFile::from_file(path)?;
                let mut config = JoinConfig::from_config_file(file, &node_name, &self.kubelet_dir)?;
                if let Some(name) = &self.node_name {
                    config.node_name = name.clone();
                }
                config
            }
            (None, None, None, None, _) => {
                return Err(
                    "give the API server HOST:PORT with --token, or --join-token, or --discovery-file, or --config"
                        .into(),
                );
            }
            (None, None, None, Some(_), None) => {
                return Err("token discovery needs --token or --discovery-token".into());
            }
        };
        if let Some(token) = tls_token {
            config = config.with_tls_bootstrap_token(token);
        }
        if let Some(timeout) = &self.discovery_timeout {
            config = config.with_discovery_timeout(duration(timeout, "discovery-timeout")?);
        }
        let mut config = config
            .with_tls_bootstrap_timeout(duration(&self.tls_bootstrap_timeout, "tls-bootstrap-timeout")?)
            .with_server_check(!self.no_discovery_server_check);
        if self.control_plane {
            let key = self
                .certificate_key
                .as_ref()
                .ok_or("--control-plane needs --certificate-key")?
                .expose_secret()
                .parse::<CertificateKey>()
                .map_err(|e| format!("--certificate-key: {e}"))?;
            let address = self
                .apiserver_advertise_address
                .unwrap_or_else(crate::settings::default_route_address);
            let dirs = Dirs::new(&self.cert_dir, &self.kubeconfig_dir);
            config = config.with_control_plane(ControlPlane::new(key, address).with_dirs(dirs));
        }
        Ok(config)
    }
}

fn print_result(joined: &Joined, output: Output) -> CommandResult {
    match output {
        Output::Text => {
            println!("This node has joined the cluster:");
            println!("* Certificate signing request was sent to apiserver and a response was received.");
            println!(
                "* The Kubelet was informed of the new secure connection details ({}).",
                joined.kubelet_conf.display()
            );
            println!();
            println!("Run 'kubectl get nodes' on the control-plane to see this node join the cluster.");
        }
        Output::Json => {
            let timings: serde_json::Map<String, serde_json::Value> = joined
                .timings
                .iter()
                .map(|(phase, took)| (phase.to_string(), json!(took.as_secs_f64())))
                .collect();
            let result = json!({
                "kubeletConf": joined.kubelet_conf,
                "csrName": joined.csr_name,
                "phaseSeconds": timings,
            });
            println!("{}", serde_json::to_string_pretty(&result)?);
        }
    }
    Ok(())
}

impl ResetArgs {
    /// Removes `kubelet.conf`, the client certificate store's files and the pending key;
    /// the `pki` directory only when nothing else is left in it.
    pub(crate) fn run(self) -> CommandResult {
        let conf = self.kubelet_dir.join(KUBELET_CONF);
        remove(&conf)?;
        let pki = self.kubelet_dir.join(KUBELET_PKI);
        if pki.is_dir() {
            for entry in std::fs::read_dir(&pki)? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                if name.starts_with("kubelet-client") {
                    remove(&path)?;
                }
            }
            if std::fs::read_dir(&pki)?.next().is_none() {
                std::fs::remove_dir(&pki)?;
                eprintln!("[reset] Deleted directory {}", pki.display());
            }
        }
        Ok(())
    }
}

fn remove(path: &Path) -> CommandResult {
    if kubetrust::fs::remove(path)? {
        eprintln!("[reset] Deleted {}", path.display());
    }
    Ok(())
}
