//! Why discovery failed: one variant per failed check, for the whole crate.
//!
//! The variants come in three groups, in the order the checks run: the checks of the pure
//! [`validate`](crate::validate) (and of [`Trust`](crate::Trust) and
//! [`DiscoveryConfig`](crate::DiscoveryConfig)), available without features; then, with the
//! `kube` feature, the network steps of token discovery (module `token`) and of file /
//! HTTPS discovery (module `file`).

#[cfg(feature = "kube")]
use std::path::PathBuf;
#[cfg(feature = "kube")]
use std::time::Duration;

use kubetrust_pki::CaCertHash;

#[cfg(feature = "kube")]
use crate::token::{Phase, ServerCheckFailure};

/// A failed discovery check. Messages start with kubeadm's text for the same check and add
/// what kubeadm hides; [`Error::is_retryable`] says whether polling again can help.
///
/// The first variants, from [`NoPins`](Error::NoPins) to [`PinMismatch`](Error::PinMismatch),
/// are the checks of [`validate`](crate::validate), [`Trust`](crate::Trust) and
/// [`DiscoveryConfig`](crate::DiscoveryConfig); token discovery returns them unchanged when
/// its fetched `cluster-info` fails them. The others exist only with the `kube` feature:
/// `InvalidEndpoint` to `ServerNotVerified` come from token discovery (module `token`),
/// `UnsupportedScheme` to `InsecureCaCopy` from file / HTTPS discovery (module `file`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // Checks of validate(), Trust and DiscoveryConfig (no feature needed).
    /// Token discovery without pins, and no explicit unsafe skip.
    #[error(
        "using token-based discovery without caCertHashes can be unsafe: give at least one --discovery-token-ca-cert-hash, or choose Trust::UnsafeSkipCaVerification explicitly"
    )]
    NoPins,
    /// A pin that does not parse (kubeadm's text inside).
    #[error("invalid discovery token CA certificate hash: {0}")]
    InvalidPin(#[source] kubetrust_pki::Error),
    /// A JoinConfiguration whose discovery section kubeadm would refuse (kubeadm's text).
    #[error("invalid discovery configuration: {reason}")]
    InvalidConfig {
        /// Which rule it breaks.
        reason: String,
    },
    /// A kubeadm config file that cannot be read or parsed.
    #[error("invalid kubeadm config: {0}")]
    KubeadmConfig(#[from] kubetrust_kubeadm_config::Error),
    /// The ConfigMap has no `kubeconfig` entry.
    #[error(
        "there is no kubeconfig key in the cluster-info ConfigMap. This API Server isn't set up for token bootstrapping, can't connect"
    )]
    NoKubeconfig,
    /// No `jws-kubeconfig-<id>` entry for this token. The signer may not have run yet (retry),
    /// or the token does not exist or has expired here.
    #[error("token id {token_id:?} is invalid for this cluster or it has expired: cluster-info has no jws-kubeconfig-{token_id} signature{}. Use \"kubeadm token create\" on the control-plane node to create a new valid token", signed_ids_suffix(.signed_ids))]
    NoSignatureForToken {
        /// The token's id.
        token_id: String,
        /// The ids that do have signatures.
        signed_ids: Vec<String>,
    },
    /// The signature does not verify: the token is wrong, or the content was changed.
    #[error(
        "failed to verify JWS signature of received cluster info object, can't trust this API Server: {reason}"
    )]
    InvalidSignature {
        /// The token's id.
        token_id: String,
        /// Which part of the detached JWS differs (header, form or MAC).
        reason: String,
    },
    /// The signed kubeconfig does not parse.
    #[error("couldn't parse the kubeconfig file in the cluster-info ConfigMap: {reason}")]
    MalformedKubeconfig {
        /// The parser's message.
        reason: String,
    },
    /// The signed kubeconfig must hold exactly one cluster.
    #[error(
        "expected the kubeconfig file in the cluster-info ConfigMap to have a single cluster, but it had {count}"
    )]
    ClusterCount {
        /// How many it has.
        count: usize,
    },
    /// The cluster's `certificate-authority-data` is missing or not certificates.
    #[error("failed to parse cluster CA from the cluster-info ConfigMap: {reason}")]
    InvalidCa {
        /// What is wrong with it.
        reason: String,
    },
    /// No CA certificate matches any pin: the server is not the cluster you pinned.
    #[error("cluster CA found in cluster-info ConfigMap is invalid: none of the public keys {:?} are pinned (expected one of {})", join(.observed, ":"), join(.expected, ", "))]
    PinMismatch {
        /// Pins of the CA certificates cluster-info carries.
        observed: Vec<CaCertHash>,
        /// The pins you trust.
        expected: Vec<CaCertHash>,
    },

    // One-string join tokens and k3s tokens (module join_token, k3s_token). None of these
    // repeats the token text: it holds a secret.
    /// The text is not a join token: it lacks the `kjt1.` prefix.
    #[error("not a kubetrust join token (they start with \"kjt1.\"); it looks like {looks_like}")]
    NotAJoinToken {
        /// What the text looks like instead.
        looks_like: &'static str,
    },
    /// A join token of a later format version than this library reads.
    #[error(
        "join token version {version} is not supported: this version of kubetrust reads version 1 (\"kjt1.\")"
    )]
    JoinTokenVersion {
        /// The version digits after `kjt`.
        version: String,
    },
    /// A join token with too few `.`-separated fields.
    #[error(
        "malformed join token: {found} field(s), expected kjt1.<token id>.<token secret>.<pins>[.<host:port>]"
    )]
    JoinTokenFields {
        /// How many fields it has.
        found: usize,
    },
    /// The bootstrap token inside a join token is malformed.
    #[error("malformed join token: its bootstrap token is invalid: {0}")]
    JoinTokenBootstrapToken(#[source] kubetrust_bootstrap_token::Error),
    /// The pins field of a join token is malformed.
    #[error("malformed join token: its pins field is {reason}")]
    JoinTokenPins {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The endpoint of a join token is not `host:port`. The endpoint is not repeated: it may
    /// be the rest of a mistyped token.
    #[error("malformed join token: its endpoint is not host:port: {reason}")]
    JoinTokenEndpoint {
        /// The rule it breaks.
        reason: kubetrust_kubeadm_config::net::EndpointError,
    },
    /// A join needs an endpoint, and neither the join token nor the caller gave one.
    #[error("the join token carries no API server endpoint: give the endpoint (host:port) with it")]
    JoinTokenNoEndpoint,
    /// A k3s token that k3s itself would refuse.
    #[error("malformed k3s token: {reason}")]
    K3sToken {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A k3s token without a CA hash cannot vouch for any CA.
    #[error(
        "the k3s token carries no CA hash, so it cannot say which CA to trust; use the full K10 token from the server's token file"
    )]
    K3sNoCaHash,
    /// k3s `user:password` credentials are not a bootstrap token.
    #[error(
        "the k3s token's credentials are a k3s user:password, not a bootstrap token; create a bootstrap token (k3s token create) for kubeadm-style joins"
    )]
    K3sPasswordCredentials,
    /// The CA bundle given with a k3s token holds no usable certificate.
    #[error("the CA bundle for the k3s token is unusable: {0}")]
    K3sCaBundle(#[source] kubetrust_pki::CertError),
    /// The CA bundle is not the one the k3s token names (k3s's own text).
    #[error("token CA hash does not match the Cluster CA certificate hash: {expected} != {found}")]
    K3sCaHashMismatch {
        /// The hash in the token.
        expected: String,
        /// The hash of the bundle given.
        found: String,
    },

    // Token discovery (feature `kube`).
    /// The API server endpoint is not `host:port` (checked before any I/O).
    #[cfg(feature = "kube")]
    #[error(
        "invalid API server endpoint {endpoint:?}: {reason}; expected host:port, with an IPv6 address in brackets (e.g. 10.0.0.10:6443 or [fd00::10]:6443)"
    )]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// The rule it breaks.
        reason: kubetrust_kubeadm_config::net::EndpointError,
    },
    /// Token discovery: the HTTPS client for a cluster-info fetch could not be built (e.g. a
    /// discovered CA certificate that rustls cannot use as a root).
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("couldn't build an HTTPS client for https://{endpoint} ({phase}): {source}")]
    TokenClient {
        /// The dialled endpoint.
        endpoint: String,
        /// Which fetch.
        phase: Phase,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// Token discovery: the GET of `kube-public/cluster-info` failed (connection, TLS, HTTP
    /// status). Retried until the timeout.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("failed to request the cluster-info ConfigMap from https://{endpoint} ({phase}): {source}")]
    TokenFetch {
        /// The dialled endpoint.
        endpoint: String,
        /// Which fetch.
        phase: Phase,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// Token discovery: the GET did not answer within the per-request timeout. Retried until
    /// the timeout.
    #[cfg(feature = "kube")]
    #[error(
        "failed to request the cluster-info ConfigMap from https://{endpoint} ({phase}): no answer within {timeout:?}"
    )]
    TokenRequestTimeout {
        /// The dialled endpoint.
        endpoint: String,
        /// Which fetch.
        phase: Phase,
        /// The per-request timeout that ran out.
        timeout: Duration,
    },
    /// The polling phase ended without a ConfigMap that carries this token's signature.
    /// `last` is the last recorded error (what kubeadm reports).
    #[cfg(feature = "kube")]
    #[error(
        "timed out after {timeout:?} waiting for {} ({phase}); last error: {last}",
        awaited(endpoint, token_id, last)
    )]
    SignatureTimeout {
        /// The token's id (public).
        token_id: String,
        /// The dialled endpoint.
        endpoint: String,
        /// Which fetch.
        phase: Phase,
        /// The polling phase's timeout.
        timeout: Duration,
        /// The last error recorded while polling.
        #[source]
        last: Box<Error>,
    },
    /// Fetch #2's TLS handshake rejected the server certificate: it does not chain to the CA
    /// bundle that cluster-info carries (and the pins matched), or it does not cover the
    /// dialled host. Terminal: someone else answers at this endpoint, or the server's
    /// certificate lacks the endpoint as a SAN.
    #[cfg(feature = "kube")]
    #[error(
        "the API server at https://{endpoint} is not trusted: its certificate is not signed by the CA discovered in the cluster-info ConfigMap, or does not cover {endpoint}: {reason}"
    )]
    UntrustedServerCertificate {
        /// The dialled endpoint.
        endpoint: String,
        /// rustls's reason.
        reason: String,
    },
    /// Fetch #2 returned another `kubeconfig` than the signed one of fetch #1.
    #[cfg(feature = "kube")]
    #[error(
        "the second kubeconfig from the cluster-info ConfigMap (using validated TLS) was different from the first: https://{endpoint} served another kubeconfig over verified TLS than the signed one it served before"
    )]
    KubeconfigChanged {
        /// The dialled endpoint.
        endpoint: String,
    },
    /// After fetch #2, the API server URL that cluster-info names (the one the kubelet's TLS
    /// bootstrap will use) differs from the dialled endpoint, and one GET of cluster-info there,
    /// trusting only the discovered CA and verifying the certificate against that URL's host,
    /// failed: the certificate does not cover the host (or is not the cluster's), the server
    /// is unreachable, or it serves another kubeconfig. kubeadm does not check this; its TLS
    /// bootstrap fails later with an x509 error. Terminal ([`Error::is_retryable`] is false):
    /// the check is a single request, and what it finds (a certificate without the SAN, a
    /// server that cannot be reached from this node) is a configuration problem that asking
    /// again does not fix. Turned off by
    /// [`TokenDiscovery::with_server_check(false)`](crate::token::TokenDiscovery::with_server_check).
    #[cfg(feature = "kube")]
    #[error(
        "the cluster-info ConfigMap names the API server {server}, which the kubelet's TLS bootstrap will use, but it could not be verified with TLS against the discovered CA (discovery dialled https://{endpoint}): {reason}; {}",
        .reason.advice(.server)
    )]
    ServerNotVerified {
        /// The dialled endpoint.
        endpoint: String,
        /// The server URL in cluster-info, as written there.
        server: String,
        /// What went wrong.
        reason: ServerCheckFailure,
    },

    // File / HTTPS discovery (feature `kube`).
    /// The location is a URL with another scheme than `https` (or `file`). Checked before any
    /// I/O.
    #[cfg(feature = "kube")]
    #[error(
        "invalid discovery file {location:?}: if a URL is used, the scheme must be https (found {scheme:?}); use an https:// URL or a local path"
    )]
    UnsupportedScheme {
        /// The location as given.
        location: String,
        /// Its scheme, lower-cased.
        scheme: String,
    },
    /// The location is not a usable HTTPS URL or file path (e.g. no host, empty path).
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("invalid discovery file {location:?}: not a valid HTTPS URL or a file on disk: {reason}")]
    InvalidLocation {
        /// The location as given.
        location: String,
        /// What is wrong with it.
        reason: String,
    },
    /// File discovery: the local discovery file could not be read or parsed.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("couldn't load the discovery kubeconfig {path:?}: {source}")]
    LoadDiscoveryFile {
        /// The file.
        path: PathBuf,
        /// The kubeconfig crate's error.
        #[source]
        source: kubetrust_kubeconfig::Error,
    },
    /// The HTTPS client for the download could not be built (e.g. an unusable root).
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("couldn't build an HTTPS client to fetch the discovery kubeconfig from {url}: {source}")]
    DownloadClient {
        /// The URL.
        url: String,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// The download failed: connection, TLS (server certificate not trusted), or reading the
    /// body.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("error trying to fetch discovery kubeconfig over HTTPS from {url}: {source}")]
    Download {
        /// The URL.
        url: String,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// The server answered with another status than 200 (redirects are not followed).
    #[cfg(feature = "kube")]
    #[error(
        "error trying to fetch discovery kubeconfig over HTTPS from {url}, received status {status}{}",
        if (300..400).contains(status) { " (redirects are not followed: use the final https:// URL)" } else { "" }
    )]
    DownloadStatus {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The body is larger than [`MAX_DOWNLOAD_SIZE`](crate::file::MAX_DOWNLOAD_SIZE).
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("the discovery kubeconfig at {url} is larger than {limit} bytes; refusing to read it")]
    DownloadTooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The download did not finish within the discovery timeout.
    #[cfg(feature = "kube")]
    #[error(
        "error trying to fetch discovery kubeconfig over HTTPS from {url}: no complete answer within {timeout:?}"
    )]
    DownloadTimeout {
        /// The URL.
        url: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// HTTPS discovery: the downloaded bytes are not a kubeconfig.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("the discovery kubeconfig downloaded from {url} is not a valid kubeconfig: {source}")]
    MalformedDownload {
        /// The URL.
        url: String,
        /// The kubeconfig crate's error.
        #[source]
        source: kubetrust_kubeconfig::Error,
    },
    /// A downloaded discovery kubeconfig names a local file or a plugin: the download would
    /// decide what this node reads (and sends: a token file) or runs.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error(
        "the discovery kubeconfig downloaded from {url} sets {field}: a downloaded discovery file must carry its CA and credentials itself (no file paths, exec or auth-provider plugins)"
    )]
    DownloadReferencesLocal {
        /// The URL (credentials in it redacted).
        url: String,
        /// The field, as `users[<name>].user.tokenFile`.
        field: String,
    },
    /// The discovery kubeconfig defines no cluster.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("the provided kubeconfig file must have at least one Cluster defined ({location})")]
    NoCluster {
        /// Where the kubeconfig came from.
        location: String,
    },
    /// Neither an unnamed cluster nor a current context naming an existing cluster.
    #[cfg(feature = "kube")]
    #[error(
        "the provided kubeconfig file must have a unnamed Cluster or a CurrentContext that specifies a non-nil Cluster ({location}: current-context {current_context:?})"
    )]
    NoCurrentCluster {
        /// Where the kubeconfig came from.
        location: String,
        /// The file's `current-context`.
        current_context: String,
    },
    /// A reference in the discovery kubeconfig does not resolve: unknown user, unreadable CA /
    /// certificate / key / token file, bad PEM.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("the discovery kubeconfig {location} is invalid: {source}")]
    InvalidDiscoveryKubeconfig {
        /// Where the kubeconfig came from.
        location: String,
        /// The kubeconfig crate's error.
        #[source]
        source: kubetrust_kubeconfig::Error,
    },
    /// No TLS bootstrap token was given and the file's current user has no credentials.
    #[cfg(feature = "kube")]
    #[error(
        "could not find authentication credentials for the TLS bootstrap process. Please use Token discovery, a discovery file with embedded authentication credentials or a discovery file without authentication credentials but with the TLSBootstrapToken flag ({location})"
    )]
    NoCredentials {
        /// Where the kubeconfig came from.
        location: String,
    },
    /// File discovery: the client for the cluster-info GET could not be built from the
    /// discovery kubeconfig's settings.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("couldn't build a client for {server} from the discovery kubeconfig: {source}")]
    FileClient {
        /// The file's server URL.
        server: String,
        /// kube's error (or the kubeconfig crate's, converting the file for kube).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// File discovery: the cluster-info GET failed (connection, TLS, HTTP status other than
    /// 403). Retried until the timeout.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("failed to request the cluster-info ConfigMap from {server}: {source}")]
    FileFetch {
        /// The file's server URL.
        server: String,
        /// kube's error.
        #[source]
        source: kube::Error,
    },
    /// File discovery: the cluster-info GET did not answer within the per-request timeout.
    /// Retried until the timeout.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("failed to request the cluster-info ConfigMap from {server}: no answer within {timeout:?}")]
    FileRequestTimeout {
        /// The file's server URL.
        server: String,
        /// The per-request timeout.
        timeout: Duration,
    },
    /// Polling cluster-info ended without an answer; `last` is the last error.
    #[cfg(feature = "kube")]
    #[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
    #[error("Abort reading the cluster-info ConfigMap after timeout of {timeout:?}: {last}")]
    ClusterInfoTimeout {
        /// The discovery timeout.
        timeout: Duration,
        /// The last error recorded while polling.
        #[source]
        last: Box<Error>,
    },
    /// The file sets `insecure-skip-tls-verify` and has no CA: the CA that cluster-info offers
    /// came over an unverified connection and is not copied in.
    #[cfg(feature = "kube")]
    #[error(
        "the discovery kubeconfig {location} sets insecure-skip-tls-verify and has no certificate-authority-data, so the CA offered by the cluster-info ConfigMap at {server} cannot be trusted; put the cluster CA into the discovery kubeconfig or remove insecure-skip-tls-verify"
    )]
    InsecureCaCopy {
        /// Where the kubeconfig came from.
        location: String,
        /// The file's server URL.
        server: String,
    },
}

