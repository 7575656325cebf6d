//! `kubetrust discovery ...`: the node's side of the join's trust.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use kubetrust::bootstrap_token::BootstrapToken;
use kubetrust::discovery::{Trust, validate};
use kubetrust::kubeconfig::SecretString;
use serde_json::json;

use crate::{CommandResult, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check a cluster-info ConfigMap as `kubeadm join` does: the token's JWS signature, then the CA pins.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The ConfigMap as `kubectl get cm -n kube-public cluster-info -o json` (or `-o yaml`) prints it.
    #[arg(long, value_name = "FILE")]
    cluster_info: PathBuf,
    /// The bootstrap token (`<id>.<secret>`).
    #[arg(long, value_name = "TOKEN")]
    token: SecretString,
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
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        match self {
            Self::Validate(args) => args.run(),
        }
    }
}

impl ValidateArgs {
    fn run(self) -> CommandResult {
        let token: BootstrapToken = self.token.expose_secret().parse()?;
        let trust = Trust::from_flags(&self.ca_cert_hashes, self.unsafe_skip_ca_verification)?;
        let bytes =
            std::fs::read(&self.cluster_info).map_err(|e| crate::certs::read_error(&self.cluster_info, e))?;
        let cluster_info =
            parse_config_map(&bytes).map_err(|e| format!("{}: {e}", self.cluster_info.display()))?;
        if trust == Trust::UnsafeSkipCaVerification {
            eprintln!(
                "[discovery] WARNING: no CA pins: trusting the CA of any cluster-info signed with this token"
            );
        }
        let info = validate(&cluster_info, &token, &trust).map_err(IdentityNotValidated)?;
        let pins: Vec<String> = info.ca_certificates().iter().map(|c| c.pin.to_string()).collect();
        let text = match self.output {
            Output::Json => {
                let value = json!({
                    "server": info.server(),
                    "caCertHashes": pins,
                    "pinned": info.was_pinned(),
                    "tokenId": token.id().as_str(),
                });
                format!("{}\n", serde_json::to_string_pretty(&value)?)
            }
            Output::Text => {
                let mut text = format!("server: {}\n", info.server());
                pins.iter()
                    .for_each(|pin| text.push_str(&format!("ca-cert-hash: {pin}\n")));
                text
            }
        };
        eprintln!(
            "[discovery] cluster-info is signed with token {:?} and its CA is trusted",
            token.id().as_str()
        );
        Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
    }
}

/// kubeadm's wrapper around every discovery failure, so scripts matching kubeadm's output match
/// ours; the causes under it stay those of the discovery error.
#[derive(Debug)]
struct IdentityNotValidated(kubetrust::discovery::Error);

impl std::fmt::Display for IdentityNotValidated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "couldn't validate the identity of the API Server: {}", self.0)
    }
}

impl std::error::Error for IdentityNotValidated {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// JSON first (kubectl's default), then YAML.
fn parse_config_map(bytes: &[u8]) -> Result<k8s_openapi::api::core::v1::ConfigMap, String> {
    serde_json::from_slice(bytes).or_else(|json_error| {
        let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
        serde_saphyr::from_str(text)
            .map_err(|yaml_error| format!("not a ConfigMap in JSON ({json_error}) or YAML ({yaml_error})"))
    })
}
