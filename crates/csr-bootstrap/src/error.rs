//! The crate's one error type.

/// Why a CSR could not be evaluated at all (as opposed to a [`Decision`](crate::policy::Decision)
/// refusing it, which is not an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `spec.request` holds no `CERTIFICATE REQUEST` PEM block (upstream's text).
    #[error("unable to parse csr {name:?}: PEM block type must be CERTIFICATE REQUEST")]
    RequestNotPem {
        /// The CSR object's name.
        name: String,
    },
    /// The PKCS#10 request is not valid DER, or its self-signature does not verify.
    #[error("unable to parse csr {name:?}: {reason}")]
    RequestUnparsable {
        /// The CSR object's name.
        name: String,
        /// What the parser rejected.
        reason: String,
    },
    /// An access-review answer was passed for a question this policy never asks for the CSR
    /// (e.g. `selfnodeclient` for a bootstrap-token requester): the caller mixed up its CSRs.
    #[error("csr {name:?}: no access review for subresource {subresource:?} was asked for this request")]
    UnaskedAccessReview {
        /// The CSR object's name.
        name: String,
        /// The subresource of the answered review.
        subresource: String,
    },
}
