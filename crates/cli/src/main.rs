//! `kubetrust`: kubeadm-like commands over the kubetrust crates.
//!
//! Exit status: 0 success; 1 the command ran and failed (the error and its causes on
//! stderr); 2 command-line syntax (clap's own exit code).

mod api;
mod approver;
mod certs;
mod config;
mod discovery;
mod init;
mod init_tokens;
mod join;
mod kubeconfig;
mod rotate_ca;
mod settings;
mod testcp;
mod token;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The two-way trust of kubeadm join, and the PKI behind it.
#[derive(Debug, Parser)]
#[command(name = "kubetrust", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The secure approver of kubelet serving certificates, as a controller in a real cluster.
    #[command(subcommand)]
    Approver(approver::Command),
    /// The kubeadm certificate tree: create, check expiry, renew, external CA, pins.
    #[command(subcommand)]
    Certs(certs::Command),
    /// kubeadm's configuration: print the defaults.
    #[command(subcommand)]
    Config(config::Command),
    /// The node's side of the join: check a cluster-info against a token and CA pins.
    #[command(subcommand)]
    Discovery(discovery::Command),
    /// kubeadm init's phases by kubeadm's names: certs, kubeconfig, bootstrap-token, upload-certs.
    #[command(subcommand)]
    Init(init::Command),
    /// Join this node: discovery, then the TLS bootstrap, leaving kubelet.conf and the kubelet's client certificate.
    Join(join::JoinArgs),
    /// Read and write kubeconfig files.
    #[command(subcommand)]
    Kubeconfig(kubeconfig::Command),
    /// Undo a join: remove kubelet.conf and the kubelet's client certificates, nothing else.
    Reset(join::ResetArgs),
    /// A test control plane as a process, for scripts, kubectl and joins.
    #[command(subcommand)]
    Testcp(testcp::Command),
    /// Manage bootstrap tokens: generate, and create, list, delete on the server.
    #[command(subcommand)]
    Token(token::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Approver(command) => command.run(),
        Command::Certs(command) => command.run(),
        Command::Config(command) => command.run(),
        Command::Discovery(command) => command.run(),
        Command::Init(command) => command.run(),
        Command::Join(args) => args.run(),
        Command::Kubeconfig(command) => command.run(),
        Command::Reset(args) => args.run(),
        Command::Testcp(command) => command.run(),
        Command::Token(command) => command.run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            report(error.as_ref());
            ExitCode::FAILURE
        }
    }
}

/// Prints an error and every cause under it that adds something: many errors already show
/// their cause in their own message, and saying it twice hides the chain's new information.
fn report(error: &(dyn std::error::Error + 'static)) {
    let mut shown = error.to_string();
    eprintln!("error: {shown}");
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !shown.contains(&text) {
            eprintln!("  caused by: {text}");
            shown = text;
        }
        source = cause.source();
    }
}

/// `-o` of the commands whose output is data: kubeadm-style text, or JSON.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

/// What commands return: any error, reported with its causes.
type CommandResult = Result<(), Box<dyn std::error::Error>>;
