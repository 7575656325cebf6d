//! Token discovery over the network (feature `kube`): kubeadm's two fetches of
//! `kube-public/cluster-info`, with [`validate`] in between.
//!
//! 1. **Fetch #1**, anonymous and without TLS verification (nothing is trusted yet): poll until
//!    the GET succeeds *and* the ConfigMap carries `jws-kubeconfig-<token id>` (the bootstrap
//!    signer lags behind token creation), or the timeout ends.
//! 2. [`validate`]: JWS, kubeconfig shape, CA pins. Its failures are terminal,
//!    so an attacker cannot make the node retry to probe.
//! 3. **Fetch #2** (skipped only under [`Trust::UnsafeSkipCaVerification`]), trusting only the
//!    CA bundle that was just validated, with host name / IP verification against the dialled
//!    endpoint, same polling rules; its `kubeconfig` must equal fetch #1's byte for byte.
//! 4. **Server check** (not in kubeadm; after fetch #2, so never under the unsafe skip; off with
//!    [`TokenDiscovery::with_server_check`]): the TLS bootstrap will use the `server` URL
//!    inside cluster-info, not the dialled endpoint. When its scheme, host or port differs
//!    from `https://<endpoint>`, one GET of cluster-info there (no polling, one request
//!    timeout), trusting only the same CA bundle and verifying the certificate against that
//!    URL's host, must return the same `kubeconfig`; else [`Error::ServerNotVerified`] says
//!    what to fix now, instead of an x509 error in the TLS bootstrap later.
//!
//! The result, [`Discovered`], gives the bootstrap kubeconfig for the TLS bootstrap. No request
//! carries credentials, and neither errors nor logs contain the token secret.
//!
//! Failures are the crate's [`Error`]: the checks of [`validate`] as they are, and the token
//! discovery variants ([`Error::InvalidEndpoint`] to [`Error::ServerNotVerified`]).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_kubeadm_config::net::{EndpointError, HostPort};
use tokio::time::Instant;

use crate::timing::Timing;
use crate::{ClusterInfoData, Error, JWS_KEY_PREFIX, KUBECONFIG_KEY, Trust, ValidatedClusterInfo, validate};

const NAMESPACE: &str = "kube-public";
const CONFIG_MAP: &str = "cluster-info";

/// Which of the two `cluster-info` fetches an error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Fetch #1: anonymous, TLS not verified.
    Unverified,
    /// Fetch #2: TLS verified against the CA bundle discovered (and pinned) in fetch #1.
    Verified,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Unverified => "first fetch, TLS not verified",
            Phase::Verified => "second fetch, TLS verified against the discovered CA",
        })
    }
}

/// Why the API server URL that cluster-info names failed the server check
/// ([`Error::ServerNotVerified`]). Its `Display` says what happened; the error's message adds
/// what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServerCheckFailure {
    /// The URL is not `https://host[:port]`, so the TLS bootstrap cannot use it either.
    InvalidUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS handshake rejected the server's certificate: it does not cover `host`, or it is
    /// not signed by the discovered CA.
    Certificate {
        /// The URL's host (without IPv6 brackets): what the certificate must cover.
        host: String,
        /// rustls's reason.
        reason: String,
    },
    /// No connection, or the request failed on it (DNS, refused, reset, proxy, ...).
    Connection {
        /// The error and its causes.
        reason: String,
    },
    /// The server answered with an HTTP error status instead of the ConfigMap.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The Kubernetes Status message.
        message: String,
    },
    /// No answer within the per-request timeout.
    Timeout {
        /// The per-request timeout ([`Timing::request_timeout`]).
        timeout: Duration,
    },
    /// It answered over verified TLS, but with another `kubeconfig` than the signed one.
    KubeconfigChanged,
}

impl fmt::Display for ServerCheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl { reason } => write!(f, "it is not an https://host[:port] URL: {reason}"),
            Self::Certificate { reason, .. } => write!(f, "its certificate was rejected: {reason}"),
            Self::Connection { reason } => write!(f, "the request failed: {reason}"),
            Self::Status { code, message } => write!(f, "it answered with HTTP status {code}: {message}"),
            Self::Timeout { timeout } => write!(f, "no answer within {timeout:?}"),
            Self::KubeconfigChanged => f.write_str(
                "it answered, but its cluster-info ConfigMap holds another kubeconfig than the signed one",
            ),
        }
    }
}

