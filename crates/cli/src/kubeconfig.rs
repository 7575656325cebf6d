//! `kubetrust kubeconfig ...`

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use kubetrust::kubeconfig::{Config, OutputFormat, SecretString, ViewOptions, view};
use kubetrust::pki::kubeconfigs::{self, ClientCredentialsSpec, UserKubeconfig};
use kubetrust::pki::tree::{self, TreeConfig};
use kubetrust::pki::{Dirs, Subject};

use crate::CommandResult;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show a kubeconfig as `kubectl config view` does, keeping fields kubectl does not know.
    View(ViewArgs),
    /// Write admin.conf, super-admin.conf, kubelet.conf, controller-manager.conf and scheduler.conf.
    Init(InitArgs),
    /// Print a kubeconfig for another user, as `kubeadm kubeconfig user`.
    User(UserArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    #[command(flatten)]
    config: crate::settings::ConfigArg,
    #[command(flatten)]
    dirs: crate::settings::DirArgs,
    #[command(flatten)]
    node: crate::settings::NodeArgs,
    /// The API server's port on this node [default: `bindPort` of --config, else 6443].
    #[arg(long, value_name = "PORT")]
    bind_port: Option<u16>,
}

#[derive(Debug, Args)]
pub(crate) struct UserArgs {
    /// The user name: the client certificate's CN.
    #[arg(long, value_name = "NAME")]
    client_name: String,
    /// A group (the certificate's O); repeat for several.
    #[arg(long = "org", value_name = "O")]
    organizations: Vec<String>,
    /// How long the client certificate is valid (a Go duration).
    #[arg(long, value_name = "DURATION", default_value = "8760h")]
    validity_period: String,
    /// Authenticate with this bearer token instead of a client certificate.
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    #[command(flatten)]
    config: crate::settings::ConfigArg,
    /// The certificate directory holding ca.crt and ca.key [default: `certificatesDir` of
    /// --config, else /etc/kubernetes/pki].
    #[arg(long, value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    /// The API server address: DNS name or IP, optional port (default 6443) [default with
    /// --config: its `controlPlaneEndpoint`, else its advertise address and bind port].
    #[arg(long, value_name = "HOST[:PORT]", required_unless_present = "config")]
    control_plane_endpoint: Option<String>,
    /// The cluster name in the kubeconfig [default: `clusterName` of --config, else kubernetes].
    #[arg(long, value_name = "NAME")]
    cluster_name: Option<String>,
    /// The algorithm of the client key [default: `encryptionAlgorithm` of --config, else RSA-2048].
    #[arg(long, value_name = "ALGORITHM")]
    encryption_algorithm: Option<kubetrust::pki::KeyAlgorithm>,
}

#[derive(Debug, Args)]
pub(crate) struct ViewArgs {
    /// The kubeconfig file; default: $KUBECONFIG (a ':'-separated list, merged), else ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Only the current (or --context) context, its cluster and its user; fails when one of
    /// them is missing.
    #[arg(long)]
    minify: bool,
    /// Embed referenced certificate and key files; shows secrets, as kubectl does.
    #[arg(long)]
    flatten: bool,
    /// Show certificate data, keys, tokens and passwords.
    #[arg(long)]
    raw: bool,
    /// The context --minify keeps (ignored without --minify).
    #[arg(long)]
    context: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Yaml)]
    output: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        match self {
            Self::View(args) => args.run(),
            Self::Init(args) => args.run(),
            Self::User(args) => args.run(),
        }
    }
}

impl ViewArgs {
    fn run(self) -> CommandResult {
        let config = load(self.kubeconfig)?;
        let options = ViewOptions::default()
            .with_minify(self.minify)
            .with_flatten(self.flatten)
            .with_raw(self.raw)
            .with_context(self.context)
            .with_format(match self.output {
                Format::Yaml => OutputFormat::Yaml,
                Format::Json => OutputFormat::Json,
            });
        let mut text = view(&config, &options)?;
        if !text.ends_with('\n') {
            text.push('\n');
        }
        std::io::stdout().lock().write_all(text.as_bytes())?;
        Ok(())
    }
}

