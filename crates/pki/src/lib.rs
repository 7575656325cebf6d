//! The kubeadm PKI as a library: keys, certificate authorities, the kubeadm certificate tree,
//! the kubeconfig files built on it, and `sha256:` public-key pins.
//!
//! Certificates are laid out byte for byte the way kubeadm (Go's crypto/x509) writes them —
//! subject encoding, extension order, key ids, validity — and signed with aws-lc-rs; RSA keys
//! come from the `rsa` crate. Every check that fails has its own [`Error`] variant naming the
//! file or value.
//!
//! | module / item | what |
//! | --- | --- |
//! | [`PrivateKey`], [`KeyAlgorithm`] | generate, load (PKCS#1, SEC1, PKCS#8), save in kubeadm's PEM forms |
//! | [`CertificateAuthority`], [`CertProfile`], [`CertificateRequest`] | CAs and bundles; leaves from a profile or a CSR under a [`RequestPolicy`] |
//! | [`tree`] | the kubeadm certificate tree: plan, create, reuse rules, external CA |
//! | [`kubeadm_config`] | the tree's settings from a kubeadm `--config` file |
//! | [`kubeconfigs`] | admin/super-admin/kubelet/controller-manager/scheduler.conf, user kubeconfigs |
//! | [`init`] | the tree and the kubeconfig files together, every key in one parallel batch |
//! | [`CaCertHash`] | `sha256:` public-key pins |
//! | [`inventory`], [`expiration`] | `check-expiration`: rows, problems, kubeadm's table and JSON |
//! | [`renew`] | renew one or all, optionally changing SANs |
//! | [`renewal`] | the renewal planner: what expires within a window, what renewing writes, who must reload; `apply` |
//! | [`external`] | `generate-csr` layout and importing externally signed certificates |
//! | [`upload_certs`] | the AES-GCM `kubeadm-certs` Secret |
//! | [`tabwriter`] | Go's `text/tabwriter` as kubeadm's tables use it |
//!
//! ```
//! use std::time::SystemTime;
//! use kubetrust_pki::{CaCertHash, CertProfile, CertificateAuthority, KeyAlgorithm, Subject};
//!
//! let now = SystemTime::now();
//! let ca = CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, now)?;
//! let admin = Subject::new("kubernetes-admin").with_organization("kubeadm:cluster-admins");
//! let (cert, _key) = ca.issue_with_new_key(&CertProfile::client(admin, now), KeyAlgorithm::EcdsaP256)?;
//! assert!(ca.verifies(&cert, &[]));
//! println!("{}", CaCertHash::of_certificate(ca.certificate()));
//! # Ok::<(), kubetrust_pki::Error>(())
//! ```
#![forbid(unsafe_code)]

mod ca;
pub mod ca_rotation;
mod cert;
mod csr;
mod dirs;
mod error;
pub mod expiration;
pub mod external;
mod go_duration;
pub mod init;
pub mod inventory;
mod key;
mod keygen;
pub mod kubeadm_config;
pub mod kubeconfigs;
mod pem;
mod pin;
mod profile;
mod read;
pub mod renew;
pub mod renewal;
mod san;
pub mod tabwriter;
pub mod tree;
pub mod upload_certs;
mod usage;
mod x509;

pub use ca::CertificateAuthority;
pub use cert::{CertError, Certificate, verify_chain};
pub use csr::{CertificateRequest, RequestPolicy};
pub use dirs::Dirs;
pub use error::{Error, KubeconfigEntry, UnusableConfig};
pub use go_duration::parse_duration;
pub use key::{KeyAlgorithm, KeyError, PrivateKey};
pub use kubetrust_kubeconfig::pem::PemError;
pub use pin::CaCertHash;
pub use profile::{
    CA_CERTIFICATE_VALIDITY, CERTIFICATE_BACKDATE, CERTIFICATE_VALIDITY, CertProfile, Subject, Validity,
};
pub use san::{AltNames, DroppedSan, first_service_ip, parse_control_plane_endpoint};
pub use usage::{ExtKeyUsage, KeyUsage};