impl ServerCheckFailure {
    /// What to do about it, for [`Error::ServerNotVerified`]'s message.
    pub(crate) fn advice(&self, server: &str) -> String {
        match self {
            Self::InvalidUrl { .. } => format!(
                "the cluster-info ConfigMap must name the API server as an https:// URL (kubeadm \
                 writes controlPlaneEndpoint there); fix {server:?} in it"
            ),
            Self::Certificate { host, .. } => format!(
                "the API server's certificate must be signed by the discovered CA and cover \
                 {host}: add {host} to apiServer.certSANs in the kubeadm ClusterConfiguration and \
                 regenerate the API server's certificate"
            ),
            Self::Connection { .. } | Self::Timeout { .. } => format!(
                "{server} must be reachable from this node (check DNS, routes and firewalls); if it \
                 becomes reachable only later, turn this check off"
            ),
            Self::Status { .. } | Self::KubeconfigChanged => format!(
                "{server} must be this cluster's API server (the one behind the dialled endpoint), \
                 serving cluster-info to anonymous clients"
            ),
        }
    }
}

/// What token discovery needs: the endpoint to dial, the token, how to trust the CA, and the
/// timing (kubeadm's defaults: 5 min per polling phase, 5 s between attempts, 10 s per request).
///
/// ```no_run
/// use kubetrust_discovery::Trust;
/// use kubetrust_discovery::token::TokenDiscovery;
///
/// # async fn join() -> Result<(), Box<dyn std::error::Error>> {
/// let token = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
/// let pin = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
/// let discovered = TokenDiscovery::new("10.0.0.10:6443", token, Trust::from_flags([pin], false)?)
///     .discover()
///     .await?;
/// let bootstrap_kubelet_conf = discovered.bootstrap_kubeconfig();
/// assert_eq!(bootstrap_kubelet_conf.current_context, "tls-bootstrap-token-user@kubernetes");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenDiscovery {
    endpoint: String,
    token: BootstrapToken,
    tls_bootstrap_token: Option<BootstrapToken>,
    trust: Trust,
    timing: Timing,
    server_check: bool,
}

impl TokenDiscovery {
    /// Discovery of the cluster at `api_server_endpoint` (`host:port`, IPv6 in brackets) with
    /// `token`, trusting the CA by `trust`, with kubeadm's default timing.
    pub fn new(api_server_endpoint: impl Into<String>, token: BootstrapToken, trust: Trust) -> Self {
        Self {
            endpoint: api_server_endpoint.into(),
            token,
            tls_bootstrap_token: None,
            trust,
            timing: Timing::default(),
            server_check: true,
        }
    }

    /// Timeouts and retry interval (default: kubeadm's, see [`Timing`]).
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// The token the TLS bootstrap authenticates with (kubeadm's `tlsBootstrapToken`);
    /// defaults to the discovery token.
    pub fn with_tls_bootstrap_token(mut self, token: BootstrapToken) -> Self {
        self.tls_bootstrap_token = Some(token);
        self
    }

    /// Whether to check the API server URL that cluster-info names (default: on; kubeadm has
    /// no such check).
    ///
    /// The TLS bootstrap talks to that URL, not to the dialled endpoint. When the two differ
    /// (scheme, host or port), discovery makes one more GET of cluster-info at that URL after
    /// fetch #2, trusting only the discovered CA and verifying the certificate against the
    /// URL's host, and fails with [`Error::ServerNotVerified`] if that does not work, rather
    /// than leaving an x509 or connection error to the TLS bootstrap. Under
    /// [`Trust::UnsafeSkipCaVerification`] nothing is verified and this check never runs.
    ///
    /// Turn it off when the URL cannot work from where discovery runs but will when the kubelet
    /// bootstraps: its name resolves, or its address is routed, only after the node's network
    /// (DNS, VPN, `/etc/hosts`, a local load balancer) is configured later in the join; or
    /// discovery runs somewhere else than the kubelet.
    pub fn with_server_check(mut self, check: bool) -> Self {
        self.server_check = check;
        self
    }

    /// Whether the API server URL that cluster-info names is checked (see
    /// [`with_server_check`](Self::with_server_check)).
    pub fn server_check(&self) -> bool {
        self.server_check
    }

