//! Token discovery against an in-process HTTPS API server on 127.0.0.1 (`support`): the happy
//! path, a lagging signer, a signer that never signs, two MITMs, a wrong pin, the unsafe skip,
//! invalid endpoints, and the check of the server URL that cluster-info names. Short intervals and timeouts keep the file at a few seconds.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::token::{Discovered, Phase, ServerCheckFailure, TokenDiscovery};
use kubetrust_discovery::{Error, PinSet, Timing, Trust};
use kubetrust_kubeadm_config::net::HostPort;
use kubetrust_kubeconfig::Config;
use kubetrust_pki::{AltNames, CaCertHash, CertificateAuthority};
use support::logs::Captured;
use support::{Reply, Server, cluster_info_data, listen, new_ca, refusing_port};
use tracing::Level;

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const SECRET: &str = "x2m5p8r1t4w7z0c3";
const OTHER_TOKEN: &str = "abcdef.0123456789abcdef";
const OTHER_SECRET: &str = "0123456789abcdef";
const INTERVAL: Duration = Duration::from_millis(50);
const TIMEOUT: Duration = Duration::from_secs(1);

fn token() -> BootstrapToken {
    TOKEN.parse().unwrap()
}

fn localhost() -> AltNames {
    let mut names = AltNames::default();
    names.add_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    names
}

fn pin_of(ca: &CertificateAuthority) -> Trust {
    Trust::Pinned(PinSet::new([CaCertHash::of_certificate(ca.certificate())]).unwrap())
}

/// cluster-info's kubeconfig as kubeadm writes it: `server` and the CA bundle.
fn kubeconfig(server: &str, ca: &CertificateAuthority) -> String {
    Config::cluster_info(server, ca.bundle_pem().into_bytes())
        .to_yaml()
        .unwrap()
}

fn timing() -> Timing {
    Timing::default()
        .with_timeout(TIMEOUT)
        .with_retry_interval(INTERVAL)
        .with_request_timeout(Duration::from_secs(1))
}

fn discovery(endpoint: &str, trust: Trust) -> TokenDiscovery {
    TokenDiscovery::new(endpoint, token(), trust).with_timing(timing())
}

/// Neither Debug nor Display of `value` shows a token secret.
fn assert_no_secret(value: &(impl std::fmt::Debug + ?Sized)) {
    let text = format!("{value:?}");
    assert!(
        !text.contains(SECRET) && !text.contains(OTHER_SECRET),
        "secret in {text}"
    );
}

fn assert_error_has_no_secret(err: &Error) {
    assert_no_secret(err);
    let text = err.to_string();
    assert!(
        !text.contains(SECRET) && !text.contains(OTHER_SECRET),
        "secret in {text}"
    );
}

/// A server for the genuine cluster: its CA is in cluster-info and issued the serving cert.
async fn genuine(
    script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static,
) -> (Server, CertificateAuthority) {
    let ca = new_ca("kubernetes");
    let listener = listen().await;
    let server_url = format!("https://{}", listener.local_addr().unwrap());
    let kc = kubeconfig(&server_url, &ca);
    let server = Server::start(listener, &ca, localhost(), move |n| script(n, &kc));
    (server, ca)
}

fn signed(kubeconfig: &str) -> Reply {
    Reply::ConfigMap(cluster_info_data(kubeconfig, Some(&token())))
}

#[tokio::test]
async fn happy_path_with_pins_fetches_twice_and_yields_the_bootstrap_kubeconfig() {
    let (server, ca) = genuine(|_, kc| signed(kc)).await;
    let discovered = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap();
    assert_eq!(server.requests(), 2);

    let info = discovered.cluster_info();
    assert_eq!(info.server(), format!("https://{}", server.endpoint()));
    assert!(info.was_pinned());
    assert_eq!(info.ca_pem(), ca.bundle_pem().as_bytes());
    let bootstrap = discovered.bootstrap_kubeconfig();
    assert_eq!(bootstrap.current_context, "tls-bootstrap-token-user@kubernetes");
    assert_eq!(bootstrap.clusters[0].cluster.server, info.server());
    assert_eq!(
        bootstrap.clusters[0].cluster.certificate_authority_data,
        ca.bundle_pem().as_bytes()
    );
    assert_eq!(bootstrap.users[0].name, "tls-bootstrap-token-user");
    assert_eq!(bootstrap.users[0].user.token.expose_secret(), TOKEN);
    assert_no_secret(&discovered);

    // The TLS bootstrap token can differ from the discovery token.
    let other: BootstrapToken = OTHER_TOKEN.parse().unwrap();
    let bootstrap = discovered
        .clone()
        .with_tls_bootstrap_token(other.clone())
        .bootstrap_kubeconfig();
    assert_eq!(bootstrap.users[0].user.token.expose_secret(), OTHER_TOKEN);
    let via_params = discovery(&server.endpoint(), pin_of(&ca))
        .with_tls_bootstrap_token(other)
        .discover()
        .await
        .unwrap();
    assert_eq!(
        via_params.bootstrap_kubeconfig().users[0]
            .user
            .token
            .expose_secret(),
        OTHER_TOKEN
    );
    assert_no_secret(&via_params);
}

