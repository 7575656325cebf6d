//! File and HTTPS discovery (feature `kube`): kubeadm's `--discovery-file`.
//!
//! 1. The location is checked before any I/O: a local path, a `file://` URL (its path), or an
//!    `https://` URL; any other scheme (`http://` included) is refused.
//! 2. An `https://` location is downloaded with one GET: server verified against the system
//!    trust store (or [`FileDiscovery::with_download_roots`]), status 200 required, redirects
//!    not followed (a 3xx is an error), body capped at [`MAX_DOWNLOAD_SIZE`], the whole
//!    download bounded by the discovery timeout.
//! 3. The kubeconfig is validated as kubeadm's `ValidateConfigInfo` does: at least one cluster,
//!    an unnamed cluster or one named by the current context, referenced CA, certificate, key
//!    and token files read in.
//! 4. Without a TLS bootstrap token the file must carry credentials (checked before the
//!    network, unlike kubeadm which notices after polling).
//! 5. `GET kube-public/cluster-info` is polled with **the file's own** TLS settings and
//!    credentials — that request is what checks the server. HTTP 403 ends the polling
//!    successfully (the TLS handshake already validated the server). If the file has no CA and
//!    cluster-info has one, it is copied in — refused when the file sets
//!    `insecure-skip-tls-verify`, since nothing would then vouch for that CA. A different server
//!    in cluster-info only warns. No JWS is checked: the file itself is the trust anchor.
//!
//! The result, [`FileDiscovered`], holds the bootstrap kubeconfig: with a TLS bootstrap token,
//! kubeadm's `tls-bootstrap-token-user` kubeconfig for the file's server and CA; otherwise the
//! file's own kubeconfig, flattened. Neither errors nor logs contain credentials.
//!
//! Failures are the crate's [`Error`], its file / HTTPS discovery variants
//! ([`Error::UnsupportedScheme`] to [`Error::InsecureCaCopy`]).

use std::path::PathBuf;

use http_body_util::{BodyExt, Limited};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::config::KubeConfigOptions;
use kube::{Api, Client};
use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_kubeconfig::{AuthInfo, Cluster, Config, SecretString};
use tokio::time::Instant;

use crate::timing::Timing;
use crate::{Error, KUBECONFIG_KEY};

/// The largest discovery kubeconfig accepted over HTTPS (1 MiB).
pub const MAX_DOWNLOAD_SIZE: usize = 1 << 20;

const NAMESPACE: &str = "kube-public";
const CONFIG_MAP: &str = "cluster-info";
/// The user of the kubeconfig built for the cluster-info GET (never written anywhere).
const FETCH_NAME: &str = "discovery";

/// Where the discovery kubeconfig is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Location {
    File(PathBuf),
    Https(http::Uri),
}

/// What file/HTTPS discovery needs: the path or `https://` URL of the discovery kubeconfig,
/// optionally a TLS bootstrap token, and the timing (kubeadm's defaults: 5 min, 5 s between
/// attempts, 10 s per request).
///
/// ```no_run
/// use kubetrust_discovery::file::FileDiscovery;
///
/// # async fn join() -> Result<(), Box<dyn std::error::Error>> {
/// let token = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
/// let discovered = FileDiscovery::new("https://config.example.com/discovery.yaml")
///     .with_tls_bootstrap_token(token)
///     .discover()
///     .await?;
/// let bootstrap_kubelet_conf = discovered.bootstrap_kubeconfig();
/// assert_eq!(bootstrap_kubelet_conf.current_context, "tls-bootstrap-token-user@kubernetes");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct FileDiscovery {
    location: String,
    tls_bootstrap_token: Option<BootstrapToken>,
    download_roots: Option<Vec<Vec<u8>>>,
    timing: Timing,
}

/// Shows the location with any URL user info redacted.
impl std::fmt::Debug for FileDiscovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDiscovery")
            .field("location", &self.shown_location())
            .field("tls_bootstrap_token", &self.tls_bootstrap_token)
            .field("download_roots", &self.download_roots.as_ref().map(Vec::len))
            .field("timing", &self.timing)
            .finish()
    }
}

impl FileDiscovery {
    /// Discovery from `path_or_url`: a local path, a `file://` URL or an `https://` URL.
    pub fn new(path_or_url: impl Into<String>) -> Self {
        Self {
            location: path_or_url.into(),
            tls_bootstrap_token: None,
            download_roots: None,
            timing: Timing::default(),
        }
    }

