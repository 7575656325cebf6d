//! After init: check-expiration finds what is wrong; renew re-issues in place.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::control_plane;
use kubetrust_pki::expiration::{DurationStyle, Problem};
use kubetrust_pki::inventory::check_expiration;
use kubetrust_pki::renew::{self, RenewOutcome, RenewStatus, RenewTarget, SanChange};
use kubetrust_pki::tree::{self, Action, CertSpec, TreeConfig};
use kubetrust_pki::{Certificate, Dirs, Error, KeyAlgorithm, verify_chain};

fn config() -> TreeConfig {
    TreeConfig::new("cp-1", "192.168.10.11".parse().unwrap())
        .with_control_plane_endpoint("k8s-api.example.test:6443")
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256)
}

fn init() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let dirs = control_plane(dir.path(), &config());
    (dir, dirs.cert_dir, dirs.kubeconfig_dir)
}

/// `kubeadm certs renew <name>`.
fn renew_named(pki: &Path, kdir: &Path, name: &str, now: SystemTime) -> Result<Vec<RenewOutcome>, Error> {
    let target = RenewTarget::parse(name, &config())?;
    renew::renew(&Dirs::new(pki, kdir), &target, &config(), now)
}

fn cert(path: &Path) -> Certificate {
    Certificate::from_pem(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn fresh_cluster_has_no_problems_and_kubeadm_rows() {
    let (_dir, pki, kdir) = init();
    let now = SystemTime::now();
    let report = check_expiration(&Dirs::new(&pki, &kdir), &config(), None, now);
    let names: Vec<&str> = report.certificates.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
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
            "super-admin.conf"
        ]
    );
    let cas: Vec<&str> = report
        .certificate_authorities
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(cas, ["ca", "etcd-ca", "front-proxy-ca"]);
    assert!(!report.has_problems(), "{report:#?}");
    let text = report.render_text(now, DurationStyle::Human);
    assert!(
        text.contains("364d") && text.contains("9y") && !text.contains("WARNING"),
        "{text}"
    );
    let json = report.to_json(now);
    assert_eq!(json["kind"], "CertificateExpirationInfo");
    assert_eq!(json["certificates"][1]["caName"], "ca");
}

#[test]
fn problems_are_flagged_per_row() {
    let (_dir, pki, kdir) = init();
    std::fs::remove_file(pki.join("etcd/peer.crt")).unwrap();
    std::fs::copy(
        pki.join("apiserver-etcd-client.key"),
        pki.join("apiserver-kubelet-client.key"),
    )
    .unwrap();
    let other = init();
    std::fs::copy(
        other.1.join("front-proxy-client.crt"),
        pki.join("front-proxy-client.crt"),
    )
    .unwrap();
    std::fs::remove_file(pki.join("ca.key")).unwrap();

    let report = check_expiration(&Dirs::new(&pki, &kdir), &config(), None, SystemTime::now());
    let row = |name: &str| report.certificates.iter().find(|e| e.name == name).unwrap();
    assert!(row("etcd-peer").is_missing());
    assert!(
        row("apiserver-kubelet-client")
            .problems
            .iter()
            .any(|p| matches!(p, Problem::KeyMismatch { .. }))
    );
    let texts = |name: &str| -> Vec<String> { row(name).problems.iter().map(ToString::to_string).collect() };
    assert_eq!(
        texts("front-proxy-client"),
        [
            "not signed by front-proxy-ca",
            &format!(
                "key {} does not match the certificate",
                pki.join("front-proxy-client.key").display()
            )
        ]
    );
    assert!(row("apiserver").externally_managed && row("admin.conf").externally_managed);
    assert!(!row("etcd-server").externally_managed);
    let text = report.render_text(SystemTime::now(), DurationStyle::Human);
    assert!(text.contains("!MISSING! etcd-peer"), "{text}");
    assert!(
        text.contains("[check-expiration] WARNING: front-proxy-client: not signed by front-proxy-ca"),
        "{text}"
    );

    let later = SystemTime::now() + Duration::from_secs(2 * 365 * 86400);
    let report = check_expiration(&Dirs::new(&pki, &kdir), &config(), None, later);
    assert!(
        report
            .certificates
            .iter()
            .filter(|e| !e.is_missing())
            .all(|e| e.problems.iter().any(|p| matches!(p, Problem::Expired)))
    );
    assert!(
        report
            .render_text(later, DurationStyle::Human)
            .contains("<invalid>")
    );
}

