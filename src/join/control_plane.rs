//! The control-plane half of `kubeadm join --control-plane`, and the upload it depends on.
//!
//! [`upload_certs()`] is `kubeadm init phase upload-certs` on a control-plane node: the shared CAs
//! and keys, encrypted with the certificate key, in `kube-system/kubeadm-certs`, owned by a
//! 2-hour bootstrap token so the garbage collector removes them with it, and readable by the
//! node bootstrap token group. `prepare` is the `control-plane-prepare` phase of the join: it
//! reads the cluster's `kube-system/kubeadm-config` ClusterConfiguration and that Secret with
//! the bootstrap token, decrypts and checks everything in memory, then writes the shared files
//! and generates this node's own certificates and kubeconfig files through pki's tree, with the
//! cluster's SANs, service subnet, DNS domain and endpoint. If anything after the first write fails, what the phase wrote is removed.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::serde::Serialize;
use k8s_openapi::serde::de::DeserializeOwned;
use kube::api::{Api, Patch, PatchParams};
use kubetrust_bootstrap_token::{BootstrapToken, TokenSpec, api as token_api};
use kubetrust_fs::{Mode, NewFile};
use kubetrust_kubeadm_config::net::HostPort;
use kubetrust_kubeconfig::Config;
use kubetrust_pki::kubeadm_config::KubeadmConfig;
use kubetrust_pki::kubeconfigs::{self, KUBECONFIG_FILES, KubeconfigAction, KubeconfigSpec};
use kubetrust_pki::tree::{self, Action, CertSpec, TreeConfig};
use kubetrust_pki::upload_certs::{
    self, CertificateKey, DownloadedFile, Etcd, NAMESPACE, OwnerRef, SECRET_NAME,
};
use kubetrust_pki::{Certificate, Dirs};

use super::{ControlPlane, ControlPlaneError, Event};

/// How long the `kubeadm-certs` Secret lives: the TTL of the token that owns it (kubeadm's
/// `DefaultCertTokenDuration`).
pub const CERTS_TOKEN_TTL: Duration = Duration::from_secs(2 * 3600);

/// The description kubeadm gives the token that owns `kubeadm-certs`.
pub const CERTS_TOKEN_DESCRIPTION: &str = "Proxy for managing TTL for the kubeadm-certs secret";

/// The kubeconfig files a joining control-plane node writes (kubeadm's join writes neither
/// `super-admin.conf`, which only `init` makes, nor `kubelet.conf`, which the TLS bootstrap
/// makes).
pub const JOIN_KUBECONFIG_FILES: [&str; 3] = ["admin.conf", "controller-manager.conf", "scheduler.conf"];

/// The field manager of the server-side applies made here.
const FIELD_MANAGER: &str = token_api::FIELD_MANAGER;

/// `kubeadm init phase upload-certs`: reads the shared CAs and keys under `cert_dir` (the etcd
/// CA, or with external etcd its client files), encrypts them with `key` and creates or
/// replaces `kube-system/kubeadm-certs`, owned by a new bootstrap token that expires after
/// [`CERTS_TOKEN_TTL`] (so the Secret is garbage-collected with it), plus the Role and
/// RoleBinding `kubeadm:kubeadm-certs` that let joining nodes read it.
///
/// The files are read before anything is sent, so a missing directory changes nothing.
///
/// # Errors
/// [`ControlPlaneError::ReadCerts`] for an unreadable file, [`ControlPlaneError::Token`] when
/// the owner token cannot be created, [`ControlPlaneError::Api`] naming the failed call.
pub async fn upload_certs(
    client: &kube::Client,
    cert_dir: &Path,
    key: &CertificateKey,
    etcd: &Etcd,
) -> Result<(), ControlPlaneError> {
    // Everything read and encrypted first; the owner is filled in once the token exists.
    let mut secret =
        upload_certs::build_secret(cert_dir, key, etcd, None).map_err(ControlPlaneError::ReadCerts)?;
    let owner = create_owner_token(client).await?;
    secret.metadata.owner_references = Some(vec![owner.to_owner_reference()]);
    apply(&Api::namespaced(client.clone(), NAMESPACE), &secret).await?;
    let (role, binding) = upload_certs::rbac();
    apply(&Api::namespaced(client.clone(), NAMESPACE), &role).await?;
    apply(&Api::namespaced(client.clone(), NAMESPACE), &binding).await
}

