//! `kubetrust::join` against the in-process control plane: token and file discovery end to
//! end, a wrong pin stopping before any CSR, and a failed bootstrap leaving no credentials.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime};

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kubetrust::bootstrap_token::{BootstrapToken, TokenSpec, api};
use kubetrust::discovery::Trust;
use kubetrust::join::{Event, JoinConfig, JoinError, Phase, join};
use kubetrust::pki::{CaCertHash, Certificate};
use kubetrust_testcp::{Config, TestControlPlane};

async fn plane_with_token() -> (TestControlPlane, BootstrapToken, String) {
    let plane = TestControlPlane::start(Config::default()).await.unwrap();
    let token = BootstrapToken::generate().unwrap();
    let client = plane.client().await.unwrap();
    api::create_token(&client, &TokenSpec::new(token.clone()), SystemTime::now())
        .await
        .unwrap();
    let endpoint = plane.url().trim_start_matches("https://").to_owned();
    (plane, token, endpoint)
}

fn pin(plane: &TestControlPlane) -> Trust {
    let ca = Certificate::from_pem(plane.ca_pem().as_bytes()).unwrap();
    Trust::from_flags([CaCertHash::of_certificate(&ca).to_string()], false).unwrap()
}

async fn csr_count(plane: &TestControlPlane) -> usize {
    let csrs: kube::Api<CertificateSigningRequest> = kube::Api::all(plane.client().await.unwrap());
    csrs.list(&Default::default()).await.unwrap().items.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_join_leaves_a_working_kubelet_identity() {
    let (plane, token, endpoint) = plane_with_token().await;
    let dir = tempfile::tempdir().unwrap();
    let config = JoinConfig::token(&endpoint, token, pin(&plane), "worker-1", dir.path())
        .with_tls_bootstrap_timeout(Duration::from_secs(20));
    let mut lines = Vec::new();
    let joined = join(&config, &mut |event: Event| lines.extend(event.phase_line()))
        .await
        .unwrap();
    assert_eq!(joined.kubelet_conf, dir.path().join("kubelet.conf"));
    assert_eq!(
        joined.timings.iter().map(|(phase, _)| *phase).collect::<Vec<_>>(),
        [Phase::Preflight, Phase::Discovery, Phase::KubeletStart]
    );
    assert!(
        lines.iter().any(
            |l| l.starts_with("[discovery] cluster-info is valid and its CA matches a pinned public key")
        ),
        "{lines:#?}"
    );
    let pem = std::fs::read(dir.path().join("pki/kubelet-client-current.pem")).unwrap();
    let cert = Certificate::from_pem(&pem).unwrap();
    assert_eq!(cert.subject().common_name, "system:node:worker-1");
    assert!(plane.ca().verifies(&cert, &[]));
    // The node now talks to the API as itself.
    let kubeconfig = kubetrust::kubeconfig::Config::from_file(&joined.kubelet_conf).unwrap();
    let options = kube::config::KubeConfigOptions::default();
    let client_config = kube::Config::from_custom_kubeconfig(kubeconfig.to_kube().unwrap(), &options)
        .await
        .unwrap();
    let node = kube::Client::try_from(client_config).unwrap();
    let csrs: kube::Api<CertificateSigningRequest> = kube::Api::all(node);
    let own = csrs.get(joined.csr_name.as_deref().unwrap()).await.unwrap();
    assert_eq!(
        own.spec.username.as_deref(),
        Some(&*format!("system:bootstrap:{}", config_token_id(&config)))
    );
    plane.shutdown().await.unwrap();
}

fn config_token_id(config: &JoinConfig) -> String {
    match &config.discovery {
        kubetrust::join::Discovery::Token { token, .. } => token.id().as_str().to_owned(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_pin_fails_in_discovery_and_sends_no_csr() {
    let (plane, token, endpoint) = plane_with_token().await;
    let dir = tempfile::tempdir().unwrap();
    let other = kubetrust::pki::CertificateAuthority::generate(
        "other",
        kubetrust::pki::KeyAlgorithm::EcdsaP256,
        SystemTime::now(),
    )
    .unwrap();
    let wrong = Trust::from_flags(
        [CaCertHash::of_certificate(other.certificate()).to_string()],
        false,
    )
    .unwrap();
    let config = JoinConfig::token(&endpoint, token, wrong, "worker-1", dir.path());
    let err = join(&config, &mut |_| {}).await.unwrap_err();
    assert_eq!(err.phase(), Phase::Discovery);
    assert!(matches!(err, JoinError::Discovery(_)), "{err:?}");
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(cause.contains("pin") || cause.contains("hash"), "{cause}");
    assert_eq!(csr_count(&plane).await, 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    plane.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bootstrap_that_times_out_leaves_no_credentials() {
    let (plane, token, endpoint) = plane_with_token().await;
    api::disable_node_client_auto_approval(&plane.client().await.unwrap())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = JoinConfig::token(&endpoint, token, pin(&plane), "worker-1", dir.path())
        .with_tls_bootstrap_timeout(Duration::from_millis(700));
    let err = join(&config, &mut |_| {}).await.unwrap_err();
    assert_eq!(err.phase(), Phase::KubeletStart);
    assert!(!dir.path().join("kubelet.conf").exists());
    assert!(
        !dir.path().join("pki").exists(),
        "the pending key must not outlive a failed join"
    );
    assert_eq!(csr_count(&plane).await, 1, "the CSR was sent and stays pending");
    plane.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_join_with_a_tls_bootstrap_token() {
    let (plane, token, _) = plane_with_token().await;
    let dir = tempfile::tempdir().unwrap();
    // A discovery file: the admin kubeconfig's cluster, without its credentials.
    let discovery_file = dir.path().join("discovery.conf");
    kubetrust::kubeconfig::Config::cluster_info(plane.url(), plane.ca_pem().into_bytes())
        .save(&discovery_file)
        .unwrap();
    let kubelet_dir = dir.path().join("kubelet");
    let config = JoinConfig::file(discovery_file.display().to_string(), "worker-2", &kubelet_dir)
        .with_tls_bootstrap_token(token);
    let joined = join(&config, &mut |_| {}).await.unwrap();
    assert!(joined.kubelet_conf.exists());
    // Joining twice is refused before anything happens.
    let err = join(&config, &mut |_| {}).await.unwrap_err();
    assert_eq!(err.phase(), Phase::Preflight);
    plane.shutdown().await.unwrap();
}
