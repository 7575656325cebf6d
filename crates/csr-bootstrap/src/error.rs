//! The crate's one error type.

use std::path::PathBuf;
use std::time::Duration;

use kubetrust_pki::ExtKeyUsage;

use crate::outcome::CsrState;

/// Every failed check of the crate, one variant each, with the data a user needs to act on it.
/// A [`Decision`](crate::policy::Decision) refusing a CSR, an
/// [`Invalidity`](crate::store::Invalidity) that makes a node bootstrap again and an
/// [`Outcome`](crate::outcome::Outcome) the client keeps waiting on are answers, not errors.
/// No message carries a private key or a token secret.
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

    // --- The bootstrap kubeconfig and the API client.
    /// The bootstrap kubeconfig has no usable current context, cluster or user.
    #[error("the bootstrap kubeconfig is unusable")]
    BootstrapKubeconfig(#[source] kubetrust_kubeconfig::Error),
    /// The bootstrap kubeconfig has no CA to check the issued certificate against.
    #[error("the bootstrap kubeconfig's cluster has no usable CA certificate: {reason}")]
    NoClusterCa {
        /// What was wrong.
        reason: String,
    },
    /// The kubeconfig a renewal authenticates with (`kubelet.conf`) cannot be loaded.
    #[error("cannot load the client kubeconfig {path:?}")]
    ClientKubeconfig {
        /// Its path.
        path: PathBuf,
        /// Why.
        #[source]
        source: kubetrust_kubeconfig::Error,
    },
    /// No API client could be built from a kubeconfig.
    #[cfg(feature = "kube")]
    #[error("cannot build an API client from the kubeconfig")]
    ApiClient(#[source] Box<dyn std::error::Error + Send + Sync>),

    // --- The CSR object on the API server (feature `kube` for the calls themselves).
    /// The API refused the create (not `AlreadyExists`), or kept failing until the timeout.
    #[cfg(feature = "kube")]
    #[error("cannot create certificate signing request {name:?}")]
    Create {
        /// The requested name (or `generateName`).
        name: String,
        /// The API's error.
        #[source]
        source: kube::Error,
    },
    /// A call other than create failed with a non-transient error.
    #[cfg(feature = "kube")]
    #[error("cannot {action} certificate signing request {name:?}")]
    Api {
        /// `get`, `list` or `watch`.
        action: &'static str,
        /// The CSR's name.
        name: String,
        /// The API's error.
        #[source]
        source: kube::Error,
    },
    // --- The approver (feature `approver`).
    /// Inconsistent leader-election settings.
    #[cfg(feature = "approver")]
    #[error("invalid leader election settings: {reason}")]
    InvalidLeaseConfig {
        /// What is wrong.
        reason: &'static str,
    },
    /// This replica stopped leading; its process should exit and start again as a candidate.
    #[cfg(feature = "approver")]
    #[error("leader election lost: lease {lease} no longer held by {identity:?} ({why})")]
    LeadershipLost {
        /// `namespace/name` of the Lease.
        lease: String,
        /// This replica's identity.
        identity: String,
        /// Why: another holder, or no renewal within the renew deadline.
        why: &'static str,
    },
    /// The created object came back without a name or UID.
    #[error("the API server returned certificate signing request {name:?} without {field}")]
    IncompleteObject {
        /// The name asked for.
        name: String,
        /// The missing field.
        field: &'static str,
    },
    /// A CSR of our name exists and is not ours (or cannot be reused).
    #[error("retrieved csr {name:?} is not compatible: {reason}")]
    NotOurs {
        /// The CSR's name.
        name: String,
        /// The check that failed.
        reason: String,
    },
    /// An approver denied the request.
    #[error("certificate signing request {name:?} is denied, reason: {reason}, message: {message}")]
    Denied {
        /// The CSR's name.
        name: String,
        /// The condition's reason.
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// The signer failed the request.
    #[error("certificate signing request {name:?} failed, reason: {reason}, message: {message}")]
    Failed {
        /// The CSR's name.
        name: String,
        /// The condition's reason.
        reason: String,
        /// The condition's message.
        message: String,
    },
    /// The CSR was deleted while we waited.
    #[error("csr {name:?} was deleted")]
    Deleted {
        /// The CSR's name.
        name: String,
    },
    /// The CSR was replaced by another object of the same name.
    #[error("csr {name:?} changed UIDs (expected {expected}, got {actual})")]
    UidChanged {
        /// The CSR's name.
        name: String,
        /// The UID we created or adopted.
        expected: String,
        /// The UID seen.
        actual: String,
    },
    /// The overall timeout passed.
    #[error("timed out after {waited:?} waiting for certificate signing request {name:?} ({state})")]
    Timeout {
        /// The CSR's name (empty when the create never succeeded).
        name: String,
        /// How long the request ran.
        waited: Duration,
        /// The last state seen.
        state: CsrState,
    },
    /// The issued certificate failed a check of [`verify_issued`](crate::verify::verify_issued)
    /// (the source, one of the `Issued*` variants); nothing was written.
    #[error("the certificate issued for csr {name:?} was refused")]
    Refused {
        /// The CSR's name.
        name: String,
        /// The failed check.
        #[source]
        source: Box<Error>,
    },

    // --- The issued certificate (crate::verify), in the order the checks run.
    /// `status.certificate` is not a PEM list of certificates, or is empty.
    #[error("issued certificate check \"parse\": {reason}")]
    IssuedUnparsable {
        /// What the parser rejected.
        reason: String,
    },
    /// The leaf's public key is not our key's.
    #[error("issued certificate check \"key\": the certificate is not for our private key")]
    IssuedKeyMismatch,
    /// The leaf does not chain to the cluster CA (through the intermediates that follow it).
    #[error(
        "issued certificate check \"chain\": the certificate (issuer {issuer:?}) does not chain to the cluster CA"
    )]
    IssuedUntrusted {
        /// The leaf's issuer, for the operator.
        issuer: String,
    },
    /// The leaf's subject is not the one requested.
    #[error("issued certificate check \"subject\": expected {expected:?}, got {actual:?}")]
    IssuedSubjectMismatch {
        /// The requested subject.
        expected: String,
        /// The certificate's subject.
        actual: String,
    },
    /// The leaf lacks the extended key usage it was requested for.
    #[error("issued certificate check \"usage\": the certificate lacks {usage:?}")]
    IssuedMissingUsage {
        /// The missing usage.
        usage: ExtKeyUsage,
    },
    /// `now` is outside the leaf's validity period.
    #[error("issued certificate check \"validity\": not valid now (valid {not_before} to {not_after})")]
    IssuedNotValidNow {
        /// NotBefore, RFC 3339.
        not_before: String,
        /// NotAfter, RFC 3339.
        not_after: String,
    },

    // --- Files: the certificate store and kubelet.conf.
    /// A file operation failed (the error names the path and the operation).
    #[error(transparent)]
    Fs(#[from] kubetrust_fs::Error),
    /// Removing or renaming a file failed (operations kubetrust-fs has no writer for).
    #[error("cannot {action} {path:?}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
    /// `kubelet.conf` exists but cannot be examined (anything but "not found"): a hard error,
    /// as in the kubelet, since bootstrapping over it could hide a real problem.
    #[error("error reading existing bootstrap kubeconfig {path:?}")]
    ConfStat {
        /// The path.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
    /// `kubelet.conf` could not be serialised.
    #[error("cannot encode kubelet.conf")]
    EncodeConf(#[source] kubetrust_kubeconfig::Error),
    /// The pending key exists but is not a private key. As the kubelet does, it is not
    /// replaced: a new key would orphan the CSR the old one may already have.
    #[error("error loading key from {path}: {reason}; remove the file to start a new request")]
    PendingKeyUnparsable {
        /// The pending key's path.
        path: PathBuf,
        /// What the parser said (never the key).
        reason: String,
    },
    /// A private key (pending or for a renewal) could not be generated.
    #[error("cannot generate a private key")]
    KeyGeneration(#[source] Box<kubetrust_pki::Error>),
    /// `<prefix>-current.pem` is a regular file, not the store's symlink.
    #[error("expected {path:?} to be a symlink but it is a file")]
    CurrentNotSymlink {
        /// The path.
        path: PathBuf,
    },
    /// [`CertStore::update`](crate::store::CertStore::update) was given no certificate, or a
    /// chain whose leaf is not for the key.
    #[error("refusing to store a certificate that is not for the given key")]
    PairMismatch,
}