    /// Timeouts and retry interval (default: kubeadm's, see [`Timing`]).
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// kubeadm's `tlsBootstrapToken`: the TLS bootstrap authenticates with it instead of the
    /// file's credentials.
    pub fn with_tls_bootstrap_token(mut self, token: BootstrapToken) -> Self {
        self.tls_bootstrap_token = Some(token);
        self
    }

    /// Trusted roots (DER) used **instead of the system trust store** wherever discovery would
    /// use it: the HTTPS download, and the cluster-info GET of a discovery kubeconfig without
    /// a CA. For private CAs and tests.
    pub fn with_download_roots(mut self, roots: Vec<Vec<u8>>) -> Self {
        self.download_roots = Some(roots);
        self
    }

    /// The path or URL as given.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The timeouts and retry interval.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Runs file/HTTPS discovery (see the module docs). The location is checked before any I/O.
    pub async fn discover(&self) -> Result<FileDiscovered, Error> {
        let config = match self.parse_location()? {
            Location::File(path) => {
                Config::from_file(&path).map_err(|source| Error::LoadDiscoveryFile { path, source })?
            }
            Location::Https(url) => {
                let bytes = self.download(&url).await?;
                let config = Config::from_bytes(&bytes).map_err(|source| Error::MalformedDownload {
                    url: url.to_string(),
                    source,
                })?;
                self.refuse_local_references(&config)?;
                config
            }
        };
        let mut current = self.checked(config)?;
        let client = self.cluster_info_client(&current).await?;
        let cluster_info = self.poll(&client, &current.cluster.server).await?;
        let forbidden = cluster_info.is_none();
        let ca_copied = match cluster_info.as_ref().and_then(cluster_info_cluster) {
            Some(offered) => self.merge_cluster_info(&mut current.cluster, offered)?,
            None => false,
        };
        Ok(FileDiscovered {
            kubeconfig: self.bootstrap_kubeconfig(current),
            ca_copied,
            forbidden,
        })
    }

    /// Checks the discovery kubeconfig in `bytes` as [`discover`](Self::discover) does before
    /// any network request (steps 3 and 4), so a tool can vet a file it obtained itself. Returns
    /// the bootstrap kubeconfig as it stands before the cluster-info GET (which may still add a
    /// missing CA). Only the files the kubeconfig references are read, relative to the current
    /// directory.
    ///
    /// # Errors
    /// The location's error when it is invalid; the bytes are not a kubeconfig
    /// ([`Error::LoadDiscoveryFile`] for a path, [`Error::MalformedDownload`] for a URL); the
    /// checks of steps 3 and 4.
    pub fn check_kubeconfig(&self, bytes: &[u8]) -> Result<Config, Error> {
        let parsed = Config::from_bytes(bytes);
        let config = match self.parse_location()? {
            Location::File(path) => parsed.map_err(|source| Error::LoadDiscoveryFile { path, source })?,
            Location::Https(url) => {
                let config = parsed.map_err(|source| Error::MalformedDownload {
                    url: url.to_string(),
                    source,
                })?;
                self.refuse_local_references(&config)?;
                config
            }
        };
        Ok(self.bootstrap_kubeconfig(self.checked(config)?))
    }

    /// A downloaded kubeconfig must carry its CA and credentials itself: a file path would make
    /// this node read its own files (and send a token file's token to the file's server), an
    /// exec or auth-provider plugin would run what the download chose. (kubeadm follows them.)
    fn refuse_local_references(&self, config: &Config) -> Result<(), Error> {
        let clusters = config
            .clusters
            .iter()
            .filter(|c| !c.cluster.certificate_authority.is_empty())
            .map(|c| format!("clusters[{}].cluster.certificate-authority", c.name));
        let users = config.users.iter().flat_map(|u| {
            let user = &u.user;
            [
                (!user.client_certificate.is_empty(), "client-certificate"),
                (!user.client_key.is_empty(), "client-key"),
                (!user.token_file.is_empty(), "tokenFile"),
                (user.exec.is_some(), "exec"),
                (user.auth_provider.is_some(), "auth-provider"),
            ]
            .into_iter()
            .filter(|(set, _)| *set)
            .map(move |(_, field)| format!("users[{}].user.{field}", u.name))
        });
        match clusters.chain(users).next() {
            Some(field) => Err(Error::DownloadReferencesLocal {
                url: self.shown_location(),
                field,
            }),
            None => Ok(()),
        }
    }

