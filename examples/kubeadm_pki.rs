//! A control-plane node's whole kubeadm PKI in one call: the certificate tree and the five
//! kubeconfig files, as `kubeadm init phase certs all` + `kubeconfig all` make them (every key
//! of both generated in one parallel batch).
//!
//! `cargo run --release --example kubeadm_pki -- DIR [RSA-2048|ECDSA-P256|...]`
//!
//! BENCHMARKS.md times this binary against the openssl CLI doing the same and reads its peak
//! memory with `/usr/bin/time -v`.

use std::path::PathBuf;
use std::time::SystemTime;

use kubetrust::pki::kubeconfigs::KUBECONFIG_FILES;
use kubetrust::pki::tree::TreeConfig;
use kubetrust::pki::{CaCertHash, Dirs, KeyAlgorithm, init};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: kubeadm_pki DIR [ALGORITHM]")?);
    let algorithm: KeyAlgorithm = args.next().unwrap_or_default().parse()?;
    let config = TreeConfig::new("node1", "10.0.0.10".parse()?).with_encryption_algorithm(algorithm);
    let now = SystemTime::now();

    let cert_dir = dir.join("pki");
    let created = init::create(&Dirs::new(&cert_dir, &dir), &config, &KUBECONFIG_FILES, now)?;
    for line in created.tree.lines() {
        eprintln!("{line}");
    }
    let ca = std::fs::read(cert_dir.join("ca.crt"))?;
    for pin in CaCertHash::of_pem_bundle(&ca)? {
        println!("--discovery-token-ca-cert-hash {pin}");
    }
    Ok(())
}
