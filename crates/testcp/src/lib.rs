//! An in-process Kubernetes control plane for tests — what `envtest` is to Go users, for
//! everything a node join touches: HTTPS with the cluster's PKI, client-certificate,
//! bootstrap-token and impersonation authentication, RBAC over stored objects, the
//! CertificateSigningRequest API with the apiserver's validation, and the controllers of
//! kube-controller-manager that a join needs (bootstrap signer, token cleaner, CSR approver,
//! signer and cleaner). It is faithful enough that the real `kubectl` works against it.
//!
//! Policy lives in the library crates (`kubetrust-bootstrap-token`, `kubetrust-pki`,
//! `kubetrust-csr-bootstrap`); this crate only wires it to HTTP and to a store.
#![forbid(unsafe_code)]

pub mod api;
pub mod authn;
pub mod clock;
pub mod control_plane;
pub mod controllers;
pub mod faults;
pub mod identity;
pub mod impersonate;
pub mod persist;
pub mod rbac;
pub mod server;
pub mod status;
pub mod store;
pub mod strategy;

pub use control_plane::{Config, Error, TestControlPlane};