    /// The endpoint as given.
    pub fn api_server_endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The timeouts and retry interval.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Runs token discovery: fetch #1, [`validate`], and fetch #2 and the server check (see
    /// [`with_server_check`](Self::with_server_check)) unless the trust is
    /// [`Trust::UnsafeSkipCaVerification`]. The endpoint is checked before any I/O.
    pub async fn discover(&self) -> Result<Discovered, Error> {
        let endpoint = HostPort::with_port(&self.endpoint).map_err(|reason| self.invalid_endpoint(reason))?;
        // Every checked endpoint is a valid authority; a URI parser that disagrees has found
        // a host we should not dial.
        let url: http::Uri = format!("https://{endpoint}")
            .parse()
            .map_err(|_| self.invalid_endpoint(EndpointError::InvalidHost))?;

        let insecure = self.client(&url, Phase::Unverified, None)?;
        let first = self.poll(&insecure, Phase::Unverified).await?;
        let info = validate(&first, &self.token, &self.trust)?;

        if let Trust::UnsafeSkipCaVerification = self.trust {
            tracing::warn!(
                token_id = self.token.id().as_str(),
                endpoint = %self.endpoint,
                "cluster-info was trusted without CA pinning (unsafe skip of CA verification): anyone \
                 who knows the bootstrap token can impersonate the control plane to this node; pass \
                 --discovery-token-ca-cert-hash to pin the cluster CA"
            );
        } else {
            let roots: Vec<Vec<u8>> = info
                .ca_certificates()
                .iter()
                .map(|ca| ca.certificate.der().to_vec())
                .collect();
            let verified = self.client(&url, Phase::Verified, Some(roots.clone()))?;
            let second = self.poll(&verified, Phase::Verified).await?;
            if second.entry(KUBECONFIG_KEY) != Some(info.kubeconfig()) {
                return Err(Error::KubeconfigChanged {
                    endpoint: self.endpoint.clone(),
                });
            }
            if self.server_check {
                self.check_server(&url, &info, roots).await?;
            }
        }
        tracing::debug!(
            token_id = self.token.id().as_str(),
            server = info.server(),
            pinned = info.was_pinned(),
            "cluster-info validated"
        );
        Ok(Discovered {
            info,
            tls_bootstrap_token: self
                .tls_bootstrap_token
                .clone()
                .unwrap_or_else(|| self.token.clone()),
        })
    }

    fn invalid_endpoint(&self, reason: EndpointError) -> Error {
        Error::InvalidEndpoint {
            endpoint: self.endpoint.clone(),
            reason,
        }
    }

    /// An anonymous client for the dialled endpoint (see [`Self::client_for`]).
    fn client(&self, url: &http::Uri, phase: Phase, roots: Option<Vec<Vec<u8>>>) -> Result<Client, Error> {
        self.client_for(url, roots).map_err(|source| Error::TokenClient {
            endpoint: self.endpoint.clone(),
            phase,
            source,
        })
    }

    /// An anonymous client for `url`, which is also the name the server certificate is verified
    /// against; `roots` = `None` skips TLS verification (fetch #1), else the only trusted roots
    /// (DER), never the system's.
    fn client_for(&self, url: &http::Uri, roots: Option<Vec<Vec<u8>>>) -> Result<Client, kube::Error> {
        let mut config = kube::Config::new(url.clone());
        config.default_namespace = NAMESPACE.to_owned();
        self.timing.apply(&mut config);
        config.default_retry = false;
        config.accept_invalid_certs = roots.is_none();
        // An empty root store for the unverified fetch keeps the platform trust store out.
        config.root_cert = Some(roots.unwrap_or_default());
        Client::try_from(config)
    }

