//! Crash safety of the bootstrap's file steps: a child process runs [`flow::start`] and
//! [`flow::finish`] (the CSR is "issued" locally by the test CA in place of the network) and is
//! SIGKILLed at a random moment, 150 times, each round in a fresh directory. After each kill the
//! next run must complete, leave a valid `kubelet.conf` whose pair matches, reuse the pending
//! key the killed run left (so it would find its CSR again), and clean up. Runs with
//! `harness = false`: the same binary is the child.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kubetrust_csr_bootstrap::conf::{ConfState, client_config_state};
use kubetrust_csr_bootstrap::csr::node_subject;
use kubetrust_csr_bootstrap::flow::{self, Layout, Start};
use kubetrust_csr_bootstrap::store::Current;
use kubetrust_kubeconfig::{Config, SecretString};
use kubetrust_pki::{CertProfile, Certificate, CertificateAuthority, KeyAlgorithm, PrivateKey};

const CHILD_ENV: &str = "KUBETRUST_CSR_CRASH_CHILD";
const ROUNDS: usize = 150;
const CA_CRT: &[u8] = include_bytes!("../../../testdata/csr/test-ca.crt");
const CA_KEY: &[u8] = include_bytes!("../../../testdata/csr/test-ca.key");

fn ca() -> CertificateAuthority {
    CertificateAuthority::new(
        Certificate::chain_from_pem(CA_CRT).unwrap(),
        PrivateKey::from_pem(CA_KEY).unwrap(),
    )
    .unwrap()
}

fn bootstrap_config() -> Config {
    Config::bootstrap_token(
        "https://10.0.0.10:6443",
        CA_CRT.to_vec(),
        SecretString::new("abcdef.0123456789abcdef"),
    )
}

fn layout(dir: &Path) -> Layout {
    Layout::default()
        .with_cert_dir(dir.join("pki"))
        .with_kubeconfig(dir.join("kubelet.conf"))
        .with_remove_after(dir.join("bootstrap-kubelet.conf"))
}

/// One bootstrap run, the signer standing in for the API server.
fn run(dir: &Path) {
    let layout = layout(dir);
    let config = bootstrap_config();
    let now = SystemTime::now();
    let mut quiet = |_| {};
    match flow::start(&layout, &config, KeyAlgorithm::EcdsaP256, now, &mut quiet).unwrap() {
        Start::Request(key) => {
            let cert = ca()
                .issue(
                    &CertProfile::client(node_subject("worker-1"), now),
                    key.public_key_der(),
                )
                .unwrap();
            flow::finish(&layout, &config, &[cert], &key, now, &mut quiet).unwrap();
        }
        Start::Done => {}
        _ => panic!("unknown start"),
    }
}

/// A small xorshift generator seeded from the clock; the seed is printed for reproduction.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn spawn(dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, dir)
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// What the killed child left: (pending key SPKI, whether a valid current pair exists).
fn left_behind(dir: &Path) -> (Option<Vec<u8>>, bool) {
    let layout = layout(dir);
    let pending = std::fs::read(layout.store.pending_key_path())
        .ok()
        .map(|pem| PrivateKey::from_pem(&pem).unwrap().public_key_der().to_vec());
    let current = matches!(
        layout.store.current(SystemTime::now()).unwrap(),
        Current::Valid(_)
    );
    (pending, current)
}

fn check(dir: &Path, round: usize, pending: Option<&[u8]>, had_current: bool) {
    let layout = layout(dir);
    let ConfState::Valid(pair) = client_config_state(&layout.kubeconfig, SystemTime::now()).unwrap() else {
        panic!("round {round}: kubelet.conf is not valid after the recovery run")
    };
    assert!(
        pair.chain[0].matches_key(&pair.key),
        "round {round}: mismatched pair"
    );
    if let (Some(pending), false) = (pending, had_current) {
        assert_eq!(
            pair.key.public_key_der(),
            pending,
            "round {round}: the pending key was not reused"
        );
    }
    assert!(
        !layout.store.pending_key_path().exists(),
        "round {round}: pending key left"
    );
    assert!(
        !dir.join("bootstrap-kubelet.conf").exists(),
        "round {round}: bootstrap kubeconfig left"
    );
    let target = std::fs::read_link(layout.store.current_path()).unwrap();
    let mode = std::fs::metadata(&target).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "round {round}: {target:?}");
    let conf_mode = std::fs::metadata(&layout.kubeconfig)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(conf_mode, 0o600, "round {round}: kubelet.conf mode");
}

fn parent() {
    let root = tempfile::tempdir().unwrap();
    let seed = std::env::var("KUBETRUST_CSR_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1);
    println!("csr crash test: {ROUNDS} kills, seed {seed} (KUBETRUST_CSR_CRASH_SEED to repeat)");
    let mut rng = Rng(seed);

    // How long a whole child run takes; most of it is process start-up and key generation, so
    // kills are spread over [T/2, 1.3 T] to land among the writes.
    // The fastest of five probes: a slow first start (cold caches) would push kills past the end.
    let whole = (0..5)
        .map(|i| {
            let probe = root.path().join(format!("probe-{i}"));
            std::fs::create_dir(&probe).unwrap();
            let started = Instant::now();
            assert!(spawn(&probe).wait().unwrap().success(), "the child failed");
            started.elapsed().as_micros() as u64
        })
        .min()
        .unwrap();
    let (from, span) = (whole / 2, whole * 4 / 5 + 1);

    let mut outcomes = [0_usize; 4];
    for round in 0..ROUNDS {
        let dir = root.path().join(format!("round-{round}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("bootstrap-kubelet.conf"),
            bootstrap_config().to_yaml().unwrap(),
        )
        .unwrap();
        let mut child = spawn(&dir);
        std::thread::sleep(Duration::from_micros(from + rng.next() % span));
        let _ = child.kill();
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none_or(|c| c == 0),
            "round {round}: the child failed: {status}"
        );
        let (pending, had_current) = left_behind(&dir);
        let conf_valid = matches!(
            client_config_state(&layout(&dir).kubeconfig, SystemTime::now()).unwrap(),
            ConfState::Valid(_)
        );
        outcomes[usize::from(pending.is_some()) + 2 * usize::from(had_current || conf_valid)] += 1;
        run(&dir);
        check(&dir, round, pending.as_deref(), had_current);
        // A further run has nothing to do and changes nothing.
        let before = std::fs::read_link(layout(&dir).store.current_path()).unwrap();
        run(&dir);
        assert_eq!(
            std::fs::read_link(layout(&dir).store.current_path()).unwrap(),
            before
        );
    }
    println!(
        "csr crash test: ok (nothing {}, pending key only {}, stored with pending key {}, stored {})",
        outcomes[0], outcomes[1], outcomes[3], outcomes[2]
    );
}

fn main() {
    match std::env::var_os(CHILD_ENV) {
        Some(dir) => run(Path::new(&dir)),
        None => parent(),
    }
}
