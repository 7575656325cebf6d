//! CA rotation without downtime: stage → issue → retire for the cluster CA (openssl verifies
//! every chain in every phase; kubeconfigs trust both CAs in between; the kubelet's old client
//! certificate blocks retirement), for the etcd CA with a real etcd serving and answering in
//! every phase and across every restart, and steps taken twice or out of order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;
use std::time::SystemTime;

use common::etcd::{etcd_available, start_cluster};
use common::openssl;
use kubetrust_pki::ca_rotation::{Phase, Step, apply_rotation, observe, plan_rotation};
use kubetrust_pki::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES};
use kubetrust_pki::tree::{CLUSTER_CA, CertSpec, TreeConfig, load_ca};
use kubetrust_pki::{Certificate, Dirs, Error, KeyAlgorithm, init};

fn config() -> TreeConfig {
    TreeConfig::new("cp-1", "127.0.0.1".parse().unwrap()).with_encryption_algorithm(KeyAlgorithm::EcdsaP256)
}

fn setup() -> (tempfile::TempDir, Dirs) {
    let root = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(root.path().join("pki"), root.path().join("kube"));
    init::create(&dirs, &config(), &KUBECONFIG_FILES, SystemTime::now()).unwrap();
    (root, dirs)
}

fn step(dirs: &Dirs, ca: &str, step: Step) -> Vec<String> {
    apply_rotation(dirs, &config(), ca, step, SystemTime::now()).unwrap()
}

fn bundle(dirs: &Dirs, spec: &CertSpec) -> Vec<Certificate> {
    Certificate::chain_from_pem(&std::fs::read(spec.cert_path(&dirs.cert_dir)).unwrap()).unwrap()
}

fn certificate(path: &Path) -> Certificate {
    Certificate::chain_from_pem(&std::fs::read(path).unwrap())
        .unwrap()
        .remove(0)
}

/// Every leaf of the cluster CA and every kubeconfig client certificate, as PEM files.
fn cluster_ca_leaves(dirs: &Dirs, out: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = ["apiserver", "apiserver-kubelet-client"]
        .iter()
        .map(|base| dirs.cert_dir.join(format!("{base}.crt")))
        .collect();
    for spec in KUBECONFIG_FILES.iter().filter(|s| s.file_name != "kubelet.conf") {
        let client = EmbeddedClient::load(&dirs.kubeconfig_dir.join(spec.file_name)).unwrap();
        let path = out.join(format!("{}.pem", spec.file_name));
        std::fs::write(&path, client.certificate_chain().unwrap()[0].to_pem()).unwrap();
        files.push(path);
    }
    files
}

