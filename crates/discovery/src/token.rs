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
//!
//! The result, [`Discovered`], gives the bootstrap kubeconfig for the TLS bootstrap. No request
//! carries credentials, and neither errors nor logs contain the token secret.
//!
//! Failures are the crate's [`Error`]: the checks of [`validate`] as they are, and the token
//! discovery variants ([`Error::InvalidEndpoint`] to [`Error::KubeconfigChanged`]).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use kubetrust_bootstrap_token::BootstrapToken;
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

    /// The endpoint as given.
    pub fn api_server_endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The timeouts and retry interval.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Runs token discovery: fetch #1, [`validate`], and fetch #2 unless the
    /// trust is [`Trust::UnsafeSkipCaVerification`]. The endpoint is checked before any I/O.
    pub async fn discover(&self) -> Result<Discovered, Error> {
        check_endpoint(&self.endpoint).map_err(|reason| self.invalid_endpoint(reason))?;
        let url: http::Uri = format!("https://{}", self.endpoint)
            .parse()
            .map_err(|e: http::uri::InvalidUri| self.invalid_endpoint(e.to_string()))?;

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
            let roots = info
                .ca_certificates()
                .iter()
                .map(|ca| ca.certificate.der().to_vec())
                .collect();
            let verified = self.client(&url, Phase::Verified, Some(roots))?;
            let second = self.poll(&verified, Phase::Verified).await?;
            if second.entry(KUBECONFIG_KEY) != Some(info.kubeconfig()) {
                return Err(Error::KubeconfigChanged {
                    endpoint: self.endpoint.clone(),
                });
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

    fn invalid_endpoint(&self, reason: impl Into<String>) -> Error {
        Error::InvalidEndpoint {
            endpoint: self.endpoint.clone(),
            reason: reason.into(),
        }
    }

    /// An anonymous client; `roots` = `None` skips TLS verification (fetch #1), else the only
    /// trusted roots (DER), never the system's.
    fn client(&self, url: &http::Uri, phase: Phase, roots: Option<Vec<Vec<u8>>>) -> Result<Client, Error> {
        let mut config = kube::Config::new(url.clone());
        config.default_namespace = NAMESPACE.to_owned();
        self.timing.apply(&mut config);
        config.default_retry = false;
        config.accept_invalid_certs = roots.is_none();
        // An empty root store for the unverified fetch keeps the platform trust store out.
        config.root_cert = Some(roots.unwrap_or_default());
        Client::try_from(config).map_err(|source| Error::TokenClient {
            endpoint: self.endpoint.clone(),
            phase,
            source,
        })
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
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>().filter(|t| is_certificate(t)) {
            return Some(tls.to_string());
        }
        // io::Error::source() skips the error it wraps (tokio-rustls wraps rustls's error in an
        // io::Error, hyper-util wraps that in another): step into it instead.
        current = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// Go's `net.SplitHostPort` rules, plus a numeric port in 1..=65535 and a host that is an IP
/// address or a DNS name (nothing that could change the URL's meaning).
fn check_endpoint(endpoint: &str) -> Result<(), &'static str> {
    if endpoint.is_empty() {
        return Err("APIServerEndpoint is not set");
    }
    let port = if let Some(rest) = endpoint.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or("missing ']' in address")?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err("the host in brackets is not an IPv6 address");
        }
        if after.is_empty() {
            return Err("missing port in address");
        }
        after.strip_prefix(':').ok_or("unexpected characters after ']'")?
    } else {
        let (host, port) = endpoint.rsplit_once(':').ok_or("missing port in address")?;
        if host.contains(':') {
            return Err("too many colons in address (an IPv6 address needs brackets)");
        }
        if host.is_empty() {
            return Err("the host is empty");
        }
        if host.parse::<Ipv4Addr>().is_err() && !is_host_name(host) {
            return Err("the host is neither an IP address nor a DNS name");
        }
        port
    };
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the port is not a number");
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err("the port is not in 1..=65535"),
        Ok(_) => Ok(()),
    }
}

/// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
fn is_host_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
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

    #[test]
    fn endpoints_need_host_and_port() {
        for ok in [
            "10.0.0.10:6443",
            "[::1]:6443",
            "[fd00::10]:443",
            "api.example.com:6443",
            "Control-Plane:1",
            "localhost:65535",
        ] {
            assert_eq!(check_endpoint(ok), Ok(()), "{ok}");
        }
        for (bad, reason) in [
            ("", "APIServerEndpoint is not set"),
            ("10.0.0.1", "missing port in address"),
            ("[::1", "missing ']' in address"),
            ("[::1]", "missing port in address"),
            ("[::1]6443", "unexpected characters after ']'"),
            ("[10.0.0.1]:6443", "the host in brackets is not an IPv6 address"),
            (
                "::1:6443",
                "too many colons in address (an IPv6 address needs brackets)",
            ),
            (":6443", "the host is empty"),
            ("10.0.0.1:", "the port is not a number"),
            ("10.0.0.1:+80", "the port is not a number"),
            ("10.0.0.1:0", "the port is not in 1..=65535"),
            ("10.0.0.1:65536", "the port is not in 1..=65535"),
            (
                "evil/x?a=10.0.0.1:6443",
                "the host is neither an IP address nor a DNS name",
            ),
            (
                "user@host:6443",
                "the host is neither an IP address nor a DNS name",
            ),
            ("-a.b:6443", "the host is neither an IP address nor a DNS name"),
        ] {
            assert_eq!(check_endpoint(bad), Err(reason), "{bad:?}");
        }
    }

    #[test]
    fn no_debug_or_display_shows_the_secret() {
        let other: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
        let d = TokenDiscovery::new("10.0.0.1:6443", token(), Trust::UnsafeSkipCaVerification)
            .with_tls_bootstrap_token(other);
        let errors = [
            d.invalid_endpoint("x"),
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