#[tokio::test]
async fn a_lagging_signer_is_waited_for() {
    // 1: cluster-info not readable yet; 2: readable but unsigned; 3 and later: signed.
    let (server, ca) = genuine(|n, kc| match n {
        1 => Reply::Forbidden,
        2 => Reply::ConfigMap(cluster_info_data(kc, None)),
        _ => signed(kc),
    })
    .await;
    let discovered = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap();
    assert_eq!(server.requests(), 4, "3 polls for fetch #1, 1 for fetch #2");
    assert!(discovered.cluster_info().was_pinned());
}

#[tokio::test]
async fn a_signer_that_never_signs_times_out_naming_the_token_and_the_last_error() {
    let (server, ca) = genuine(|_, kc| Reply::ConfigMap(cluster_info_data(kc, None))).await;
    let started = Instant::now();
    let err = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();

    let Error::SignatureTimeout {
        token_id,
        phase,
        timeout,
        last,
        ..
    } = &err
    else {
        panic!("expected SignatureTimeout, got {err:?}");
    };
    assert_eq!(token_id, "7h3k9q");
    assert_eq!(*phase, Phase::Unverified);
    assert_eq!(*timeout, TIMEOUT);
    assert!(
        matches!(**last, Error::NoSignatureForToken { ref token_id, .. } if token_id == "7h3k9q"),
        "{last:?}"
    );
    // The signer may still sign, but discovery has polled for its whole timeout.
    assert!(last.is_retryable());
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("\"7h3k9q\"") && text.contains("jws-kubeconfig-7h3k9q"),
        "{text}"
    );
    // Polled until the timeout, then gave up (generous upper bound for a loaded machine).
    assert!(elapsed >= TIMEOUT && elapsed < TIMEOUT * 6, "{elapsed:?}");
    assert!(server.requests() >= 5, "polled only {} times", server.requests());
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn mitm_serving_another_signed_kubeconfig_over_verified_tls_is_rejected() {
    // Someone who holds the token re-signs a kubeconfig of their own for the second fetch.
    let (server, ca) = genuine(|n, kc| match n {
        1 => signed(kc),
        _ => signed(&kubeconfig("https://10.6.6.6:6443", &new_ca("evil"))),
    })
    .await;
    let err = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::KubeconfigChanged { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(
            "the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from the first"
        ),
        "{err}"
    );
    assert_eq!(server.requests(), 2);
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn mitm_with_a_certificate_from_another_ca_fails_the_verified_fetch() {
    // cluster-info is genuine (relayed, pins match), but the TLS server is the attacker's.
    let cluster_ca = new_ca("kubernetes");
    let rogue_ca = new_ca("kubernetes");
    let listener = listen().await;
    let kc = kubeconfig(
        &format!("https://{}", listener.local_addr().unwrap()),
        &cluster_ca,
    );
    let server = Server::start(listener, &rogue_ca, localhost(), move |_| signed(&kc));

    let err = discovery(&server.endpoint(), pin_of(&cluster_ca))
        .discover()
        .await
        .unwrap_err();
    let Error::UntrustedServerCertificate { reason, .. } = &err else {
        panic!("expected UntrustedServerCertificate, got {err:?}");
    };
    // Same subject as the cluster CA, so rustls finds it as the issuer and the signature fails.
    assert!(reason.contains("invalid peer certificate"), "{reason}");
    assert!(
        err.to_string().contains("not signed by the CA discovered"),
        "{err}"
    );
    // Terminal: fetch #1 and one rejected handshake, no polling against a wrong certificate.
    assert_eq!(server.requests(), 1);
    assert_eq!(server.connections(), 2);
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn a_certificate_that_does_not_cover_the_endpoint_fails_the_verified_fetch() {
    let ca = new_ca("kubernetes");
    let listener = listen().await;
    let kc = kubeconfig(&format!("https://{}", listener.local_addr().unwrap()), &ca);
    let mut names = AltNames::default();
    names.add_dns("kubernetes.default.svc");
    names.add_ip(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 1)));
    let server = Server::start(listener, &ca, names, move |_| signed(&kc));

    let err = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap_err();
    let Error::UntrustedServerCertificate { reason, .. } = &err else {
        panic!("expected UntrustedServerCertificate, got {err:?}");
    };
    assert!(reason.contains("not valid for name \"127.0.0.1\""), "{reason}");
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn a_wrong_pin_is_terminal_after_the_first_fetch() {
    let (server, ca) = genuine(|_, kc| signed(kc)).await;
    let other = new_ca("other");
    let err = discovery(&server.endpoint(), pin_of(&other))
        .discover()
        .await
        .unwrap_err();
    let Error::PinMismatch { observed, expected } = &err else {
        panic!("expected PinMismatch, got {err:?}");
    };
    assert_eq!(observed, &[CaCertHash::of_certificate(ca.certificate())]);
    assert_eq!(expected, &[CaCertHash::of_certificate(other.certificate())]);
    assert_eq!(server.requests(), 1, "no retry and no second fetch");
    assert!(!err.is_retryable());
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn a_signature_from_another_token_is_terminal() {
    let other: BootstrapToken = "7h3k9q.aaaaaaaaaaaaaaaa".parse().unwrap();
    let (server, ca) = genuine(move |_, kc| Reply::ConfigMap(cluster_info_data(kc, Some(&other)))).await;
    let err = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSignature { .. }), "{err:?}");
    assert_eq!(server.requests(), 1);
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn unsafe_skip_trusts_the_first_fetch_alone_and_warns() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(captured.clone());
    let (server, ca) = genuine(|_, kc| signed(kc)).await;
    let discovered: Discovered = discovery(&server.endpoint(), Trust::UnsafeSkipCaVerification)
        .discover()
        .await
        .unwrap();
    assert_eq!(server.requests(), 1);
    assert!(!discovered.cluster_info().was_pinned());
    assert_eq!(discovered.cluster_info().ca_pem(), ca.bundle_pem().as_bytes());
    assert_eq!(
        discovered.bootstrap_kubeconfig().users[0]
            .user
            .token
            .expose_secret(),
        TOKEN
    );

    let events = captured.events();
    let warnings: Vec<_> = events
        .iter()
        .filter(|(level, target, _)| *level == Level::WARN && target.starts_with("kubetrust_discovery"))
        .collect();
    assert_eq!(warnings.len(), 1, "{events:?}");
    assert!(
        warnings[0].2.contains("can impersonate the control plane"),
        "{warnings:?}"
    );
    for (_, _, text) in &events {
        assert!(!text.contains(SECRET), "secret logged: {text}");
    }
}

