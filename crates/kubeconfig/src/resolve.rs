//! Resolving: which cluster and user a context means, with referenced files read in.

use std::path::{Path, PathBuf};

use crate::model::Origin;
use crate::pem::{PRIVATE_KEY_LABELS, check_blocks};
use crate::{
    AuthInfo, Cluster, Config, Error, NamedAuthInfo, NamedCluster, NamedContext, SecretBytes, SecretString,
};

/// The effective connection settings of one context: what a client needs to talk to the API.
///
/// File references are read in: `cluster.certificate_authority_data`,
/// `user.client_certificate_data`/`client_key_data` hold the PEM (checked), and `user.token`
/// holds the content of `tokenFile` when one is set. Remaining paths (`tokenFile`, an exec
/// command with a `/`) are absolute.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Resolved {
    /// The context's name.
    pub context_name: String,
    /// The context's namespace (`""` when unset).
    pub namespace: String,
    /// The cluster's name.
    pub cluster_name: String,
    /// The cluster, CA read in.
    pub cluster: Cluster,
    /// The user's name.
    pub user_name: String,
    /// The user, certificate, key and token file read in.
    pub user: AuthInfo,
}

impl Config {
    /// The cluster named `name`.
    pub fn cluster(&self, name: &str) -> Option<&NamedCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }

    /// The user named `name`.
    pub fn user(&self, name: &str) -> Option<&NamedAuthInfo> {
        self.users.iter().find(|u| u.name == name)
    }

    /// The context named `name`.
    pub fn context(&self, name: &str) -> Option<&NamedContext> {
        self.contexts.iter().find(|c| c.name == name)
    }

    /// The context named `name`, or the current context when `name` is `None`.
    pub fn context_or_current(&self, name: Option<&str>) -> Result<&NamedContext, Error> {
        let name = match name {
            Some(name) => name,
            None if self.current_context.is_empty() => return Err(Error::NoCurrentContext),
            None => &self.current_context,
        };
        self.context(name).ok_or_else(|| Error::UnknownContext {
            name: name.to_owned(),
            available: self.contexts.iter().map(|c| c.name.clone()).collect(),
        })
    }

    /// The effective cluster and user of a context (the current one when `context` is `None`),
    /// with referenced files read in and all certificate and key data checked.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("config");
    /// # std::fs::write(&path, "
    /// # clusters: [{name: k, cluster: {server: 'https://k:6443'}}]
    /// # users: [{name: u, user: {token: abcdef.0123456789abcdef}}]
    /// # contexts: [{name: u@k, context: {cluster: k, user: u}}]
    /// # current-context: u@k").unwrap();
    /// let config = kubetrust_kubeconfig::Config::from_file(&path)?;
    /// let resolved = config.resolve(None)?;
    /// assert_eq!(resolved.cluster.server, "https://k:6443");
    /// assert_eq!(resolved.user.token.expose_secret(), "abcdef.0123456789abcdef");
    /// # Ok::<(), kubetrust_kubeconfig::Error>(())
    /// ```
    pub fn resolve(&self, context: Option<&str>) -> Result<Resolved, Error> {
        let named = self.context_or_current(context)?;
        let ctx = &named.context;
        let cluster = self.cluster(&ctx.cluster).ok_or_else(|| Error::UnknownCluster {
            context: named.name.clone(),
            cluster: ctx.cluster.clone(),
        })?;
        let user = self.user(&ctx.user).ok_or_else(|| Error::UnknownUser {
            context: named.name.clone(),
            user: ctx.user.clone(),
        })?;
        let mut resolved_cluster = cluster.cluster.clone();
        embed_cluster_files(&mut resolved_cluster)?;
        check_cluster(&cluster.name, &resolved_cluster)?;
        let mut resolved_user = user.user.clone();
        embed_user_files(&mut resolved_user)?;
        read_token_file(&mut resolved_user)?;
        absolutize_exec_command(&mut resolved_user);
        check_user(&user.name, &resolved_user)?;
        Ok(Resolved {
            context_name: named.name.clone(),
            namespace: ctx.namespace.clone(),
            cluster_name: cluster.name.clone(),
            cluster: resolved_cluster,
            user_name: user.name.clone(),
            user: resolved_user,
        })
    }

    /// Only one context, its cluster and its user, with `current-context` set to it:
    /// client-go's `MinifyConfig`, behind `kubectl config view --minify [--context]`.
    ///
    /// The context is `context`, or the current one when `context` is `None` or empty (as an
    /// empty `--context` is no flag for kubectl). It must be named
    /// ([`Error::NoCurrentContext`]) and exist ([`Error::UnknownContext`]); a cluster or user
    /// it names must exist too ([`Error::UnknownCluster`], [`Error::UnknownUser`]), while an
    /// empty name keeps no cluster or user. Preferences and extensions stay.
    pub fn minify(&self, context: Option<&str>) -> Result<Config, Error> {
        let named = self.context_or_current(context.filter(|name| !name.is_empty()))?;
        let ctx = &named.context;
        let cluster = match ctx.cluster.as_str() {
            "" => None,
            name => Some(self.cluster(name).ok_or_else(|| Error::UnknownCluster {
                context: named.name.clone(),
                cluster: name.to_owned(),
            })?),
        };
        let user = match ctx.user.as_str() {
            "" => None,
            name => Some(self.user(name).ok_or_else(|| Error::UnknownUser {
                context: named.name.clone(),
                user: name.to_owned(),
            })?),
        };
        Ok(Config {
            preferences: self.preferences.clone(),
            current_context: named.name.clone(),
            extensions: self.extensions.clone(),
            unknown_fields: self.unknown_fields.clone(),
            contexts: vec![named.clone()],
            clusters: cluster.cloned().into_iter().collect(),
            users: user.cloned().into_iter().collect(),
            ..Config::default()
        })
    }

    /// Embeds every referenced client certificate, key and certificate authority into the
    /// `-data` fields and clears the paths: client-go's `FlattenConfig`, behind
    /// `kubectl config view --flatten`.
    ///
    /// Users are done first, then clusters. A path next to data already set is refused
    /// ([`Error::PathAndData`]) and an unreadable file stops it ([`Error::ReferencedFile`],
    /// [`Error::ReferencedDirectory`]); the content is not checked, as with kubectl.
    /// `tokenFile` stays a path. On error, `self` may be partly flattened.
    pub fn flatten(&mut self) -> Result<(), Error> {
        for named in &mut self.users {
            let user = &named.user;
            refuse_path_and_data(
                &named.name,
                "client-certificate",
                &user.client_certificate,
                &user.client_certificate_data,
            )?;
            refuse_path_and_data(
                &named.name,
                "client-key",
                &user.client_key,
                user.client_key_data.expose_secret(),
            )?;
            embed_user_files(&mut named.user)?;
        }
        for named in &mut self.clusters {
            let cluster = &named.cluster;
            refuse_path_and_data(
                &named.name,
                "certificate-authority",
                &cluster.certificate_authority,
                &cluster.certificate_authority_data,
            )?;
            embed_cluster_files(&mut named.cluster)?;
        }
        Ok(())
    }
}