    /// The server check: when cluster-info names another origin than the dialled `endpoint`,
    /// one GET of cluster-info there, trusting only `roots`, must return the signed kubeconfig.
    async fn check_server(
        &self,
        endpoint: &http::Uri,
        info: &ValidatedClusterInfo,
        roots: Vec<Vec<u8>>,
    ) -> Result<(), Error> {
        let server = info.server();
        let fail = |reason| Error::ServerNotVerified {
            endpoint: self.endpoint.clone(),
            // cluster-info is world-readable, but a URL's user info still stays out of errors.
            server: crate::file::redact_userinfo(server),
            reason,
        };
        let invalid = |reason: String| fail(ServerCheckFailure::InvalidUrl { reason });
        let url: http::Uri = server
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
        let origin = Origin::of(&url).ok_or_else(|| invalid("no scheme or no host".to_owned()))?;
        if Origin::of(endpoint).as_ref() == Some(&origin) {
            return Ok(());
        }
        if origin.scheme != "https" {
            return Err(invalid(format!("the scheme is {:?}", origin.scheme)));
        }
        tracing::debug!(
            endpoint = %self.endpoint,
            server,
            "cluster-info names another API server than the dialled endpoint; checking it with the discovered CA"
        );
        let client = self.client_for(&url, Some(roots)).map_err(|e| {
            fail(ServerCheckFailure::Connection {
                reason: format!("couldn't build an HTTPS client: {}", chain_text(&e)),
            })
        })?;
        let api: Api<ConfigMap> = Api::namespaced(client, NAMESPACE);
        let timeout = self.timing.request_timeout();
        let reason = match tokio::time::timeout(timeout, api.get(CONFIG_MAP)).await {
            Ok(Ok(cm)) if cm.entry(KUBECONFIG_KEY) == Some(info.kubeconfig()) => return Ok(()),
            Ok(Ok(_)) => ServerCheckFailure::KubeconfigChanged,
            Ok(Err(kube::Error::Api(status))) => ServerCheckFailure::Status {
                code: status.code,
                message: status.message.clone(),
            },
            Ok(Err(e)) => match certificate_error(&e) {
                Some(reason) => ServerCheckFailure::Certificate {
                    host: origin.host.to_string(),
                    reason,
                },
                None => ServerCheckFailure::Connection {
                    reason: chain_text(&e),
                },
            },
            Err(_elapsed) => ServerCheckFailure::Timeout { timeout },
        };
        Err(fail(reason))
    }

    /// Polls until a GET succeeds and carries this token's signature: first attempt at once,
    /// then one every interval (from the start of the previous attempt) until the timeout.
    async fn poll(&self, client: &Client, phase: Phase) -> Result<ConfigMap, Error> {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
        let token_id = self.token.id();
        let jws_key = token_id.jws_key();
        let interval = self.timing.retry_interval();
        let start = Instant::now();
        let deadline = start.checked_add(self.timing.timeout());
        let mut attempt_start = start;
        loop {
            let remaining = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let budget = remaining.map_or(self.timing.request_timeout(), |r| {
                r.min(self.timing.request_timeout())
            });
            let last = match tokio::time::timeout(budget, api.get(CONFIG_MAP)).await {
                Ok(Ok(cm)) if cm.entry(&jws_key).is_some() => return Ok(cm),
                Ok(Ok(cm)) => Error::NoSignatureForToken {
                    token_id: token_id.as_str().to_owned(),
                    signed_ids: cm
                        .keys()
                        .into_iter()
                        .filter_map(|k| k.strip_prefix(JWS_KEY_PREFIX))
                        .map(str::to_owned)
                        .collect(),
                },
                Ok(Err(source)) => self.fetch_error(phase, source)?,
                Err(_elapsed) => Error::TokenRequestTimeout {
                    endpoint: self.endpoint.clone(),
                    phase,
                    timeout: budget,
                },
            };
            tracing::debug!(
                token_id = token_id.as_str(),
                %phase,
                error = %last,
                "cluster-info not usable yet, retrying"
            );
            let next = attempt_start.checked_add(interval);
            match (next, deadline) {
                (Some(next), Some(deadline)) if next < deadline => {
                    tokio::time::sleep_until(next).await;
                    attempt_start = next;
                }
                (Some(next), None) => {
                    tokio::time::sleep_until(next).await;
                    attempt_start = next;
                }
                (_, deadline) => {
                    if let Some(deadline) = deadline {
                        tokio::time::sleep_until(deadline).await;
                    }
                    return Err(Error::SignatureTimeout {
                        token_id: token_id.as_str().to_owned(),
                        endpoint: self.endpoint.clone(),
                        phase,
                        timeout: self.timing.timeout(),
                        last: Box::new(last),
                    });
                }
            }
        }
    }

    /// A failed GET: retryable, except a rejected server certificate on the verified fetch.
    fn fetch_error(&self, phase: Phase, source: kube::Error) -> Result<Error, Error> {
        if phase == Phase::Verified
            && let Some(reason) = certificate_error(&source)
        {
            return Err(Error::UntrustedServerCertificate {
                endpoint: self.endpoint.clone(),
                reason,
            });
        }
        Ok(Error::TokenFetch {
            endpoint: self.endpoint.clone(),
            phase,
            source,
        })
    }
}

