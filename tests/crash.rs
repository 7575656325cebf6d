//! Crash safety at scale (issue 14, item 2): a child process (this test binary re-executed,
//! see `support/crash.rs`) runs `certs init` (tree and kubeconfigs), `certs renew all`, a
//! `kubetrust::join` against an in-process testcp, or the rotation manager, and is SIGKILLed
//! at a random moment of its run, `KUBETRUST_CRASH_RUNS` (200) times per subject. After every
//! kill: every file is absent, or complete (certificates and keys parse, each key matches its
//! certificate, kubeconfigs load, `kubelet-client-current.pem` resolves to a matching pair) with
//! DESIGN's modes; then the next run, in this process, completes and its result is valid.
//! The subjects run in parallel (kill delays follow each job's observed length).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[path = "support/crash.rs"]
mod crash_support;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crash_support::{Job, Length, Rng, Tally, assert_mode, exists, load_cert, load_key};
use kubetrust::csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap};
use kubetrust::csr_bootstrap::client::Options;
use kubetrust::csr_bootstrap::conf::{ConfState, client_config_state};
use kubetrust::csr_bootstrap::flow::Layout;
use kubetrust::csr_bootstrap::renew::{Credentials, Kind, KubeRenewer};
use kubetrust::csr_bootstrap::rotation::Manager;
use kubetrust::csr_bootstrap::store::{CertStore, Current};
use kubetrust::discovery::Trust;
use kubetrust::join::{JoinConfig, JoinError, PreflightError, join};
use kubetrust::pki::kubeconfigs::{self, EmbeddedClient, KUBECONFIG_FILES};
use kubetrust::pki::renew::{self, RenewTarget};
use kubetrust::pki::tree::{self, CertSpec, TreeConfig};
use kubetrust::pki::{Certificate, CertificateAuthority, Dirs, KeyAlgorithm, ca_rotation};
use support::{Cluster, TOKEN};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------------------------
// certs init and certs renew all

fn tree_config(algorithm: KeyAlgorithm) -> TreeConfig {
    TreeConfig::new("cp-1", "10.0.0.10".parse().unwrap()).with_encryption_algorithm(algorithm)
}

fn pki_dirs(root: &Path) -> Dirs {
    Dirs::new(root.join("pki"), root.to_path_buf())
}

/// `certs init` and `init phase kubeconfig all`, as the CLI runs them.
fn certs_init(root: &Path, algorithm: KeyAlgorithm) {
    let (dirs, config, now) = (pki_dirs(root), tree_config(algorithm), SystemTime::now());
    tree::create(&dirs.cert_dir, &config, now).unwrap();
    kubeconfigs::create(&dirs, &config, &KUBECONFIG_FILES, now).unwrap();
}

/// `certs renew all`, as the CLI runs it.
fn certs_renew_all(root: &Path) {
    let config = tree_config(KeyAlgorithm::EcdsaP256);
    renew::renew(&pki_dirs(root), &RenewTarget::All, &config, SystemTime::now()).unwrap();
}

fn algorithm_arg() -> KeyAlgorithm {
    match crash_support::child_arg("ALGORITHM").as_str() {
        "rsa" => KeyAlgorithm::Rsa2048,
        _ => KeyAlgorithm::EcdsaP256,
    }
}