/// Flattening keeps one source per item: a path and data both set is an error, not a choice.
fn refuse_path_and_data(owner: &str, field: &'static str, path: &str, data: &[u8]) -> Result<(), Error> {
    if path.is_empty() || data.is_empty() {
        return Ok(());
    }
    Err(Error::PathAndData {
        field,
        owner: owner.to_owned(),
    })
}

/// A path as client-go resolves it: relative to the directory of the file that defined it.
pub(crate) fn resolve_path(origin: &Origin, path: &str) -> PathBuf {
    let path = Path::new(path);
    match origin.0.as_deref().and_then(Path::parent) {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => path.to_path_buf(),
    }
}

fn read_referenced(field: &'static str, origin: &Origin, path: &str) -> Result<Vec<u8>, Error> {
    let path = resolve_path(origin, path);
    if path.is_dir() {
        return Err(Error::ReferencedDirectory { field, path });
    }
    kubetrust_fs::read(&path).map_err(|source| Error::ReferencedFile { field, path, source })
}

fn embed_cluster_files(cluster: &mut Cluster) -> Result<(), Error> {
    if !cluster.certificate_authority.is_empty() {
        if cluster.certificate_authority_data.is_empty() {
            cluster.certificate_authority_data = read_referenced(
                "certificate-authority",
                &cluster.origin,
                &cluster.certificate_authority,
            )?;
        }
        cluster.certificate_authority.clear();
    }
    Ok(())
}