    /// Steps 3 and 4: the current cluster and user, and credentials unless a TLS bootstrap
    /// token replaces them.
    fn checked(&self, config: Config) -> Result<Current, Error> {
        let current = self.current(config)?;
        if self.tls_bootstrap_token.is_none() && !has_credentials(&current.user) {
            return Err(Error::NoCredentials {
                location: self.shown_location(),
            });
        }
        Ok(current)
    }

    /// With a TLS bootstrap token, kubeadm's `tls-bootstrap-token-user` kubeconfig for the
    /// file's server and CA; otherwise the file's own, flattened.
    fn bootstrap_kubeconfig(&self, current: Current) -> Config {
        match &self.tls_bootstrap_token {
            Some(token) => Config::bootstrap_token(
                &current.cluster.server,
                current.cluster.certificate_authority_data.clone(),
                SecretString::new(token.expose_secret().as_str()),
            ),
            None => current.into_kubeconfig(),
        }
    }

    /// The location as errors show it: a `file://user:password@host/...` URL is accepted (the
    /// host is ignored), so its user info must not reach an error either.
    fn shown_location(&self) -> String {
        redact_userinfo(&self.location)
    }

    /// Go's `url.Parse` scheme rules: a scheme is `[A-Za-z][A-Za-z0-9+.-]*` before the first
    /// `:`; without one the location is a path.
    fn parse_location(&self) -> Result<Location, Error> {
        let location = self.location.as_str();
        let invalid = |reason: &str| Error::InvalidLocation {
            location: redact_userinfo(location),
            reason: reason.to_owned(),
        };
        if location.is_empty() {
            return Err(invalid("the location is empty"));
        }
        let scheme = location.split_once(':').map(|(s, _)| s).filter(|s| {
            s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        });
        let Some(scheme) = scheme.map(str::to_ascii_lowercase) else {
            return Ok(Location::File(PathBuf::from(location)));
        };
        let rest = location.get(scheme.len().saturating_add(1)..).unwrap_or_default();
        match scheme.as_str() {
            "https" => {
                if redact_userinfo(location) != location {
                    return Err(invalid(
                        "credentials in the URL are not supported (they would be sent with the download and could \
                         end up in logs); put them in the discovery kubeconfig or use a TLS bootstrap token",
                    ));
                }
                let url: http::Uri = format!("https:{rest}")
                    .parse()
                    .map_err(|e| invalid(&format!("{e}")))?;
                if url.host().is_none_or(str::is_empty) {
                    return Err(invalid("the URL has no host"));
                }
                Ok(Location::Https(url))
            }
            "file" => {
                // file:///p and file://host/p both mean /p, as Go's u.Path.
                let path = rest
                    .strip_prefix("//")
                    .map_or(rest, |r| r.find('/').and_then(|i| r.get(i..)).unwrap_or(""));
                if path.is_empty() {
                    return Err(invalid("the file:// URL has no path"));
                }
                Ok(Location::File(PathBuf::from(path)))
            }
            _ => Err(Error::UnsupportedScheme {
                location: redact_userinfo(location),
                scheme,
            }),
        }
    }

