//! The kubelet's TLS bootstrap, as a library: the control plane's side of trusting a node.
//!
//! So far this crate holds the node's request ([`csr`]: the kubelet client CSR and its
//! object, named as the kubelet names it) and the pure [`policy`] for approving kubelet CSRs — upstream's client
//! certificate approver (SubjectAccessReview-gated, never denying) and a secure serving
//! certificate approver that binds SANs to the requesting Node. Everything is synchronous and
//! free of I/O: a controller fetches objects, asks access reviews, and writes conditions.
//!
//! ```
//! use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestSpec};
//! use k8s_openapi::ByteString;
//! use kubetrust_csr_bootstrap::policy::{Decision, client};
//! use kubetrust_pki::{AltNames, CertificateRequest, KeyAlgorithm, PrivateKey, Subject};
//!
//! let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
//! let subject = Subject::new("system:node:worker-1").with_organization("system:nodes");
//! let request = CertificateRequest::new(&subject, &AltNames::default(), &key)?;
//! let csr = CertificateSigningRequest {
//!     spec: CertificateSigningRequestSpec {
//!         request: ByteString(request.to_pem().into_bytes()),
//!         signer_name: client::SIGNER.into(),
//!         usages: Some(vec!["digital signature".into(), "client auth".into()]),
//!         username: Some("system:bootstrap:abcdef".into()),
//!         ..Default::default()
//!     },
//!     ..Default::default()
//! };
//! // The policy asks a question; the controller answers it with a SubjectAccessReview.
//! let Decision::AskAccessReview(review) = client::evaluate(&csr)? else { panic!() };
//! assert_eq!(review.subresource.as_str(), "nodeclient");
//! let decision = client::decide(&csr, &review, true)?;
//! assert_eq!(decision.condition().and_then(|c| c.reason).as_deref(), Some("AutoApproved"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod bootstrap;
#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod client;
pub mod conf;
pub mod csr;
mod error;
pub mod flow;
pub mod policy;
#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod renew;
pub mod rotation;
pub mod serving;
pub mod store;
pub mod verify;

pub use error::Error;