fn embed_user_files(user: &mut AuthInfo) -> Result<(), Error> {
    if !user.client_certificate.is_empty() {
        if user.client_certificate_data.is_empty() {
            user.client_certificate_data =
                read_referenced("client-certificate", &user.origin, &user.client_certificate)?;
        }
        user.client_certificate.clear();
    }
    if !user.client_key.is_empty() {
        if user.client_key_data.is_empty() {
            user.client_key_data =
                SecretBytes::new(read_referenced("client-key", &user.origin, &user.client_key)?);
        }
        user.client_key.clear();
    }
    Ok(())
}

/// `tokenFile` wins over `token` (client-go re-reads it; a resolved snapshot reads it once).
fn read_token_file(user: &mut AuthInfo) -> Result<(), Error> {
    if user.token_file.is_empty() {
        return Ok(());
    }
    let bytes = read_referenced("tokenFile", &user.origin, &user.token_file)?;
    let path = resolve_path(&user.origin, &user.token_file);
    let token = String::from_utf8(bytes).map_err(|_| Error::TokenFileNotText { path: path.clone() })?;
    user.token = SecretString::new(token.trim());
    user.token_file = path.to_string_lossy().into_owned();
    Ok(())
}

/// client-go resolves the exec command against the kubeconfig's directory only when it
/// contains a path separator; a bare name is looked up in `PATH`.
pub(crate) fn absolutize_exec_command(user: &mut AuthInfo) {
    if let Some(exec) = user.exec.as_mut().filter(|exec| exec.command.contains('/')) {
        exec.command = resolve_path(&user.origin, &exec.command)
            .to_string_lossy()
            .into_owned();
    }
}

impl Cluster {
    /// What [`Config::resolve`] checks of the cluster it reads: CA data, when set, holds a
    /// `CERTIFICATE` PEM block. For callers that pick a cluster without a context (kubeadm's
    /// file discovery takes the unnamed one); `name` names it in the error.
    ///
    /// # Errors
    /// [`Error::InvalidPem`] for `certificate-authority`.
    pub fn check(&self, name: &str) -> Result<(), Error> {
        check_cluster(name, self)
    }
}

fn check_cluster(name: &str, cluster: &Cluster) -> Result<(), Error> {
    if !cluster.certificate_authority_data.is_empty() {
        check_blocks(&cluster.certificate_authority_data, &["CERTIFICATE"]).map_err(|reason| {
            Error::InvalidPem {
                field: "certificate-authority",
                owner: name.to_owned(),
                reason,
            }
        })?;
    }
    Ok(())
}

fn check_user(name: &str, user: &AuthInfo) -> Result<(), Error> {
    let has_cert = !user.client_certificate_data.is_empty();
    let has_key = !user.client_key_data.is_empty();
    if has_cert != has_key {
        return Err(Error::IncompleteClientCertificate {
            user: name.to_owned(),
            missing: if has_cert {
                "client-key"
            } else {
                "client-certificate"
            },
        });
    }
    if has_cert {
        check_blocks(&user.client_certificate_data, &["CERTIFICATE"]).map_err(|reason| {
            Error::InvalidPem {
                field: "client-certificate",
                owner: name.to_owned(),
                reason,
            }
        })?;
        check_blocks(user.client_key_data.expose_secret(), &PRIVATE_KEY_LABELS).map_err(|reason| {
            Error::InvalidPem {
                field: "client-key",
                owner: name.to_owned(),
                reason,
            }
        })?;
    }
    Ok(())
}
