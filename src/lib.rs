//! kubetrust: the two-way trust of `kubeadm join`, and the PKI behind it, as a Rust library.
//!
//! A node joining a cluster must trust the control plane (discovery: bootstrap token, signed
//! `cluster-info`, CA pins) and the control plane must trust the node (TLS bootstrap: CSR,
//! approval, signing, rotation). kubetrust implements both sides compatibly with kubeadm and
//! the Kubernetes API, for Cluster API providers, custom installers and tools.
//!
//! This crate re-exports the workspace's crates under short names:
//!
//! | module | crate | what |
//! | --- | --- | --- |
//! | [`fs`] | `kubetrust-fs` | crash-safe file writes with exact modes |
//! | [`kubeconfig`] | `kubetrust-kubeconfig` | the kubeconfig model: load, resolve, build, save |
//! | [`kubeadm_config`] | `kubetrust-kubeadm-config` | kubeadm's config API (Init/Join/ClusterConfiguration) and its field rules: endpoints, DNS-1123 names, Go durations |
//! | [`pki`] | `kubetrust-pki` | keys, CAs, the kubeadm certificate tree, kubeconfig files, pins, expiry, renewal, external CA |
//! | [`discovery`] | `kubetrust-discovery` | `validate()` of a `cluster-info` against a token and CA pins; token and file / HTTPS discovery over the network (feature `kube`) |
//! | [`bootstrap_token`] | `kubetrust-bootstrap-token` | bootstrap tokens, their Secrets, the authenticator, the `cluster-info` JWS |
//! | [`csr_bootstrap`] | `kubetrust-csr-bootstrap` | the kubelet TLS bootstrap: the node's CSR as the kubelet builds it, the CSR approval policy (client and serving), the CSR signer and cleaner rules |
//! | [`capi`] | `kubetrust-capi` | Cluster API's Secret layout: the cluster's CAs and service-account key, the kubeconfig Secret, join pins |
//! | `testcp` (feature `testcp`) | `kubetrust-testcp` | an in-process control plane for tests and demos: HTTPS, authentication, RBAC, the CSR API and its controllers; the real kubectl works against it |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use kubetrust_bootstrap_token as bootstrap_token;
/// Cluster API helpers: a workload cluster's CAs in Cluster API's Secret layout, its kubeconfig Secret, join pins.
pub use kubetrust_capi as capi;
pub use kubetrust_csr_bootstrap as csr_bootstrap;
pub use kubetrust_discovery as discovery;
pub use kubetrust_fs as fs;
pub use kubetrust_kubeadm_config as kubeadm_config;
pub use kubetrust_kubeconfig as kubeconfig;
pub use kubetrust_pki as pki;
#[cfg(feature = "testcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "testcp")))]
pub use kubetrust_testcp as testcp;

#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod join;
