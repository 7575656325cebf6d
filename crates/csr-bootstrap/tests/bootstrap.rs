//! The one-call bootstrap against a scripted apiserver: files written as the kubelet writes
//! them, nothing requested when `kubelet.conf` is valid, and a restarted bootstrap reusing its
//! pending key and adopting its own CSR.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime};

use kubetrust_csr_bootstrap::Error;
use kubetrust_csr_bootstrap::bootstrap::{BootstrapOptions, bootstrap_with_client};
use kubetrust_csr_bootstrap::client::Options;
use kubetrust_csr_bootstrap::conf::{ConfState, client_config_state};
use kubetrust_csr_bootstrap::csr::{Naming, client_csr, node_subject};
use kubetrust_csr_bootstrap::flow::{Layout, Progress};
use kubetrust_kubeconfig::{Config, SecretString};
use kubetrust_pki::{CertProfile, CertificateAuthority, KeyAlgorithm, PrivateKey, Validity};

mod common;
use common::{APPROVED, Step, csr_json, csr_list, get, list, post, serve, status};

const UID: &str = "0b5f3a1c-0000-4000-8000-000000000001";

/// The server's answer to the create: the CSR `name`, pending.
fn created(name: &str, request: &str) -> Step {
    post(201, &csr_json(name, request, UID, "1", &[], None))
}

/// The server's answer to the wait's list at `rv`: the CSR `name`, approved, with `certificate`
/// (`None`: still pending).
fn listed(name: &str, request: &str, rv: &str, certificate: Option<&str>) -> Step {
    let conditions: &[_] = if certificate.is_some() { &[APPROVED] } else { &[] };
    list(
        name,
        &csr_list(
            rv,
            vec![csr_json(name, request, UID, rv, conditions, certificate)],
        ),
    )
}

struct Node {
    dir: tempfile::TempDir,
    ca: CertificateAuthority,
    config: Config,
}

fn node() -> Node {
    let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let ca = CertificateAuthority::self_signed(
        "kubernetes",
        ca_key,
        Validity::kubeadm(SystemTime::now(), Duration::from_secs(86400 * 3650)),
    )
    .unwrap();
    let config = Config::bootstrap_token(
        "https://10.0.0.10:6443",
        ca.certificate().to_pem().into_bytes(),
        SecretString::new("abcdef.0123456789abcdef"),
    );
    Node {
        dir: tempfile::tempdir().unwrap(),
        ca,
        config,
    }
}

impl Node {
    fn options(&self, timeout: Duration) -> BootstrapOptions {
        let bootstrap_file = self.dir.path().join("bootstrap-kubelet.conf");
        std::fs::write(&bootstrap_file, self.config.to_yaml().unwrap()).unwrap();
        BootstrapOptions::default()
            .with_layout(
                Layout::default()
                    .with_cert_dir(self.dir.path().join("pki"))
                    .with_kubeconfig(self.dir.path().join("kubelet.conf"))
                    .with_remove_after(bootstrap_file),
            )
            .with_request(
                Options::default()
                    .with_timeout(timeout)
                    .with_retry_backoff(Duration::from_millis(1), Duration::from_millis(4)),
            )
    }
    /// The pending key the bootstrap left (or will use), and its CSR's name and request PEM.
    fn pending(&self) -> (PrivateKey, String, String) {
        let pem = std::fs::read(self.dir.path().join("pki/kubelet-client.key.tmp")).unwrap();
        let key = PrivateKey::from_pem(&pem).unwrap();
        let csr = client_csr("worker-1", &key, Naming::Digest, None).unwrap();
        let name = csr.metadata.name.unwrap();
        (key, name, String::from_utf8(csr.spec.request.0).unwrap())
    }
    fn issue(&self, key: &PrivateKey) -> String {
        self.ca
            .issue(
                &CertProfile::client(node_subject("worker-1"), SystemTime::now()),
                key.public_key_der(),
            )
            .unwrap()
            .to_pem()
    }
    async fn run(
        &self,
        options: &BootstrapOptions,
        script: impl FnOnce(&Self) -> Vec<Step>,
    ) -> (Result<(), Error>, Vec<Progress>) {
        let (client, handle) = common::mock();
        let mut events = Vec::new();
        let mut record = |p| events.push(p);
        let (result, ()) = tokio::join!(
            bootstrap_with_client(&client, &self.config, "worker-1", options, &mut record),
            async {
                // The script is built once the bootstrap has created (or reused) its pending key.
                tokio::time::sleep(Duration::from_millis(50)).await;
                serve(handle, script(self)).await;
            }
        );
        (result, events)
    }
}

