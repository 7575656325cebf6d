//! `kubetrust init phase ...`: kubeadm's own phase names over the same code as `certs init`,
//! `kubeconfig init` and the library's API calls, so a kubeadm script switches by one word.

use std::path::PathBuf;
use std::time::SystemTime;

use clap::builder::PossibleValuesParser;
use clap::{Args, Subcommand};
use kubetrust::bootstrap_token::api;
use kubetrust::join::control_plane;
use kubetrust::pki::kubeconfigs::{KUBECONFIG_FILES, KubeconfigSpec};
use kubetrust::pki::tree::CERTIFICATES;
use kubetrust::pki::upload_certs::{self, CertificateKey, Etcd};

use crate::CommandResult;
use crate::api::{KubeconfigArg, block_on};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run one phase of `kubeadm init`.
    #[command(subcommand)]
    Phase(Phase),
}

#[derive(Debug, Subcommand)]
pub(crate) enum Phase {
    /// Create the certificate tree (`all`) or one certificate, as `certs init` does.
    Certs {
        /// `all`, or one certificate (`ca`, `apiserver`, ..., `sa`); a leaf needs its CA in
        /// place, as in kubeadm.
        #[arg(value_parser = cert_names())]
        name: String,
        #[command(flatten)]
        args: crate::certs::InitArgs,
    },
    /// Write the kubeconfig files (`all`) or one of them, as `kubeconfig init` does.
    Kubeconfig {
        /// `all`, or one file: `admin`, `super-admin`, `kubelet`, `controller-manager`, `scheduler`.
        #[arg(value_parser = kubeconfig_names())]
        name: String,
        #[command(flatten)]
        args: crate::kubeconfig::InitArgs,
    },
    /// Create or update the bootstrap tokens (--config's `bootstrapTokens`, else one generated
    /// token), kubeadm's node bootstrap RBAC (get nodes, post CSRs, auto-approval, rotation),
    /// the `cluster-info` ConfigMap (server and CA of --kubeconfig) and the RBAC that lets
    /// anyone read it.
    BootstrapToken(BootstrapTokenArgs),
    /// Store the CAs and service-account keys, encrypted, in the `kube-system/kubeadm-certs`
    /// Secret for control-plane joins (owned by a 2-hour token, as kubeadm does), and print the
    /// certificate key.
    UploadCerts(UploadCertsArgs),
}

#[derive(Debug, Args)]
pub(crate) struct BootstrapTokenArgs {
    #[command(flatten)]
    kubeconfig: KubeconfigArg,
    /// A kubeadm config file whose InitConfiguration `bootstrapTokens` are created (kubeadm's
    /// defaults fill what an entry leaves out).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not print the token(s) on stdout.
    #[arg(long)]
    skip_token_print: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UploadCertsArgs {
    #[command(flatten)]
    kubeconfig: KubeconfigArg,
    /// The certificate directory holding the CAs and the service-account keys.
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes/pki")]
    cert_dir: PathBuf,
    /// The key to encrypt with (64 hex characters) [default: a new random one].
    #[arg(long, value_name = "KEY")]
    certificate_key: Option<String>,
    /// Accepted for kubeadm's command line; this phase always uploads.
    #[arg(long)]
    upload_certs: bool,
}

fn cert_names() -> PossibleValuesParser {
    let names = CERTIFICATES.iter().map(|c| c.name);
    PossibleValuesParser::new(std::iter::once("all").chain(names).chain(["sa"]))
}

fn kubeconfig_names() -> PossibleValuesParser {
    let names = KUBECONFIG_FILES
        .iter()
        .filter_map(|f| f.file_name.strip_suffix(".conf"));
    PossibleValuesParser::new(std::iter::once("all").chain(names))
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        let Self::Phase(phase) = self;
        match phase {
            Phase::Certs { name, args } => args.run_for(Some(name.as_str()).filter(|n| *n != "all")),
            Phase::Kubeconfig { name, args } => {
                let file = format!("{name}.conf");
                match KubeconfigSpec::by_file_name(&file) {
                    Some(spec) => args.run_for(std::slice::from_ref(spec)),
                    None => args.run_for(&KUBECONFIG_FILES),
                }
            }
            Phase::BootstrapToken(args) => block_on(args.run()),
            Phase::UploadCerts(args) => args.run(),
        }
    }
}

impl BootstrapTokenArgs {
    async fn run(self) -> CommandResult {
        let tokens = crate::init_tokens::tokens(self.config.as_deref())?;
        let cluster = self.kubeconfig.connect(None).await?;
        if cluster.ca_pem.is_empty() {
            return Err(
                "the kubeconfig's cluster has no certificate authority: cluster-info must carry the CA"
                    .into(),
            );
        }
        if !self.skip_token_print {
            for token in &tokens {
                // Printing the token is what kubeadm's phase does unless told not to.
                println!(
                    "[bootstrap-token] Using token: {}",
                    token.token.expose_secret().as_str()
                );
            }
        }
        eprintln!("[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles");
        api::create_or_update_tokens(&cluster.client, &tokens, SystemTime::now()).await?;
        api::setup_node_bootstrap_rbac(&cluster.client).await?;
        eprintln!("[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to get nodes");
        eprintln!(
            "[bootstrap-token] Configured RBAC rules to allow Node Bootstrap tokens to post CSRs in order for nodes to get long term certificate credentials"
        );
        eprintln!(
            "[bootstrap-token] Configured RBAC rules to allow the csrapprover controller automatically approve CSRs from a Node Bootstrap Token"
        );
        eprintln!(
            "[bootstrap-token] Configured RBAC rules to allow certificate rotation for all node client certificates in the cluster"
        );
        eprintln!(
            "[bootstrap-token] Creating the \"cluster-info\" ConfigMap in the \"kube-public\" namespace"
        );
        api::setup_cluster_info(&cluster.client, &cluster.server, &cluster.ca_pem).await?;
        Ok(())
    }
}

impl UploadCertsArgs {
    fn run(self) -> CommandResult {
        let key = match &self.certificate_key {
            Some(hex) => hex.parse::<CertificateKey>()?,
            None => CertificateKey::generate()?,
        };
        let ca = self.cert_dir.join("ca.crt");
        if !ca.is_file() {
            return Err(format!("no cluster CA to upload: {} is missing", ca.display()).into());
        }
        block_on(async {
            let cluster = self.kubeconfig.connect(None).await?;
            eprintln!(
                "[upload-certs] Storing the certificates in Secret \"{}\" in the \"{}\" Namespace",
                upload_certs::SECRET_NAME,
                upload_certs::NAMESPACE
            );
            control_plane::upload_certs(&cluster.client, &self.cert_dir, &key, &Etcd::Local).await?;
            Ok(())
        })?;
        // Printing the key is what this phase is for, as in kubeadm.
        println!(
            "[upload-certs] Using certificate key:\n{}",
            key.expose_hex().as_str()
        );
        Ok(())
    }
}
