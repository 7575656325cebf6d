//! kubetrust quickstart: the kubeconfig files of a kubeadm join, written crash-safe, read back
//! as kubectl reads them.
//!
//! Run: `cargo run --release --example quickstart [OUT_DIR]` (default: a fresh temp directory).
//!
//! It writes, under OUT_DIR:
//! - `cluster-info.conf`: what `kube-public/cluster-info` carries (server + CA, nothing else);
//! - `bootstrap-kubelet.conf`: the node's bootstrap kubeconfig (user `tls-bootstrap-token-user`);
//! - `kubelet.conf`: the kubelet's kubeconfig pointing at its rotating client certificate;
//!
//! Then it loads each back, resolves it, and prints what `kubectl config view` would show.
//!
//! As the discovery, PKI and TLS-bootstrap crates land, this example grows into the whole join.

use std::error::Error;
use std::path::{Path, PathBuf};

use kubetrust::fs::{Mode, create_dir_all};
use kubetrust::kubeconfig::{
    ClusterEndpoint, Config, KUBELET_CLIENT_CURRENT, SecretString, ViewOptions, view,
};

/// A throw-away CA certificate (from the project's test vectors); a real run uses the
/// cluster's `ca.crt`.
const CA_PEM: &[u8] = include_bytes!("../testdata/kubeconfig/quickstart-ca.crt");
const SERVER: &str = "https://10.0.0.10:6443";

fn main() -> Result<(), Box<dyn Error>> {
    let out = match std::env::args_os().nth(1) {
        Some(dir) => PathBuf::from(dir),
        None => std::env::temp_dir().join(format!("kubetrust-quickstart-{}", std::process::id())),
    };
    create_dir_all(&out, Mode::PRIVATE_DIR)?;
    eprintln!("[kubeconfig] Using directory {:?}", out);

    // A real installer gets the token from `kubetrust token generate` / kubeadm.
    let token = SecretString::new("abcdef.0123456789abcdef");
    let files = [
        ("cluster-info.conf", Config::cluster_info(SERVER, CA_PEM)),
        (
            "bootstrap-kubelet.conf",
            Config::bootstrap_token(SERVER, CA_PEM, token),
        ),
        (
            "kubelet.conf",
            Config::kubelet_rotating(
                &ClusterEndpoint::new(SERVER, CA_PEM),
                "node-1",
                Path::new(KUBELET_CLIENT_CURRENT),
            ),
        ),
    ];
    for (name, config) in &files {
        let path = out.join(name);
        config.save(&path)?;
        eprintln!("[kubeconfig] Writing {name:?} kubeconfig file (mode 0600)");

        let loaded = Config::from_file(&path)?;
        assert_eq!(&loaded, config, "{name} reads back as written");
        if !loaded.current_context.is_empty() {
            // kubelet.conf names a certificate the kubelet only writes after TLS bootstrap:
            // resolving it here fails, and the error says exactly which file is missing.
            match loaded.resolve(None) {
                Ok(resolved) => eprintln!(
                    "[kubeconfig] {name}: context {:?} -> cluster {:?} at {}, user {:?}",
                    resolved.context_name, resolved.cluster_name, resolved.cluster.server, resolved.user_name
                ),
                Err(e) => eprintln!("[kubeconfig] {name}: not usable on this machine yet: {e}"),
            }
        }
        println!("# {name} (as `kubectl config view` shows it)");
        print!("{}", view(&loaded, &ViewOptions::default())?);
    }
    eprintln!("[kubeconfig] Done; files are in {:?}", out);
    Ok(())
}
