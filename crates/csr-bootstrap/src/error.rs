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
    /// A key type the kubelet does not request client certificates for (Ed25519).
    #[error("the kubelet requests client certificates for ECDSA and RSA keys only, not {algorithm}")]
    UnsupportedKey {
        /// The key's algorithm.
        algorithm: kubetrust_pki::KeyAlgorithm,
    },
    /// A node name that is not a lowercase RFC 1123 subdomain (it becomes `system:node:<name>`).
    #[error("node name {name:?} is not a lowercase RFC 1123 subdomain")]
    InvalidNodeName {
        /// The name.
        name: String,
    },
    /// A requested lifetime under the API's 600-second floor.
    #[error(
        "spec.expirationSeconds: Invalid value: {seconds}: may not specify a duration less than 600 seconds (10 minutes)"
    )]
    ExpirationTooShort {
        /// The requested seconds.
        seconds: i32,
    },
    /// A serving certificate was asked for a Node without any IP address (the kubelet waits
    /// until it knows one).
    #[error("no IP address among the node's addresses: no serving certificate can be requested")]
    NoServingAddress,
    /// The PKCS#10 request could not be built or signed.
    #[error("cannot build the certificate request")]
    BuildRequest(#[source] Box<kubetrust_pki::Error>),
    /// The signing CA has expired (or expires before the backdated start): nothing can be
    /// signed until it is renewed.
    #[error("the signer has expired: NotAfter={}", kubetrust_pki::expiration::rfc3339(*not_after))]
    SignerExpired {
        /// The CA's NotAfter.
        not_after: std::time::SystemTime,
    },
    /// The CA failed to sign.
    #[error("cannot sign the certificate")]
    Sign(#[source] Box<kubetrust_pki::Error>),
}