/// The outcome of token discovery: the validated `cluster-info` and the token for the TLS
/// bootstrap.
#[derive(Clone, Debug)]
pub struct Discovered {
    info: ValidatedClusterInfo,
    tls_bootstrap_token: BootstrapToken,
}

impl Discovered {
    /// The validated `cluster-info`: server URL, CA bundle, the signed kubeconfig.
    pub fn cluster_info(&self) -> &ValidatedClusterInfo {
        &self.info
    }

    /// Takes the validated `cluster-info` out.
    pub fn into_cluster_info(self) -> ValidatedClusterInfo {
        self.info
    }

    /// Replaces the token the TLS bootstrap authenticates with.
    pub fn with_tls_bootstrap_token(mut self, token: BootstrapToken) -> Self {
        self.tls_bootstrap_token = token;
        self
    }

    /// kubeadm's `bootstrap-kubelet.conf`: cluster-info's server URL and CA, user
    /// `tls-bootstrap-token-user` with the TLS bootstrap token (it holds a secret: save it 0600).
    pub fn bootstrap_kubeconfig(&self) -> kubetrust_kubeconfig::Config {
        self.info.bootstrap_kubeconfig(&self.tls_bootstrap_token)
    }
}

/// rustls's reason when the error chain holds a rejected server certificate.
fn certificate_error(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    let is_certificate = |e: &rustls::Error| matches!(e, rustls::Error::InvalidCertificate(_));
    error_chain(err).find_map(|e| {
        e.downcast_ref::<rustls::Error>()
            .filter(|t| is_certificate(t))
            .map(ToString::to_string)
    })
}

/// `err` and its causes.
fn error_chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| {
        // io::Error::source() skips the error it wraps (tokio-rustls wraps rustls's error in an
        // io::Error, hyper-util wraps that in another): step into it instead.
        match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        }
    })
}

/// `err` and its causes joined by `": "`, each message left out when the one before already
/// contains it (kube's top-level text alone is often just "client error (Connect)").
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    for e in error_chain(err) {
        let text = e.to_string();
        if !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Scheme, host and port of a URL, normalised for comparison: scheme and host names
/// lower-cased, IP addresses parsed (no IPv6 brackets), the scheme's default port filled in.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: Host,
    port: Option<u16>,
}

#[derive(Debug, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ip(ip) => ip.fmt(f),
            Host::Name(name) => f.write_str(name),
        }
    }
}

impl Origin {
    /// `None` without a scheme or a host.
    fn of(url: &http::Uri) -> Option<Self> {
        let scheme = url.scheme_str()?.to_ascii_lowercase();
        let host = url.host().filter(|h| !h.is_empty())?;
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host = match bare.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(bare.to_ascii_lowercase()),
        };
        let port = url.port_u16().or(match scheme.as_str() {
            "https" => Some(443),
            "http" => Some(80),
            _ => None,
        });
        Some(Self { scheme, host, port })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
    const SECRET: &str = "x2m5p8r1t4w7z0c3";

    fn token() -> BootstrapToken {
        TOKEN.parse().unwrap()
    }

    fn origin(url: &str) -> Option<Origin> {
        Origin::of(&url.parse().unwrap())
    }

    #[test]
    fn origins_compare_normalised() {
        for (a, b) in [
            ("https://10.0.0.5:6443", "https://10.0.0.5:6443/"),
            ("HTTPS://CP.Example.com:6443", "https://cp.example.com:6443"),
            ("https://cp.example.com", "https://cp.example.com:443"),
            ("https://[::1]:6443", "https://[0:0:0:0:0:0:0:1]:6443"),
            ("https://[FD00::A]", "https://[fd00::a]:443/some/path"),
            ("http://10.0.0.5", "http://10.0.0.5:80"),
        ] {
            assert_eq!(origin(a), origin(b), "{a} vs {b}");
            assert!(origin(a).is_some());
        }
        for (a, b) in [
            ("https://10.0.0.5:6443", "https://cp.example.com:6443"),
            ("https://10.0.0.5:6443", "https://10.0.0.5:443"),
            ("https://10.0.0.5:6443", "http://10.0.0.5:6443"),
            ("https://127.0.0.1:6443", "https://localhost:6443"),
            ("https://[::1]:6443", "https://[::2]:6443"),
        ] {
            assert_ne!(origin(a), origin(b), "{a} vs {b}");
        }
        assert_eq!(origin("/only/a/path"), None);
        let v6 = origin("https://[FD00::A]:6443").unwrap();
        assert_eq!(v6.host.to_string(), "fd00::a", "no brackets: what certSANs take");
        assert_eq!(v6.port, Some(6443));
    }

