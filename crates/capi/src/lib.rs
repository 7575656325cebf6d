//! Cluster API helpers: a workload cluster's PKI in Cluster API's Secret layout.
//!
//! A Cluster API bootstrap or control-plane provider keeps a cluster's shared CAs in Secrets
//! named `<cluster>-ca`, `-etcd`, `-proxy` and `-sa` (`tls.crt` / `tls.key`, type
//! `cluster.x-k8s.io/secret`, label `cluster.x-k8s.io/cluster-name`), the admin kubeconfig in
//! `<cluster>-kubeconfig` (`value`), and hands machines the kubeadm cert dir and the join pins.
//! This crate does each step without a network connection:
//!
//! | item | what |
//! | --- | --- |
//! | [`ClusterPki::generate`], [`ClusterPki::lookup_or_generate`] | new CAs and service-account key (kubeadm's shape, any key algorithm) |
//! | [`ClusterPki::to_secrets`], [`ClusterPki::from_secrets`] | to and from the Secrets; Cluster API's own CAs (serial 0, path length 0) are adopted as they are |
//! | [`ClusterPki::write_to_dir`], [`ClusterPki::from_dir`] | to and from a kubeadm cert dir (`ca.crt`, `etcd/ca.key`, `sa.pub`, ...) |
//! | [`ClusterPki::kubeconfig_secret`], [`KubeconfigSecret`] | the `<cluster>-kubeconfig` Secret, and reading it back with its client certificate's expiry |
//! | [`ClusterPki::ca_cert_hashes`], [`ClusterPki::join_command`], [`ca_cert_hashes`] | the `sha256:` pins and the join command |
//! | [`render::to_yaml`] | Secrets as YAML with private keys redacted |
//!
//! The facts follow Cluster API's `util/secret`, `util/certs` and `util/kubeconfig` packages;
//! where releases differ this crate follows the newest: the `cluster.x-k8s.io/secret` type
//! (older releases left the type empty, i.e. `Opaque`) and keys of the control plane's
//! `encryptionAlgorithm` (RSA-2048/3072/4096, ECDSA-P256/P384; older releases: always
//! RSA-2048, still the default). Adoption accepts every key form either writes (`RSA PRIVATE
//! KEY`, `EC PRIVATE KEY`, PKCS#8). Owner references are left to the caller, who knows the
//! owner's uid.
//!
//! ```
//! use std::time::SystemTime;
//! use kubetrust_capi::{ClusterPki, KubeconfigSecret, ROTATION_THRESHOLD};
//! use kubetrust_pki::KeyAlgorithm;
//!
//! let now = SystemTime::now();
//! let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, now)?;
//! let secrets = pki.to_secrets("prod", "clusters");
//! assert_eq!(secrets[0].metadata.name.as_deref(), Some("prod-ca"));
//!
//! let adopted = ClusterPki::from_secrets("prod", &secrets)?;
//! assert_eq!(adopted.ca_cert_hashes(), pki.ca_cert_hashes());
//!
//! let kubeconfig = pki.kubeconfig_secret("prod", "clusters", "cp.example.com:6443", now)?;
//! let read = KubeconfigSecret::read(&kubeconfig)?;
//! assert_eq!(read.config.current_context, "prod-admin@prod");
//! assert!(!read.needs_rotation(now, ROTATION_THRESHOLD));
//! # Ok::<(), kubetrust_capi::Error>(())
//! ```
#![forbid(unsafe_code)]

mod cluster_pki;
mod error;
mod files;
mod kubeconfig;
mod layout;
pub mod render;
mod secrets;

pub use cluster_pki::{ClusterPki, EtcdCa};
pub use error::Error;
pub use kubeconfig::{CLIENT_CERTIFICATE_VALIDITY, KubeconfigSecret, ROTATION_THRESHOLD, admin_kubeconfig};
pub use layout::{CLUSTER_NAME_LABEL, KUBECONFIG_DATA, Purpose, SECRET_TYPE, TLS_CRT, TLS_KEY};
pub use secrets::ca_cert_hashes;
