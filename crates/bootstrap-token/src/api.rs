//! Tokens, `cluster-info` and the bootstrap RBAC through a [`kube::Client`] (feature `kube`).
//!
//! Everything here is a thin wire over the pure functions of this crate: the Secrets come from
//! [`TokenSpec::to_secret`] / [`TokenSpec::from_secret`], the objects of kubeadm's
//! bootstrap-token phase from [`crate::cluster_info_config_map`] and friends. The setup calls
//! use server-side apply (field manager [`FIELD_MANAGER`], forced), so running them again
//! converges instead of failing, and keys other managers own (the signer's
//! `jws-kubeconfig-*`) are left alone.
//!
//! ```no_run
//! # async fn demo(client: kube::Client) -> Result<(), kubetrust_bootstrap_token::Error> {
//! use std::time::SystemTime;
//! use kubetrust_bootstrap_token::{api, BootstrapToken, TokenSpec};
//! let spec = TokenSpec::new(BootstrapToken::generate()?);
//! api::create_token(&client, &spec, SystemTime::now()).await?;
//! for token in api::list_tokens(&client).await?.0 {
//!     println!("{} {:?} {:?}", token.id(), token.time_left(SystemTime::now()), token.usages);
//! }
//! # Ok(()) }
//! ```

use std::time::SystemTime;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::serde::Serialize;
use k8s_openapi::serde::de::DeserializeOwned;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};

use crate::cluster_info::{
    CLUSTER_INFO_RBAC_NAME, NODE_AUTOAPPROVE_BOOTSTRAP_BINDING, cluster_info_config_map, cluster_info_role,
    cluster_info_role_binding, node_bootstrap_cluster_role_bindings,
};
use crate::error::Error;
use crate::signer::SkippedSecret;
use crate::spec::TokenSpec;
use crate::{
    CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, KUBECONFIG_KEY, SECRET_NAMESPACE, SECRET_TYPE, TokenId,
};

/// The field manager of every server-side apply made here.
pub const FIELD_MANAGER: &str = "kubetrust";

fn status_code(err: &kube::Error) -> Option<u16> {
    match err {
        kube::Error::Api(status) => Some(status.code),
        _ => None,
    }
}

fn api_error(action: String) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Api {
        action,
        source: Box::new(source),
    }
}

fn secrets(client: &Client) -> Api<Secret> {
    Api::namespaced(client.clone(), SECRET_NAMESPACE)
}

/// Creates the token's Secret (`kubeadm token create`). An existing token with the same id is
/// [`Error::TokenExists`]; the spec is validated first. A TTL counts from `now`.
pub async fn create_token(client: &Client, spec: &TokenSpec, now: SystemTime) -> Result<(), Error> {
    let secret = spec.to_secret(now)?;
    let id = *spec.id();
    match secrets(client).create(&PostParams::default(), &secret).await {
        Ok(_) => Ok(()),
        Err(e) if status_code(&e) == Some(409) => Err(Error::TokenExists { token_id: id }),
        Err(e) => Err(api_error(format!(
            "create Secret {SECRET_NAMESPACE}/{}",
            id.secret_name()
        ))(e)),
    }
}

/// Reads one token; `None` if its Secret does not exist.
pub async fn get_token(client: &Client, id: &TokenId) -> Result<Option<TokenSpec>, Error> {
    let name = id.secret_name();
    let secret = secrets(client)
        .get_opt(&name)
        .await
        .map_err(api_error(format!("get Secret {SECRET_NAMESPACE}/{name}")))?;
    secret.as_ref().map(TokenSpec::from_secret).transpose()
}

/// Lists the tokens (`kubeadm token list`): every Secret of type
/// `bootstrap.kubernetes.io/token` in `kube-system`, sorted by id, and the Secrets that are
/// not valid tokens with the reason (kubeadm prints those to stderr and goes on).
///
/// A [`TokenSpec`] shows its id, usages, groups, description and [`TokenSpec::time_left`]; its
/// secret only through [`crate::BootstrapToken::expose_secret`].
pub async fn list_tokens(client: &Client) -> Result<(Vec<TokenSpec>, Vec<SkippedSecret>), Error> {
    let list = secrets(client)
        .list(&ListParams::default().fields(&format!("type={SECRET_TYPE}")))
        .await
        .map_err(api_error(format!("list Secrets in {SECRET_NAMESPACE}")))?;
    let mut tokens = Vec::new();
    let mut skipped = Vec::new();
    for secret in &list.items {
        match TokenSpec::from_secret(secret) {
            Ok(spec) => tokens.push(spec),
            Err(reason) => skipped.push(SkippedSecret {
                name: secret.metadata.name.clone().unwrap_or_default(),
                reason,
            }),
        }
    }
    tokens.sort_by(|a, b| a.id().cmp(b.id()));
    Ok((tokens, skipped))
}

