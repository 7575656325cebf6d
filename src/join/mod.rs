//! The whole `kubeadm join` trust bootstrap as one call: discovery (the node trusts the control
//! plane), then the TLS bootstrap (the control plane trusts the node), leaving `kubelet.conf`
//! and the kubelet's client certificate in the kubelet directory. With
//! [`JoinConfig::with_control_plane`], between the two the node takes the cluster's shared CAs
//! from `kubeadm-certs` and makes its own control-plane certificates ([`control_plane`]).
//!
//! This is the one place that composes `kubetrust-discovery` and `kubetrust-csr-bootstrap`;
//! the CLI's `kubetrust join` and the examples call it. On failure nothing credential-bearing
//! is left behind, and the [`JoinError`] names the phase and, in its source, the failed check.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use kubetrust::discovery::Trust;
//! use kubetrust::join::{JoinConfig, join};
//!
//! let trust = Trust::from_flags(["sha256:9d3a...".to_owned()], false)?;
//! let config = JoinConfig::token("10.0.0.1:6443", "abcdef.0123456789abcdef".parse()?, trust, "worker-1", "/var/lib/kubetrust");
//! let joined = join(&config, &mut |event| {
//!     if let Some(line) = event.phase_line() {
//!         eprintln!("{line}");
//!     }
//! })
//! .await?;
//! println!("kubelet.conf: {}", joined.kubelet_conf.display());
//! # Ok(()) }
//! ```

mod config;
pub mod control_plane;
mod error;
mod event;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kubetrust_csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap};
use kubetrust_csr_bootstrap::client::Options;
use kubetrust_csr_bootstrap::flow::{Layout, Progress};
use kubetrust_discovery::Timing;
use kubetrust_discovery::file::FileDiscovery;
use kubetrust_discovery::token::TokenDiscovery;
use kubetrust_kubeconfig::Config;

pub use config::{
    ControlPlane, DEFAULT_BIND_PORT, DEFAULT_TLS_BOOTSTRAP_TIMEOUT, Discovery, JoinConfig, KUBELET_CONF,
    KUBELET_PKI,
};
pub use error::{ControlPlaneError, JoinError, Phase, PreflightError};
pub use event::Event;

/// What a successful join left.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Joined {
    /// `kubelet.conf`.
    pub kubelet_conf: PathBuf,
    /// The name of the CSR that was approved, when one was needed.
    pub csr_name: Option<String>,
    /// How long each phase took, in order.
    pub timings: Vec<(Phase, Duration)>,
}

/// Joins the node described by `config`, reporting each step to `events`.
///
/// # Errors
/// The failed phase with its cause; see [`JoinError`].
pub async fn join(config: &JoinConfig, events: &mut (dyn FnMut(Event) + Send)) -> Result<Joined, JoinError> {
    let mut timings = Vec::new();
    let phase = |phase: Phase, events: &mut (dyn FnMut(Event) + Send)| {
        events(Event::PhaseStarted(phase));
        (phase, Instant::now())
    };

    let started = phase(Phase::Preflight, events);
    preflight(config)?;
    finish(started, events, &mut timings);

    let started = phase(Phase::Discovery, events);
    let bootstrap_kubeconfig = discover(config, events).await.map_err(JoinError::Discovery)?;
    finish(started, events, &mut timings);

    let prepared = match &config.control_plane {
        Some(control_plane) => {
            let started = phase(Phase::ControlPlanePrepare, events);
            let prepared =
                control_plane::prepare(control_plane, &config.node_name, &bootstrap_kubeconfig, events)
                    .await
                    .map_err(|e| JoinError::ControlPlanePrepare(Box::new(e)))?;
            finish(started, events, &mut timings);
            Some(prepared)
        }
        None => None,
    };

    let started = phase(Phase::KubeletStart, events);
    let csr_name = tls_bootstrap(config, &bootstrap_kubeconfig, events)
        .await
        .inspect_err(|_| {
            remove_credentials(config);
            if let Some(prepared) = &prepared {
                prepared.remove();
            }
        })?;
    finish(started, events, &mut timings);
    Ok(Joined {
        kubelet_conf: config.kubelet_conf(),
        csr_name,
        timings,
    })
}

