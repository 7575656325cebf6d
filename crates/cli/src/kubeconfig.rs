//! `kubetrust kubeconfig ...`

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use kubetrust::kubeconfig::{Config, OutputFormat, ViewOptions, view};

use crate::CommandResult;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show a kubeconfig as `kubectl config view` does, keeping fields kubectl does not know.
    View(ViewArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ViewArgs {
    /// The kubeconfig file; default: $KUBECONFIG (a ':'-separated list, merged), else ~/.kube/config.
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Only the current (or --context) context, its cluster and its user.
    #[arg(long)]
    minify: bool,
    /// Embed referenced certificate and key files.
    #[arg(long)]
    flatten: bool,
    /// Show certificate data, keys, tokens and passwords.
    #[arg(long)]
    raw: bool,
    /// The context --minify keeps.
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