    #[test]
    fn server_check_messages_say_what_to_do() {
        let err = |reason| {
            Error::ServerNotVerified {
                endpoint: "10.0.0.5:6443".to_owned(),
                server: "https://cp.example.com:6443".to_owned(),
                reason,
            }
            .to_string()
        };
        let prefix = "the cluster-info ConfigMap names the API server https://cp.example.com:6443, \
                      which the kubelet's TLS bootstrap will use, but it could not be verified with \
                      TLS against the discovered CA (discovery dialled https://10.0.0.5:6443): ";
        let cert = err(ServerCheckFailure::Certificate {
            host: "cp.example.com".to_owned(),
            reason: "bad".to_owned(),
        });
        assert!(cert.starts_with(prefix), "{cert}");
        assert!(
            cert.ends_with(
                "its certificate was rejected: bad; the API server's certificate must be signed by \
                 the discovered CA and cover cp.example.com: add cp.example.com to \
                 apiServer.certSANs in the kubeadm ClusterConfiguration and regenerate the API \
                 server's certificate"
            ),
            "{cert}"
        );
        let conn = err(ServerCheckFailure::Connection {
            reason: "refused".to_owned(),
        });
        assert!(
            conn.contains(
                "the request failed: refused; https://cp.example.com:6443 must be reachable from this node"
            ),
            "{conn}"
        );
        let timeout = err(ServerCheckFailure::Timeout {
            timeout: Duration::from_secs(10),
        });
        assert!(
            timeout.contains("no answer within 10s; https://cp.example.com:6443 must be reachable"),
            "{timeout}"
        );
        let changed = err(ServerCheckFailure::KubeconfigChanged);
        assert!(
            changed.contains("another kubeconfig than the signed one"),
            "{changed}"
        );
        assert!(changed.contains("must be this cluster's API server"), "{changed}");
        let status = err(ServerCheckFailure::Status {
            code: 404,
            message: "not found".to_owned(),
        });
        assert!(
            status.contains("it answered with HTTP status 404: not found"),
            "{status}"
        );
        let url = err(ServerCheckFailure::InvalidUrl {
            reason: "the scheme is \"http\"".to_owned(),
        });
        assert!(
            url.contains("it is not an https://host[:port] URL: the scheme is \"http\""),
            "{url}"
        );
    }

    #[test]
    fn the_server_check_is_on_by_default() {
        let d = TokenDiscovery::new("10.0.0.1:6443", token(), Trust::UnsafeSkipCaVerification);
        assert!(d.server_check());
        assert!(!d.with_server_check(false).server_check());
    }

    #[test]
    fn no_debug_or_display_shows_the_secret() {
        let other: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
        let d = TokenDiscovery::new("10.0.0.1:6443", token(), Trust::UnsafeSkipCaVerification)
            .with_tls_bootstrap_token(other);
        let errors = [
            d.invalid_endpoint(EndpointError::InvalidPort),
            Error::TokenRequestTimeout {
                endpoint: d.endpoint.clone(),
                phase: Phase::Unverified,
                timeout: Duration::from_secs(1),
            },
            Error::SignatureTimeout {
                token_id: d.token.id().as_str().to_owned(),
                endpoint: d.endpoint.clone(),
                phase: Phase::Verified,
                timeout: Duration::from_secs(1),
                last: Box::new(Error::NoSignatureForToken {
                    token_id: d.token.id().as_str().to_owned(),
                    signed_ids: vec![],
                }),
            },
            Error::KubeconfigChanged {
                endpoint: d.endpoint.clone(),
            },
            Error::ServerNotVerified {
                endpoint: d.endpoint.clone(),
                server: "https://cp.example.com:6443".to_owned(),
                reason: ServerCheckFailure::KubeconfigChanged,
            },
        ];
        let mut texts = vec![format!("{d:?}")];
        for e in &errors {
            texts.push(format!("{e:?}"));
            texts.push(e.to_string());
        }
        for text in texts {
            assert!(!text.contains(SECRET), "{text}");
            assert!(!text.contains("0123456789abcdef"), "{text}");
        }
        assert!(format!("{d:?}").contains("7h3k9q"));
    }
}