fn finish(
    (phase, started): (Phase, Instant),
    events: &mut (dyn FnMut(Event) + Send),
    timings: &mut Vec<(Phase, Duration)>,
) {
    let elapsed = started.elapsed();
    timings.push((phase, elapsed));
    events(Event::PhaseFinished { phase, elapsed });
}

fn preflight(config: &JoinConfig) -> Result<(), PreflightError> {
    if !kubetrust_kubeadm_config::net::is_dns1123_subdomain(&config.node_name)
        || config.node_name.bytes().any(|b| b.is_ascii_uppercase())
    {
        return Err(PreflightError::InvalidNodeName {
            name: config.node_name.clone(),
        });
    }
    let kubelet_conf = config.kubelet_conf();
    if kubelet_conf.exists() {
        return Err(PreflightError::AlreadyJoined { path: kubelet_conf });
    }
    Ok(())
}

/// Discovery's result: the bootstrap kubeconfig (server, trusted CA, the TLS bootstrap token).
async fn discover(
    config: &JoinConfig,
    events: &mut (dyn FnMut(Event) + Send),
) -> Result<Config, kubetrust_discovery::Error> {
    let timing = Timing::default().with_timeout(config.discovery_timeout);
    let (kubeconfig, server, pinned) = match &config.discovery {
        Discovery::Token {
            endpoint,
            token,
            trust,
            server_check,
        } => {
            let mut discovery = TokenDiscovery::new(endpoint.clone(), token.clone(), trust.clone())
                .with_timing(timing)
                .with_server_check(*server_check);
            if let Some(tls) = &config.tls_bootstrap_token {
                discovery = discovery.with_tls_bootstrap_token(tls.clone());
            }
            let discovered = discovery.discover().await?;
            let info = discovered.cluster_info();
            let (server, pinned) = (info.server().to_owned(), info.was_pinned());
            (discovered.bootstrap_kubeconfig(), server, pinned)
        }
        Discovery::File { location } => {
            let mut discovery = FileDiscovery::new(location.clone()).with_timing(timing);
            if let Some(tls) = &config.tls_bootstrap_token {
                discovery = discovery.with_tls_bootstrap_token(tls.clone());
            }
            let kubeconfig = discovery.discover().await?.into_bootstrap_kubeconfig();
            let server = kubeconfig
                .resolve(None)
                .map(|resolved| resolved.cluster.server.clone())
                .unwrap_or_default();
            (kubeconfig, server, false)
        }
    };
    events(Event::Discovered { server, pinned });
    Ok(kubeconfig)
}

/// The TLS bootstrap into the kubelet directory; the CSR's name when one was sent.
async fn tls_bootstrap(
    config: &JoinConfig,
    bootstrap_kubeconfig: &Config,
    events: &mut (dyn FnMut(Event) + Send),
) -> Result<Option<String>, JoinError> {
    let layout = Layout::default()
        .with_cert_dir(config.kubelet_pki())
        .with_kubeconfig(config.kubelet_conf());
    let options = BootstrapOptions::default()
        .with_layout(layout)
        .with_key_algorithm(config.key_algorithm)
        .with_request(Options::default().with_timeout(config.tls_bootstrap_timeout));
    let mut csr_name = None;
    let mut progress = |progress: Progress| {
        if let Progress::Requesting { name } = &progress {
            csr_name = Some(name.clone());
        }
        events(Event::TlsBootstrap(progress));
    };
    bootstrap(bootstrap_kubeconfig, &config.node_name, &options, &mut progress)
        .await
        .map_err(JoinError::TlsBootstrap)?;
    Ok(csr_name)
}

/// After a failed TLS bootstrap: the kubelet directory holds no key, certificate or
/// kubeconfig of this join (a pending key alone would become a credential if the CSR were
/// approved later).
fn remove_credentials(config: &JoinConfig) {
    let _ = std::fs::remove_file(config.kubelet_conf());
    let _ = std::fs::remove_dir_all(config.kubelet_pki());
}
