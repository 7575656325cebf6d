//! Approval policy for kubelet CSRs, as pure functions a controller calls.
//!
//! - [`client`]: the kubelet *client* certificate approver, deciding exactly as
//!   kube-controller-manager's `csrapproving` does, with its SubjectAccessReview handed to the
//!   caller as a question ([`Decision::AskAccessReview`]);
//! - [`serving`]: a kubelet *serving* certificate approver (upstream has none), which binds
//!   every SAN to the requesting Node's own addresses.
//!
//! Both return a [`Decision`] whose refusals carry typed [`Reason`]s. The [`signer`] issues
//! approved requests as kube-controller-manager's signers do.

pub mod cleaner;
pub mod client;
mod decision;
mod inspect;
mod reason;
mod request;
pub mod serving;
pub mod signer;

pub use decision::{AccessReview, Approval, DENY_REASON, Decision, Subresource};
pub use inspect::KeyKind;
pub use reason::Reason;

/// The usage strings the kubelet policies compare (`spec.usages` values).
pub mod usage {
    /// `digital signature`.
    pub const DIGITAL_SIGNATURE: &str = "digital signature";
    /// `key encipherment`.
    pub const KEY_ENCIPHERMENT: &str = "key encipherment";
    /// `client auth`.
    pub const CLIENT_AUTH: &str = "client auth";
    /// `server auth`.
    pub const SERVER_AUTH: &str = "server auth";
}

/// The group every node identity is in.
pub const NODES_GROUP: &str = "system:nodes";
/// The prefix of every node's user name and certificate CN.
pub const NODE_USER_PREFIX: &str = "system:node:";