#[tokio::test]
async fn bootstraps_then_does_nothing_the_second_time() {
    let n = node();
    let options = n.options(Duration::from_secs(10));
    let (result, events) = n
        .run(&options, |n| {
            let (key, name, request) = n.pending();
            vec![
                created(&name, &request),
                listed(&name, &request, "2", Some(&n.issue(&key))),
            ]
        })
        .await;
    result.unwrap();
    let kubeconfig = n.dir.path().join("kubelet.conf");
    let ConfState::Valid(_) = client_config_state(&kubeconfig, SystemTime::now()).unwrap() else {
        panic!("kubelet.conf is not valid")
    };
    let written = Config::from_file(&kubeconfig).unwrap();
    assert_eq!(written.current_context, "default-context");
    assert_eq!(
        written.users[0].user.client_certificate,
        n.dir
            .path()
            .join("pki/kubelet-client-current.pem")
            .to_str()
            .unwrap()
    );
    assert!(!n.dir.path().join("pki/kubelet-client.key.tmp").exists());
    assert!(!n.dir.path().join("bootstrap-kubelet.conf").exists());
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Progress::BootstrapNeeded { .. } => "needed",
            Progress::PendingKey { .. } => "key",
            Progress::Requesting { .. } => "requesting",
            Progress::Issued { .. } => "issued",
            Progress::Stored { .. } => "stored",
            Progress::KubeconfigWritten { .. } => "kubeconfig",
            Progress::BootstrapKubeconfigRemoved { .. } => "removed",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "needed",
            "key",
            "requesting",
            "issued",
            "stored",
            "kubeconfig",
            "removed"
        ]
    );

    // Second run: no request at all (the scripted server would fail on an unexpected one).
    let (result, events) = n.run(&options, |_| vec![]).await;
    result.unwrap();
    assert!(
        matches!(events[..], [Progress::AlreadyBootstrapped { .. }]),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_restarted_bootstrap_reuses_its_key_and_adopts_its_csr() {
    let n = node();
    let first = n.options(Duration::from_millis(300));
    let (result, _) = n
        .run(&first, |n| {
            let (_, name, request) = n.pending();
            vec![
                created(&name, &request),
                listed(&name, &request, "1", None),
                Step::Hang,
            ]
        })
        .await;
    let error = result.unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
    let (key_before, name_before, _) = n.pending();

    let second = n.options(Duration::from_secs(10));
    let (result, _) = n
        .run(&second, |n| {
            let (key, name, request) = n.pending();
            assert_eq!(
                name, name_before,
                "the restarted bootstrap must ask under the same name"
            );
            vec![
                post(409, &status(409, "AlreadyExists")),
                get(&name, 200, &csr_json(&name, &request, UID, "1", &[], None)),
                listed(&name, &request, "3", Some(&n.issue(&key))),
            ]
        })
        .await;
    result.unwrap();
    let ConfState::Valid(pair) =
        client_config_state(&n.dir.path().join("kubelet.conf"), SystemTime::now()).unwrap()
    else {
        panic!("kubelet.conf is not valid")
    };
    assert_eq!(pair.key.public_key_der(), key_before.public_key_der());
}

#[tokio::test]
async fn a_refused_certificate_writes_nothing() {
    let n = node();
    let options = n.options(Duration::from_secs(10));
    let (result, _) = n
        .run(&options, |n| {
            let (_, name, request) = n.pending();
            let stranger = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
            vec![
                created(&name, &request),
                listed(&name, &request, "2", Some(&n.issue(&stranger))),
            ]
        })
        .await;
    let error = result.unwrap_err();
    assert!(matches!(error, Error::Refused { .. }), "{error:?}");
    assert!(!n.dir.path().join("kubelet.conf").exists());
    assert!(!n.dir.path().join("pki/kubelet-client-current.pem").exists());
    assert!(
        n.dir.path().join("pki/kubelet-client.key.tmp").exists(),
        "the pending key stays for a retry"
    );
}