#[tokio::test]
async fn polling_logs_never_show_the_secret() {
    let captured = Captured::default();
    let _guard = tracing::subscriber::set_default(captured.clone());
    let (server, ca) = genuine(|n, kc| match n {
        1 => Reply::Forbidden,
        2 => Reply::ConfigMap(cluster_info_data(kc, None)),
        _ => signed(kc),
    })
    .await;
    discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap();
    let events = captured.events();
    let retries = events
        .iter()
        .filter(|(_, _, text)| text.contains("retrying"))
        .count();
    assert_eq!(retries, 2, "{events:?}");
    // No warning of ours with pins (kube itself warns "Server cert bypassed" on fetch #1).
    let ours = |(level, target, _): &&(Level, String, String)| {
        *level == Level::WARN && target.starts_with("kubetrust_discovery")
    };
    assert!(!events.iter().any(|e| ours(&e)), "{events:?}");
    for (_, _, text) in &events {
        assert!(!text.contains(SECRET), "secret logged: {text}");
    }
}

#[tokio::test]
async fn invalid_endpoints_fail_before_any_io() {
    let ca = new_ca("kubernetes");
    for endpoint in [
        "10.0.0.1",
        "[::1",
        "",
        "::1:6443",
        "127.0.0.1:0",
        "evil/path:6443",
        "a b:6443",
    ] {
        // A long timeout: were there any I/O, the call would wait or fail differently.
        let err = TokenDiscovery::new(endpoint, token(), pin_of(&ca))
            .with_timing(Timing::default().with_timeout(Duration::from_secs(60)))
            .discover()
            .await
            .unwrap_err();
        let Error::InvalidEndpoint {
            endpoint: given,
            reason,
        } = &err
        else {
            panic!("{endpoint:?}: expected InvalidEndpoint, got {err:?}");
        };
        assert_eq!(given, endpoint);
        // The one accept set of the workspace, reason for reason.
        assert_eq!(Err(*reason), HostPort::with_port(endpoint), "{endpoint:?}");
        assert!(err.to_string().contains(&format!("{endpoint:?}")), "{err}");
        assert_error_has_no_secret(&err);
    }
}

