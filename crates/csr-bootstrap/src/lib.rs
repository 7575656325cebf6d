//! The kubelet's TLS bootstrap, as a library: the node earning its identity, and the control
//! plane's side of trusting it.
//!
//! * The node's requests: [`csr`] (the kubelet client CSR, named `node-csr-<digest>` as the
//!   kubelet names it) and [`serving`] (the `kubernetes.io/kubelet-serving` CSR with SANs from
//!   the Node's addresses).
//! * What is accepted back: [`outcome`] says what a CSR object or watch event means for the
//!   waiting client (pending, issued, denied, failed, deleted, replaced; whether a CSR found
//!   under our name is ours), and [`verify`] checks an issued certificate (our key, the cluster
//!   CA, the requested subject and usage, valid now) before anything is written.
//! * What is written: [`store`] (the kubelet's `kubelet-client-*.pem` files and the atomically
//!   swapped `-current.pem` symlink, the pending key), [`conf`] (`kubelet.conf` and the kubelet's
//!   rule for when it is still valid), [`flow`] (the bootstrap's file steps, crash-safe).
//! * Renewal: [`rotation`] (deadline, backoff, and a manager driven by an injected clock).
//! * The network half, feature `kube`: `client` (create or adopt the CSR, wait with a resumable
//!   list-then-watch, retry transient errors), `bootstrap` (the whole join-time flow in one call)
//!   and `renew` (rotation through the API with the current certificate).
//! * The approval [`policy`]: upstream's client certificate approver (SubjectAccessReview-gated,
//!   never denying) and a secure serving certificate approver that binds SANs to the requesting
//!   Node. It is synchronous and free of I/O: a controller fetches objects, asks access reviews,
//!   and writes conditions.
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
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

#[cfg(feature = "approver")]
#[cfg_attr(docsrs, doc(cfg(feature = "approver")))]
pub mod approver;
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
pub mod outcome;
pub mod policy;
#[cfg(feature = "kube")]
#[cfg_attr(docsrs, doc(cfg(feature = "kube")))]
pub mod renew;
pub mod rotation;
pub mod serving;
pub mod store;
pub mod verify;

pub use error::Error;
