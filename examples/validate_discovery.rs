//! A tool's use of `discovery::validate()`: check a saved `cluster-info` ConfigMap (as
//! `kubectl -n kube-public get cm cluster-info -o json` prints it) against a bootstrap token
//! and CA pins — the whole decision kubeadm's token discovery makes, without any network.
//!
//! `cargo run --example validate_discovery -- [CLUSTER_INFO_JSON TOKEN PIN...]`
//! (without arguments: the repository's vector, `testdata/discovery/`).

use std::error::Error;

use k8s_openapi::api::core::v1::ConfigMap;
use kubetrust::bootstrap_token::BootstrapToken;
use kubetrust::discovery::{Trust, validate};

/// The vector's token and pin (`testdata/discovery/join-command.txt`).
const VECTOR: [&str; 3] = [
    "testdata/discovery/cluster-info-configmap.json",
    "7h3k9q.x2m5p8r1t4w7z0c3",
    "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e",
];

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, token, pins) = match args.as_slice() {
        [] => (
            format!("{}/{}", env!("CARGO_MANIFEST_DIR"), VECTOR[0]),
            VECTOR[1].to_owned(),
            vec![VECTOR[2].to_owned()],
        ),
        [path, token, pins @ ..] => (path.clone(), token.clone(), pins.to_vec()),
        _ => return Err("usage: validate_discovery CLUSTER_INFO_JSON TOKEN PIN...".into()),
    };
    let cluster_info: ConfigMap = serde_json::from_slice(&std::fs::read(&path)?)?;
    let token: BootstrapToken = token.parse()?;
    let trust = Trust::from_flags(&pins, false)?;
    let validated = validate(&cluster_info, &token, &trust)?;
    println!(
        "cluster-info is signed with token {} and its CA is pinned",
        token.id()
    );
    println!("  server: {}", validated.server());
    println!("  CA certificates: {}", validated.ca_certificates().len());
    Ok(())
}