#[tokio::test]
async fn nothing_listening_is_a_fetch_error_after_the_timeout() {
    let (_reserved, port) = refusing_port();
    let endpoint = format!("127.0.0.1:{port}");
    let err = discovery(&endpoint, pin_of(&new_ca("kubernetes")))
        .with_timing(timing().with_timeout(Duration::from_millis(300)))
        .discover()
        .await
        .unwrap_err();
    let Error::SignatureTimeout { last, .. } = &err else {
        panic!("expected SignatureTimeout, got {err:?}");
    };
    assert!(
        matches!(
            **last,
            Error::TokenFetch {
                phase: Phase::Unverified,
                ..
            }
        ),
        "{last:?}"
    );
    assert!(last.is_retryable());
    assert!(!err.is_retryable());
    let text = err.to_string();
    assert!(
        text.contains("failed to request the cluster-info ConfigMap"),
        "{err}"
    );
    // The top line says what kept failing, not that a signature was missing.
    assert!(
        text.contains("waiting for a readable cluster-info ConfigMap at https://"),
        "{err}"
    );
    assert!(!text.contains("JWS signature"), "{err}");
}

// The server check: cluster-info names another URL than the dialled endpoint.

/// The genuine cluster, but its cluster-info names `server_url(port)` and its serving
/// certificate covers `names`; `script` gets the request number and the signed kubeconfig.
async fn naming(
    server_url: impl FnOnce(u16) -> String,
    names: AltNames,
    script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static,
) -> (Server, CertificateAuthority, String) {
    let ca = new_ca("kubernetes");
    let listener = listen().await;
    let url = server_url(listener.local_addr().unwrap().port());
    let kc = kubeconfig(&url, &ca);
    let server = Server::start(listener, &ca, names, move |n| script(n, &kc));
    (server, ca, url)
}

/// 127.0.0.1 and `localhost`.
fn localhost_both() -> AltNames {
    let mut names = localhost();
    names.add_dns("localhost");
    names
}

/// Pinned discovery against a server whose cluster-info names `server_url`, where the server
/// check is expected to fail: the server, that URL and the error.
async fn server_check_fails(
    server_url: impl FnOnce(u16) -> String,
    names: AltNames,
    script: impl Fn(usize, &str) -> Reply + Send + Sync + 'static,
) -> (Server, String, Error) {
    let (server, ca, url) = naming(server_url, names, script).await;
    let err = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap_err();
    (server, url, err)
}

fn server_not_verified(err: &Error) -> (&str, &str, &ServerCheckFailure) {
    let Error::ServerNotVerified {
        endpoint,
        server,
        reason,
    } = err
    else {
        panic!("expected ServerNotVerified, got {err:?}");
    };
    (endpoint, server, reason)
}

