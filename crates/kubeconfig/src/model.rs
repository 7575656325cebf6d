//! The clientcmd v1 schema (`apiVersion: v1`, `kind: Config`), field for field.
//!
//! Fields follow Go's zero-value rules: an empty string, `false` or an empty list is "not set"
//! and is left out when written (`omitempty`), exactly as client-go writes a kubeconfig. Fields
//! this model does not know are kept in `unknown_fields` and written back, so nothing a user
//! put in their file is lost (kubectl drops them). Fields are declared in client-go's order,
//! which is the order of JSON output.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::secret::{SecretBytes, SecretString};
use crate::serde_util::{base64, is_false, nullable};

/// Fields a model type does not know, kept verbatim.
pub type UnknownFields = BTreeMap<String, Value>;

/// A whole kubeconfig file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Config {
    pub(crate) kind: KindConfig,
    #[serde(rename = "apiVersion")]
    pub(crate) api_version: ApiVersionV1,
    /// Deprecated in client-go 1.34. `Some` is written (as `{}` when empty, like kubectl 1.32
    /// and kubeadm's files); `None` is omitted (like the `cluster-info` kubeconfig).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferences: Option<Preferences>,
    /// Named clusters, written in this order.
    #[serde(default, deserialize_with = "nullable", serialize_with = "null_if_empty")]
    pub clusters: Vec<NamedCluster>,
    /// Named users (`AuthInfo`s).
    #[serde(default, deserialize_with = "nullable", serialize_with = "null_if_empty")]
    pub users: Vec<NamedAuthInfo>,
    /// Named contexts.
    #[serde(default, deserialize_with = "nullable", serialize_with = "null_if_empty")]
    pub contexts: Vec<NamedContext>,
    /// The context used when none is named; always written, possibly as `""`.
    #[serde(rename = "current-context", default, deserialize_with = "nullable")]
    pub current_context: String,
    /// Extensions of the whole file.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<NamedExtension>,
    /// Top-level fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// `preferences` (deprecated by client-go 1.34, still read and written).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Preferences {
    /// Whether kubectl colours its output.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_false")]
    pub colors: bool,
    /// Extensions of the preferences.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// A cluster with its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedCluster {
    /// The name contexts refer to (`""` in the `cluster-info` kubeconfig).
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The cluster.
    #[serde(default, deserialize_with = "nullable")]
    pub cluster: Cluster,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// How to reach and trust an API server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub struct Cluster {
    /// `https://host:port` of the API server; always written.
    #[serde(default, deserialize_with = "nullable")]
    pub server: String,
    /// Name to verify the server certificate against, instead of the URL's host.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub tls_server_name: String,
    /// Skip server certificate verification (insecure).
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_false")]
    pub insecure_skip_tls_verify: bool,
    /// Path to a PEM CA bundle; relative paths are relative to the kubeconfig's directory.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub certificate_authority: String,
    /// PEM CA bundle (decoded from base64); overrides `certificate_authority`.
    #[serde(default, with = "base64", skip_serializing_if = "Vec::is_empty")]
    pub certificate_authority_data: Vec<u8>,
    /// Proxy URL (`http`, `https` or `socks5`).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub proxy_url: String,
    /// Ask the server not to compress responses.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "is_false")]
    pub disable_compression: bool,
    /// Extensions of the cluster.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
    #[serde(skip)]
    pub(crate) origin: Origin,
}

/// A user with its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedAuthInfo {
    /// The name contexts refer to.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The credentials.
    #[serde(default, deserialize_with = "nullable")]
    pub user: AuthInfo,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// Credentials and impersonation for one user (`AuthInfo` in client-go).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub struct AuthInfo {
    /// Path to a PEM client certificate.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub client_certificate: String,
    /// PEM client certificate (decoded from base64); overrides `client_certificate`.
    #[serde(default, with = "base64", skip_serializing_if = "Vec::is_empty")]
    pub client_certificate_data: Vec<u8>,
    /// Path to a PEM private key.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub client_key: String,
    /// PEM private key (decoded from base64); overrides `client_key`.
    #[serde(default, skip_serializing_if = "SecretBytes::is_empty")]
    pub client_key_data: SecretBytes,
    /// Bearer token.
    #[serde(default, skip_serializing_if = "SecretString::is_empty")]
    pub token: SecretString,
    /// Path to a file holding a bearer token; re-read periodically and wins over `token`.
    #[serde(
        rename = "tokenFile",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub token_file: String,
    /// User to impersonate.
    #[serde(
        rename = "as",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub impersonate: String,
    /// UID to impersonate.
    #[serde(
        rename = "as-uid",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub impersonate_uid: String,
    /// Groups to impersonate.
    #[serde(
        rename = "as-groups",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub impersonate_groups: Vec<String>,
    /// Extra fields of the impersonated user.
    #[serde(
        rename = "as-user-extra",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub impersonate_user_extra: BTreeMap<String, Vec<String>>,
    /// Basic-auth user name.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub username: String,
    /// Basic-auth password.
    #[serde(default, skip_serializing_if = "SecretString::is_empty")]
    pub password: SecretString,
    /// A legacy authentication provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<AuthProviderConfig>,
    /// An exec credential plugin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
    /// Extensions of the user.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
    #[serde(skip)]
    pub(crate) origin: Origin,
}

