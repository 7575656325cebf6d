//! The renewal planner: a plan from the inventory, its JSON form, `apply` with new and kept
//! keys, dry runs, stale plans, and what it leaves out (CAs, external CAs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime};

use kubetrust_pki::inventory::check_expiration;
use kubetrust_pki::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES};
use kubetrust_pki::renew::RenewStatus;
use kubetrust_pki::renewal::{Applied, KeyChoice, RenewalPlan, apply, plan_renewal};
use kubetrust_pki::tree::TreeConfig;
use kubetrust_pki::{Certificate, Dirs, Error, KeyAlgorithm, PrivateKey, init};

const DAY: Duration = Duration::from_secs(24 * 3600);

fn config() -> TreeConfig {
    TreeConfig::new("cp-1", "10.0.0.10".parse().unwrap()).with_encryption_algorithm(KeyAlgorithm::EcdsaP256)
}

fn setup() -> (tempfile::TempDir, Dirs) {
    let root = tempfile::tempdir().unwrap();
    let dirs = Dirs::new(root.path().join("pki"), root.path());
    init::create(&dirs, &config(), &KUBECONFIG_FILES, SystemTime::now()).unwrap();
    (root, dirs)
}

fn plan_at(dirs: &Dirs, at: SystemTime, window: Duration, key: KeyChoice) -> RenewalPlan {
    let report = check_expiration(dirs, &config(), None, at);
    plan_renewal(&report, dirs, &config(), at, window, key)
}

fn names(plan: &RenewalPlan) -> Vec<&str> {
    plan.renewals.iter().map(|r| r.name.as_str()).collect()
}

fn public_key(path: &std::path::Path) -> Vec<u8> {
    PrivateKey::from_pem(&std::fs::read(path).unwrap())
        .unwrap()
        .public_key_der()
        .to_vec()
}

#[test]
fn plans_what_expires_within_the_window_with_files_and_restarts() {
    let (_root, dirs) = setup();
    let now = SystemTime::now();
    assert!(
        plan_at(&dirs, now, 30 * DAY, KeyChoice::New).renewals.is_empty(),
        "a new tree"
    );

    // 340 days on, the one-year leaves are due within 30 days; the ten-year CAs are not.
    let later = now + 340 * DAY;
    let plan = plan_at(&dirs, later, 30 * DAY, KeyChoice::New);
    assert_eq!(
        names(&plan),
        [
            "admin.conf",
            "apiserver",
            "apiserver-etcd-client",
            "apiserver-kubelet-client",
            "controller-manager.conf",
            "etcd-healthcheck-client",
            "etcd-peer",
            "etcd-server",
            "front-proxy-client",
            "scheduler.conf",
            "super-admin.conf",
        ]
    );
    assert!(plan.not_renewed.is_empty(), "{:?}", plan.not_renewed);
    assert_eq!(
        plan.reload,
        [
            "etcd",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler"
        ]
    );
    let apiserver = &plan.renewals[1];
    assert_eq!(
        apiserver.files,
        [
            dirs.cert_dir.join("apiserver.crt"),
            dirs.cert_dir.join("apiserver.key")
        ]
    );
    assert_eq!((apiserver.ca.as_str(), apiserver.expired), ("ca", false));
    assert_eq!(apiserver.reload, ["kube-apiserver"]);
    let admin = &plan.renewals[0];
    assert_eq!(admin.files, [dirs.kubeconfig_dir.join("admin.conf")]);
    assert!(admin.reload.is_empty(), "clients read admin.conf anew");

    // Past the leaves' end they are expired; past the CAs' end the CAs are listed as not renewed.
    let much_later = now + 3700 * DAY;
    let plan = plan_at(&dirs, much_later, 30 * DAY, KeyChoice::New);
    assert!(plan.renewals.iter().all(|r| r.expired));
    let left_out: Vec<&str> = plan.not_renewed.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(left_out, ["ca", "etcd-ca", "front-proxy-ca"]);
    assert!(
        plan.not_renewed[0].reason.contains("rotate the CA"),
        "{}",
        plan.not_renewed[0].reason
    );
}