/// Checks every file of the tree and its kubeconfigs under `root`: each absent or complete,
/// with its mode, each present pair matching, each leaf signed by its CA when both are there.
/// With `complete`, nothing may be missing. With `torn`, a certificate beside a key that does
/// not match is counted there instead of failing. Returns each file's certificate (PEM) by name.
fn check_tree(
    root: &Path,
    round: usize,
    complete: bool,
    mut torn: Option<&mut usize>,
) -> BTreeMap<String, String> {
    let dirs = pki_dirs(root);
    let config = tree_config(KeyAlgorithm::EcdsaP256);
    let mut certs = BTreeMap::new();
    let mut cas: BTreeMap<&str, CertificateAuthority> = BTreeMap::new();
    let missing = |path: &Path| {
        assert!(
            !complete,
            "round {round}: {} is missing after the recovery run",
            path.display()
        );
    };
    for spec in CertSpec::for_config(&config) {
        let (crt, key) = (spec.cert_path(&dirs.cert_dir), spec.key_path(&dirs.cert_dir));
        let chain = exists(&crt).then(|| {
            assert_mode(&crt, 0o644, round);
            load_cert(&crt, round)
        });
        let private = exists(&key).then(|| {
            assert_mode(&key, 0o600, round);
            load_key(&key, round)
        });
        let (Some(chain), Some(private)) = (chain, private) else {
            [&crt, &key]
                .into_iter()
                .filter(|p| !exists(p))
                .for_each(|p| missing(p));
            continue;
        };
        if !chain[0].matches_key(&private) {
            match torn.as_deref_mut() {
                Some(count) => {
                    *count += 1;
                    continue;
                }
                None => panic!(
                    "round {round}: {} does not match {}",
                    key.display(),
                    crt.display()
                ),
            }
        }
        certs.insert(spec.name.to_owned(), chain[0].to_pem());
        if spec.is_ca() {
            cas.insert(spec.name, CertificateAuthority::new(chain, private).unwrap());
        } else if let Some(ca) = cas.get(spec.issuer().name) {
            assert!(
                ca.verifies(&chain[0], &chain[1..]),
                "round {round}: {} is not signed by {}",
                crt.display(),
                spec.issuer().name
            );
        }
    }
    let (sa_key, sa_pub) = (dirs.cert_dir.join("sa.key"), dirs.cert_dir.join("sa.pub"));
    if exists(&sa_key) {
        assert_mode(&sa_key, 0o600, round);
        let key = load_key(&sa_key, round);
        if exists(&sa_pub) {
            assert_mode(&sa_pub, 0o600, round);
            assert_eq!(
                std::fs::read(&sa_pub).unwrap(),
                key.public_key_pem().into_bytes(),
                "round {round}: sa.pub is not sa.key's public key"
            );
        } else {
            missing(&sa_pub);
        }
    } else {
        missing(&sa_key);
    }
    let cluster_ca = cas.get("ca");
    for spec in &KUBECONFIG_FILES {
        let path = dirs.kubeconfig_dir.join(spec.file_name);
        if !exists(&path) {
            missing(&path);
            continue;
        }
        assert_mode(&path, 0o600, round);
        kubetrust::kubeconfig::Config::from_file(&path)
            .unwrap_or_else(|e| panic!("round {round}: {} does not load: {e}", path.display()));
        let client = EmbeddedClient::load(&path).unwrap();
        let chain = client.certificate_chain().unwrap();
        assert!(
            chain[0].matches_key(&client.private_key().unwrap()),
            "round {round}: the key in {} does not match its certificate",
            path.display()
        );
        if let Some(ca) = cluster_ca {
            assert!(
                ca.verifies(&chain[0], &chain[1..]),
                "round {round}: {} is not signed by the cluster CA",
                path.display()
            );
        }
        certs.insert(spec.file_name.to_owned(), chain[0].to_pem());
    }
    certs
}

