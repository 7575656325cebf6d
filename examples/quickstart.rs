//! kubetrust quickstart: both halves of a `kubeadm join`'s trust, with real keys, in one run.
//!
//! Run: `cargo run --release --example quickstart [OUT_DIR]` (default: a fresh temp directory).
//!
//! Control plane (what `kubeadm init` does for trust):
//! - the kubeadm certificate tree under `OUT_DIR/pki` and the five kubeconfig files
//!   (`admin.conf`, ...) under `OUT_DIR`;
//! - a bootstrap token, the `cluster-info` kubeconfig signed with it (detached JWS), and the
//!   `kubeadm join` command with the CA's `sha256:` pin.
//!
//! Node (what `kubeadm join` does with that):
//! - `discovery::validate()` checks the JWS with the token and the CA against the pin from the
//!   join command;
//! - writes `node/bootstrap-kubelet.conf` (token user) and `node/kubelet.conf` (rotating cert).
//!
//! Every file is read back and shown as `kubectl config view` would show it.

use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use kubetrust::bootstrap_token::{BootstrapToken, JoinCommand};
use kubetrust::discovery::{PinSet, Trust, validate};
use kubetrust::fs::{Mode, create_dir_all};
use kubetrust::kubeconfig::{ClusterEndpoint, Config, KUBELET_CLIENT_CURRENT, ViewOptions, view};
use kubetrust::pki::kubeconfigs::{self, KUBECONFIG_FILES};
use kubetrust::pki::tree::{self, TreeConfig};
use kubetrust::pki::{CaCertHash, Dirs, KeyAlgorithm};

const NODE: &str = "node-1";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let out = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("kubetrust-quickstart-{}", std::process::id())),
    };
    create_dir_all(&out, Mode::PRIVATE_DIR)?;

    // --- control plane ---------------------------------------------------------------------
    let config = TreeConfig::new("cp-1", "10.0.0.10".parse()?)
        .with_control_plane_endpoint("k8s-api.example.test:6443")
        .with_encryption_algorithm(KeyAlgorithm::Rsa2048);
    let now = SystemTime::now();
    let pki = out.join("pki");
    let plan = tree::create(&pki, &config, now)?;
    plan.lines().iter().for_each(|line| eprintln!("{line}"));
    for item in kubeconfigs::create(&Dirs::new(&pki, &out), &config, &KUBECONFIG_FILES, now)? {
        eprintln!("{}", item.line());
    }
    let ca_pem = std::fs::read(pki.join("ca.crt"))?;
    let server = config.control_plane_url()?;
    let cluster_info = Config::cluster_info(&server, ca_pem.clone()).to_yaml()?;

    let token = BootstrapToken::generate()?;
    let signature = token.sign_jws(cluster_info.as_bytes());
    let pins = CaCertHash::of_pem_bundle(&ca_pem)?;
    let join = JoinCommand::for_server(&server, token.clone())
        .with_ca_cert_hashes(pins.iter().map(ToString::to_string));
    eprintln!(
        "[bootstrap-token] cluster-info signed as jws-kubeconfig-{}",
        token.id().as_str()
    );
    println!("# join command (token withheld)\n{}", join.withheld());

    // --- node --------------------------------------------------------------------------------
    // What the node fetches from kube-public/cluster-info: the kubeconfig and its signature.
    let fetched = BTreeMap::from([
        ("kubeconfig".to_owned(), cluster_info),
        (format!("jws-kubeconfig-{}", token.id().as_str()), signature),
    ]);
    let info = validate(&fetched, &token, &Trust::Pinned(PinSet::new(pins)?))?;
    eprintln!(
        "[discovery] cluster-info signature valid; CA pinned to {}",
        info.ca_certificates()
            .iter()
            .map(|c| c.pin.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let node_dir = out.join("node");
    create_dir_all(&node_dir, Mode::PRIVATE_DIR)?;
    let endpoint = ClusterEndpoint::new(info.server(), info.ca_pem().to_vec());
    let files = [
        ("bootstrap-kubelet.conf", info.bootstrap_kubeconfig(&token)),
        (
            "kubelet.conf",
            Config::kubelet_rotating(&endpoint, NODE, Path::new(KUBELET_CLIENT_CURRENT)),
        ),
    ];
    for (name, kubeconfig) in &files {
        let path = node_dir.join(name);
        kubeconfig.save(&path)?;
        eprintln!("[kubelet-start] Writing {:?}", path.display().to_string());
    }

    // --- read everything back --------------------------------------------------------------
    let written = KUBECONFIG_FILES.iter().map(|f| out.join(f.file_name));
    for path in written.chain(files.iter().map(|(name, _)| node_dir.join(name))) {
        let loaded = Config::from_file(&path)?;
        println!("# {} (as `kubectl config view` shows it)", path.display());
        print!("{}", view(&loaded, &ViewOptions::default())?);
    }
    eprintln!("[quickstart] Done; files are in {:?}", out.display().to_string());
    Ok(())
}