/// openssl verifies each of `leaves` against exactly `trusted` (a PEM bundle file).
fn openssl_verifies(trusted: &Path, leaves: &[std::path::PathBuf]) -> Option<bool> {
    let mut args = vec![
        "verify".to_owned(),
        "-CAfile".to_owned(),
        trusted.display().to_string(),
    ];
    args.extend(leaves.iter().map(|l| l.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    openssl(&args).map(|out| out.status.success())
}

/// The CA certificates each kubeconfig trusts.
fn kubeconfig_trust(dirs: &Dirs) -> Vec<Vec<Certificate>> {
    KUBECONFIG_FILES
        .iter()
        .map(|spec| {
            let config =
                kubetrust_kubeconfig::Config::from_file(dirs.kubeconfig_dir.join(spec.file_name)).unwrap();
            Certificate::chain_from_pem(&config.clusters[0].cluster.certificate_authority_data).unwrap()
        })
        .collect()
}

#[test]
fn the_cluster_ca_rotates_in_three_steps_with_both_cas_trusted_in_between() {
    let (root, dirs) = setup();
    let scratch = root.path();
    let old = bundle(&dirs, &CLUSTER_CA)[0].clone();
    let front_proxy_before = bundle(&dirs, CertSpec::by_name("front-proxy-ca").unwrap());
    let ca_file = CLUSTER_CA.cert_path(&dirs.cert_dir);
    assert_eq!(observe(&dirs, &config(), "ca").unwrap(), Phase::Idle);
    let plan = plan_rotation(&dirs, &config(), "ca").unwrap();
    assert_eq!((plan.phase, plan.next), (Phase::Idle, Step::Stage));
    assert!(
        plan.files.contains(&dirs.cert_dir.join("ca.next.key")),
        "{plan:?}"
    );
    assert!(
        plan.files.contains(&dirs.kubeconfig_dir.join("kubelet.conf")),
        "{plan:?}"
    );
    assert_eq!(
        plan.reload,
        [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubelet"
        ]
    );

    // Stage: both CAs trusted, the old one still signs.
    assert!(!step(&dirs, "ca", Step::Stage).is_empty());
    assert_eq!(observe(&dirs, &config(), "ca").unwrap(), Phase::Staged);
    let staged = bundle(&dirs, &CLUSTER_CA);
    assert_eq!(staged.len(), 2);
    assert_eq!(staged[0], old);
    let new = staged[1].clone();
    assert!(new.is_ca() && new.is_signed_by(&new) && new != old);
    assert!(kubeconfig_trust(&dirs).iter().all(|trust| *trust == staged));
    if let Some(verified) = openssl_verifies(&ca_file, &cluster_ca_leaves(&dirs, scratch)) {
        assert!(verified, "openssl: every leaf still chains to the bundle");
    }
    assert!(
        step(&dirs, "ca", Step::Stage).is_empty(),
        "staging twice changes nothing"
    );
    let Err(Error::RotationStepOutOfOrder {
        next: Step::Issue, ..
    }) = apply_rotation(&dirs, &config(), "ca", Step::Retire, SystemTime::now())
    else {
        panic!("retire before issue must be refused")
    };

    // Issue: the new CA signs, everything it signs is re-issued, both stay trusted.
    let plan = plan_rotation(&dirs, &config(), "ca").unwrap();
    assert_eq!(plan.next, Step::Issue);
    assert_eq!(
        plan.reissues,
        [
            "apiserver",
            "apiserver-kubelet-client",
            "admin.conf",
            "super-admin.conf",
            "controller-manager.conf",
            "scheduler.conf"
        ]
    );
    assert_eq!(
        plan.reload,
        ["kube-controller-manager", "kube-apiserver", "kube-scheduler"]
    );
    step(&dirs, "ca", Step::Issue);
    assert!(!dirs.cert_dir.join("ca.next.key").exists());
    let issued = bundle(&dirs, &CLUSTER_CA);
    assert_eq!(issued, [new.clone(), old.clone()]);
    assert_eq!(load_ca(&CLUSTER_CA, &dirs.cert_dir).unwrap().certificate(), &new);
    let leaves = cluster_ca_leaves(&dirs, scratch);
    for leaf in &leaves {
        assert!(certificate(leaf).is_signed_by(&new), "{}", leaf.display());
    }
    std::fs::write(scratch.join("new-only.crt"), new.to_pem()).unwrap();
    if let Some(verified) = openssl_verifies(&scratch.join("new-only.crt"), &leaves) {
        assert!(verified, "openssl: every leaf chains to the new CA alone");
    }
    let trust = kubeconfig_trust(&dirs);
    assert!(
        trust.iter().all(|t| t.contains(&new) && t.contains(&old)),
        "{trust:?}"
    );
    assert_eq!(
        bundle(&dirs, CertSpec::by_name("front-proxy-ca").unwrap()),
        front_proxy_before
    );

    // kubelet.conf's client certificate is the kubelet's to rotate: until it has, the old CA
    // cannot go.
    assert_eq!(observe(&dirs, &config(), "ca").unwrap(), Phase::Issued);
    let plan = plan_rotation(&dirs, &config(), "ca").unwrap();
    assert!(
        plan.blocked
            .as_deref()
            .unwrap_or_default()
            .contains("kubelet.conf"),
        "{plan:?}"
    );
    let Err(Error::RotationBlocked { .. }) =
        apply_rotation(&dirs, &config(), "ca", Step::Retire, SystemTime::now())
    else {
        panic!("retire with the kubelet on the old CA must be refused")
    };
    kubelet_rotates(&dirs);

    // Retire: only the new CA is trusted, and everything still verifies.
    step(&dirs, "ca", Step::Retire);
    assert_eq!(observe(&dirs, &config(), "ca").unwrap(), Phase::Idle);
    assert_eq!(bundle(&dirs, &CLUSTER_CA), std::slice::from_ref(&new));
    assert!(
        kubeconfig_trust(&dirs)
            .iter()
            .all(|trust| *trust == [new.clone()])
    );
    if let Some(verified) = openssl_verifies(&ca_file, &cluster_ca_leaves(&dirs, scratch)) {
        assert!(verified);
    }
    std::fs::write(scratch.join("old-ca.crt"), old.to_pem()).unwrap();
    if let Some(verified) = openssl_verifies(&ca_file, &[scratch.join("old-ca.crt")]) {
        assert!(!verified, "the old CA is no longer trusted");
    }
    assert!(
        step(&dirs, "ca", Step::Retire).is_empty(),
        "retiring twice changes nothing"
    );
}

/// What the kubelet's own rotation does: a new client certificate from the (new) signing CA.
fn kubelet_rotates(dirs: &Dirs) {
    let ca = load_ca(&CLUSTER_CA, &dirs.cert_dir).unwrap();
    let path = dirs.kubeconfig_dir.join("kubelet.conf");
    let mut client = EmbeddedClient::load(&path).unwrap();
    let current = client.certificate_chain().unwrap()[0].clone();
    let profile = kubetrust_pki::CertProfile::client(current.subject(), SystemTime::now());
    let (cert, key) = ca.issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256).unwrap();
    client.replace(&cert, &key, ca.bundle());
    client.save().unwrap();
}

#[test]
fn etcd_serves_and_answers_through_its_ca_rotation() {
    if !etcd_available() {
        return;
    }
    let (root, dirs) = setup();
    let mut generation = 0;
    // A restart reads the files anew; a fresh data dir each time keeps the member's own state
    // out of the way.
    let mut restart = || {
        generation += 1;
        let work = root.path().join(format!("etcd-{generation}"));
        std::fs::create_dir_all(&work).unwrap();
        start_cluster(&work, &[("cp-1", dirs.cert_dir.as_path())])
    };
    let healthy = |members: &[common::etcd::Member], when: &str| {
        let out = members[0].health();
        assert!(out.status.success(), "{when}: {out}");
    };
    let mut etcd = restart();
    healthy(&etcd, "idle");
    for next in [Step::Stage, Step::Issue, Step::Retire] {
        step(&dirs, "etcd-ca", next);
        // The running etcd still has the files of the step before; clients already use the new.
        healthy(&etcd, &format!("after {next}, before the restart"));
        drop(etcd);
        etcd = restart();
        healthy(&etcd, &format!("after {next} and the restart"));
    }
    assert_eq!(observe(&dirs, &config(), "etcd-ca").unwrap(), Phase::Idle);
}

#[test]
fn unknown_cas_and_inconsistent_files_are_refused() {
    let (_root, dirs) = setup();
    let Err(Error::NotRotatable { name }) = observe(&dirs, &config(), "apiserver") else {
        panic!("a leaf is not rotatable")
    };
    assert_eq!(name, "apiserver");
    let Err(Error::RotationStepOutOfOrder {
        phase: Phase::Idle,
        next: Step::Stage,
        ..
    }) = apply_rotation(&dirs, &config(), "front-proxy-ca", Step::Issue, SystemTime::now())
    else {
        panic!("issue before stage must be refused")
    };
    // A next key that belongs to no certificate of the bundle: no step leaves that.
    let stray = kubetrust_pki::PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    std::fs::write(
        dirs.cert_dir.join("front-proxy-ca.next.key"),
        stray.to_pem().as_bytes(),
    )
    .unwrap();
    let Err(Error::RotationInconsistent {
        ca: "front-proxy-ca", ..
    }) = observe(&dirs, &config(), "front-proxy-ca")
    else {
        panic!("a stray next key must be refused")
    };
}

#[test]
fn the_front_proxy_ca_rotates_without_touching_the_cluster_ca_or_kubeconfigs() {
    let (_root, dirs) = setup();
    let spec = CertSpec::by_name("front-proxy-ca").unwrap();
    let (old, kubeconfigs, cluster) = (
        bundle(&dirs, spec),
        kubeconfig_trust(&dirs),
        bundle(&dirs, &CLUSTER_CA),
    );
    let plan = plan_rotation(&dirs, &config(), "front-proxy-ca").unwrap();
    assert_eq!(plan.reload, ["kube-apiserver"]);
    assert_eq!(
        plan.files,
        [
            dirs.cert_dir.join("front-proxy-ca.crt"),
            dirs.cert_dir.join("front-proxy-ca.next.key")
        ]
    );
    for next in [Step::Stage, Step::Issue, Step::Retire] {
        step(&dirs, "front-proxy-ca", next);
    }
    let new = bundle(&dirs, spec);
    assert_eq!(new.len(), 1);
    assert_ne!(new, old);
    assert!(certificate(&dirs.cert_dir.join("front-proxy-client.crt")).is_signed_by(&new[0]));
    assert_eq!(kubeconfig_trust(&dirs), kubeconfigs);
    assert_eq!(bundle(&dirs, &CLUSTER_CA), cluster);
}
