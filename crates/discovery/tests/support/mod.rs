//! A tiny HTTPS API server on 127.0.0.1 for the token discovery tests: tokio-rustls with a
//! certificate from a kubetrust-pki CA, one HTTP/1.1 request per connection, a scripted reply
//! per request, and counters for connections and requests.

pub(crate) mod logs;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_pki::{AltNames, CertProfile, CertificateAuthority, KeyAlgorithm, Subject};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{ServerConfig, crypto::aws_lc_rs};

pub(crate) const CLUSTER_INFO_PATH: &str = "/api/v1/namespaces/kube-public/configmaps/cluster-info";

/// What the server answers to the n-th request.
pub(crate) enum Reply {
    /// 200 with a cluster-info ConfigMap holding this data.
    ConfigMap(BTreeMap<String, String>),
    /// 403 with a Kubernetes Status, as an apiserver without anonymous access to cluster-info.
    Forbidden,
}

/// The `data` of a cluster-info ConfigMap: `kubeconfig`, signed by `token` when given.
pub(crate) fn cluster_info_data(
    kubeconfig: &str,
    signer: Option<&BootstrapToken>,
) -> BTreeMap<String, String> {
    let mut data = BTreeMap::from([("kubeconfig".to_owned(), kubeconfig.to_owned())]);
    if let Some(token) = signer {
        data.insert(token.id().jws_key(), token.sign_jws(kubeconfig.as_bytes()));
    }
    data
}

/// A fresh CA (ECDSA P-256: fast).
pub(crate) fn new_ca(name: &str) -> CertificateAuthority {
    CertificateAuthority::generate(name, KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap()
}

/// Subject alternative names covering 127.0.0.1.
#[allow(dead_code)] // the token discovery tests have their own
pub(crate) fn localhost() -> AltNames {
    let mut names = AltNames::default();
    names.add_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    names
}

/// Binds 127.0.0.1 on a free port.
pub(crate) async fn listen() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").await.unwrap()
}

/// A loopback port where connections are refused: bound but not listening, so no other test's
/// server can take it while the returned socket lives.
pub(crate) fn refusing_port() -> (tokio::net::TcpSocket, u16) {
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    (reserved, port)
}

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Serves on `listener` with a certificate from `issuer` covering `alt_names`; `script` gets
    /// the 1-based number of each cluster-info request.
    pub(crate) fn start(
        listener: TcpListener,
        issuer: &CertificateAuthority,
        alt_names: AltNames,
        script: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_with_files(listener, issuer, alt_names, BTreeMap::new(), script)
    }

    /// [`Server::start`] that also answers `GET <path>` with 200 and the body that `files` maps
    /// the path to (the HTTPS discovery download); other paths still get 404.
    pub(crate) fn start_with_files(
        listener: TcpListener,
        issuer: &CertificateAuthority,
        alt_names: AltNames,
        files: BTreeMap<String, String>,
        script: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let profile = CertProfile::server(Subject::new("kube-apiserver"), alt_names, SystemTime::now());
        let (cert, key) = issuer
            .issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256)
            .unwrap();
        let key = PrivateKeyDer::from_pem_slice(key.to_pem().as_bytes()).unwrap();
        let config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.der().to_vec())], key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let files = Arc::new(files);
        let task = tokio::spawn({
            let (connections, requests) = (connections.clone(), requests.clone());
            async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (acceptor, requests, script) = (acceptor.clone(), requests.clone(), script.clone());
                    let files = files.clone();
                    tokio::spawn(async move {
                        // A failed handshake (client rejected our certificate) just ends here.
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Some(path) = read_request_path(&mut tls).await else {
                            return;
                        };
                        let (status, body) = if path == CLUSTER_INFO_PATH {
                            let n = requests.fetch_add(1, Ordering::SeqCst) + 1;
                            render(script(n))
                        } else if let Some(body) = files.get(&path) {
                            ("200 OK", body.clone())
                        } else {
                            ("404 Not Found", status_json(404, "NotFound", "not found"))
                        };
                        let response = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = tls.write_all(response.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    });
                }
            }
        });
        Self {
            addr,
            connections,
            requests,
            task,
        }
    }

    /// `127.0.0.1:<port>`.
    pub(crate) fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// cluster-info requests answered so far.
    pub(crate) fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted so far (including failed TLS handshakes).
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Reads the request head and returns the path of `GET <path> HTTP/1.1` (without the query).
async fn read_request_path<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8(head).ok()?;
    let target = head.lines().next()?.split(' ').nth(1)?;
    Some(target.split('?').next()?.to_owned())
}

fn render(reply: Reply) -> (&'static str, String) {
    match reply {
        Reply::ConfigMap(data) => (
            "200 OK",
            serde_json::json!({
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"name": "cluster-info", "namespace": "kube-public", "resourceVersion": "1"},
                "data": data,
            })
            .to_string(),
        ),
        Reply::Forbidden => (
            "403 Forbidden",
            status_json(
                403,
                "Forbidden",
                "configmaps \"cluster-info\" is forbidden: User \"system:anonymous\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"kube-public\"",
            ),
        ),
    }
}

fn status_json(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code,
    })
    .to_string()
}
