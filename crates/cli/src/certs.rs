//! `kubetrust certs ...`: the kubeadm certificate tree, expiry, renewal, external CA, pins.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use kubetrust::pki::expiration::DurationStyle;
use kubetrust::pki::tree::{self, TreeConfig};
use kubetrust::pki::upload_certs::CertificateKey;
use kubetrust::pki::{CaCertHash, KeyAlgorithm, external, inventory, renew};

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

/// Where the tree and the kubeconfig files live.
#[derive(Debug, Args)]
pub(crate) struct DirArgs {
    /// The certificate directory.
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes/pki")]
    pub(crate) cert_dir: PathBuf,
    /// The kubeconfig directory.
    #[arg(long, value_name = "KDIR", default_value = "/etc/kubernetes")]
    pub(crate) kubeconfig_dir: PathBuf,
}

/// The node facts the tree depends on, shared with `kubeconfig init`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// This node's name (CN of the etcd certificates, a SAN of the apiserver's).
    #[arg(long, value_name = "NAME")]
    node_name: String,
    /// The IP the API server advertises.
    #[arg(long, value_name = "IP")]
    advertise_address: IpAddr,
    /// A stable address for the control plane: DNS name or IP, optional port.
    #[arg(long, value_name = "HOST[:PORT]")]
    control_plane_endpoint: Option<String>,
    /// The encryption algorithm of every generated key.
    #[arg(long, value_name = "ALGORITHM", default_value = "RSA-2048")]
    encryption_algorithm: KeyAlgorithm,
}

impl NodeArgs {
    pub(crate) fn config(&self) -> TreeConfig {
        TreeConfig::new(&self.node_name, self.advertise_address)
            .with_control_plane_endpoint(self.control_plane_endpoint.clone().unwrap_or_default())
            .with_encryption_algorithm(self.encryption_algorithm)
    }
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The certificate directory.
    #[arg(long, value_name = "DIR", default_value = "/etc/kubernetes/pki")]
    cert_dir: PathBuf,
    #[command(flatten)]
    node: NodeArgs,
    /// Extra SANs of the API server certificate (IPs or DNS names), comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    apiserver_cert_extra_sans: Vec<String>,
    /// The service network; its first address is a SAN of the API server certificate.
    #[arg(long, value_name = "CIDR", default_value = "10.96.0.0/12")]
    service_cidr: String,
    /// The cluster DNS domain.
    #[arg(long, value_name = "DOMAIN", default_value = "cluster.local")]
    service_dns_domain: String,
    /// Print what would be created, reused or refused, and write nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    dirs: DirArgs,
    /// Also list the kubelet's rotated client certificate from this directory.
    #[arg(long, value_name = "DIR")]
    kubelet_dir: Option<PathBuf>,
    /// With --advertise-address: check that the serving certificates cover this node's SANs.
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
    dirs: DirArgs,
    /// The algorithm of the new keys.
    #[arg(long, value_name = "ALGORITHM", default_value = "RSA-2048")]
    encryption_algorithm: KeyAlgorithm,
    /// SANs (IPs or DNS names) to add while renewing a serving certificate, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    add_sans: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateCsrArgs {
    #[command(flatten)]
    dirs: DirArgs,
    /// The node name for the etcd CSRs and the apiserver SANs (default: the hostname).
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
    /// The advertise address for the SANs (default: the address of the default route).
    #[arg(long, value_name = "IP")]
    advertise_address: Option<IpAddr>,
    /// A stable control-plane address, added to the apiserver SANs and kubeconfig servers.
    #[arg(long, value_name = "HOST[:PORT]")]
    control_plane_endpoint: Option<String>,
    /// The algorithm of the generated keys.
    #[arg(long, value_name = "ALGORITHM", default_value = "RSA-2048")]
    encryption_algorithm: KeyAlgorithm,
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
        let mut config = self
            .node
            .config()
            .with_service_subnet(self.service_cidr)
            .with_dns_domain(self.service_dns_domain);
        config.apiserver_cert_sans = self.apiserver_cert_extra_sans;
        let now = SystemTime::now();
        let plan = if self.dry_run {
            let plan = tree::plan(&self.cert_dir, &config, now)?;
            let text: String = plan.lines().iter().map(|l| format!("{l}\n")).collect();
            std::io::stdout().lock().write_all(text.as_bytes())?;
            plan
        } else {
            let plan = tree::create(&self.cert_dir, &config, now)?;
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
        let node = self.node_name.zip(self.advertise_address);
        let config = match node {
            Some((name, address)) => TreeConfig::new(name, address),
            None => TreeConfig::default(),
        }
        .with_control_plane_endpoint(self.control_plane_endpoint.unwrap_or_default())
        .with_external_etcd(external_etcd(&self.dirs.cert_dir));
        let report = inventory::check_expiration(
            &self.dirs.cert_dir,
            &self.dirs.kubeconfig_dir,
            &config,
            self.kubelet_dir.as_deref(),
            now,
        );
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
        let config = TreeConfig::default()
            .with_encryption_algorithm(self.encryption_algorithm)
            .with_external_etcd(external_etcd(&self.dirs.cert_dir));
        let outcomes = if self.add_sans.is_empty() {
            renew::renew(
                &self.dirs.cert_dir,
                &self.dirs.kubeconfig_dir,
                &self.name,
                &config,
                now,
            )?
        } else {
            let spec = tree::CertSpec::by_name(&self.name)
                .filter(|s| !s.is_ca())
                .ok_or_else(|| format!("--add-sans needs a certificate of the tree, not {:?}", self.name))?;
            let change = renew::SanChange::adding(self.add_sans);
            vec![renew::renew_certificate(
                &self.dirs.cert_dir,
                spec,
                &config,
                Some(&change),
                now,
            )?]
        };
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
        let node_name = self.node_name.unwrap_or_else(hostname);
        let address = self.advertise_address.unwrap_or_else(default_route_address);
        let config = TreeConfig::new(node_name, address)
            .with_control_plane_endpoint(self.control_plane_endpoint.unwrap_or_default())
            .with_encryption_algorithm(self.encryption_algorithm);
        println!("generating keys and CSRs in {}", self.dirs.cert_dir.display());
        for item in external::generate_csrs(&self.dirs.cert_dir, &self.dirs.kubeconfig_dir, &config)? {
            println!("  {}", item.name);
        }
        Ok(())
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_lowercase())
        .unwrap_or_else(|_| "localhost".into())
}

/// The local address the kernel would use for the default route, as kubeadm's default
/// advertise address; a UDP "connect" sends nothing. Loopback when there is no route.
fn default_route_address() -> IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|socket| socket.connect("192.0.2.1:9").map(|()| socket))
        .and_then(|socket| socket.local_addr())
        .map_or(IpAddr::from([127, 0, 0, 1]), |addr| addr.ip())
}

pub(crate) fn read_error(path: &std::path::Path, e: std::io::Error) -> String {
    format!("cannot read {}: {e}", path.display())
}