#[test]
fn the_plan_is_json_and_apply_renews_it_once() {
    let (_root, dirs) = setup();
    let plan = plan_at(&dirs, SystemTime::now() + 340 * DAY, 30 * DAY, KeyChoice::New);
    let json = serde_json::to_string_pretty(&plan).unwrap();
    assert!(
        json.contains("\"kind\": \"RenewalPlan\"") && json.contains("\"windowSeconds\": 2592000"),
        "{json}"
    );
    let read: RenewalPlan = serde_json::from_str(&json).unwrap();
    assert_eq!(read, plan);

    let apiserver_key = public_key(&dirs.cert_dir.join("apiserver.key"));
    let before = std::fs::read(dirs.cert_dir.join("apiserver.crt")).unwrap();
    let applied = apply(&read, &dirs, &config(), SystemTime::now(), false).unwrap();
    assert_eq!(applied.len(), plan.renewals.len());
    assert!(
        applied
            .iter()
            .all(|a| matches!(a, Applied::Renewed(o) if o.status == RenewStatus::Renewed))
    );
    assert_ne!(
        std::fs::read(dirs.cert_dir.join("apiserver.crt")).unwrap(),
        before
    );
    assert_ne!(
        public_key(&dirs.cert_dir.join("apiserver.key")),
        apiserver_key,
        "a new key"
    );
    let ca = Certificate::from_pem(&std::fs::read(dirs.cert_dir.join("ca.crt")).unwrap()).unwrap();
    let renewed =
        Certificate::from_pem(&std::fs::read(dirs.cert_dir.join("apiserver.crt")).unwrap()).unwrap();
    assert!(renewed.is_signed_by(&ca));

    // The same plan again: every certificate changed since it was made, so nothing is renewed.
    let after = std::fs::read(dirs.cert_dir.join("apiserver.crt")).unwrap();
    let again = apply(&read, &dirs, &config(), SystemTime::now(), false).unwrap();
    assert!(
        again
            .iter()
            .all(|a| matches!(a, Applied::Changed { found, .. } if found.contains("serial")))
    );
    assert_eq!(std::fs::read(dirs.cert_dir.join("apiserver.crt")).unwrap(), after);
}

#[test]
fn a_dry_run_writes_nothing_and_kept_keys_stay() {
    let (root, dirs) = setup();
    let plan = plan_at(&dirs, SystemTime::now() + 340 * DAY, 30 * DAY, KeyChoice::Reuse);
    let apiserver = plan.renewals.iter().find(|r| r.name == "apiserver").unwrap();
    assert_eq!(
        apiserver.files,
        [dirs.cert_dir.join("apiserver.crt")],
        "the key is not rewritten"
    );

    let snapshot = |path: &std::path::Path| std::fs::read(path).unwrap();
    let crt = dirs.cert_dir.join("apiserver.crt");
    let before = snapshot(&crt);
    let dry = apply(&plan, &dirs, &config(), SystemTime::now(), true).unwrap();
    assert!(
        dry.iter()
            .all(|a| matches!(a, Applied::Renewed(o) if o.status == RenewStatus::WouldRenew))
    );
    assert_eq!(snapshot(&crt), before);

    let key = public_key(&dirs.cert_dir.join("apiserver.key"));
    let admin = root.path().join("admin.conf");
    let admin_key = EmbeddedClient::load(&admin)
        .unwrap()
        .private_key()
        .unwrap()
        .public_key_der()
        .to_vec();
    apply(&plan, &dirs, &config(), SystemTime::now(), false).unwrap();
    assert_ne!(snapshot(&crt), before);
    let renewed = Certificate::from_pem(&snapshot(&crt)).unwrap();
    assert_eq!(
        renewed.public_key_der(),
        key.as_slice(),
        "re-issued for the same key"
    );
    let client = EmbeddedClient::load(&admin).unwrap();
    assert_eq!(
        client.private_key().unwrap().public_key_der(),
        admin_key.as_slice()
    );
    assert!(client.certificate_chain().unwrap()[0].matches_key(&client.private_key().unwrap()));
}

#[test]
fn an_external_ca_and_a_foreign_plan_are_refused() {
    let (_root, dirs) = setup();
    std::fs::remove_file(dirs.cert_dir.join("front-proxy-ca.key")).unwrap();
    let plan = plan_at(&dirs, SystemTime::now() + 340 * DAY, 30 * DAY, KeyChoice::New);
    assert!(!names(&plan).contains(&"front-proxy-client"));
    let left = plan
        .not_renewed
        .iter()
        .find(|n| n.name == "front-proxy-client")
        .unwrap();
    assert!(left.reason.contains("external CA"), "{}", left.reason);

    let mut foreign = plan.clone();
    foreign.api_version = "kubetrust.io/v9".to_owned();
    let err = apply(&foreign, &dirs, &config(), SystemTime::now(), false).unwrap_err();
    assert!(matches!(err, Error::InvalidRenewalPlan { .. }), "{err}");
}