    /// One GET of `url`, no redirects, body capped, bounded by the discovery timeout.
    async fn download(&self, url: &http::Uri) -> Result<Vec<u8>, Error> {
        let shown = url.to_string();
        let client_error = |source| Error::DownloadClient {
            url: shown.clone(),
            source,
        };
        let mut origin = http::Uri::builder().scheme("https").path_and_query("/");
        if let Some(authority) = url.authority() {
            origin = origin.authority(authority.clone());
        }
        let origin = origin
            .build()
            .map_err(|e| client_error(kube::Error::HttpError(e)))?;
        let mut config = kube::Config::new(origin);
        self.limit_requests(&mut config);
        // `None` is kube's platform verifier: the system trust store.
        config.root_cert = self.download_roots.clone();
        let client = Client::try_from(config).map_err(client_error)?;
        let path = url.path_and_query().map_or("/", |p| p.as_str());
        let request = http::Request::get(path)
            .body(kube::client::Body::empty())
            .map_err(|e| client_error(kube::Error::HttpError(e)))?;
        let fetch = async {
            let download_error = |source| Error::Download {
                url: shown.clone(),
                source,
            };
            let response = client.send(request).await.map_err(download_error)?;
            let status = response.status().as_u16();
            if status != 200 {
                return Err(Error::DownloadStatus {
                    url: shown.clone(),
                    status,
                });
            }
            match Limited::new(response.into_body(), MAX_DOWNLOAD_SIZE)
                .collect()
                .await
            {
                Ok(collected) => Ok(collected.to_bytes().to_vec()),
                Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Error::DownloadTooLarge {
                    url: shown.clone(),
                    limit: MAX_DOWNLOAD_SIZE,
                }),
                Err(e) => Err(download_error(kube::Error::Service(e))),
            }
        };
        tokio::time::timeout(self.timing.timeout(), fetch)
            .await
            .unwrap_or_else(|_elapsed| {
                Err(Error::DownloadTimeout {
                    url: shown.clone(),
                    timeout: self.timing.timeout(),
                })
            })
    }

    /// The per-request limits shared by the download and the cluster-info client.
    fn limit_requests(&self, config: &mut kube::Config) {
        self.timing.apply(config);
        config.default_retry = false;
    }

    /// kubeadm's `ValidateConfigInfo` checks 1–5: the current cluster and user, files read in.
    fn current(&self, config: Config) -> Result<Current, Error> {
        let location = || self.shown_location();
        if config.clusters.is_empty() {
            return Err(Error::NoCluster { location: location() });
        }
        let invalid = |source| Error::InvalidDiscoveryKubeconfig {
            location: location(),
            source,
        };
        let context = config
            .context(&config.current_context)
            .filter(|_| !config.current_context.is_empty());
        let cluster_name = if config.cluster("").is_some() {
            String::new()
        } else {
            match context.filter(|c| config.cluster(&c.context.cluster).is_some()) {
                Some(c) => c.context.cluster.clone(),
                None => {
                    return Err(Error::NoCurrentCluster {
                        location: location(),
                        current_context: config.current_context.clone(),
                    });
                }
            }
        };
        let resolved = match context {
            Some(_) => Some(config.resolve(None).map_err(invalid)?),
            None => None,
        };
        let mut flat = config;
        flat.flatten().map_err(invalid)?;
        let cluster = flat
            .cluster(&cluster_name)
            .map(|c| c.cluster.clone())
            .unwrap_or_default();
        // `resolve` checked only the context's cluster, if any; the CA used is this one's.
        cluster.check(&cluster_name).map_err(invalid)?;
        let (user_name, mut user) = resolved.map(|r| (Some(r.user_name), r.user)).unwrap_or_default();
        // The token file was read in: the bootstrap kubeconfig carries the token itself.
        user.token_file.clear();
        Ok(Current {
            config: flat,
            cluster_name,
            cluster,
            user_name,
            user,
        })
    }

    /// A client with the file's server, TLS settings and credentials.
    async fn cluster_info_client(&self, current: &Current) -> Result<Client, Error> {
        let server = &current.cluster.server;
        let client_error = |source| Error::FileClient {
            server: server.clone(),
            source,
        };
        let mut fetch = Config::bootstrap_token(server.as_str(), Vec::new(), SecretString::new(""));
        fetch.current_context = FETCH_NAME.to_owned();
        for named in &mut fetch.contexts {
            named.name = FETCH_NAME.to_owned();
        }
        for named in &mut fetch.clusters {
            named.cluster = current.cluster.clone();
        }
        for named in &mut fetch.users {
            named.user = current.user.clone();
        }
        let kubeconfig = fetch.to_kube().map_err(|e| client_error(Box::new(e)))?;
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| client_error(Box::new(e)))?;
        self.limit_requests(&mut config);
        config.default_namespace = NAMESPACE.to_owned();
        if config.root_cert.is_none() && !config.accept_invalid_certs {
            config.root_cert = self.download_roots.clone();
        }
        Client::try_from(config).map_err(|e| client_error(Box::new(e)))
    }

    /// Polls `GET kube-public/cluster-info` until it succeeds (`Some`), is forbidden (`None`:
    /// the TLS handshake checked the server, which is what this GET is for), or the timeout
    /// ends. The first attempt starts at once; then one per interval.
    async fn poll(&self, client: &Client, server: &str) -> Result<Option<ConfigMap>, Error> {
        let api: Api<ConfigMap> = Api::namespaced(client.clone(), NAMESPACE);
        let interval = self.timing.retry_interval();
        let mut last = None;
        let attempts = async {
            loop {
                let started = Instant::now();
                let error =
                    match tokio::time::timeout(self.timing.request_timeout(), api.get(CONFIG_MAP)).await {
                        Ok(Ok(cm)) => return Some(cm),
                        Ok(Err(kube::Error::Api(status))) if status.is_forbidden() => {
                            tracing::warn!(
                                server,
                                "the cluster-info ConfigMap is forbidden to the discovery kubeconfig's user, \
                             but the TLS cert is valid so proceeding"
                            );
                            return None;
                        }
                        Ok(Err(source)) => Error::FileFetch {
                            server: server.to_owned(),
                            source,
                        },
                        Err(_elapsed) => Error::FileRequestTimeout {
                            server: server.to_owned(),
                            timeout: self.timing.request_timeout(),
                        },
                    };
                tracing::debug!(server, error = %error, "cluster-info not available yet, retrying");
                last = Some(error);
                if let Some(next) = started.checked_add(interval) {
                    tokio::time::sleep_until(next).await;
                }
            }
        };
        match tokio::time::timeout(self.timing.timeout(), attempts).await {
            Ok(found) => Ok(found),
            Err(_elapsed) => Err(Error::ClusterInfoTimeout {
                timeout: self.timing.timeout(),
                last: Box::new(last.unwrap_or(Error::FileRequestTimeout {
                    server: server.to_owned(),
                    timeout: self.timing.timeout(),
                })),
            }),
        }
    }

    /// kubeadm's step 7: warn on another server; copy the CA when the file has none (refused
    /// under `insecure-skip-tls-verify`). Returns whether the CA was copied.
    fn merge_cluster_info(&self, cluster: &mut Cluster, offered: Cluster) -> Result<bool, Error> {
        if offered.server != cluster.server {
            tracing::warn!(
                file_server = %cluster.server,
                cluster_info_server = %offered.server,
                "the cluster-info ConfigMap names another server than the discovery kubeconfig; keeping the file's"
            );
        }
        if !cluster.certificate_authority_data.is_empty() || offered.certificate_authority_data.is_empty() {
            return Ok(false);
        }
        if cluster.insecure_skip_tls_verify {
            return Err(Error::InsecureCaCopy {
                location: self.shown_location(),
                server: cluster.server.clone(),
            });
        }
        cluster.certificate_authority_data = offered.certificate_authority_data;
        Ok(true)
    }
}