#[test]
fn certs_init_killed_at_random_points() {
    if let Some(job) = crash_support::child_job() {
        assert_eq!(job, "init");
        let root = PathBuf::from(crash_support::child_arg("DIR"));
        crash_support::ready();
        certs_init(&root, algorithm_arg());
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let job = |dir: &Path, rsa: bool| Job {
        test: "certs_init_killed_at_random_points",
        job: "init",
        args: vec![
            ("DIR", dir.display().to_string()),
            ("ALGORITHM", if rsa { "rsa" } else { "ecdsa" }.to_owned()),
        ],
    };
    let round_dir = |name: String| {
        let dir = base.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        dir
    };
    let mut ecdsa = Length::probe(3, |i| job(&round_dir(format!("probe-{i}")), false).run_whole());
    let mut rsa = Length::probe(1, |_| job(&round_dir("probe-rsa".into()), true).run_whole());
    println!(
        "crash init: one run takes {:?} (ECDSA), {:?} (RSA-2048)",
        ecdsa.get(),
        rsa.get()
    );
    let mut rng = Rng::for_subject("init");
    let mut tally = Tally::default();
    for round in 0..crash_support::runs() {
        // One run in forty with RSA-2048, kubeadm's default (its keys take seconds here).
        let rsa_round = round % 40 == 39;
        let dir = round_dir(format!("round-{round}"));
        let length = if rsa_round { &mut rsa } else { &mut ecdsa };
        let ended = job(&dir, rsa_round).kill_after(length.delay(&mut rng), round);
        length.observe(ended);
        tally.count(ended);
        tally.stray_temps += crash_support::check_temps(&dir, round).len();
        check_tree(&dir, round, false, None);
        certs_init(&dir, KeyAlgorithm::EcdsaP256);
        check_tree(&dir, round, true, None);
        crash_support::assert_no_leftovers(&dir, round);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    println!("crash init: ok ({tally:?})");
}

#[test]
fn certs_renew_all_killed_at_random_points() {
    if let Some(job) = crash_support::child_job() {
        assert_eq!(job, "renew");
        let root = PathBuf::from(crash_support::child_arg("DIR"));
        crash_support::ready();
        certs_renew_all(&root);
        return;
    }
    let root = tempfile::tempdir().unwrap();
    certs_init(root.path(), KeyAlgorithm::EcdsaP256);
    let cas: Vec<&str> = CertSpec::for_config(&tree_config(KeyAlgorithm::EcdsaP256))
        .iter()
        .filter(|s| s.is_ca())
        .map(|s| s.name)
        .collect();
    let first = check_tree(root.path(), 0, true, None);
    let job = Job {
        test: "certs_renew_all_killed_at_random_points",
        job: "renew",
        args: vec![("DIR", root.path().display().to_string())],
    };
    let mut length = Length::probe(3, |_| job.run_whole());
    println!("crash renew: one run takes {:?}", length.get());
    let mut rng = Rng::for_subject("renew");
    let mut tally = Tally::default();
    let mut before = first.clone();
    let mut torn = 0;
    for round in 0..crash_support::runs() {
        let ended = job.kill_after(length.delay(&mut rng), round);
        length.observe(ended);
        tally.count(ended);
        tally.stray_temps += crash_support::check_temps(root.path(), round).len();
        check_tree(root.path(), round, true, Some(&mut torn));
        // What the next run does first: a renewal the kill interrupted between the two
        // renames of a pair is completed, so no certificate stays beside the wrong key.
        kubetrust::fs::recover(&pki_dirs(root.path()).cert_dir).unwrap();
        check_tree(root.path(), round, true, None);
        certs_renew_all(root.path());
        let after = check_tree(root.path(), round, true, None);
        crash_support::assert_no_leftovers(root.path(), round);
        for (name, pem) in &after {
            if cas.contains(&name.as_str()) {
                assert_eq!(pem, &first[name], "round {round}: the CA {name} changed");
            } else if name != "kubelet.conf" {
                assert_ne!(pem, &before[name], "round {round}: {name} was not renewed");
            }
        }
        before = after;
    }
    // A certificate and its key are two files and no rename swaps both at once: a kill
    // between the two renames leaves a new certificate beside the old key until the commit
    // record is replayed (checked above). Counted before the replay.
    println!("crash renew: ok ({tally:?}; pairs torn between their two renames, then completed: {torn})");
}

// ---------------------------------------------------------------------------------------------
// certs rotate-ca: stage, issue, the kubelet's own rotation, retire

/// What the kubelet's own rotation does for kubelet.conf: a client certificate from the signing
/// CA, unless it has one.
fn kubelet_rotates(dirs: &Dirs) {
    let ca = tree::load_ca(&tree::CLUSTER_CA, &dirs.cert_dir).unwrap();
    let path = dirs.kubeconfig_dir.join("kubelet.conf");
    let mut client = EmbeddedClient::load(&path).unwrap();
    let current = client.certificate_chain().unwrap()[0].clone();
    if current.is_signed_by(ca.certificate()) {
        return;
    }
    let profile = kubetrust::pki::CertProfile::client(current.subject(), SystemTime::now());
    let (cert, key) = ca.issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256).unwrap();
    client.replace(&cert, &key, ca.bundle());
    client.save().unwrap();
}

/// The whole rotation of the cluster CA as a script runs it, from wherever a killed run left it
/// (`original`: the CA before; an idle tree with another CA has rotated already).
fn rotate_cluster_ca(root: &Path, original: &Certificate) {
    let (dirs, config, now) = (
        pki_dirs(root),
        tree_config(KeyAlgorithm::EcdsaP256),
        SystemTime::now(),
    );
    // As every command does first: a batch the kill interrupted is completed.
    kubetrust::fs::recover(&dirs.cert_dir).unwrap();
    kubetrust::fs::recover(&dirs.kubeconfig_dir).unwrap();
    let signer = || {
        tree::load_ca(&tree::CLUSTER_CA, &dirs.cert_dir)
            .unwrap()
            .certificate()
            .clone()
    };
    if ca_rotation::observe(&dirs, &config, "ca").unwrap() == ca_rotation::Phase::Idle
        && signer() != *original
    {
        return;
    }
    for step in [ca_rotation::Step::Stage, ca_rotation::Step::Issue] {
        ca_rotation::apply_rotation(&dirs, &config, "ca", step, now).unwrap();
    }
    kubelet_rotates(&dirs);
    ca_rotation::apply_rotation(&dirs, &config, "ca", ca_rotation::Step::Retire, now).unwrap();
}

#[test]
fn ca_rotation_killed_at_random_points() {
    let original_ca =
        |root: &Path| load_cert(&tree::CLUSTER_CA.cert_path(&pki_dirs(root).cert_dir), 0)[0].clone();
    if let Some(job) = crash_support::child_job() {
        assert_eq!(job, "rotate-ca");
        let root = PathBuf::from(crash_support::child_arg("DIR"));
        let original = original_ca(&root);
        crash_support::ready();
        rotate_cluster_ca(&root, &original);
        return;
    }
    let base = tempfile::tempdir().unwrap();
    let fresh = |name: String| {
        let dir = base.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        certs_init(&dir, KeyAlgorithm::EcdsaP256);
        dir
    };
    let job = |dir: &Path| Job {
        test: "ca_rotation_killed_at_random_points",
        job: "rotate-ca",
        args: vec![("DIR", dir.display().to_string())],
    };
    let mut length = Length::probe(3, |i| job(&fresh(format!("probe-{i}"))).run_whole());
    println!("crash rotate-ca: one rotation takes {:?}", length.get());
    let mut rng = Rng::for_subject("rotate-ca");
    let mut tally = Tally::default();
    for round in 0..crash_support::runs() {
        let dir = fresh(format!("round-{round}"));
        let original = original_ca(&dir);
        let ended = job(&dir).kill_after(length.delay(&mut rng), round);
        length.observe(ended);
        tally.count(ended);
        tally.stray_temps += crash_support::check_temps(&dir, round).len();
        // Whatever the kill left, the next run (which recovers first) finishes the rotation.
        rotate_cluster_ca(&dir, &original);
        check_tree(&dir, round, true, None);
        crash_support::assert_no_leftovers(&dir, round);
        let dirs = pki_dirs(&dir);
        let bundle = load_cert(&tree::CLUSTER_CA.cert_path(&dirs.cert_dir), round);
        assert_eq!(bundle.len(), 1, "round {round}: the old CA was not retired");
        assert_ne!(bundle[0], original, "round {round}: the CA did not rotate");
        assert!(!dirs.cert_dir.join("ca.next.key").exists(), "round {round}");
        for spec in &KUBECONFIG_FILES {
            let config =
                kubetrust::kubeconfig::Config::from_file(dirs.kubeconfig_dir.join(spec.file_name)).unwrap();
            let trusted =
                Certificate::chain_from_pem(&config.clusters[0].cluster.certificate_authority_data).unwrap();
            assert_eq!(
                trusted, bundle,
                "round {round}: {} trusts another CA",
                spec.file_name
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
    println!("crash rotate-ca: ok ({tally:?})");
}

// ---------------------------------------------------------------------------------------------
// join and rotation: the kubelet directory

/// What a killed run left in a kubelet directory.
#[derive(Debug, Default)]
struct KubeletState {
    /// The pending key's public key, when one was left.
    pending: Option<Vec<u8>>,
    /// The current pair's public key, when `kubelet-client-current.pem` exists.
    current: Option<Vec<u8>>,
    /// Whether `kubelet.conf` exists (it is then valid and points at the current pair).
    conf: bool,
}

/// Checks the kubelet directory `dir` (`kubelet.conf`, `pki/`): the pending key 0600 and
/// whole; every stored pair file 0600, whole and matching; `current` a link to one of them;
/// `kubelet.conf` 0600 and valid for the current pair; a pending key beside a stored pair is
/// that pair's key (a key never sits beside another key's certificate).
fn check_kubelet_dir(dir: &Path, round: usize) -> KubeletState {
    let store = CertStore::kubelet_client(dir.join("pki"));
    let now = SystemTime::now();
    let mut state = KubeletState::default();
    let pending = store.pending_key_path();
    if exists(&pending) {
        assert_mode(&pending, 0o600, round);
        state.pending = Some(load_key(&pending, round).public_key_der().to_vec());
    }
    let current = store.current_path();
    for file in crash_support::files_under(store.dir()) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if file == current || file == pending {
            continue;
        }
        assert!(
            name.starts_with("kubelet-client-2") && name.ends_with(".pem"),
            "round {round}: unexpected file {name}"
        );
        assert_mode(&file, 0o600, round);
        let bytes = std::fs::read(&file).unwrap();
        kubetrust::csr_bootstrap::store::check_pair(&file, &bytes, &bytes, now)
            .unwrap_or_else(|why| panic!("round {round}: {name} is not a whole pair: {why}"));
    }
    if exists(&current) {
        assert!(
            current.symlink_metadata().unwrap().file_type().is_symlink(),
            "round {round}: kubelet-client-current.pem is not a link"
        );
        let Current::Valid(pair) = store.current(now).unwrap() else {
            panic!("round {round}: kubelet-client-current.pem does not resolve to a valid pair")
        };
        assert_mode(&current, 0o600, round);
        state.current = Some(pair.key.public_key_der().to_vec());
    }
    let conf = dir.join("kubelet.conf");
    if exists(&conf) {
        assert_mode(&conf, 0o600, round);
        let ConfState::Valid(pair) = client_config_state(&conf, now).unwrap() else {
            panic!("round {round}: kubelet.conf exists but is not valid")
        };
        assert_eq!(
            Some(pair.key.public_key_der()),
            state.current.as_deref(),
            "round {round}: kubelet.conf does not use the current pair"
        );
        state.conf = true;
    }
    assert!(
        !(state.conf && state.pending.is_some()),
        "round {round}: a pending key left beside a valid kubelet.conf"
    );
    if let (Some(pending), Some(current)) = (&state.pending, &state.current) {
        assert_eq!(
            pending, current,
            "round {round}: a pending key beside another key's certificate"
        );
    }
    state
}

/// The leaf of the current pair: for `node`, signed by the plane's CA.
fn current_leaf(cluster: &Cluster, dir: &Path, node: &str, round: usize) -> Certificate {
    let store = CertStore::kubelet_client(dir.join("pki"));
    let Current::Valid(pair) = store.current(SystemTime::now()).unwrap() else {
        panic!("round {round}: no valid current pair after the recovery run")
    };
    let leaf = pair.chain[0].clone();
    assert_eq!(
        leaf.subject().common_name,
        format!("system:node:{node}"),
        "round {round}"
    );
    assert!(
        cluster.plane.ca().verifies(&leaf, &[]),
        "round {round}: not signed by the cluster CA"
    );
    leaf
}

fn join_config(endpoint: &str, pin: &str, node: &str, dir: &Path) -> JoinConfig {
    JoinConfig::token(
        endpoint,
        TOKEN.parse().unwrap(),
        Trust::from_flags([pin.to_owned()], false).unwrap(),
        node,
        dir,
    )
    .with_tls_bootstrap_timeout(Duration::from_secs(30))
}

#[test]
fn join_killed_at_random_points() {
    if let Some(job) = crash_support::child_job() {
        assert_eq!(job, "join");
        let arg = crash_support::child_arg;
        let config = join_config(
            &arg("ENDPOINT"),
            &arg("PIN"),
            &arg("NODE"),
            Path::new(&arg("DIR")),
        );
        let rt = runtime();
        crash_support::ready();
        rt.block_on(join(&config, &mut |_| {})).unwrap();
        return;
    }
    let rt = runtime();
    let cluster = rt.block_on(Cluster::start());
    let (endpoint, pin) = (cluster.endpoint(), cluster.pin());
    let base = tempfile::tempdir().unwrap();
    let job = |round: usize| {
        let dir = base.path().join(format!("node-{round}"));
        Job {
            test: "join_killed_at_random_points",
            job: "join",
            args: vec![
                ("ENDPOINT", endpoint.clone()),
                ("PIN", pin.clone()),
                ("NODE", format!("worker-{round}")),
                ("DIR", dir.display().to_string()),
            ],
        }
    };
    let runs = crash_support::runs();
    let mut length = Length::probe(3, |i| job(runs + i).run_whole());
    println!("crash join: one join takes {:?}", length.get());
    let mut rng = Rng::for_subject("join");
    let mut tally = Tally::default();
    // What the killed runs left: nothing, a pending key, a stored pair, kubelet.conf too.
    let mut left = [0_usize; 4];
    for round in 0..runs {
        let (dir, node) = (
            base.path().join(format!("node-{round}")),
            format!("worker-{round}"),
        );
        let ended = job(round).kill_after(length.delay(&mut rng), round);
        length.observe(ended);
        tally.count(ended);
        tally.stray_temps += crash_support::sweep_temps(&dir, round);
        let state = check_kubelet_dir(&dir, round);
        left[match (&state.pending, &state.current, state.conf) {
            (_, _, true) => 3,
            (_, Some(_), false) => 2,
            (Some(_), None, false) => 1,
            (None, None, false) => 0,
        }] += 1;
        let rerun = rt.block_on(join(&join_config(&endpoint, &pin, &node, &dir), &mut |_| {}));
        match rerun {
            Ok(_) => assert!(!state.conf, "round {round}: joined over a valid kubelet.conf"),
            Err(JoinError::Preflight(PreflightError::AlreadyJoined { .. })) if state.conf => {}
            Err(e) => panic!(
                "round {round}: the rerun failed: {e} ({:?})",
                std::error::Error::source(&e)
            ),
        }
        let after = check_kubelet_dir(&dir, round);
        assert!(after.conf, "round {round}: no kubelet.conf after the rerun");
        assert!(
            after.pending.is_none(),
            "round {round}: the rerun left the pending key"
        );
        let leaf = current_leaf(&cluster, &dir, &node, round);
        if let (Some(pending), None) = (&state.pending, &state.current) {
            assert_eq!(
                leaf.public_key_der(),
                pending.as_slice(),
                "round {round}: the rerun did not reuse the pending key"
            );
        }
    }
    println!(
        "crash join: ok ({tally:?}; left nothing {}, a pending key {}, a stored pair without kubelet.conf {}, kubelet.conf {})",
        left[0], left[1], left[2], left[3]
    );
    rt.block_on(cluster.plane.shutdown()).unwrap();
}

/// The rotation manager of the node in `dir`, renewing through `kubelet.conf`.
fn manager(
    dir: &Path,
    node: &str,
    ca: Vec<Certificate>,
) -> Manager<crash_support::InstantClock, KubeRenewer> {
    let renewer = KubeRenewer::new(
        Credentials::Kubeconfig(dir.join("kubelet.conf")),
        node,
        Kind::Client,
        ca,
    )
    .with_options(
        Options::default()
            .with_timeout(Duration::from_secs(30))
            .with_retry_backoff(Duration::from_millis(20), Duration::from_millis(200)),
    );
    Manager::new(
        CertStore::kubelet_client(dir.join("pki")),
        crash_support::InstantClock,
        renewer,
    )
}

/// Rotations per child run.
const ROTATIONS: usize = 3;

#[test]
fn rotation_killed_at_random_points() {
    let node = "worker-rotating";
    if let Some(job) = crash_support::child_job() {
        assert_eq!(job, "rotate");
        let dir = PathBuf::from(crash_support::child_arg("DIR"));
        let ca = Certificate::chain_from_pem(crash_support::child_arg("CA").as_bytes()).unwrap();
        let rt = runtime();
        let manager = manager(&dir, node, ca);
        crash_support::ready();
        rt.block_on(async {
            for _ in 0..ROTATIONS {
                manager.rotate_once(&mut |_| {}).await.unwrap();
            }
        });
        return;
    }
    let rt = runtime();
    let cluster = rt.block_on(Cluster::start());
    let dir = tempfile::tempdir().unwrap();
    // A joined node with a short-lived certificate (expirationSeconds: 600).
    let options = BootstrapOptions::default()
        .with_layout(
            Layout::default()
                .with_cert_dir(dir.path().join("pki"))
                .with_kubeconfig(dir.path().join("kubelet.conf")),
        )
        .with_expiration_seconds(600)
        .with_request(Options::default().with_timeout(Duration::from_secs(30)));
    rt.block_on(bootstrap(
        &cluster.bootstrap_kubeconfig(),
        node,
        &options,
        &mut |_| {},
    ))
    .unwrap();
    let first = current_leaf(&cluster, dir.path(), node, 0);
    let lifetime = first.not_after().duration_since(first.not_before()).unwrap();
    assert!(
        lifetime <= Duration::from_secs(900),
        "not short-lived: {lifetime:?}"
    );
    let ca = cluster.plane.ca_pem();
    let job = Job {
        test: "rotation_killed_at_random_points",
        job: "rotate",
        args: vec![("DIR", dir.path().display().to_string()), ("CA", ca.clone())],
    };
    let mut length = Length::probe(3, |_| job.run_whole());
    println!("crash rotation: {ROTATIONS} rotations take {:?}", length.get());
    let in_process = manager(
        dir.path(),
        node,
        Certificate::chain_from_pem(ca.as_bytes()).unwrap(),
    );
    let mut rng = Rng::for_subject("rotation");
    let mut tally = Tally::default();
    for round in 0..crash_support::runs() {
        let ended = job.kill_after(length.delay(&mut rng), round);
        length.observe(ended);
        tally.count(ended);
        tally.stray_temps += crash_support::sweep_temps(dir.path(), round);
        let state = check_kubelet_dir(dir.path(), round);
        assert!(
            state.conf && state.current.is_some(),
            "round {round}: the node lost its identity"
        );
        let before = current_leaf(&cluster, dir.path(), node, round);
        rt.block_on(in_process.rotate_once(&mut |_| {})).unwrap();
        let after = check_kubelet_dir(dir.path(), round);
        assert!(after.conf, "round {round}");
        let leaf = current_leaf(&cluster, dir.path(), node, round);
        assert_ne!(leaf.serial(), before.serial(), "round {round}: not rotated");
    }
    println!("crash rotation: ok ({tally:?})");
    rt.block_on(cluster.plane.shutdown()).unwrap();
}