/// Creates the short-lived token whose Secret owns `kubeadm-certs`: no usages and no groups, so
/// it authenticates nobody; it exists for its expiration.
async fn create_owner_token(client: &kube::Client) -> Result<OwnerRef, ControlPlaneError> {
    let token = BootstrapToken::generate().map_err(ControlPlaneError::Token)?;
    let spec = TokenSpec::new(token)
        .with_description(CERTS_TOKEN_DESCRIPTION)
        .with_ttl(CERTS_TOKEN_TTL)
        .with_usages([])
        .with_groups(Vec::<String>::new());
    token_api::create_token(client, &spec, SystemTime::now())
        .await
        .map_err(ControlPlaneError::Token)?;
    let name = spec.id().secret_name();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), NAMESPACE);
    let created = secrets
        .get(&name)
        .await
        .map_err(api_error(format!("get Secret {NAMESPACE}/{name}")))?;
    let uid = created.metadata.uid.unwrap_or_default();
    Ok(OwnerRef::new(name, uid))
}

/// Server-side apply, forced: creates the object or replaces the fields this manager owns.
async fn apply<K>(api: &Api<K>, object: &K) -> Result<(), ControlPlaneError>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(object),
    )
    .await
    .map(|_| ())
    .map_err(api_error(format!("apply {} {NAMESPACE}/{name}", K::kind(&()))))
}

fn api_error(action: String) -> impl FnOnce(kube::Error) -> ControlPlaneError {
    move |source| ControlPlaneError::Api {
        action,
        source: Box::new(source),
    }
}

/// What the `control-plane-prepare` phase created, so that a later failure of the join can
/// remove it again (files first, then the directories it made, deepest first).
#[derive(Debug, Default)]
pub(super) struct Prepared {
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl Prepared {
    /// Removes what the phase created; directories only when empty.
    pub(super) fn remove(&self) {
        for file in &self.files {
            let _ = std::fs::remove_file(file);
        }
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }

    /// Records `dir` and its ancestors that do not exist yet (before they are created),
    /// outermost first.
    fn note_dir(&mut self, dir: &Path) {
        let mut missing: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|dir| !dir.as_os_str().is_empty() && !dir.exists())
            .map(Path::to_path_buf)
            .collect();
        missing.reverse();
        for dir in missing {
            if !self.dirs.contains(&dir) {
                self.dirs.push(dir);
            }
        }
    }
}

/// The `control-plane-prepare` phase: download, check, write the shared files, then this
/// node's certificates and kubeconfig files. On error nothing of this phase stays on disk.
pub(super) async fn prepare(
    control_plane: &ControlPlane,
    node_name: &str,
    bootstrap: &Config,
    events: &mut (dyn FnMut(Event) + Send),
) -> Result<Prepared, ControlPlaneError> {
    let cluster = bootstrap
        .resolve(None)
        .map_err(ControlPlaneError::BootstrapKubeconfig)?
        .cluster;
    let client = bootstrap_client(bootstrap).await?;
    let cluster_configuration = fetch_cluster_configuration(&client).await?;
    let tree_config = tree_config(control_plane, node_name, &cluster.server, &cluster_configuration)?;

    events(Event::DownloadingCerts);
    let secret = fetch_secret(client).await?;
    let files = upload_certs::download(
        &secret,
        &control_plane.certificate_key,
        &control_plane.cert_dir,
        &control_plane.etcd,
    )
    .map_err(|source| match source {
        kubetrust_pki::Error::SecretDecrypt { .. } => ControlPlaneError::WrongKey(source),
        other => ControlPlaneError::Download(other),
    })?;
    check_cluster_ca(
        &files,
        &control_plane.cert_dir,
        &cluster.certificate_authority_data,
    )?;
    let new_files = refuse_differing(files)?;

    let mut prepared = Prepared::default();
    let result = write_all(control_plane, &tree_config, new_files, &mut prepared, events);
    if result.is_err() {
        prepared.remove();
    }
    result.map(|()| prepared)
}

