//! File and HTTPS discovery against the in-process HTTPS API server (`support`): local files
//! with and without credentials, the token override, the `https`-only rule, downloads (200,
//! 404, untrusted server), the CA copy from cluster-info (and its refusal under
//! `insecure-skip-tls-verify`), a tolerated 403 and the polling timeout.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

// Not every helper of the token discovery tests is used here.
#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::file::{FileDiscovered, FileDiscovery};
use kubetrust_discovery::{Error, Timing};
use kubetrust_kubeconfig::{BOOTSTRAP_TOKEN_USER, ClientCredentials, ClusterEndpoint, Config, SecretString};
use kubetrust_pki::CertificateAuthority;
use support::{Reply, Server, cluster_info_data, listen, new_ca};

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const SECRET: &str = "x2m5p8r1t4w7z0c3";
const FILE_TOKEN: &str = "file-user-token-0123456789";
const DOWNLOAD_PATH: &str = "/discovery/kubeconfig.yaml";
const TIMEOUT: Duration = Duration::from_secs(1);

fn token() -> BootstrapToken {
    TOKEN.parse().unwrap()
}

fn der(ca: &CertificateAuthority) -> Vec<Vec<u8>> {
    vec![ca.certificate().der().to_vec()]
}

/// A discovery kubeconfig for `server`: cluster `kubernetes` (CA data when given, maybe
/// `insecure-skip-tls-verify`), user `joiner` with `token` when given, their context current.
fn discovery_kubeconfig(
    server: &str,
    ca: Option<&CertificateAuthority>,
    insecure: bool,
    token: Option<&str>,
) -> String {
    let ca_pem = ca.map(|ca| ca.bundle_pem().into_bytes()).unwrap_or_default();
    let credentials = ClientCredentials::Token(SecretString::new(token.unwrap_or_default()));
    let mut config = Config::for_user(&ClusterEndpoint::new(server, ca_pem), "joiner", credentials);
    for named in &mut config.clusters {
        named.cluster.insecure_skip_tls_verify = insecure;
    }
    config.to_yaml().unwrap()
}

/// A server script answering cluster-info with `server` and `ca`'s bundle (unsigned: file
/// discovery checks no JWS).
fn cluster_info(server: &str, ca: &CertificateAuthority) -> impl Fn(usize) -> Reply + Send + Sync + 'static {
    let kubeconfig = Config::cluster_info(server, ca.bundle_pem().into_bytes())
        .to_yaml()
        .unwrap();
    move |_| Reply::ConfigMap(cluster_info_data(&kubeconfig, None))
}

/// A server with a certificate from `issuer`, answering cluster-info with `ca` as the cluster's
/// CA, and serving a discovery kubeconfig without credentials (`ca`'s data) at [`DOWNLOAD_PATH`].
async fn api_server(issuer: &CertificateAuthority, ca: &CertificateAuthority) -> (Server, String) {
    let listener = listen().await;
    let server = format!("https://{}", listener.local_addr().unwrap());
    let download = discovery_kubeconfig(&server, Some(ca), false, None);
    let files = BTreeMap::from([(DOWNLOAD_PATH.to_owned(), download)]);
    let api = Server::start_with_files(
        listener,
        issuer,
        support::localhost(),
        files,
        cluster_info(&server, ca),
    );
    (api, server)
}

/// HTTPS discovery of `url` trusting only `ca` for the download, with the TLS bootstrap token.
async fn download(url: &str, ca: &CertificateAuthority) -> Result<FileDiscovered, Error> {
    discovery(url)
        .with_download_roots(der(ca))
        .with_tls_bootstrap_token(token())
        .discover()
        .await
}

/// [`discovery_kubeconfig`] written to a file in a fresh directory (kept while the guard lives).
fn local_file(
    server: &str,
    ca: Option<&CertificateAuthority>,
    insecure: bool,
    token: Option<&str>,
) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &discovery_kubeconfig(server, ca, insecure, token));
    (dir, path)
}

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("discovery.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn discovery(location: &str) -> FileDiscovery {
    FileDiscovery::new(location).with_timing(
        Timing::default()
            .with_timeout(TIMEOUT)
            .with_retry_interval(Duration::from_millis(50))
            .with_request_timeout(Duration::from_secs(1)),
    )
}

/// Discovery of `location` with the TLS bootstrap token, expected to fail.
async fn failure(location: &str) -> Error {
    discovery(location)
        .with_tls_bootstrap_token(token())
        .discover()
        .await
        .unwrap_err()
}

/// `err`'s message contains `text` (a kubeadm text).
fn assert_says(err: &Error, text: &str) {
    assert!(err.to_string().contains(text), "{err}");
}

fn current_user_token(config: &Config) -> String {
    let resolved = config.resolve(None).unwrap();
    resolved.user.token.expose_secret().to_owned()
}