/// The validated discovery kubeconfig: flattened, with its current cluster and user.
struct Current {
    config: Config,
    cluster_name: String,
    cluster: Cluster,
    user_name: Option<String>,
    user: AuthInfo,
}

impl Current {
    /// The file's kubeconfig with the (possibly CA-augmented) cluster and the resolved user.
    fn into_kubeconfig(self) -> Config {
        let mut config = self.config;
        for named in config.clusters.iter_mut().filter(|c| c.name == self.cluster_name) {
            named.cluster = self.cluster.clone();
        }
        if let Some(user_name) = &self.user_name {
            for named in config.users.iter_mut().filter(|u| &u.name == user_name) {
                named.user = self.user.clone();
            }
        }
        config
    }
}

/// The cluster of cluster-info's `kubeconfig` (unnamed, else the first); parse problems only
/// log, as in kubeadm.
fn cluster_info_cluster(cm: &ConfigMap) -> Option<Cluster> {
    let Some(text) = cm.data.as_ref().and_then(|d| d.get(KUBECONFIG_KEY)) else {
        tracing::warn!("no {KUBECONFIG_KEY} key in ConfigMap");
        return None;
    };
    match Config::from_bytes(text.as_bytes()) {
        Ok(config) => {
            let named = config.cluster("").or(config.clusters.first());
            named.map(|n| n.cluster.clone())
        }
        Err(error) => {
            tracing::warn!(%error, "couldn't parse the kubeconfig in the cluster-info ConfigMap; ignoring it");
            None
        }
    }
}