/// The ClusterConfiguration of `kube-system/kubeadm-config`, read with the bootstrap token as
/// kubeadm's join does; a missing ConfigMap is an error, as in kubeadm.
async fn fetch_cluster_configuration(client: &kube::Client) -> Result<KubeadmConfig, ControlPlaneError> {
    let yaml = token_api::get_kubeadm_config(client)
        .await
        .map_err(|e| match &e {
            kubetrust_bootstrap_token::Error::Api { source, .. }
                if matches!(source.as_ref(), kube::Error::Api(status) if status.code == 403) =>
            {
                ControlPlaneError::KubeadmConfigForbidden(e)
            }
            _ => ControlPlaneError::KubeadmConfigRead(e),
        })?
        .ok_or(ControlPlaneError::KubeadmConfigNotFound)?;
    KubeadmConfig::from_yaml(&yaml).map_err(ControlPlaneError::KubeadmConfigInvalid)
}

/// This node's tree: the cluster's ClusterConfiguration (API server SANs, service subnet, DNS
/// domain, key algorithm, validity periods, control-plane endpoint) with this node's name,
/// advertise address and bind port; without a `controlPlaneEndpoint` in it, the API server
/// that discovery found. The etcd mode is the join's (it decides which files the Secret holds).
fn tree_config(
    control_plane: &ControlPlane,
    node_name: &str,
    server: &str,
    cluster: &KubeadmConfig,
) -> Result<TreeConfig, ControlPlaneError> {
    let tree = cluster
        .tree_config(node_name, control_plane.advertise_address)
        .with_bind_port(control_plane.bind_port)
        .with_external_etcd(matches!(control_plane.etcd, Etcd::External { .. }));
    if !tree.control_plane_endpoint.is_empty() {
        return Ok(tree);
    }
    let authority = server
        .strip_prefix("https://")
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .ok_or_else(|| ControlPlaneError::Endpoint {
            server: server.to_owned(),
        })?;
    let mut endpoint = HostPort::parse(authority).map_err(|_| ControlPlaneError::Endpoint {
        server: server.to_owned(),
    })?;
    // An https URL without a port means 443, not this node's bind port.
    endpoint.port = endpoint.port.or(Some(443));
    Ok(tree.with_control_plane_endpoint(endpoint.to_string()))
}

/// A client authenticated with the bootstrap token of `bootstrap`.
async fn bootstrap_client(bootstrap: &Config) -> Result<kube::Client, ControlPlaneError> {
    let kubeconfig = bootstrap
        .to_kube()
        .map_err(ControlPlaneError::BootstrapKubeconfig)?;
    let options = kube::config::KubeConfigOptions::default();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| ControlPlaneError::Client(Box::new(e)))?;
    kube::Client::try_from(config).map_err(|e| ControlPlaneError::Client(Box::new(e)))
}

/// GET `kube-system/kubeadm-certs` as the bootstrap token.
async fn fetch_secret(client: kube::Client) -> Result<Secret, ControlPlaneError> {
    let secrets: Api<Secret> = Api::namespaced(client, NAMESPACE);
    secrets.get(SECRET_NAME).await.map_err(|e| match &e {
        kube::Error::Api(status) if status.code == 404 => ControlPlaneError::SecretNotFound,
        kube::Error::Api(status) if status.code == 403 => ControlPlaneError::Forbidden(Box::new(e)),
        _ => api_error(format!("get Secret {NAMESPACE}/{SECRET_NAME}"))(e),
    })
}

