//! kubetrust quickstart: the whole trust bootstrap of `kubeadm join`, for real, in seconds.
//!
//! Run: `cargo run --release --example quickstart [-- --verbose]`
//!
//! 1. A kubeadm PKI (certificate tree and kubeconfig files) in a temporary directory.
//! 2. A control plane on loopback serving with that PKI (`kubetrust::testcp`: HTTPS, bootstrap
//!    token authentication, RBAC, the CSR API with kube-controller-manager's approver and signer).
//! 3. A bootstrap token, and the join command with the CA's `sha256:` pin.
//! 4. Three nodes joining in parallel through `kubetrust::join`: token discovery (JWS-signed
//!    `cluster-info`, CA pinned), then the TLS bootstrap (CSR, auto-approval, signing), leaving
//!    `kubelet.conf` and `pki/kubelet-client-current.pem` per node.
//! 5. Each node's certificate checked: it chains to the cluster CA, matches the node's key and
//!    names `system:node:<name>`. Then a short report with the phase timings.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use kubetrust::bootstrap_token::{BootstrapToken, JoinCommand, TokenSpec, api};
use kubetrust::discovery::Trust;
use kubetrust::join::{Event, JoinConfig, Joined, Phase, join};
use kubetrust::pki::kubeconfigs::KUBECONFIG_FILES;
use kubetrust::pki::tree::TreeConfig;
use kubetrust::pki::{CaCertHash, Certificate, CertificateAuthority, Dirs, KeyAlgorithm, PrivateKey, init};
use kubetrust_testcp::{Config, TestControlPlane};

const NODES: [&str; 3] = ["worker-1", "worker-2", "worker-3"];

fn main() -> std::process::ExitCode {
    let verbose = std::env::args().any(|a| a == "--verbose" || a == "-v");
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(verbose)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut cause = e.source();
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(verbose: bool) -> Result<(), Box<dyn Error>> {
    let started = Instant::now();
    let work = tempfile::tempdir()?;
    let now = SystemTime::now();

    // 1. The control plane's PKI, as `kubeadm init phase certs all` + `kubeconfig all`.
    let pki = work.path().join("pki");
    let tree_config =
        TreeConfig::new("cp-1", "127.0.0.1".parse()?).with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    let created = init::create(
        &Dirs::new(&pki, work.path()),
        &tree_config,
        &KUBECONFIG_FILES,
        now,
    )?;
    if verbose {
        created.tree.lines().iter().for_each(|line| eprintln!("{line}"));
        created
            .kubeconfigs
            .iter()
            .for_each(|item| eprintln!("{}", item.line()));
    }
    let pki_took = started.elapsed();

    // 2. A control plane serving with the tree's CA.
    let ca = load_ca(&pki)?;
    let serving = Instant::now();
    let plane = TestControlPlane::start(Config::default().with_ca(ca)).await?;
    let plane_took = serving.elapsed();
    let endpoint = plane.url().trim_start_matches("https://").to_owned();

    // 3. A bootstrap token and the join command with the CA pin.
    let token = BootstrapToken::generate()?;
    api::create_token(&plane.client().await?, &TokenSpec::new(token.clone()), now).await?;
    let pin = CaCertHash::of_certificate(plane.ca().certificate()).to_string();
    let command = JoinCommand::new(&endpoint, token.clone()).with_ca_cert_hash(&pin);

    println!("kubetrust quickstart — kubeadm's join trust, end to end");
    println!(
        "  PKI        {} certificates and keys, {} kubeconfigs ({:.0?})",
        created.tree.items.len(),
        created.kubeconfigs.len(),
        pki_took
    );
    println!("  control    {} ({:.0?} to serve)", plane.url(), plane_took);
    println!("  join with  {}", command.withheld());

    // 4. Three nodes join in parallel.
    let trust = Trust::from_flags([pin], false)?;
    let mut joins = tokio::task::JoinSet::new();
    for node in NODES {
        let kubelet_dir = work.path().join(node);
        let config = JoinConfig::token(&endpoint, token.clone(), trust.clone(), node, &kubelet_dir)
            .with_tls_bootstrap_timeout(Duration::from_secs(30));
        joins.spawn(async move {
            let mut lines = Vec::new();
            let result = join(&config, &mut |event: Event| lines.extend(event.phase_line())).await;
            (node, kubelet_dir, result, lines)
        });
    }
    let mut joined = Vec::new();
    while let Some(outcome) = joins.join_next().await {
        let (node, kubelet_dir, result, lines) = outcome?;
        if verbose {
            lines.iter().for_each(|line| eprintln!("  {node}: {line}"));
        }
        joined.push((node, kubelet_dir, result?));
    }
    joined.sort_by_key(|(node, _, _)| *node);

    // 5. Every node's identity, checked.
    for (node, kubelet_dir, outcome) in &joined {
        let subject = check_identity(plane.ca(), kubelet_dir, node)?;
        println!(
            "  {node}   {subject}, chains to the cluster CA, matches its key — {}",
            timings(outcome)
        );
    }
    plane.shutdown().await?;
    println!(
        "  done in {:.0?}: 3 nodes joined; files in a temp dir removed on exit",
        started.elapsed()
    );
    Ok(())
}

fn load_ca(pki: &Path) -> Result<CertificateAuthority, Box<dyn Error>> {
    let bundle = Certificate::chain_from_pem(&std::fs::read(pki.join("ca.crt"))?)?;
    let key = PrivateKey::from_file(&pki.join("ca.key"))?;
    Ok(CertificateAuthority::new(bundle, key)?)
}

/// The node's current client certificate: its subject, after checking chain and key.
fn check_identity(
    ca: &CertificateAuthority,
    kubelet_dir: &Path,
    node: &str,
) -> Result<String, Box<dyn Error>> {
    let current: PathBuf = kubelet_dir.join("pki").join("kubelet-client-current.pem");
    let pem = std::fs::read(&current)?;
    let chain = Certificate::chain_from_pem(&pem)?;
    let cert = chain
        .first()
        .ok_or("no certificate in the kubelet's current pair")?;
    let key = PrivateKey::from_pem(&pem)?;
    let expected = format!("system:node:{node}");
    if cert.subject().common_name != expected
        || !cert.subject().organizations.iter().any(|o| o == "system:nodes")
    {
        return Err(format!("{node}: the certificate names {:?}", cert.subject_text()).into());
    }
    if !ca.verifies(cert, chain.get(1..).unwrap_or_default()) {
        return Err(format!("{node}: the certificate does not chain to the cluster CA").into());
    }
    if !cert.matches_key(&key) {
        return Err(format!("{node}: the certificate does not match the node's key").into());
    }
    Ok(format!("CN={expected}, O=system:nodes"))
}

fn timings(joined: &Joined) -> String {
    joined
        .timings
        .iter()
        .filter(|(phase, _)| *phase != Phase::Preflight)
        .map(|(phase, took)| format!("{phase} {took:.0?}"))
        .collect::<Vec<_>>()
        .join(", ")
}
