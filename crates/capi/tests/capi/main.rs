//! Behaviour tests of kubetrust-capi: Secret round trips, adopting Cluster API's own CA shape
//! (made by openssl), the cert dir, and the kubeconfig Secret read by the real kubectl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../../kubeconfig/tests/support/kubectl.rs"]
mod kubectl;

mod files;
mod kubeconfig;
mod secrets;
mod support;