#[test]
fn renew_one_keeps_names_and_changes_key_serial_and_dates() {
    let (_dir, pki, kdir) = init();
    let before = cert(&pki.join("apiserver.crt"));
    let key_before = std::fs::read(pki.join("apiserver.key")).unwrap();
    let later = SystemTime::now() + Duration::from_secs(3600);
    let outcomes = renew_named(&pki, &kdir, "apiserver", later).unwrap();
    assert_eq!(outcomes[0].status, RenewStatus::Renewed);
    assert_eq!(
        outcomes[0].message,
        "certificate for serving the Kubernetes API renewed"
    );
    let after = cert(&pki.join("apiserver.crt"));
    assert_eq!(
        (after.subject(), after.dns_names(), after.ip_addresses()),
        (before.subject(), before.dns_names(), before.ip_addresses())
    );
    assert_eq!(after.ext_key_usages(), before.ext_key_usages());
    assert_ne!(after.serial(), before.serial());
    assert_ne!(std::fs::read(pki.join("apiserver.key")).unwrap(), key_before);
    assert!(after.not_after() > before.not_after());
    assert!(verify_chain(&after, &[], &[cert(&pki.join("ca.crt"))]));
    // The tree still accepts it.
    assert!(
        tree::plan(&pki, &config(), later)
            .unwrap()
            .refusals()
            .next()
            .is_none()
    );
}

#[test]
fn renew_all_covers_kubeconfigs_and_keeps_their_server() {
    let (_dir, pki, kdir) = init();
    let admin_before = std::fs::read_to_string(kdir.join("admin.conf")).unwrap();
    let outcomes = renew_named(&pki, &kdir, "all", SystemTime::now()).unwrap();
    assert_eq!(outcomes.len(), 11);
    assert!(
        outcomes.iter().all(|o| o.status == RenewStatus::Renewed),
        "{outcomes:#?}"
    );
    let admin_after = std::fs::read_to_string(kdir.join("admin.conf")).unwrap();
    assert_ne!(admin_after, admin_before);
    assert!(admin_after.contains("server: https://k8s-api.example.test:6443"));
    let report = check_expiration(&Dirs::new(&pki, &kdir), &config(), None, SystemTime::now());
    assert!(!report.has_problems(), "{report:#?}");
}

#[test]
fn renew_with_new_sans_then_the_wider_config_reuses_it() {
    let (_dir, pki, kdir) = init();
    let dirs = Dirs::new(&pki, &kdir);
    let spec = CertSpec::by_name("apiserver").unwrap();
    let with_sans = |sans: &[&str]| RenewTarget::Certificate {
        spec,
        san_change: SanChange::adding(sans.iter().copied()),
    };
    let target = with_sans(&["new.example.test", "10.0.0.200"]);
    renew::renew(&dirs, &target, &config(), SystemTime::now()).unwrap();
    let renewed = cert(&pki.join("apiserver.crt"));
    assert!(renewed.dns_names().contains(&"new.example.test".to_owned()));
    assert!(renewed.ip_addresses().contains(&"10.0.0.200".parse().unwrap()));
    let wider = config().with_apiserver_cert_sans(["new.example.test", "10.0.0.200"]);
    let plan = tree::plan(&pki, &wider, SystemTime::now()).unwrap();
    assert!(matches!(plan.items[1].action, Action::Reuse));

    let bad = with_sans(&["not a name"]);
    let err = renew::renew(&dirs, &bad, &config(), SystemTime::now()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSan { value } if value == "not a name"),
        "{err:?}"
    );
}

