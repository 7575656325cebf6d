//! HTTPS serving: TLS 1.2/1.3 (aws-lc-rs) advertising only `http/1.1`, client certificates
//! requested but not required (authentication judges them later, so a foreign certificate
//! gets 401 and not a TLS failure, as with kube-apiserver), HTTP/1.1 with hyper, capped
//! bodies, and a graceful stop that ends watches and drains connections.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::api::{Api, ApiRequest, Outcome};
use crate::status::ApiError;

/// Largest request body accepted (kube-apiserver's limit is 3 MiB too).
pub const MAX_BODY: usize = 3 * 1024 * 1024;
/// How long a TLS handshake or a request's headers may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stop waits for open connections before cutting them.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections that may wait to be accepted: what kube-apiserver gets from Go (the kernel's
/// `net.core.somaxconn` caps it), not the 128 of std's and tokio's `bind`. A burst of clients
/// larger than the queue has SYNs dropped, and each such client waits a 1 s (then 3 s)
/// retransmission: measured as most of the wall time of 1000 nodes joining at once.
const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `address` with kube-apiserver's accept backlog (and `SO_REUSEADDR`, as Go
/// and `TcpListener::bind` set it, so a restart can bind the same port at once).
pub(crate) fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Accepts any client certificate chain for the handshake (still checking the handshake
/// signature made with its key); authentication decides later what the chain is worth.
#[derive(Debug)]
struct RequestedClientCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for RequestedClientCertificate {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The TLS configuration for the serving certificate `chain` and its `key` (PEM).
pub fn tls_config(chain_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, rustls::Error> {
    use rustls::pki_types::pem::PemObject;
    let chain = CertificateDer::pem_slice_iter(chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| rustls::Error::General(format!("serving certificate PEM: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|_| rustls::Error::General("serving key PEM is not readable".into()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = RequestedClientCertificate {
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = ServerConfig::builder_with_provider(Arc::clone(&provider) as Arc<CryptoProvider>)
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A running server; [`Running::stop`] ends it.
pub struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    address: SocketAddr,
}

/// Why a connection was closed without an answer (an injected fault).
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

impl Running {
    /// Serves `api` on `listener` with `tls` until stopped.
    pub fn start(listener: TcpListener, tls: Arc<ServerConfig>, mut api: Api) -> std::io::Result<Self> {
        let address = listener.local_addr()?;
        let (stop, stopping) = watch::channel(false);
        api.stopping = stopping.clone();
        let task = tokio::spawn(accept_loop(listener, TlsAcceptor::from(tls), api, stopping));
        Ok(Self { stop, task, address })
    }

    /// The address served.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops accepting, ends watches, lets requests in flight finish (up to a few seconds),
    /// and closes the listener.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    api: Api,
    mut stopping: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = stopping.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(connection(tcp, acceptor.clone(), api.clone(), stopping.clone()));
                }
                // Out of descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

async fn connection(
    tcp: tokio::net::TcpStream,
    acceptor: TlsAcceptor,
    api: Api,
    mut stopping: watch::Receiver<bool>,
) {
    let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
        return;
    };
    let chain: Arc<Vec<Vec<u8>>> = Arc::new(
        tls.get_ref()
            .1
            .peer_certificates()
            .map(|certs| certs.iter().map(|c| c.as_ref().to_vec()).collect())
            .unwrap_or_default(),
    );
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let api = api.clone();
        let chain = Arc::clone(&chain);
        async move {
            let (parts, body) = request.into_parts();
            let request = ApiRequest {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body: read_body(body).await,
                client_chain: chain.to_vec(),
            };
            match api.handle(request).await {
                Outcome::Respond(response) => Ok(response),
                Outcome::Drop => Err(Dropped),
            }
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stopping.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

async fn read_body(body: Incoming) -> Result<Bytes, ApiError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::too_large(MAX_BODY)),
        Err(e) => Err(ApiError::bad_request(format!("reading the request body: {e}"))),
    }
}
