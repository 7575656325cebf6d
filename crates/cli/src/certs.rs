//! `kubetrust certs ...`: the kubeadm certificate tree, expiry, renewal, external CA, pins.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use kubetrust::pki::expiration::DurationStyle;
use kubetrust::pki::renew::{RenewTarget, SanChange};
use kubetrust::pki::tree::{self, TreeConfig};
use kubetrust::pki::upload_certs::CertificateKey;
use kubetrust::pki::{CaCertHash, Dirs, KeyAlgorithm, external, inventory, renew};

use crate::settings::{self, ClusterArgs, ConfigArg, DirArgs, NodeArgs};
use crate::{CommandResult, Output};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create the kubeadm certificate tree; existing files that fit are kept, others refused.
    Init(InitArgs),
    /// List every certificate with its expiry, as `kubeadm certs check-expiration`, and flag problems.
    CheckExpiration(CheckArgs),
    /// Re-issue a certificate (or `all`) from the CA on disk, keeping its names and usages.
    Renew(RenewArgs),
    /// Write keys and CSRs for an external CA, as `kubeadm certs generate-csr`.
    GenerateCsr(GenerateCsrArgs),
    /// Print the `sha256:` public-key pin of every certificate in a file.
    CaCertHash(HashArgs),
    /// Print a new random certificate key for upload-certs (64 hex characters).
    CertificateKey,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The certificate directory [default: `certificatesDir` of --config, else /etc/kubernetes/pki].
    #[arg(long, value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    node: NodeArgs,
    /// Extra SANs of the API server certificate (IPs or DNS names), comma-separated
    /// [default: `apiServer.certSANs` of --config].
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    apiserver_cert_extra_sans: Vec<String>,
    /// The service network; its first address is a SAN of the API server certificate
    /// [default: `networking.serviceSubnet` of --config, else 10.96.0.0/12].
    #[arg(long, value_name = "CIDR")]
    service_cidr: Option<String>,
    /// The cluster DNS domain [default: `networking.dnsDomain` of --config, else cluster.local].
    #[arg(long, value_name = "DOMAIN")]
    service_dns_domain: Option<String>,
    /// Print what would be created, reused or refused, and write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    dirs: DirArgs,
    /// Also list the kubelet's rotated client certificate from this directory.
    #[arg(long, value_name = "DIR")]
    kubelet_dir: Option<PathBuf>,
    /// With --advertise-address (or --config): check that the serving certificates cover this
    /// node's SANs.
    #[arg(long, value_name = "NAME", requires = "advertise_address")]
    node_name: Option<String>,
    /// With --node-name: the advertise address the SANs must cover.
    #[arg(long, value_name = "IP", requires = "node_name")]
    advertise_address: Option<IpAddr>,
    /// The control-plane endpoint the apiserver certificate must cover.
    #[arg(long, value_name = "HOST[:PORT]")]
    control_plane_endpoint: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct RenewArgs {
    /// A certificate name (`apiserver`, `admin.conf`, ...) or `all`.
    name: String,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    dirs: DirArgs,
    /// The algorithm of the new keys [default: `encryptionAlgorithm` of --config, else RSA-2048].
    #[arg(long, value_name = "ALGORITHM")]
    encryption_algorithm: Option<KeyAlgorithm>,
    /// SANs (IPs or DNS names) to add while renewing a serving certificate, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    add_sans: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateCsrArgs {
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    dirs: DirArgs,
    /// The node name for the etcd CSRs and the apiserver SANs [default:
    /// `nodeRegistration.name` of --config, else the hostname].
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
    /// The advertise address for the SANs [default: `advertiseAddress` of --config, else the
    /// address of the default route].
    #[arg(long, value_name = "IP")]
    advertise_address: Option<IpAddr>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub(crate) struct HashArgs {
    /// A PEM file with one or more certificates (a CA bundle).
    #[arg(long, value_name = "FILE")]
    ca_cert: PathBuf,
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        match self {
            Self::Init(args) => args.run(),
            Self::CheckExpiration(args) => args.run(),
            Self::Renew(args) => args.run(),
            Self::GenerateCsr(args) => args.run(),
            Self::CaCertHash(args) => {
                let pins = CaCertHash::of_pem_bundle(
                    &std::fs::read(&args.ca_cert).map_err(|e| read_error(&args.ca_cert, e))?,
                )?;
                let text: String = pins.iter().map(|pin| format!("{pin}\n")).collect();
                Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
            }
            Self::CertificateKey => {
                let key = CertificateKey::generate()?;
                // Printing the key is this command's purpose.
                Ok(writeln!(
                    std::io::stdout().lock(),
                    "{}",
                    key.expose_hex().as_str()
                )?)
            }
        }
    }
}

impl InitArgs {
    fn run(self) -> CommandResult {
        self.run_for(None)
    }

