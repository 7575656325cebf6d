//! `kubetrust::join` for library users: join a node to a control plane at a given endpoint with
//! a bootstrap token and a CA pin, printing kubeadm-style phase lines.
//!
//! `cargo run --example join -- HOST:PORT TOKEN sha256:PIN NODE_NAME KUBELET_DIR`
//!
//! `kubetrust testcp serve` gives a control plane to try it on; `kubetrust token create
//! --print-join-command` the endpoint, token and pin.

use std::error::Error;

use kubetrust::discovery::Trust;
use kubetrust::join::{Event, JoinConfig, join};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [endpoint, token, pin, node, kubelet_dir] = args.as_slice() else {
        return Err("usage: join HOST:PORT TOKEN sha256:PIN NODE_NAME KUBELET_DIR".into());
    };
    let trust = Trust::from_flags([pin], false)?;
    let config = JoinConfig::token(endpoint, token.parse()?, trust, node, kubelet_dir);
    let joined = join(&config, &mut |event: Event| {
        if let Some(line) = event.phase_line() {
            eprintln!("{line}");
        }
    })
    .await?;
    println!("joined: {}", joined.kubelet_conf.display());
    Ok(())
}
