//! The Cluster API Secrets of a new workload cluster, printed as YAML: `<cluster>-ca`,
//! `-etcd`, `-proxy`, `-sa` and the `-kubeconfig` Secret for endpoint `cp.example.com:6443`,
//! ready for `kubectl apply -f -` (with `--show-keys`).
//!
//! `cargo run --example capi_secrets -- [--show-keys] [--cluster NAME] [--namespace NS]`
//!
//! Private keys (`tls.key`, and the kubeconfig's `value`, which embeds the admin's key) are
//! printed as `<redacted: N bytes>` unless `--show-keys` is given. The join pins go to stderr.

use std::process::ExitCode;
use std::time::SystemTime;

use kubetrust::capi::{ClusterPki, render};
use kubetrust::pki::KeyAlgorithm;

const ENDPOINT: &str = "cp.example.com:6443";
const USAGE: &str = "usage: capi_secrets [--show-keys] [--cluster NAME] [--namespace NS]";

struct Args {
    keys: render::Keys,
    cluster: String,
    namespace: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        keys: render::Keys::Redacted,
        cluster: "demo".to_owned(),
        namespace: "default".to_owned(),
    };
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--show-keys" => args.keys = render::Keys::Shown,
            "--cluster" => args.cluster = argv.next().ok_or("--cluster needs a value")?,
            "--namespace" => args.namespace = argv.next().ok_or("--namespace needs a value")?,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let now = SystemTime::now();
    // Cluster API's default key algorithm, RSA-2048.
    let pki = ClusterPki::generate(KeyAlgorithm::default(), now)?;
    let mut secrets = pki.to_secrets(&args.cluster, &args.namespace);
    secrets.push(pki.kubeconfig_secret(&args.cluster, &args.namespace, ENDPOINT, now)?);
    print!("{}", render::to_yaml(&secrets, args.keys)?);
    for pin in pki.ca_cert_hashes() {
        eprintln!("caCertHashes: {pin}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
