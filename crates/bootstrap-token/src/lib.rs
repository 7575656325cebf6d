//! Kubernetes bootstrap tokens, compatible with kubeadm and the apiserver byte for byte.
//!
//! A bootstrap token `<id>.<secret>` is the one shared secret of `kubeadm join`: the node uses
//! it to check the JWS on `kube-public/cluster-info` (so it trusts the right CA) and to
//! authenticate its CSR; the control plane keeps it as a Secret, signs `cluster-info` with it
//! and authenticates it. This crate is both sides, as pure functions (time comes in as a `now`
//! argument; nothing here reads the clock or touches the network):
//!
//! | piece | upstream counterpart | here |
//! |---|---|---|
//! | token format, generation | cluster-bootstrap `token/util` | [`BootstrapToken`], [`TokenId`], [`TokenSecret`], [`generate`] |
//! | token ↔ Secret | kubeadm `bootstraptoken/v1` | [`TokenSpec`], [`Expiration`], [`extend_secret`] |
//! | bearer-token authenticator | kube-apiserver `token/bootstrap` | [`authenticate`] |
//! | detached HS256 JWS | cluster-bootstrap `token/jws` | [`jws`], [`BootstrapToken::verify_jws`] |
//! | cluster-info signer | kube-controller-manager `bootstrapsigner` | [`sign_cluster_info`] |
//! | `--print-join-command` | kubeadm `cmd/util/join.go` | [`JoinCommand`] |
//! | cluster-info + RBAC objects | kubeadm `phases/bootstraptoken` | [`cluster_info_config_map`], [`cluster_info_role_binding`], [`node_bootstrap_cluster_role_bindings`] |
//! | `kubeadm token create/list/delete`, bootstrap-token phase, hardening | kubeadm | `api` (feature `kube`) |
//!
//! Secrets stay secret: [`TokenSecret`] and everything holding one is zeroized on drop, prints
//! `[redacted]` in `Debug` and has no `Display`; the full token comes only from a method named
//! `expose_secret`. Errors name the failed check (one [`Error`] variant per check) and never
//! contain a secret. (A k8s-openapi `Secret` built here holds the token in its `data`, and its
//! `Debug` shows it: don't log Secrets.)
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use kubetrust_bootstrap_token::{authenticate, BootstrapToken, TokenSpec};
//!
//! // Control plane: create a token and its Secret.
//! let now = SystemTime::now();
//! let token = BootstrapToken::generate()?;
//! let secret = TokenSpec::new(token.clone())
//!     .with_ttl(Duration::from_secs(3600))
//!     .to_secret(now)?;
//!
//! // The signer signs cluster-info's kubeconfig with it; the joining node verifies.
//! let kubeconfig = b"apiVersion: v1\nclusters: []\n";
//! let jws = token.sign_jws(kubeconfig);
//! let node_side: BootstrapToken = token.expose_secret().parse()?;
//! node_side.verify_jws(&jws, kubeconfig)?;
//!
//! // The apiserver authenticates the node's bearer token.
//! let user = authenticate(&node_side, &secret, now)?;
//! assert_eq!(user.name, format!("system:bootstrap:{}", token.id()));
//! # Ok::<(), kubetrust_bootstrap_token::Error>(())
//! ```

#[cfg(feature = "kube")]
pub mod api;
mod auth;
mod cluster_info;
mod error;
mod expiration;
mod join;
pub mod jws;
mod secret;
mod signer;
mod spec;
mod time;
mod token;

use std::time::Duration;

pub use auth::{AuthenticatedUser, authenticate};
pub use cluster_info::{
    CLUSTER_INFO_RBAC_NAME, KUBELET_BOOTSTRAP_BINDING, NODE_AUTOAPPROVE_BOOTSTRAP_BINDING,
    NODE_AUTOAPPROVE_ROTATION_BINDING, cluster_info_config_map, cluster_info_kubeconfig, cluster_info_role,
    cluster_info_role_binding, node_bootstrap_cluster_role_bindings,
};
pub use error::{Error, TokenPart};
pub use expiration::Expiration;
pub use join::{JoinCommand, WITHHELD};
pub use secret::{extend_secret, user_groups};
pub use signer::{ClusterInfoSignatures, SigningToken, SkippedSecret, sign_cluster_info, signing_token};
pub use spec::{Lifetime, TokenSpec, Usage, is_valid_group, validate_group};
pub use token::{BootstrapToken, TOKEN_ID_LEN, TOKEN_LEN, TOKEN_SECRET_LEN, TokenId, TokenSecret, generate};

/// Namespace of token Secrets.
pub const SECRET_NAMESPACE: &str = "kube-system";
/// Type of token Secrets.
pub const SECRET_TYPE: &str = "bootstrap.kubernetes.io/token";
/// Token Secrets are named `bootstrap-token-<id>`.
pub const SECRET_NAME_PREFIX: &str = "bootstrap-token-";
/// Data key: the token id.
pub const KEY_TOKEN_ID: &str = "token-id";
/// Data key: the token secret.
pub const KEY_TOKEN_SECRET: &str = "token-secret";
/// Data key: RFC 3339 expiration.
pub const KEY_EXPIRATION: &str = "expiration";
/// Data key: description.
pub const KEY_DESCRIPTION: &str = "description";
/// Data key: comma-separated extra groups.
pub const KEY_EXTRA_GROUPS: &str = "auth-extra-groups";
/// Prefix of usage data keys.
pub const USAGE_KEY_PREFIX: &str = "usage-bootstrap-";
/// Data key: usable as an API bearer token when `"true"`.
pub const KEY_USAGE_AUTHENTICATION: &str = "usage-bootstrap-authentication";
/// Data key: usable to sign `cluster-info` when `"true"`.
pub const KEY_USAGE_SIGNING: &str = "usage-bootstrap-signing";
/// The user a token authenticates as is `system:bootstrap:<id>`.
pub const USER_PREFIX: &str = "system:bootstrap:";
/// The group every bootstrap token user is in.
pub const DEFAULT_GROUP: &str = "system:bootstrappers";
/// Extra groups must start with this.
pub const GROUP_PREFIX: &str = "system:bootstrappers:";
/// kubeadm's default extra group of join tokens, the group its CSR RBAC bindings name.
pub const DEFAULT_NODE_TOKEN_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
/// kubeadm's default TTL, 24 hours.
pub const DEFAULT_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// Namespace of the `cluster-info` ConfigMap.
pub const CLUSTER_INFO_NAMESPACE: &str = "kube-public";
/// Name of the `cluster-info` ConfigMap.
pub const CLUSTER_INFO_NAME: &str = "cluster-info";
/// `cluster-info` data key holding the kubeconfig that is signed (the JWS payload).
pub const KUBECONFIG_KEY: &str = "kubeconfig";
/// `cluster-info` signatures are stored under `jws-kubeconfig-<id>`.
pub const JWS_KEY_PREFIX: &str = "jws-kubeconfig-";