/// Deletes a token (`kubeadm token delete`); `false` if it did not exist.
pub async fn delete_token(client: &Client, id: &TokenId) -> Result<bool, Error> {
    let name = id.secret_name();
    match secrets(client).delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(true),
        Err(e) if status_code(&e) == Some(404) => Ok(false),
        Err(e) => Err(api_error(format!("delete Secret {SECRET_NAMESPACE}/{name}"))(e)),
    }
}

async fn apply<K>(api: &Api<K>, object: &K, what: &str) -> Result<(), Error>
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    api.patch(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(object),
    )
    .await
    .map(|_| ())
    .map_err(api_error(format!("apply {what}{name}")))
}

/// Creates or updates `kube-public/cluster-info` with the cluster's `server` URL and CA bundle
/// (PEM) and the Role and RoleBinding `kubeadm:bootstrap-signer-clusterinfo` that let
/// anonymous users read it (kubeadm's `bootstrap-token` phase, cluster-info half). The
/// signer's `jws-kubeconfig-*` keys are kept; it re-signs when the content changed.
pub async fn setup_cluster_info(client: &Client, server: &str, ca_pem: &[u8]) -> Result<(), Error> {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), CLUSTER_INFO_NAMESPACE);
    apply(
        &config_maps,
        &cluster_info_config_map(server, ca_pem),
        "ConfigMap kube-public/",
    )
    .await?;
    let roles: Api<Role> = Api::namespaced(client.clone(), CLUSTER_INFO_NAMESPACE);
    apply(&roles, &cluster_info_role(), "Role kube-public/").await?;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), CLUSTER_INFO_NAMESPACE);
    apply(
        &bindings,
        &cluster_info_role_binding(),
        "RoleBinding kube-public/",
    )
    .await
}

/// Creates or updates the ClusterRoleBindings `kubeadm:kubelet-bootstrap`,
/// `kubeadm:node-autoapprove-bootstrap` and `kubeadm:node-autoapprove-certificate-rotation`
/// (kubeadm's `bootstrap-token` phase, TLS-bootstrap half).
pub async fn setup_node_bootstrap_rbac(client: &Client) -> Result<(), Error> {
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    for binding in node_bootstrap_cluster_role_bindings() {
        apply(&bindings, &binding, "ClusterRoleBinding ").await?;
    }
    Ok(())
}

/// Hardening step of the kubeadm docs: turn off auto-approval of node client certificates by
/// deleting `kubeadm:node-autoapprove-bootstrap`. New nodes' CSRs then wait for manual
/// approval. `false` if it was already off.
pub async fn disable_node_client_auto_approval(client: &Client) -> Result<bool, Error> {
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    match bindings
        .delete(NODE_AUTOAPPROVE_BOOTSTRAP_BINDING, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if status_code(&e) == Some(404) => Ok(false),
        Err(e) => Err(api_error(format!(
            "delete ClusterRoleBinding {NODE_AUTOAPPROVE_BOOTSTRAP_BINDING}"
        ))(e)),
    }
}

/// Hardening step of the kubeadm docs: turn off public access to `cluster-info`. Reads its
/// `kubeconfig` first and returns it: save it as the discovery file for `--discovery-file`
/// joins, since token discovery stops working. Then deletes the RoleBinding
/// `kubeadm:bootstrap-signer-clusterinfo` (already gone is fine).
pub async fn disable_cluster_info_public_access(client: &Client) -> Result<String, Error> {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), CLUSTER_INFO_NAMESPACE);
    let config_map = config_maps
        .get_opt(CLUSTER_INFO_NAME)
        .await
        .map_err(api_error(format!(
            "get ConfigMap {CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_NAME}"
        )))?;
    let kubeconfig = config_map
        .and_then(|cm| cm.data)
        .and_then(|mut data| data.remove(KUBECONFIG_KEY))
        .ok_or(Error::ClusterInfoNotFound)?;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), CLUSTER_INFO_NAMESPACE);
    match bindings
        .delete(CLUSTER_INFO_RBAC_NAME, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(kubeconfig),
        Err(e) if status_code(&e) == Some(404) => Ok(kubeconfig),
        Err(e) => Err(api_error(format!(
            "delete RoleBinding {CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_RBAC_NAME}"
        ))(e)),
    }
}