fn assert_token_kubeconfig(found: &FileDiscovered, server: &str, ca: &CertificateAuthority) {
    let config = found.bootstrap_kubeconfig();
    assert_eq!(
        config.current_context,
        format!("{BOOTSTRAP_TOKEN_USER}@kubernetes")
    );
    let resolved = config.resolve(None).unwrap();
    assert_eq!(resolved.cluster.server, server);
    assert_eq!(
        resolved.cluster.certificate_authority_data,
        ca.bundle_pem().into_bytes()
    );
    assert_eq!(resolved.user.token.expose_secret(), TOKEN);
    assert!(!format!("{found:?}").contains(SECRET), "secret in Debug");
}

#[tokio::test]
async fn local_file_with_tls_bootstrap_token_override() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let dir = tempfile::tempdir().unwrap();
    // The file's own credentials are dropped in favour of the TLS bootstrap token.
    let path = write(
        dir.path(),
        &discovery_kubeconfig(&server, Some(&ca), false, Some(FILE_TOKEN)),
    );
    let found = discovery(&format!("file://{path}"))
        .with_tls_bootstrap_token(token())
        .discover()
        .await
        .unwrap();
    assert_token_kubeconfig(&found, &server, &ca);
    assert!(!found.ca_copied_from_cluster_info());
    assert!(!found.cluster_info_forbidden());
    assert_eq!(api.requests(), 1);
}

#[tokio::test]
async fn local_file_with_its_own_credentials() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let (_dir, path) = local_file(&server, Some(&ca), false, Some(FILE_TOKEN));
    let found = discovery(&path).discover().await.unwrap();
    let config = found.bootstrap_kubeconfig();
    assert_eq!(config.current_context, "joiner@kubernetes");
    assert_eq!(current_user_token(config), FILE_TOKEN);
    assert_eq!(config.resolve(None).unwrap().cluster.server, server);
    assert!(!format!("{found:?}").contains(FILE_TOKEN), "credential in Debug");
    assert_eq!(api.requests(), 1);
}

#[tokio::test]
async fn no_credentials_and_no_token_is_an_error_before_the_network() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let (_dir, path) = local_file(&server, Some(&ca), false, None);
    let err = discovery(&path).discover().await.unwrap_err();
    assert!(matches!(err, Error::NoCredentials { .. }), "{err:?}");
    assert_says(
        &err,
        "could not find authentication credentials for the TLS bootstrap process.",
    );
    assert_eq!(api.connections(), 0);
}

#[tokio::test]
async fn http_urls_are_refused_before_any_io() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let url = format!("{}{DOWNLOAD_PATH}", server.replacen("https://", "http://", 1));
    let err = failure(&url).await;
    assert!(
        matches!(&err, Error::UnsupportedScheme { scheme, .. } if scheme == "http"),
        "{err:?}"
    );
    assert_says(&err, "if a URL is used, the scheme must be https");
    assert_eq!(api.connections(), 0);
}

#[tokio::test]
async fn https_download_then_cluster_info() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let found = download(&format!("{server}{DOWNLOAD_PATH}"), &ca).await.unwrap();
    assert_token_kubeconfig(&found, &server, &ca);
    assert_eq!(api.requests(), 1);
}

#[tokio::test]
async fn https_download_needs_status_200() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let url = format!("{server}/missing.yaml");
    let err = download(&url, &ca).await.unwrap_err();
    assert!(
        matches!(err, Error::DownloadStatus { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("error trying to fetch discovery kubeconfig over HTTPS from {url}, received status 404")
    );
    assert_eq!(api.requests(), 0);
}

#[tokio::test]
async fn https_download_from_an_untrusted_server_is_refused() {
    let (ca, other) = (new_ca("kubernetes"), new_ca("someone-else"));
    // The server's certificate comes from `other`; only `ca` is trusted for the download.
    let (api, server) = api_server(&other, &ca).await;
    let err = download(&format!("{server}{DOWNLOAD_PATH}"), &ca)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Download { .. }), "{err:?}");
    assert_eq!(api.connections(), 1);
    assert_eq!(api.requests(), 0);
}

#[tokio::test]
async fn file_without_ca_gets_the_cluster_info_ca() {
    let ca = new_ca("kubernetes");
    let (_api, server) = api_server(&ca, &ca).await;
    let (_dir, path) = local_file(&server, None, false, Some(FILE_TOKEN));
    // No CA in the file: the "system" roots (here: the replacement roots) verify the server.
    let found = discovery(&path)
        .with_download_roots(der(&ca))
        .discover()
        .await
        .unwrap();
    assert!(found.ca_copied_from_cluster_info());
    let resolved = found.bootstrap_kubeconfig().resolve(None).unwrap();
    assert_eq!(
        resolved.cluster.certificate_authority_data,
        ca.bundle_pem().into_bytes()
    );
    assert_eq!(resolved.user.token.expose_secret(), FILE_TOKEN);
}