#[test]
fn what_cannot_be_renewed() {
    let (_dir, pki, kdir) = init();
    let err = renew_named(&pki, &kdir, "ca", SystemTime::now())
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"ca\" cannot be renewed"), "{err}");
    assert!(renew_named(&pki, &kdir, "kubelet.conf", SystemTime::now()).is_err());

    std::fs::remove_file(pki.join("etcd/ca.key")).unwrap();
    let out = renew_named(&pki, &kdir, "etcd-server", SystemTime::now()).unwrap();
    assert_eq!(
        out[0].message,
        "Detected external etcd/ca, certificate for serving etcd can't be renewed"
    );

    std::fs::remove_file(kdir.join("scheduler.conf")).unwrap();
    let out = renew_named(&pki, &kdir, "scheduler.conf", SystemTime::now()).unwrap();
    assert_eq!(out[0].status, RenewStatus::Missing);
    assert!(
        out[0]
            .message
            .starts_with("MISSING! certificate embedded in the kubeconfig file for the scheduler")
    );

    // A kubeconfig whose certificate is a file reference cannot be renewed.
    let text = std::fs::read_to_string(kdir.join("admin.conf")).unwrap();
    let by_reference: String = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("client-certificate-data") {
                "    client-certificate: /tmp/x.crt"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(kdir.join("admin.conf"), by_reference).unwrap();
    let err = renew_named(&pki, &kdir, "admin.conf", SystemTime::now())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not have an embedded client certificate"),
        "{err}"
    );
}

#[test]
fn the_kubelet_client_certificate_is_listed_when_asked() {
    let (dir, pki, kdir) = init();
    let kubelet = dir.path().join("kubelet-pki");
    std::fs::create_dir(&kubelet).unwrap();
    let ca = tree::load_ca(CertSpec::by_name("ca").unwrap(), &pki).unwrap();
    let subject = kubetrust_pki::Subject::new("system:node:cp-1").with_organization("system:nodes");
    let profile = kubetrust_pki::CertProfile::client(subject, SystemTime::now());
    let (cert, key) = ca.issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256).unwrap();
    let stamped = kubelet.join("kubelet-client-2026-11-26-01-00-00.pem");
    std::fs::write(&stamped, format!("{}{}", cert.to_pem(), key.to_pem().as_str())).unwrap();
    std::os::unix::fs::symlink(&stamped, kubelet.join("kubelet-client-current.pem")).unwrap();

    let report = check_expiration(
        &Dirs::new(&pki, &kdir),
        &config(),
        Some(&kubelet),
        SystemTime::now(),
    );
    let row = report
        .certificates
        .iter()
        .find(|e| e.name == "kubelet-client-current.pem")
        .unwrap();
    assert_eq!((row.ca_name.as_deref(), row.is_missing()), (Some("ca"), false));
    assert!(row.problems.is_empty(), "{row:?}");

    let report = check_expiration(
        &Dirs::new(&pki, &kdir),
        &config(),
        Some(dir.path()),
        SystemTime::now(),
    );
    assert!(
        report
            .certificates
            .iter()
            .any(|e| e.name == "kubelet-client-current.pem" && e.is_missing())
    );
}

#[test]
fn renew_targets_are_typed_and_checked_against_the_config() {
    assert_eq!(RenewTarget::parse("all", &config()).unwrap(), RenewTarget::All);
    assert!(matches!(
        RenewTarget::parse("admin.conf", &config()).unwrap(),
        RenewTarget::Kubeconfig(spec) if spec.file_name == "admin.conf"
    ));
    let etcd = RenewTarget::parse("etcd-server", &config()).unwrap();
    assert!(
        matches!(&etcd, RenewTarget::Certificate { spec, san_change } if spec.name == "etcd-server" && *san_change == SanChange::default())
    );
    assert_eq!(renew::renewable(&config()).len(), 11);

    let external_etcd = config().with_external_etcd(true);
    let err = RenewTarget::parse("etcd-server", &external_etcd).unwrap_err();
    assert!(
        matches!(&err, Error::NotRenewable { name, .. } if name == "etcd-server"),
        "{err:?}"
    );
    // A target built by hand is checked too: no CA, no etcd certificate with external etcd.
    let (_dir, pki, kdir) = init();
    let dirs = Dirs::new(&pki, &kdir);
    let err = renew::renew(&dirs, &etcd, &external_etcd, SystemTime::now()).unwrap_err();
    assert!(matches!(err, Error::NotRenewable { .. }), "{err:?}");
    let ca = RenewTarget::Certificate {
        spec: CertSpec::by_name("ca").unwrap(),
        san_change: SanChange::default(),
    };
    let err = renew::renew(&dirs, &ca, &config(), SystemTime::now()).unwrap_err();
    assert!(err.to_string().starts_with("\"ca\" cannot be renewed"), "{err}");
}