/// kubectl's loading rules: an explicit file, else `$KUBECONFIG` merged, else
/// `~/.kube/config`. Like `kubectl config view`, a missing file shows an empty config; unlike
/// it, we say so on stderr.
fn load(explicit: Option<PathBuf>) -> Result<Config, kubetrust::kubeconfig::Error> {
    let paths: Vec<PathBuf> = match explicit {
        Some(path) => vec![path],
        None => match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(list) => std::env::split_paths(&list)
                .filter(|p| !p.as_os_str().is_empty())
                .collect(),
            None => std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".kube").join("config"))
                .into_iter()
                .collect(),
        },
    };
    if !paths.is_empty() && paths.iter().all(|p| !p.exists()) {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "warning: kubeconfig not found ({}); showing an empty config",
            names.join(", ")
        );
    }
    Config::from_files(&paths)
}

impl InitArgs {
    fn run(self) -> CommandResult {
        self.run_for(&kubeconfigs::KUBECONFIG_FILES)
    }

    /// `kubeconfig init`, or `init phase kubeconfig <name>` for some of the files.
    pub(crate) fn run_for(self, files: &[kubeconfigs::KubeconfigSpec]) -> CommandResult {
        let file = self.config.load()?;
        let cert_dir = self.dirs.cert_dir(file.as_ref());
        let mut config = self.node.tree_config(file.as_ref());
        if let Some(port) = self.bind_port {
            config.bind_port = port;
        }
        eprintln!(
            "[kubeconfig] Using kubeconfig folder {:?}",
            self.dirs.kubeconfig_dir.display().to_string()
        );
        let dirs = Dirs::new(cert_dir, self.dirs.kubeconfig_dir);
        let items = kubeconfigs::create(&dirs, &config, files, std::time::SystemTime::now())?;
        for item in &items {
            eprintln!("{}", item.line());
            if let Some(warning) = &item.warning {
                eprintln!("[kubeconfig] WARNING: {warning}");
            }
        }
        Ok(())
    }
}

impl UserArgs {
    fn run(self) -> CommandResult {
        let now = std::time::SystemTime::now();
        let file = self.config.load()?;
        let cert_dir = crate::settings::cert_dir(self.cert_dir.as_ref(), file.as_ref());
        // kubeadm's server: controlPlaneEndpoint, else the node's advertise address and port.
        let mut config = match &file {
            Some(_) => crate::settings::node_tree_config(None, None, file.as_ref()),
            None => TreeConfig::default(),
        };
        if let Some(endpoint) = self.control_plane_endpoint {
            config.control_plane_endpoint = endpoint;
        }
        if let Some(algorithm) = self.encryption_algorithm {
            config.encryption_algorithm = algorithm;
        }
        if let Some(name) = self.cluster_name {
            config.cluster_name = name;
        }
        let ca = tree::load_ca(&tree::CLUSTER_CA, &cert_dir)?;
        let credentials = match self.token {
            Some(token) => ClientCredentialsSpec::Token(SecretString::new(token)),
            None => {
                let period = kubetrust::pki::parse_duration(&self.validity_period)?;
                if period > kubetrust::pki::CERTIFICATE_VALIDITY {
                    eprintln!(
                        "[kubeconfig] WARNING: the validity period {} is more than the recommended default for certificate expiration: 8760h",
                        self.validity_period
                    );
                }
                let mut subject = Subject::new(&self.client_name);
                subject.organizations = self.organizations;
                ClientCredentialsSpec::Certificate {
                    subject,
                    validity: kubeconfigs::client_validity(&ca, now, period),
                }
            }
        };
        let request = UserKubeconfig::new(&config, &self.client_name, credentials)?;
        let kubeconfig = kubeconfigs::build(&ca, request)?;
        Ok(std::io::stdout()
            .lock()
            .write_all(kubeconfig.to_yaml()?.as_bytes())?)
    }
}
