//! `kubetrust testcp serve`: the in-process test control plane as a process, so scripts, the
//! real kubectl and `kubetrust join` can be tried against a cluster in seconds.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use kubetrust::bootstrap_token::api;
use kubetrust::pki::KeyAlgorithm;
use kubetrust::pki::tree::{self, CLUSTER_CA, TreeConfig};
use kubetrust::testcp::{Config, TestControlPlane};
use tokio::signal::unix::{SignalKind, signal};

use crate::CommandResult;
use crate::api::block_on;

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Serve a test control plane (HTTPS, authentication, RBAC, the CSR API and its
    /// controllers) until SIGTERM or SIGINT; print its URL on stdout once it serves.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The certificate directory: its cluster CA (ca.crt, ca.key) is used; without one, a
    /// kubeadm tree is created there first, as `certs init` does (node `testcp`, 127.0.0.1).
    #[arg(long, value_name = "DIR")]
    cert_dir: PathBuf,
    /// Where to write `admin.conf` (mode 0600) for kubectl and the API commands.
    #[arg(long, value_name = "KDIR")]
    kubeconfig_dir: PathBuf,
    /// The address to serve on: 127.0.0.1 and a port (0 for any free one).
    #[arg(long, value_name = "127.0.0.1:PORT")]
    listen: SocketAddr,
    /// Keep the API objects in this directory, so a restart on the same port carries on.
    #[arg(long, value_name = "D")]
    state_dir: Option<PathBuf>,
    /// Remove `kubeadm:node-autoapprove-bootstrap` after start: node client CSRs then wait
    /// for a manual approval (the kubeadm hardening step).
    #[arg(long)]
    no_auto_approve: bool,
}

impl Command {
    pub(crate) fn run(self) -> CommandResult {
        let Self::Serve(args) = self;
        block_on(args.run())
    }
}

impl ServeArgs {
    async fn run(self) -> CommandResult {
        if self.listen.ip() != IpAddr::V4(Ipv4Addr::LOCALHOST) {
            return Err(format!(
                "--listen {}: the test control plane serves on 127.0.0.1 only",
                self.listen
            )
            .into());
        }
        let mut config = Config::default()
            .with_port(self.listen.port())
            .with_ca(self.cluster_ca()?);
        if let Some(dir) = &self.state_dir {
            config = config.with_state_dir(dir);
        }
        // Registered before serving, so a signal sent as soon as the URL shows is not lost.
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let plane = TestControlPlane::start(config).await?;
        std::fs::create_dir_all(&self.kubeconfig_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.kubeconfig_dir.display()))?;
        let admin = self.kubeconfig_dir.join("admin.conf");
        plane.admin_kubeconfig().save(&admin)?;
        eprintln!(
            "[testcp] Wrote the admin kubeconfig {:?}",
            admin.display().to_string()
        );
        if self.no_auto_approve {
            api::disable_node_client_auto_approval(&plane.client().await?).await?;
            eprintln!("[testcp] Removed the auto-approval of node client certificates");
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", plane.url())?;
        out.flush()?;
        drop(out);
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        eprintln!("[testcp] Stopping");
        plane.shutdown().await?;
        Ok(())
    }

    /// The CA in --cert-dir, creating the tree first when there is none.
    fn cluster_ca(&self) -> Result<kubetrust::pki::CertificateAuthority, kubetrust::pki::Error> {
        if !CLUSTER_CA.cert_path(&self.cert_dir).exists() {
            let config = TreeConfig::new("testcp", IpAddr::V4(Ipv4Addr::LOCALHOST))
                .with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
            let plan = tree::create(&self.cert_dir, &config, SystemTime::now())?;
            plan.lines().iter().for_each(|line| eprintln!("{line}"));
        }
        tree::load_ca(&CLUSTER_CA, &self.cert_dir)
    }
}
