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
use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
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
    CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, DEFAULT_NODE_TOKEN_GROUP, KUBECONFIG_KEY, SECRET_NAMESPACE,
    SECRET_TYPE, TokenId,
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

/// Creates the tokens, or updates those whose id exists (kubeadm's `UpdateOrCreateTokens`, as
/// `init phase bootstrap-token` calls it): running the phase again with the same
/// `bootstrapTokens` converges. Every spec is validated before anything is sent.
pub async fn create_or_update_tokens(
    client: &Client,
    specs: &[TokenSpec],
    now: SystemTime,
) -> Result<(), Error> {
    let secrets_to_apply = specs
        .iter()
        .map(|spec| spec.to_secret(now))
        .collect::<Result<Vec<_>, _>>()?;
    let api = secrets(client);
    for secret in &secrets_to_apply {
        apply(&api, secret, "Secret kube-system/").await?;
    }
    Ok(())
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

/// The ClusterRole and ClusterRoleBinding that let the default node token group get Node
/// objects (kubeadm's join looks its node name up before the TLS bootstrap).
pub const GET_NODES_RBAC_NAME: &str = "kubeadm:get-nodes";

/// `kube-system/kubeadm-config`: the ClusterConfiguration `kubeadm init` uploads and every join
/// reads with its bootstrap token.
pub const KUBEADM_CONFIG_NAME: &str = "kubeadm-config";

/// The key of [`KUBEADM_CONFIG_NAME`] holding the ClusterConfiguration YAML.
pub const CLUSTER_CONFIGURATION_KEY: &str = "ClusterConfiguration";

/// The Role and RoleBinding that let bootstrap tokens and nodes read [`KUBEADM_CONFIG_NAME`].
pub const KUBEADM_CONFIG_RBAC_NAME: &str = "kubeadm:nodes-kubeadm-config";

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace: namespace.map(str::to_owned),
        ..ObjectMeta::default()
    }
}

fn get_rule(resource: &str, names: Option<&str>) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(vec![resource.to_owned()]),
        resource_names: names.map(|name| vec![name.to_owned()]),
        verbs: vec!["get".to_owned()],
        non_resource_urls: None,
    }
}

fn groups(names: &[&str]) -> Option<Vec<Subject>> {
    Some(
        names
            .iter()
            .map(|name| Subject {
                api_group: Some(RBAC_GROUP.to_owned()),
                kind: "Group".to_owned(),
                name: (*name).to_owned(),
                namespace: None,
            })
            .collect(),
    )
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: RBAC_GROUP.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
    }
}

/// Creates or updates the ClusterRoleBindings `kubeadm:kubelet-bootstrap`,
/// `kubeadm:node-autoapprove-bootstrap` and `kubeadm:node-autoapprove-certificate-rotation`,
/// and the ClusterRole and ClusterRoleBinding [`GET_NODES_RBAC_NAME`] (kubeadm's
/// `bootstrap-token` phase, TLS-bootstrap half).
pub async fn setup_node_bootstrap_rbac(client: &Client) -> Result<(), Error> {
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let get_nodes = ClusterRole {
        metadata: meta(GET_NODES_RBAC_NAME, None),
        rules: Some(vec![get_rule("nodes", None)]),
        ..ClusterRole::default()
    };
    apply(&roles, &get_nodes, "ClusterRole ").await?;
    let bindings: Api<ClusterRoleBinding> = Api::all(client.clone());
    let get_nodes_binding = ClusterRoleBinding {
        metadata: meta(GET_NODES_RBAC_NAME, None),
        role_ref: role_ref("ClusterRole", GET_NODES_RBAC_NAME),
        subjects: groups(&[DEFAULT_NODE_TOKEN_GROUP]),
    };
    apply(&bindings, &get_nodes_binding, "ClusterRoleBinding ").await?;
    for binding in node_bootstrap_cluster_role_bindings() {
        apply(&bindings, &binding, "ClusterRoleBinding ").await?;
    }
    Ok(())
}

/// kubeadm's `upload-config kubeadm` phase: creates or updates `kube-system/kubeadm-config`
/// with `cluster_configuration` (a ClusterConfiguration YAML document) under
/// [`CLUSTER_CONFIGURATION_KEY`], and the Role and RoleBinding [`KUBEADM_CONFIG_RBAC_NAME`]
/// that let the default node token group and `system:nodes` read it, as joins do.
pub async fn upload_kubeadm_config(client: &Client, cluster_configuration: &str) -> Result<(), Error> {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), SECRET_NAMESPACE);
    let config_map = ConfigMap {
        metadata: meta(KUBEADM_CONFIG_NAME, Some(SECRET_NAMESPACE)),
        data: Some(BTreeMap::from([(
            CLUSTER_CONFIGURATION_KEY.to_owned(),
            cluster_configuration.to_owned(),
        )])),
        ..ConfigMap::default()
    };
    apply(&config_maps, &config_map, "ConfigMap kube-system/").await?;
    let roles: Api<Role> = Api::namespaced(client.clone(), SECRET_NAMESPACE);
    let role = Role {
        metadata: meta(KUBEADM_CONFIG_RBAC_NAME, Some(SECRET_NAMESPACE)),
        rules: Some(vec![get_rule("configmaps", Some(KUBEADM_CONFIG_NAME))]),
    };
    apply(&roles, &role, "Role kube-system/").await?;
    let bindings: Api<RoleBinding> = Api::namespaced(client.clone(), SECRET_NAMESPACE);
    let binding = RoleBinding {
        metadata: meta(KUBEADM_CONFIG_RBAC_NAME, Some(SECRET_NAMESPACE)),
        role_ref: role_ref("Role", KUBEADM_CONFIG_RBAC_NAME),
        subjects: groups(&[DEFAULT_NODE_TOKEN_GROUP, "system:nodes"]),
    };
    apply(&bindings, &binding, "RoleBinding kube-system/").await
}

/// Reads the ClusterConfiguration YAML of `kube-system/kubeadm-config` (what a join reads with
/// its bootstrap token); `None` when the ConfigMap or its key does not exist.
pub async fn get_kubeadm_config(client: &Client) -> Result<Option<String>, Error> {
    let config_maps: Api<ConfigMap> = Api::namespaced(client.clone(), SECRET_NAMESPACE);
    let config_map = config_maps
        .get_opt(KUBEADM_CONFIG_NAME)
        .await
        .map_err(api_error(format!(
            "get ConfigMap {SECRET_NAMESPACE}/{KUBEADM_CONFIG_NAME}"
        )))?;
    Ok(config_map
        .and_then(|cm| cm.data)
        .and_then(|mut data| data.remove(CLUSTER_CONFIGURATION_KEY)))
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
