//! `kubetrust approver run`: the secure approver of kubelet serving certificates as a
//! long-running controller in a real cluster (`deploy/approver.yaml` runs it as two replicas).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use kubetrust::csr_bootstrap::approver::{self, ApproverConfig, LeaseConfig};
use tokio::signal::unix::{SignalKind, signal};

use crate::CommandResult;
use crate::api::{block_on, client_from};

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Approve or deny kubelet serving CSRs against their Nodes until SIGTERM or SIGINT; with
    /// --leader-elect, only while holding the Lease (exit 1 when it is lost).
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The kubeconfig to talk to the cluster with; without it, the pod's service account (or
    /// $KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Also approve kubelet client CSRs, as kube-controller-manager's csrapproving does (needs
    /// more RBAC than deploy/approver.yaml grants; see there).
    #[arg(long)]
    client_csrs: bool,
    /// Run as one of several replicas: decide only while holding a coordination.k8s.io Lease.
    #[arg(long)]
    leader_elect: bool,
    /// The Lease's name.
    #[arg(long, value_name = "NAME", default_value = "kubetrust-approver")]
    leader_elect_resource_name: String,
    /// The Lease's namespace.
    #[arg(long, value_name = "NS", default_value = "kube-system")]
    leader_elect_resource_namespace: String,
    /// This replica's identity in the Lease [default: $POD_NAME or the host name, and a random
    /// suffix].
    #[arg(long, value_name = "ID")]
    leader_elect_identity: Option<String>,
    /// How long candidates wait, after the Lease last changed, before taking it over.
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    leader_elect_lease_duration: String,
    /// How long the leader keeps trying to renew before it stops leading.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    leader_elect_renew_deadline: String,
    /// How often the leader renews and candidates retry.
    #[arg(long, value_name = "DURATION", default_value = "2s")]
    leader_elect_retry_period: String,
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        let Self::Run(args) = self;
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .init();
        block_on(args.run())
    }
}

fn duration(text: &str, flag: &str) -> Result<Duration, String> {
    kubetrust::kubeadm_config::parse_duration(text).map_err(|e| format!("--{flag}: {e}"))
}

impl RunArgs {
    async fn run(self) -> CommandResult {
        let mut config = ApproverConfig::default().with_client_csrs(self.client_csrs);
        if self.leader_elect {
            config = config.with_leader_election(self.lease()?);
        }
        // Registered before anything else, so an early signal is not lost.
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let client = client_from(self.kubeconfig).await?;
        eprintln!(
            "[approver] Deciding kubelet serving CSRs{}",
            if self.client_csrs {
                " and kubelet client CSRs"
            } else {
                ""
            }
        );
        let shutdown = async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
            eprintln!("[approver] Stopping");
        };
        approver::run(client, config, shutdown).await?;
        Ok(())
    }

    fn lease(&self) -> Result<LeaseConfig, Box<dyn std::error::Error>> {
        let identity = match &self.leader_elect_identity {
            Some(identity) => identity.clone(),
            None => default_identity()?,
        };
        Ok(LeaseConfig::new(
            &self.leader_elect_resource_namespace,
            &self.leader_elect_resource_name,
            identity,
        )
        .with_timing(
            duration(&self.leader_elect_lease_duration, "leader-elect-lease-duration")?,
            duration(&self.leader_elect_renew_deadline, "leader-elect-renew-deadline")?,
            duration(&self.leader_elect_retry_period, "leader-elect-retry-period")?,
        ))
    }
}

/// client-go's identity: the pod (or host) name, and a random suffix so that a restarted
/// process is a new candidate.
fn default_identity() -> Result<String, Box<dyn std::error::Error>> {
    let name = std::env::var("POD_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "kubetrust-approver".into());
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(|e| format!("no randomness for the identity: {e}"))?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{name}_{suffix}"))
}