    /// `certs init`, or `init phase certs <name>` for one certificate (a name of the tree, or
    /// `sa`) by the same rules: existing files that fit are kept, others refused.
    pub(crate) fn run_for(self, only: Option<&str>) -> CommandResult {
        let file = self.config.load()?;
        let cert_dir = settings::cert_dir(self.cert_dir.as_ref(), file.as_ref());
        let mut config = self.node.tree_config(file.as_ref());
        if let Some(cidr) = self.service_cidr {
            config.service_subnet = cidr;
        }
        if let Some(domain) = self.service_dns_domain {
            config.dns_domain = domain;
        }
        if !self.apiserver_cert_extra_sans.is_empty() {
            config.apiserver_cert_sans = self.apiserver_cert_extra_sans;
        }
        let now = SystemTime::now();
        let plan = if self.dry_run {
            let plan = match only {
                Some(name) => tree::plan_one(&cert_dir, &config, name, now)?,
                None => tree::plan(&cert_dir, &config, now)?,
            };
            let text: String = plan.lines().iter().map(|l| format!("{l}\n")).collect();
            std::io::stdout().lock().write_all(text.as_bytes())?;
            plan
        } else {
            let plan = match only {
                Some(name) => tree::create_one(&cert_dir, &config, name, now)?,
                None => tree::create(&cert_dir, &config, now)?,
            };
            plan.lines().iter().for_each(|line| eprintln!("{line}"));
            plan
        };
        plan.warnings.iter().for_each(|w| eprintln!("{w}"));
        let refused = plan.refusals().count();
        if self.dry_run && refused > 0 {
            return Err(
                format!("{refused} existing certificate(s) would be refused; see the plan above").into(),
            );
        }
        Ok(())
    }
}

impl CheckArgs {
    fn run(self) -> CommandResult {
        let now = SystemTime::now();
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        // Node facts (and so SAN checks) from the flags, or from the file with kubeadm's
        // fallbacks; without either, SANs are not checked.
        let mut config = match (&file, self.node_name, self.advertise_address) {
            (Some(_), name, address) => settings::node_tree_config(name, address, file.as_ref()),
            (None, Some(name), Some(address)) => TreeConfig::new(name, address),
            (None, ..) => TreeConfig::default(),
        };
        if let Some(endpoint) = self.control_plane_endpoint {
            config.control_plane_endpoint = endpoint;
        }
        if file.is_none() {
            config.external_etcd = external_etcd(&cert_dir);
        }
        let dirs = Dirs::new(cert_dir, self.dirs.kubeconfig_dir);
        let report = inventory::check_expiration(&dirs, &config, self.kubelet_dir.as_deref(), now);
        let text = match self.output {
            Output::Text => report.render_text(now, DurationStyle::Human),
            Output::Json => report.render_json(now)?,
        };
        Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
    }
}

/// kubeadm reads `etcd.external` from its config; without one, an etcd dir without a CA
/// certificate means external etcd.
fn external_etcd(cert_dir: &std::path::Path) -> bool {
    !cert_dir.join("etcd/ca.crt").exists()
}

impl RenewArgs {
    fn run(self) -> CommandResult {
        let now = SystemTime::now();
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let mut config = match &file {
            Some(file) => file.tree.clone(),
            None => TreeConfig::default().with_external_etcd(external_etcd(&cert_dir)),
        };
        if let Some(algorithm) = self.encryption_algorithm {
            config.encryption_algorithm = algorithm;
        }
        let target = if self.add_sans.is_empty() {
            RenewTarget::parse(&self.name, &config)?
        } else {
            let spec = tree::CertSpec::by_name(&self.name)
                .filter(|s| !s.is_ca())
                .ok_or_else(|| format!("--add-sans needs a certificate of the tree, not {:?}", self.name))?;
            RenewTarget::Certificate {
                spec,
                san_change: SanChange::adding(self.add_sans),
            }
        };
        let dirs = Dirs::new(cert_dir, self.dirs.kubeconfig_dir);
        let outcomes = renew::renew(&dirs, &target, &config, now)?;
        for outcome in &outcomes {
            println!("{}", outcome.message);
        }
        if self.name == "all" {
            println!(
                "\nDone renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd, so that they can use the new certificates."
            );
        }
        Ok(())
    }
}

impl GenerateCsrArgs {
    fn run(self) -> CommandResult {
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let config = self.cluster.apply(settings::node_tree_config(
            self.node_name,
            self.advertise_address,
            file.as_ref(),
        ));
        println!("generating keys and CSRs in {}", cert_dir.display());
        for item in external::generate_csrs(&Dirs::new(cert_dir, self.dirs.kubeconfig_dir), &config)? {
            println!("  {}", item.name);
        }
        Ok(())
    }
}

pub(crate) fn read_error(path: &std::path::Path, e: std::io::Error) -> String {
    format!("cannot read {}: {e}", path.display())
}