/// client-go's "has credentials": a token, basic auth, a client certificate and key, or a
/// plugin.
fn has_credentials(user: &AuthInfo) -> bool {
    !user.token.is_empty()
        || (!user.username.is_empty() && !user.password.is_empty())
        || (!user.client_certificate_data.is_empty() && !user.client_key_data.is_empty())
        || user.exec.is_some()
        || user.auth_provider.is_some()
}

/// The outcome of file/HTTPS discovery.
#[derive(Clone, Debug)]
pub struct FileDiscovered {
    kubeconfig: Config,
    ca_copied: bool,
    forbidden: bool,
}

impl FileDiscovered {
    /// kubeadm's `bootstrap-kubelet.conf` (it holds credentials: save it 0600).
    pub fn bootstrap_kubeconfig(&self) -> &Config {
        &self.kubeconfig
    }

    /// Takes the bootstrap kubeconfig out.
    pub fn into_bootstrap_kubeconfig(self) -> Config {
        self.kubeconfig
    }

    /// Whether the file had no CA and the one from cluster-info was copied in.
    pub fn ca_copied_from_cluster_info(&self) -> bool {
        self.ca_copied
    }

    /// Whether the cluster-info GET was answered 403 (tolerated: the server's certificate was
    /// verified by the TLS handshake).
    pub fn cluster_info_forbidden(&self) -> bool {
        self.forbidden
    }
}

