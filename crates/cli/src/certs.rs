//! `kubetrust certs ...`: the kubeadm certificate tree, expiry, renewal, external CA, pins.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand};
use kubetrust::pki::expiration::{DurationStyle, short_human_duration};
use kubetrust::pki::kubeadm_config::KubeadmConfig;
use kubetrust::pki::renew::{RenewTarget, SanChange};
use kubetrust::pki::renewal::{self, KeyChoice};
use kubetrust::pki::tabwriter::tabwrite;
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
    /// Plan the renewal of every certificate that expires within a window: the files each
    /// renewal writes, its key, the components to restart (`-o json` writes a plan for `apply`).
    Plan(PlanArgs),
    /// Carry out a plan written by `certs plan -o json`, renewing only certificates that have
    /// not changed since.
    Apply(ApplyArgs),
    /// Rotate a CA without downtime: plan, then apply stage, issue and retire in turn.
    #[command(subcommand)]
    RotateCa(crate::rotate_ca::Command),
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
pub(crate) struct PlanArgs {
    /// Renew what expires within this long (a Go duration, or days as `30d`).
    #[arg(long, value_name = "DURATION")]
    within: String,
    /// Re-issue the certificates for the keys they have instead of new keys.
    #[arg(long)]
    reuse_keys: bool,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    dirs: DirArgs,
    /// Output format: a table, or the plan as JSON (what `certs apply` reads).
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// The plan (`certs plan -o json > PLANFILE`).
    #[arg(value_name = "PLANFILE")]
    plan: PathBuf,
    #[command(flatten)]
    config: ConfigArg,
    #[command(flatten)]
    dirs: DirArgs,
    /// Check every renewal against the files and print what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
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
            Self::Plan(args) => args.run(),
            Self::Apply(args) => args.run(),
            Self::RotateCa(command) => command.run(),
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
fn external_etcd(cert_dir: &Path) -> bool {
    !cert_dir.join("etcd/ca.crt").exists()
}

impl RenewArgs {
    fn run(self) -> CommandResult {
        let now = SystemTime::now();
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let mut config = renewal_config(file.as_ref(), &cert_dir);
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

/// The tree config `renew`, `plan` and `apply` work with: --config's, else kubeadm's defaults
/// (with external etcd when the cert dir has no etcd CA).
pub(crate) fn renewal_config(file: Option<&KubeadmConfig>, cert_dir: &Path) -> TreeConfig {
    match file {
        Some(file) => file.tree.clone(),
        None => TreeConfig::default().with_external_etcd(external_etcd(cert_dir)),
    }
}

/// `30d` (days, as people write renewal windows) or a Go duration (`720h`).
fn window(text: &str) -> Result<Duration, String> {
    let days = text.strip_suffix('d').and_then(|d| d.parse::<u64>().ok());
    match days {
        Some(days) => Ok(Duration::from_secs(days.saturating_mul(24 * 3600))),
        None => {
            kubetrust::kubeadm_config::parse_duration(text).map_err(|e| format!("--within {text:?}: {e}"))
        }
    }
}

impl PlanArgs {
    fn run(self) -> CommandResult {
        let now = SystemTime::now();
        let within = window(&self.within)?;
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let config = renewal_config(file.as_ref(), &cert_dir);
        let dirs = Dirs::new(cert_dir, self.dirs.kubeconfig_dir);
        let report = inventory::check_expiration(&dirs, &config, None, now);
        let key = if self.reuse_keys {
            KeyChoice::Reuse
        } else {
            KeyChoice::New
        };
        let plan = renewal::plan_renewal(&report, &dirs, &config, now, within, key);
        let text = match self.output {
            Output::Json => serde_json::to_string_pretty(&plan)? + "\n",
            Output::Text => plan_text(&plan),
        };
        Ok(std::io::stdout().lock().write_all(text.as_bytes())?)
    }
}

fn plan_text(plan: &renewal::RenewalPlan) -> String {
    let mut table = String::from("RENEW\tEXPIRES\tCA\tKEY\tFILES\tRESTART\n");
    for r in &plan.renewals {
        let expires = if r.expired {
            format!("{} (expired)", r.not_after)
        } else {
            r.not_after.clone()
        };
        let key = match r.key {
            KeyChoice::New => "new",
            _ => "kept",
        };
        let files: Vec<String> = r.files.iter().map(|f| f.display().to_string()).collect();
        let reload = if r.reload.is_empty() {
            "-".to_owned()
        } else {
            r.reload.join(",")
        };
        table.push_str(&format!(
            "{}\t{expires}\t{}\t{key}\t{}\t{reload}\n",
            r.name,
            r.ca,
            files.join(",")
        ));
    }
    let mut out = tabwrite(&table, 0, 3);
    if plan.renewals.is_empty() {
        out = format!(
            "Nothing expires within {}.\n",
            short_human_duration(i64::try_from(plan.window_seconds).unwrap_or(i64::MAX))
        );
    }
    for n in &plan.not_renewed {
        out.push_str(&format!("not renewed: {}: {}\n", n.name, n.reason));
    }
    if !plan.reload.is_empty() {
        out.push_str(&format!("After applying, restart: {}\n", plan.reload.join(", ")));
    }
    out
}

impl ApplyArgs {
    fn run(self) -> CommandResult {
        let text = std::fs::read(&self.plan).map_err(|e| read_error(&self.plan, e))?;
        let plan: renewal::RenewalPlan = serde_json::from_slice(&text)
            .map_err(|e| format!("{}: not a renewal plan: {e}", self.plan.display()))?;
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let config = renewal_config(file.as_ref(), &cert_dir);
        let dirs = Dirs::new(cert_dir, self.dirs.kubeconfig_dir);
        let applied = renewal::apply(&plan, &dirs, &config, SystemTime::now(), self.dry_run)?;
        let mut changed = 0;
        for outcome in &applied {
            match outcome {
                renewal::Applied::Renewed(done) => println!("{}", done.message),
                renewal::Applied::Changed { name, found } => {
                    changed += 1;
                    println!("{name} skipped: it changed since the plan was made ({found})");
                }
                _ => {}
            }
        }
        if !self.dry_run && applied.len() > changed && !plan.reload.is_empty() {
            println!(
                "\nDone. Restart {} so that they use the new certificates.",
                plan.reload.join(", ")
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

pub(crate) fn read_error(path: &Path, e: std::io::Error) -> String {
    format!("cannot read {}: {e}", path.display())
}
