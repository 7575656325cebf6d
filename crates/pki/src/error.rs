//! The crate's one error type: one variant per failed check, naming the file or value.

use std::fmt;
use std::path::PathBuf;

use kubetrust_kubeadm_config::DurationError;
use kubetrust_kubeadm_config::net::EndpointError;

use crate::external::{CsrTarget, ImportProblem};
use crate::kubeconfigs::KubeconfigRefusal;
use crate::tree::Plan;
use crate::{CertError, KeyAlgorithm, KeyError};

/// Everything that can go wrong in `kubetrust-pki`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An `encryptionAlgorithm` value kubetrust does not know.
    #[error(
        "unknown encryption algorithm {value:?}: want RSA-2048, RSA-3072, RSA-4096, ECDSA-P256, ECDSA-P384 or ED25519"
    )]
    UnknownKeyAlgorithm {
        /// The value given.
        value: String,
    },
    /// The key generator failed (the OS random source or the crypto library).
    #[error("failed to generate a {algorithm} key")]
    KeyGeneration {
        /// The algorithm asked for.
        algorithm: KeyAlgorithm,
    },
    /// Signing failed inside the crypto library.
    #[error("failed to sign with a {algorithm} key")]
    Signing {
        /// The key's algorithm.
        algorithm: KeyAlgorithm,
    },
    /// The OS random source failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// A DER structure could not be encoded (a value out of range for X.509).
    #[error("cannot encode the certificate: {0}")]
    Encoding(String),
    /// A validity time before 1970 or past 9999.
    #[error("certificate validity outside the range X.509 can express")]
    InvalidValidity,
    /// A SAN DNS name that is not ASCII.
    #[error("SAN {value:?} is not an ASCII DNS name")]
    InvalidSan {
        /// The name.
        value: String,
    },
    /// Signed certificates need a CN (kubeadm: "must specify a CommonName").
    #[error("must specify a CommonName")]
    MissingCommonName,
    /// Leaves need a usage (kubeadm: "must specify at least one ExtKeyUsage").
    #[error("must specify at least one ExtKeyUsage (certificate {common_name:?})")]
    MissingExtKeyUsage {
        /// The certificate's CN.
        common_name: String,
    },
    /// A CA bundle without certificates.
    #[error("the CA bundle holds no certificate")]
    EmptyBundle,
    /// The certificate meant to sign is not a CA.
    #[error("certificate {subject} is not a CA (BasicConstraints CA:TRUE missing)")]
    NotACa {
        /// Its subject.
        subject: String,
    },
    /// The private key is not the certificate's key.
    #[error("the private key does not match the public key of certificate {subject}")]
    KeyMismatch {
        /// The certificate's subject.
        subject: String,
    },
    /// A `sha256:<hex>` pin that does not parse.
    #[error("{reason}")]
    InvalidCaCertHash {
        /// The input.
        value: String,
        /// kubeadm's text for what is wrong with it (it quotes the input).
        reason: String,
    },
    /// A service subnet without a usable first address.
    #[error("unable to get first IP address from the given CIDR: {value}")]
    InvalidServiceSubnet {
        /// The subnet.
        value: String,
    },
    /// A controlPlaneEndpoint that is not `host[:port]`.
    #[error("error parsing cluster controlPlaneEndpoint {value:?}: {reason}")]
    InvalidControlPlaneEndpoint {
        /// The endpoint.
        value: String,
        /// The rule it breaks.
        reason: EndpointError,
    },
    /// The node name is not a lowercase RFC 1123 subdomain (kubeadm's `nodeRegistration.name`
    /// rule; it becomes a certificate CN, a SAN and part of `system:node:<name>`).
    #[error(
        "nodeRegistration.name: Invalid value: {value:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    )]
    InvalidNodeName {
        /// The name.
        value: String,
    },
    /// The advertise address is not an IP.
    #[error(
        "error parsing LocalAPIEndpoint AdvertiseAddress {value}: is not a valid textual representation of an IP address"
    )]
    InvalidAdvertiseAddress {
        /// The address.
        value: String,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// Certificate bytes (not from a file) that do not parse.
    #[error("{what}: {source}")]
    Certificate {
        /// Which certificate, e.g. `CA bundle`.
        what: &'static str,
        /// Why.
        source: CertError,
    },
    /// A certificate file that does not parse.
    #[error("failure loading certificate {}: {source}", path.display())]
    LoadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        source: CertError,
    },
    /// A key file that does not parse.
    #[error("failure loading key {}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        source: KeyError,
    },
    /// Existing files in the cert dir do not satisfy the config; nothing was written.
    #[error(
        "existing files in {} cannot be used (nothing was written):{}",
        plan.cert_dir.display(),
        bullets(plan.refusals().map(|(name, refusal)| format!("{name}: {refusal}")))
    )]
    TreeRefused {
        /// The plan, with at least one [`Action::Refuse`](crate::tree::Action::Refuse).
        plan: Box<Plan>,
    },
    /// Existing kubeconfig files do not fit the cluster; nothing was written.
    #[error(
        "existing files in {} cannot be used (nothing was written):{}",
        kubeconfig_dir.display(),
        bullets(refusals.iter().map(|(path, refusal)| format!("{}: {refusal}", path.display())))
    )]
    KubeconfigsRefused {
        /// The kubeconfig dir.
        kubeconfig_dir: PathBuf,
        /// Each refused file with the reason.
        refusals: Vec<(PathBuf, KubeconfigRefusal)>,
    },
    /// `generate-csr` would overwrite files; nothing was written.
    #[error(
        "existing files in {} cannot be used (nothing was written):{}",
        cert_dir.display(),
        bullets(existing.iter())
    )]
    CsrTargetsExist {
        /// The cert dir.
        cert_dir: PathBuf,
        /// The files in the way.
        existing: Vec<CsrTarget>,
    },
    /// A CA could not be loaded for signing.
    #[error("couldn't load certificate authority from {}: {source}", path.display())]
    LoadCa {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<Error>,
    },
    /// A kubeconfig file that cannot be loaded.
    #[error("failed to load kubeConfig file {}: {source}", path.display())]
    KubeconfigLoad {
        /// The file.
        path: PathBuf,
        /// Why.
        source: kubetrust_kubeconfig::Error,
    },
    /// A kubeconfig whose current context names a missing context, cluster or user.
    #[error("invalid kubeConfig file {}: missing {entry} {name}", path.display())]
    KubeconfigEntryMissing {
        /// The file.
        path: PathBuf,
        /// What is missing.
        entry: KubeconfigEntry,
        /// The name looked for.
        name: String,
    },
    /// The current user has no `client-certificate-data` (file references cannot be renewed).
    #[error("kubeConfig file {} does not have an embedded client certificate", path.display())]
    NoEmbeddedClientCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The current cluster has no `certificate-authority-data`.
    #[error("kubeConfig file {} does not have an embedded server certificate", path.display())]
    NoEmbeddedCa {
        /// The file.
        path: PathBuf,
    },
    /// `client-certificate-data` that does not parse.
    #[error("{}: client-certificate-data: {source}", path.display())]
    EmbeddedCertificate {
        /// The kubeconfig file.
        path: PathBuf,
        /// Why.
        source: CertError,
    },
    /// `client-key-data` that does not parse.
    #[error("{}: client-key-data: {source}", path.display())]
    EmbeddedKey {
        /// The kubeconfig file.
        path: PathBuf,
        /// Why.
        source: KeyError,
    },
    /// A certificate key did not have exactly 64 characters.
    #[error(
        "certificate key has {len} characters, expected 64 hexadecimal characters (32 bytes); \
         use the value printed by `kubeadm certs certificate-key` or `kubeadm init --upload-certs`"
    )]
    CertificateKeyLength {
        /// Number of characters (Unicode scalar values) in the rejected input.
        len: usize,
    },

    /// A certificate key contained a character that is not a hexadecimal digit.
    #[error(
        "certificate key has a non-hexadecimal character at position {position} (counting from 1); \
         expected 64 characters 0-9, a-f or A-F"
    )]
    CertificateKeyNotHex {
        /// 1-based position of the first offending character.
        position: usize,
    },

    /// The AES-256-GCM implementation refused an operation other than authentication.
    #[error("AES-256-GCM {operation} failed inside aws-lc-rs (input of {len} bytes)")]
    Aead {
        /// `"key setup"`, `"encryption"` or `"decryption"`.
        operation: &'static str,
        /// Length of the input the operation was given.
        len: usize,
    },

    /// An encrypted value is shorter than the 12-byte nonce it must start with.
    #[error(
        "size of data is less than the nonce{}: got {len} bytes, an encrypted value has at least 28 \
         (12-byte nonce, 16-byte tag)",
        entry_suffix(.entry)
    )]
    DataShorterThanNonce {
        /// The Secret data key of the value, when known.
        entry: Option<String>,
        /// Length of the value.
        len: usize,
    },

    /// An encrypted value failed authentication: wrong certificate key or altered data.
    #[error(
        "error decoding secret data with provided key{}: message authentication failed; the \
         certificate key is wrong or the value was altered. Use the certificate key printed when \
         the Secret was uploaded, or run `kubeadm init phase upload-certs --upload-certs` on a \
         control plane to upload the certificates again with a new key",
        entry_suffix(.entry)
    )]
    SecretDecrypt {
        /// The Secret data key of the value, when known.
        entry: Option<String>,
    },

    /// The kubeadm-certs Secret lacks a data key that a control-plane join needs.
    #[error(
        "the Secret does not include the required certificate or key - name: {name}, path: {}; \
         run `kubeadm init phase upload-certs --upload-certs` on a control plane with the same \
         etcd mode (local or external) to upload it",
        .path.display()
    )]
    SecretEntryMissing {
        /// The certificate or key name (kubeadm's name, e.g. `etcd/ca.crt`).
        name: String,
        /// Where the file would have been written.
        path: PathBuf,
    },

    /// A kubeconfig file could not be read, parsed or written.
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: kubetrust_kubeconfig::Error,
    },
    /// A PKCS#10 request that does not parse or whose self-signature fails.
    #[error("invalid certificate signing request: {reason}")]
    InvalidRequest {
        /// Why.
        reason: String,
    },
    /// A valid request the policy does not allow.
    #[error("certificate signing request for {subject:?} rejected: {reason}")]
    RequestRejected {
        /// The requested CN.
        subject: String,
        /// Which rule it broke.
        reason: String,
    },
    /// Externally signed certificates that do not fit the config; nothing was written.
    #[error(
        "invalid or incomplete external CA material (nothing was written):{}",
        bullets(problems.iter().map(|(name, problem)| format!("{name}: {problem}")))
    )]
    ExternalCaInvalid {
        /// Each certificate or kubeconfig name with what is wrong with it.
        problems: Vec<(&'static str, ImportProblem)>,
    },
    /// A renewal plan (`certs apply PLANFILE`) that is not one this version reads.
    #[error("invalid renewal plan: {reason}")]
    InvalidRenewalPlan {
        /// What is wrong with it.
        reason: String,
    },
    /// `renew` of a name that is not a renewable certificate.
    #[error(
        "{name:?} cannot be renewed: CAs and kubelet.conf are not renewable; renewable names: {renewable}"
    )]
    NotRenewable {
        /// The name given.
        name: String,
        /// The names that are.
        renewable: String,
    },
    /// `certs rotate-ca` of a name that is not a rotatable CA.
    #[error("{name:?} is not a CA that can be rotated; rotatable: ca, front-proxy-ca, etcd-ca")]
    NotRotatable {
        /// The name given.
        name: String,
    },
    /// A CA's files are in a state no rotation step leaves.
    #[error("the files of {ca} are not in any phase of a CA rotation: {reason}")]
    RotationInconsistent {
        /// The CA.
        ca: &'static str,
        /// What does not fit.
        reason: String,
    },
    /// A rotation step taken out of order.
    #[error("cannot {step} the rotation of {ca}: it is {phase}, and its next step is {next}")]
    RotationStepOutOfOrder {
        /// The CA.
        ca: &'static str,
        /// The step asked for.
        step: crate::ca_rotation::Step,
        /// Where the rotation stands.
        phase: crate::ca_rotation::Phase,
        /// The step that would move it on.
        next: crate::ca_rotation::Step,
    },
    /// A rotation step that is not safe yet.
    #[error("cannot go on with the rotation of {ca}: {reason}")]
    RotationBlocked {
        /// The CA.
        ca: &'static str,
        /// Why.
        reason: String,
    },
    /// A certificate name that is not in this tree (a typo, or an etcd name with external etcd).
    #[error("{name:?} is not a certificate of this tree (external etcd has no etcd certificates)")]
    NotInTree {
        /// The name given.
        name: String,
    },
    /// A duration that is not a Go duration string.
    #[error("invalid duration {value:?}: {reason} (examples: 8760h, 168h, 1h30m)")]
    InvalidDuration {
        /// The input.
        value: String,
        /// What is wrong.
        reason: DurationError,
    },
    /// A kubeadm config file (`--config`) that cannot be read or is invalid.
    #[error("invalid kubeadm config: {0}")]
    KubeadmConfig(#[from] kubetrust_kubeadm_config::Error),
    /// A valid kubeadm config file that does not describe a certificate tree.
    #[error("invalid kubeadm config{}: {problem}", path.as_ref().map(|p| format!(": {}", p.display())).unwrap_or_default())]
    UnusableKubeadmConfig {
        /// The file, when it was read from one.
        path: Option<PathBuf>,
        /// What is missing or conflicting.
        problem: UnusableConfig,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Fs(#[from] kubetrust_fs::Error),
}

/// The part of a kubeconfig that its current context names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KubeconfigEntry {
    /// The context itself.
    Context,
    /// The context's cluster.
    Cluster,
    /// The context's user.
    AuthInfo,
}

impl fmt::Display for KubeconfigEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Context => "context",
            Self::Cluster => "cluster",
            Self::AuthInfo => "authInfo",
        })
    }
}

/// One `\n  item` line per item: the indented list under a refusal's first line.
fn bullets(items: impl Iterator<Item = impl fmt::Display>) -> String {
    items.map(|item| format!("\n  {item}")).collect()
}

fn entry_suffix(entry: &Option<String>) -> String {
    match entry {
        Some(e) => format!(" (Secret entry {e:?})"),
        None => String::new(),
    }
}

/// Why a kubeadm config file gives the tree nothing to work with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnusableConfig {
    /// None of the three kinds that hold tree settings.
    #[error("no InitConfiguration, JoinConfiguration or ClusterConfiguration document")]
    NoDocument,
    /// Both node kinds: which node is this?
    #[error("InitConfiguration and JoinConfiguration cannot both be given")]
    InitAndJoin,
    /// kubeadm's rule: `certificatesDir` must be absolute.
    #[error("certificatesDir: Invalid value: {:?}: path is not absolute", .0.display().to_string())]
    RelativeCertificatesDir(PathBuf),
}