/// `scheme://user:password@host/...` with the user info replaced, so no error or log line
/// carries credentials someone put into a URL.
pub(crate) fn redact_userinfo(location: &str) -> String {
    let Some((scheme, rest)) = location.split_once("://") else {
        return location.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest
        .get(..authority_end)
        .and_then(|authority| authority.rsplit_once('@'))
    {
        Some((_, host)) => format!(
            "{scheme}://<redacted>@{host}{}",
            rest.get(authority_end..).unwrap_or_default()
        ),
        None => location.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(text: &str) -> Result<Location, Error> {
        FileDiscovery::new(text).parse_location()
    }

    #[test]
    fn locations_follow_kubeadm() {
        let file = |p: &str| Some(Location::File(PathBuf::from(p)));
        for (text, expected) in [
            (
                "/etc/kubernetes/discovery.yaml",
                file("/etc/kubernetes/discovery.yaml"),
            ),
            ("relative/dir:x/file", file("relative/dir:x/file")),
            ("file:///etc/d.yaml", file("/etc/d.yaml")),
            ("FILE://localhost/etc/d.yaml", file("/etc/d.yaml")),
        ] {
            assert_eq!(location(text).ok(), expected, "{text}");
        }
        let https = location("HTTPS://example.com:8443/d.yaml?x=1").unwrap();
        assert!(matches!(https, Location::Https(u) if u == "https://example.com:8443/d.yaml?x=1"));
        for (text, scheme) in [
            ("http://example.com/d", "http"),
            ("ftp://x/y", "ftp"),
            ("c:x", "c"),
        ] {
            match location(text) {
                Err(Error::UnsupportedScheme { scheme: s, .. }) => assert_eq!(s, scheme),
                other => panic!("{text}: {other:?}"),
            }
        }
        for text in [
            "https://user:s3cret@example.com/d.yaml",
            "http://user:s3cret@example.com/d",
        ] {
            let err = location(text).unwrap_err();
            assert!(!format!("{err} {err:?}").contains("s3cret"), "{err:?}");
            assert!(
                err.to_string().contains("https://<redacted>@example.com")
                    || err.to_string().contains("http://<redacted>@example.com"),
                "{err}"
            );
        }
        // A file:// URL with user info is accepted (the host is ignored), but no error or
        // Debug output shows the credentials.
        let discovery = FileDiscovery::new("file://user:s3cret@host/etc/d.yaml");
        assert!(
            matches!(location("file://user:s3cret@host/etc/d.yaml"), Ok(l) if l == *file("/etc/d.yaml").as_ref().unwrap())
        );
        let Err(err) = discovery.current(Config::default()) else {
            panic!("a kubeconfig without clusters was accepted");
        };
        assert!(matches!(err, Error::NoCluster { .. }), "{err:?}");
        for shown in [format!("{err} {err:?}"), format!("{discovery:?}")] {
            assert!(
                !shown.contains("s3cret") && shown.contains("file://<redacted>@host"),
                "{shown}"
            );
        }
        for text in ["", "https:///nohost", "file://"] {
            assert!(
                matches!(location(text), Err(Error::InvalidLocation { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn check_kubeconfig_runs_the_offline_steps() {
        let with_user = b"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://10.0.0.1:6443'}\n\
users:\n- name: u\n  user: {token: abcdefghijklmnop}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
        let discovery = FileDiscovery::new("/etc/kubernetes/discovery.yaml");
        let own = discovery.check_kubeconfig(with_user).unwrap();
        assert_eq!(own.current_context, "x");
        assert_eq!(own.clusters[0].cluster.server, "https://10.0.0.1:6443");

        let token: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse().unwrap();
        let bootstrap = discovery
            .clone()
            .with_tls_bootstrap_token(token)
            .check_kubeconfig(with_user)
            .unwrap();
        assert_eq!(bootstrap.current_context, "tls-bootstrap-token-user@kubernetes");
        assert_eq!(bootstrap.clusters[0].cluster.server, "https://10.0.0.1:6443");

        let no_user = b"clusters:\n- name: ''\n  cluster: {server: 'https://10.0.0.1:6443'}\n";
        assert!(matches!(
            discovery.check_kubeconfig(no_user),
            Err(Error::NoCredentials { .. })
        ));
        assert!(matches!(
            discovery.check_kubeconfig(b"clusters: 1"),
            Err(Error::LoadDiscoveryFile { .. })
        ));
        assert!(matches!(
            FileDiscovery::new("https://example.com/d.yaml").check_kubeconfig(b"clusters: 1"),
            Err(Error::MalformedDownload { .. })
        ));
        // Found by fuzz discovery_file: an unnamed cluster needs no context, so its CA was
        // never checked and a non-PEM CA went on into the bootstrap kubeconfig.
        let bad_ca =
            b"clusters:\n- cluster: {server: 'https://10.0.0.1:6443', certificate-authority-data: AAEC}\n";
        let with_token = discovery.with_tls_bootstrap_token("7h3k9q.x2m5p8r1t4w7z0c3".parse().unwrap());
        match with_token.check_kubeconfig(bad_ca) {
            Err(Error::InvalidDiscoveryKubeconfig { source, .. }) => {
                assert!(source.to_string().contains("certificate-authority"), "{source}")
            }
            other => panic!("a non-PEM CA was accepted: {other:?}"),
        }
    }

    /// A downloaded file may not make the node read its own files or run a plugin; a local one
    /// may (it is the node's own).
    #[test]
    fn downloaded_files_carry_everything_themselves() {
        let local_references = [
            (
                "clusters:\n- name: c\n  cluster: {server: 'https://h:6443', certificate-authority: /etc/ca.crt}\n",
                "clusters[c].cluster.certificate-authority",
            ),
            (
                "clusters:\n- name: ''\n  cluster: {server: 'https://h:6443'}\nusers:\n- name: u\n  user: {tokenFile: /var/run/secrets/token}\n",
                "users[u].user.tokenFile",
            ),
            (
                "clusters:\n- name: ''\n  cluster: {server: 'https://h:6443'}\nusers:\n- name: u\n  user: {client-key: /etc/k.key}\n",
                "users[u].user.client-key",
            ),
            (
                "clusters:\n- name: ''\n  cluster: {server: 'https://h:6443'}\nusers:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: sh, interactiveMode: Never}\n",
                "users[u].user.exec",
            ),
        ];
        let download = FileDiscovery::new("https://example.com/d.yaml");
        for (text, field) in local_references {
            match download.check_kubeconfig(text.as_bytes()) {
                Err(Error::DownloadReferencesLocal { url, field: refused }) => {
                    assert_eq!(
                        (url.as_str(), refused.as_str()),
                        ("https://example.com/d.yaml", field)
                    );
                }
                other => panic!("{field}: {other:?}"),
            }
        }
        let local = FileDiscovery::new("/etc/kubernetes/discovery.yaml");
        assert!(!matches!(
            local.check_kubeconfig(local_references[3].0.as_bytes()),
            Err(Error::DownloadReferencesLocal { .. })
        ));
    }
}