impl Error {
    /// Whether asking the API server again can change the outcome.
    ///
    /// Of the [`validate`](crate::validate) checks, only a missing signature
    /// ([`NoSignatureForToken`](Error::NoSignatureForToken): the bootstrap signer runs
    /// asynchronously); every other check is terminal, as in kubeadm, so an attacker cannot
    /// probe by making a node retry. Of the network steps (feature `kube`), exactly the
    /// failed or unanswered cluster-info GETs that token and file discovery retry themselves
    /// until their timeout: `TokenFetch`, `TokenRequestTimeout`, `FileFetch` and
    /// `FileRequestTimeout`. These reach the caller only as the `last` error of
    /// `SignatureTimeout` or `ClusterInfoTimeout`; every other variant, those two timeouts
    /// included, is terminal. So is `ServerNotVerified`, token discovery's single check of the
    /// server cluster-info names: a certificate without that host, or a server this node cannot
    /// reach, is a configuration to fix, not a lag to wait out.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::NoSignatureForToken { .. }) || self.is_polled_fetch_failure()
    }

    /// A failed or unanswered cluster-info GET of token or file discovery's polling.
    #[cfg(feature = "kube")]
    fn is_polled_fetch_failure(&self) -> bool {
        matches!(
            self,
            Error::TokenFetch { .. }
                | Error::TokenRequestTimeout { .. }
                | Error::FileFetch { .. }
                | Error::FileRequestTimeout { .. }
        )
    }

    /// Without the `kube` feature there is no polling.
    #[cfg(not(feature = "kube"))]
    fn is_polled_fetch_failure(&self) -> bool {
        false
    }
}

fn join(pins: &[CaCertHash], separator: &str) -> String {
    pins.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

fn signed_ids_suffix(ids: &[String]) -> String {
    if ids.is_empty() {
        " (it has no signatures at all)".to_owned()
    } else {
        format!(" (it has signatures for token ids {})", ids.join(", "))
    }
}

/// What a timed-out poll was waiting for, judged by its last error: a readable cluster-info
/// when the GET itself kept failing (a 403 from missing RBAC, a refused connection), else this
/// token's signature in it.
#[cfg(feature = "kube")]
fn awaited(endpoint: &str, token_id: &str, last: &Error) -> String {
    if last.is_polled_fetch_failure() {
        format!("a readable cluster-info ConfigMap at https://{endpoint}")
    } else {
        format!(
            "the cluster-info ConfigMap at https://{endpoint} to carry a JWS signature for token ID {token_id:?}"
        )
    }
}