/// The Secret's `ca.crt` must be the CA discovery trusted: else it was uploaded by another
/// cluster, and its CA keys must not become this node's.
fn check_cluster_ca(
    files: &[DownloadedFile],
    cert_dir: &Path,
    discovered: &[u8],
) -> Result<(), ControlPlaneError> {
    let ca_path = tree::CLUSTER_CA.cert_path(cert_dir);
    let uploaded = files
        .iter()
        .find(|file| file.path == ca_path)
        .and_then(|file| Certificate::from_pem(&file.contents).ok());
    let trusted = Certificate::chain_from_pem(discovered).unwrap_or_default();
    match uploaded {
        Some(ca) if trusted.iter().any(|t| t.der() == ca.der()) => Ok(()),
        _ => Err(ControlPlaneError::OtherCluster),
    }
}

/// Keeps the files to write: an existing file with the same contents is reused, one with other
/// contents is refused (as `certs init` refuses what does not fit), before anything is written.
fn refuse_differing(files: Vec<DownloadedFile>) -> Result<Vec<DownloadedFile>, ControlPlaneError> {
    let mut new = Vec::with_capacity(files.len());
    for file in files {
        match std::fs::read(&file.path) {
            Ok(existing) if existing == file.contents.as_slice() => {}
            Ok(_) => return Err(ControlPlaneError::ExistingFileDiffers { path: file.path }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => new.push(file),
            Err(source) => {
                return Err(ControlPlaneError::ReadExisting {
                    path: file.path,
                    source,
                });
            }
        }
    }
    Ok(new)
}

/// Writes the shared files, then creates the tree and the kubeconfig files, recording in
/// `prepared` everything created.
fn write_all(
    control_plane: &ControlPlane,
    tree_config: &TreeConfig,
    files: Vec<DownloadedFile>,
    prepared: &mut Prepared,
    events: &mut (dyn FnMut(Event) + Send),
) -> Result<(), ControlPlaneError> {
    let cert_dir = &control_plane.cert_dir;
    events(Event::SavingCerts {
        cert_dir: cert_dir.clone(),
    });
    for file in &files {
        prepared.note_dir(file.path.parent().unwrap_or(cert_dir));
    }
    for dir in &prepared.dirs {
        kubetrust_fs::create_dir_all(dir, Mode::PUBLIC_DIR).map_err(ControlPlaneError::Write)?;
    }
    let batch: Vec<NewFile<'_>> = files
        .iter()
        .map(|file| NewFile {
            path: &file.path,
            contents: &file.contents,
            mode: Mode::from_bits(file.mode),
        })
        .collect();
    // Everything is recorded before it is written (none of it existed), so a write that
    // fails half-way is undone too.
    prepared.files.extend(files.iter().map(|f| f.path.clone()));
    kubetrust_fs::write_new_all(&batch).map_err(ControlPlaneError::Write)?;

    let now = SystemTime::now();
    prepared.note_dir(&cert_dir.join("etcd"));
    let planned = tree::plan(cert_dir, tree_config, now).map_err(ControlPlaneError::Certs)?;
    for (item, spec) in planned.items.iter().zip(CertSpec::for_config(tree_config)) {
        if matches!(item.action, Action::Create) {
            prepared.files.push(spec.cert_path(cert_dir));
            prepared.files.push(spec.key_path(cert_dir));
        }
    }
    let plan = tree::create(cert_dir, tree_config, now).map_err(ControlPlaneError::Certs)?;
    for line in plan.lines() {
        events(Event::Certs(line));
    }

    let dirs = Dirs::new(cert_dir.clone(), control_plane.kubeconfig_dir.clone());
    let specs: Vec<KubeconfigSpec> = KUBECONFIG_FILES
        .into_iter()
        .filter(|spec| JOIN_KUBECONFIG_FILES.contains(&spec.file_name))
        .collect();
    prepared.note_dir(&dirs.kubeconfig_dir);
    let planned = kubeconfigs::plan(&dirs, tree_config, &specs).map_err(ControlPlaneError::Kubeconfigs)?;
    prepared.files.extend(
        planned
            .into_iter()
            .filter(|item| matches!(item.action, KubeconfigAction::Create))
            .map(|item| item.path),
    );
    let items =
        kubeconfigs::create(&dirs, tree_config, &specs, now).map_err(ControlPlaneError::Kubeconfigs)?;
    for item in items {
        events(Event::Kubeconfig(item.line()));
    }
    Ok(())
}