#[tokio::test]
async fn no_ca_copy_under_insecure_skip_tls_verify() {
    let ca = new_ca("kubernetes");
    let (api, server) = api_server(&ca, &ca).await;
    let (_dir, path) = local_file(&server, None, true, None);
    let err = failure(&path).await;
    assert!(matches!(err, Error::InsecureCaCopy { .. }), "{err:?}");
    assert_says(&err, "insecure-skip-tls-verify");
    // The unverified GET did happen; its CA was refused.
    assert_eq!(api.requests(), 1);
}

#[tokio::test]
async fn forbidden_cluster_info_is_tolerated() {
    let ca = new_ca("kubernetes");
    let listener = listen().await;
    let server = format!("https://{}", listener.local_addr().unwrap());
    let api = Server::start(listener, &ca, support::localhost(), |_| Reply::Forbidden);
    let (_dir, path) = local_file(&server, Some(&ca), false, None);
    let found = discovery(&path)
        .with_tls_bootstrap_token(token())
        .discover()
        .await
        .unwrap();
    assert!(found.cluster_info_forbidden());
    assert_token_kubeconfig(&found, &server, &ca);
    assert_eq!(api.requests(), 1, "a 403 stops the polling");
}

#[tokio::test]
async fn server_from_another_ca_times_out_with_the_last_error() {
    let (ca, other) = (new_ca("kubernetes"), new_ca("someone-else"));
    let (api, server) = api_server(&other, &ca).await;
    let (_dir, path) = local_file(&server, Some(&ca), false, None);
    let err = failure(&path).await;
    let Error::ClusterInfoTimeout { last, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(matches!(**last, Error::FileFetch { .. }), "{last:?}");
    assert!(last.is_retryable());
    assert!(!err.is_retryable());
    assert_says(
        &err,
        "Abort reading the cluster-info ConfigMap after timeout of 1s: ",
    );
    assert!(api.connections() >= 2, "retried");
    assert_eq!(api.requests(), 0);
}

#[tokio::test]
async fn kubeconfig_shape_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "apiVersion: v1\nkind: Config\nclusters: []\n");
    let err = failure(&path).await;
    assert!(matches!(err, Error::NoCluster { .. }), "{err:?}");
    assert_says(
        &err,
        "the provided kubeconfig file must have at least one Cluster defined",
    );

    let path = write(
        dir.path(),
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\ncurrent-context: missing\n",
    );
    let err = failure(&path).await;
    assert!(matches!(err, Error::NoCurrentCluster { .. }), "{err:?}");
    assert_says(
        &err,
        "the provided kubeconfig file must have a unnamed Cluster or a CurrentContext that specifies a non-nil Cluster",
    );

    let path = write(
        dir.path(),
        "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1', certificate-authority: no-such-ca.crt}}]\n\
         users: [{name: u, user: {}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\ncurrent-context: c\n",
    );
    let err = failure(&path).await;
    assert!(matches!(err, Error::InvalidDiscoveryKubeconfig { .. }), "{err:?}");
    assert_says(&err, "no-such-ca.crt");
}

/// A broken discovery file with a token and a client key on and around the failing line: the
/// error (Display and Debug) shows neither, for a local file and for an HTTPS download.
#[tokio::test]
async fn broken_discovery_files_keep_their_secrets() {
    const KEY_DATA: &str = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUFi";
    let secret_lines = format!("    token: {TOKEN}\n    client-key-data: {KEY_DATA}\n");
    let broken = [
        format!("users:\n- name: u\n  user:\n{secret_lines}    client-certificate-data: [x\n"),
        format!("users:\n- name: u\n  user:\n    client-certificate-data: [x\n{secret_lines}"),
        format!("users:\n- name: u\n  user:\n    token: [{TOKEN}]\n    client-key-data: {{{KEY_DATA}: 1}}\n"),
        format!("users:\n- name: u\n  user:\n{secret_lines}\tbad: tab\n"),
        format!("users:\n- name: u\n  user:\n    client-key-data: '{KEY_DATA}!'\n    token: {TOKEN}\n"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let ca = new_ca("kubernetes");
    for text in broken {
        let local = failure(&write(dir.path(), &text)).await;
        let listener = listen().await;
        let url = format!("https://{}{DOWNLOAD_PATH}", listener.local_addr().unwrap());
        let files = BTreeMap::from([(DOWNLOAD_PATH.to_owned(), text.clone())]);
        let _api = Server::start_with_files(listener, &ca, support::localhost(), files, |_| Reply::Forbidden);
        let downloaded = download(&url, &ca).await.unwrap_err();
        for err in [local, downloaded] {
            for shown in [err.to_string(), format!("{err:?}")] {
                for secret in [SECRET, KEY_DATA] {
                    assert!(!shown.contains(secret), "{secret} in {shown}\nfor\n{text}");
                }
            }
        }
    }
}