#[tokio::test]
async fn a_server_equal_to_the_endpoint_is_not_fetched_again() {
    // Spelled differently (scheme case, trailing slash), same scheme, host and port.
    let (server, ca, url) = naming(
        |port| format!("HTTPS://127.0.0.1:{port}/"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let discovered = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap();
    assert_eq!(server.requests(), 2, "fetch #1 and fetch #2 only");
    assert_eq!(server.connections(), 2);
    assert_eq!(discovered.bootstrap_kubeconfig().clusters[0].cluster.server, url);
}

#[tokio::test]
async fn a_server_other_than_the_endpoint_is_checked_with_the_discovered_ca() {
    let (server, ca, url) = naming(
        |port| format!("https://localhost:{port}"),
        localhost_both(),
        |_, kc| signed(kc),
    )
    .await;
    let discovered = discovery(&server.endpoint(), pin_of(&ca))
        .discover()
        .await
        .unwrap();
    assert_eq!(
        server.requests(),
        3,
        "fetch #1, fetch #2 and the GET at https://localhost"
    );
    assert_eq!(discovered.bootstrap_kubeconfig().clusters[0].cluster.server, url);
    assert_no_secret(&discovered);
}

#[tokio::test]
async fn a_certificate_that_does_not_cover_the_server_fails_discovery_naming_cert_sans() {
    let (server, url, err) = server_check_fails(
        |port| format!("https://localhost:{port}"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let (endpoint, named, reason) = server_not_verified(&err);
    assert_eq!(endpoint, server.endpoint());
    assert_eq!(named, url);
    let ServerCheckFailure::Certificate { host, reason } = reason else {
        panic!("expected a certificate failure, got {reason:?}");
    };
    assert_eq!(host, "localhost");
    assert!(reason.contains("not valid for name \"localhost\""), "{reason}");
    let text = err.to_string();
    for part in [
        format!("the cluster-info ConfigMap names the API server {url}"),
        "the kubelet's TLS bootstrap will use".to_owned(),
        "could not be verified with TLS against the discovered CA".to_owned(),
        format!("discovery dialled https://{}", server.endpoint()),
        "its certificate was rejected".to_owned(),
        "add localhost to apiServer.certSANs".to_owned(),
    ] {
        assert!(text.contains(&part), "{part:?} not in {text}");
    }
    assert!(!err.is_retryable());
    // Fetch #1, fetch #2, and one rejected handshake: no polling.
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 3);
    assert_error_has_no_secret(&err);
}

#[tokio::test]
async fn a_server_where_nothing_listens_fails_discovery_with_a_connection_reason() {
    let (reserved, dead_port) = refusing_port();
    let (server, url, err) = server_check_fails(
        move |_| format!("https://127.0.0.1:{dead_port}"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let (_, named, reason) = server_not_verified(&err);
    assert_eq!(named, url);
    let ServerCheckFailure::Connection { reason } = reason else {
        panic!("expected a connection failure, got {reason:?}");
    };
    assert!(reason.to_lowercase().contains("refused"), "{reason}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{url} must be reachable from this node")),
        "{text}"
    );
    assert!(!text.contains("certSANs"), "{text}");
    assert!(!err.is_retryable());
    assert_eq!(server.requests(), 2);
    assert_error_has_no_secret(&err);
    drop(reserved);
}

#[tokio::test]
async fn a_server_serving_another_kubeconfig_fails_the_server_check() {
    let (server, url, err) = server_check_fails(
        |port| format!("https://localhost:{port}"),
        localhost_both(),
        |n, kc| match n {
            1 | 2 => signed(kc),
            _ => signed(&kubeconfig("https://10.6.6.6:6443", &new_ca("evil"))),
        },
    )
    .await;
    let (_, named, reason) = server_not_verified(&err);
    assert_eq!(named, url);
    assert_eq!(reason, &ServerCheckFailure::KubeconfigChanged);
    assert!(
        err.to_string()
            .contains("holds another kubeconfig than the signed one"),
        "{err}"
    );
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn a_server_url_that_is_not_https_fails_the_server_check_without_a_request() {
    let (server, url, err) = server_check_fails(
        |port| format!("http://127.0.0.1:{port}"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let (_, named, reason) = server_not_verified(&err);
    assert_eq!(named, url);
    assert!(
        matches!(reason, ServerCheckFailure::InvalidUrl { reason } if reason.contains("\"http\"")),
        "{reason:?}"
    );
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn a_server_url_with_user_info_is_redacted_in_the_error() {
    let (_reserved, dead_port) = refusing_port();
    let (_server, _, err) = server_check_fails(
        move |_| format!("https://user:s3cret@127.0.0.1:{dead_port}"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let (_, named, _) = server_not_verified(&err);
    assert_eq!(named, format!("https://<redacted>@127.0.0.1:{dead_port}"));
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
}

#[tokio::test]
async fn the_server_check_can_be_turned_off() {
    let (server, ca, url) = naming(
        |port| format!("https://localhost:{port}"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let discovered = discovery(&server.endpoint(), pin_of(&ca))
        .with_server_check(false)
        .discover()
        .await
        .unwrap();
    assert_eq!(server.requests(), 2);
    assert_eq!(server.connections(), 2, "no third connection");
    assert_eq!(discovered.bootstrap_kubeconfig().clusters[0].cluster.server, url);
}

#[tokio::test]
async fn unsafe_skip_does_not_check_the_server() {
    let (server, _ca, url) = naming(
        |port| format!("https://localhost:{port}"),
        localhost(),
        |_, kc| signed(kc),
    )
    .await;
    let discovered = discovery(&server.endpoint(), Trust::UnsafeSkipCaVerification)
        .discover()
        .await
        .unwrap();
    assert_eq!(server.requests(), 1);
    assert_eq!(server.connections(), 1);
    assert!(!discovered.cluster_info().was_pinned());
    assert_eq!(discovered.bootstrap_kubeconfig().clusters[0].cluster.server, url);
}