/// A legacy `auth-provider` (e.g. `oidc`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AuthProviderConfig {
    /// The provider's name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The provider's settings; written as `null` when absent, like client-go.
    #[serde(default)]
    pub config: Option<BTreeMap<String, String>>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// An exec credential plugin (`users[].user.exec`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ExecConfig {
    /// The program; relative to the kubeconfig's directory if it contains a `/`.
    #[serde(default, deserialize_with = "nullable")]
    pub command: String,
    /// Arguments; `None` is written as `null`, like client-go.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Extra environment; `None` is written as `null`, like client-go.
    #[serde(default)]
    pub env: Option<Vec<ExecEnvVar>>,
    /// `client.authentication.k8s.io/v1` or `/v1beta1`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub api_version: String,
    /// Shown to the user when the command is missing.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub install_hint: String,
    /// Pass the cluster's details to the plugin; always written.
    #[serde(default, deserialize_with = "nullable")]
    pub provide_cluster_info: bool,
    /// `Never`, `IfAvailable` or `Always`.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub interactive_mode: String,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// One environment variable for an exec plugin.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExecEnvVar {
    /// Variable name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Variable value.
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// A context with its name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedContext {
    /// The context's name (`<user>@<cluster>` in kubeadm's files).
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The context.
    #[serde(default, deserialize_with = "nullable")]
    pub context: Context,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// A (cluster, user, namespace) triple.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// Name of the cluster; always written.
    #[serde(default, deserialize_with = "nullable")]
    pub cluster: String,
    /// Name of the user; always written.
    #[serde(default, deserialize_with = "nullable")]
    pub user: String,
    /// Default namespace.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub namespace: String,
    /// Extensions of the context.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<NamedExtension>,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// An extension: a name and an arbitrary object.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NamedExtension {
    /// The extension's name.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// The extension's content, kept as it was.
    #[serde(default)]
    pub extension: Value,
    /// Fields this model does not know.
    #[serde(flatten)]
    pub unknown_fields: UnknownFields,
}

/// The file a stanza was loaded from (client-go's `LocationOfOrigin`).
///
/// Never written, and not part of equality: the same data from two places is the same data.
#[derive(Clone, Debug, Default)]
pub(crate) struct Origin(pub(crate) Option<Arc<Path>>);

impl PartialEq for Origin {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

fn null_if_empty<S: Serializer, T: Serialize>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    if items.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.collect_seq(items)
    }
}

/// `kind`: always written as `Config`; absent or `Config` accepted on read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct KindConfig;

impl Serialize for KindConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("Config")
    }
}

impl<'de> Deserialize<'de> for KindConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match nullable::<D, String>(deserializer)?.as_str() {
            "" | "Config" => Ok(Self),
            other => Err(serde::de::Error::custom(format!(
                "unsupported kind {other:?}: a kubeconfig has kind \"Config\""
            ))),
        }
    }
}

/// `apiVersion`: always written as `v1`; absent or `v1` accepted on read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ApiVersionV1;

impl Serialize for ApiVersionV1 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("v1")
    }
}

impl<'de> Deserialize<'de> for ApiVersionV1 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match nullable::<D, String>(deserializer)?.as_str() {
            "" | "v1" => Ok(Self),
            other => Err(serde::de::Error::custom(format!(
                "unsupported apiVersion {other:?}: kubeconfig files are \"v1\""
            ))),
        }
    }
}

impl Cluster {
    /// The file this cluster was loaded from, if it came from a file.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.0.as_deref()
    }
}

impl AuthInfo {
    /// The file this user was loaded from, if it came from a file.
    pub fn origin(&self) -> Option<&Path> {
        self.origin.0.as_deref()
    }
}
