//! The `kube-system/kubeadm-certs` Secret: how `kubeadm init --upload-certs` shares the cluster
//! CAs and service-account keys with control-plane nodes that join later.
//!
//! Wire format (kubeadm-compatible byte for byte):
//!
//! * the *certificate key* is 32 random bytes, shown as 64 lower-case hex characters;
//! * each file becomes one Secret data value `nonce(12) ‖ ciphertext ‖ tag(16)`, AES-256-GCM
//!   with the certificate key, a fresh random nonce per value and no associated data;
//! * data keys are the file names relative to the certificate directory with `/` replaced by
//!   `-` (`etcd/ca.crt` → `etcd-ca.crt`); with external etcd the three etcd client files use
//!   `external-etcd-ca.crt`, `external-etcd.crt` and `external-etcd.key`;
//! * a file that does not exist at upload time is stored as an empty value, and skipped on
//!   download.
//!
//! This module builds the objects and decrypts them; it does no network and writes no file.
//!
//! ```
//! use kubetrust_pki::upload_certs::{self, CertificateKey};
//!
//! let key = CertificateKey::generate()?;
//! let sealed = upload_certs::encrypt(&key, b"-----BEGIN CERTIFICATE-----\n")?;
//! let opened = upload_certs::decrypt(&key, &sealed)?;
//! assert_eq!(opened.as_slice(), b"-----BEGIN CERTIFICATE-----\n");
//! # Ok::<(), kubetrust_pki::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::Error;

/// Name of the Secret holding the encrypted certificates.
pub const SECRET_NAME: &str = "kubeadm-certs";
/// Namespace of the Secret, Role and RoleBinding.
pub const NAMESPACE: &str = "kube-system";
/// Name of the Role and RoleBinding that let joining nodes read the Secret.
pub const RBAC_NAME: &str = "kubeadm:kubeadm-certs";
/// The group every kubeadm default-node bootstrap token authenticates as.
pub const BOOTSTRAP_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";
/// Length of a certificate key in bytes (kubeadm's `CertificateKeySize`).
pub const CERTIFICATE_KEY_LEN: usize = 32;
/// Length of the AES-GCM authentication tag appended to every value.
pub const TAG_LEN: usize = 16;

/// The AES-256 key that protects the `kubeadm-certs` Secret.
///
/// Zeroized on drop; `Debug` prints `CertificateKey([redacted])`; there is no `Display`. Parse
/// one from its 64-character hex form with [`str::parse`]; print one with
/// [`expose_hex`](Self::expose_hex).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct CertificateKey([u8; CERTIFICATE_KEY_LEN]);

impl CertificateKey {
    /// Generates a key from the operating system's CSPRNG (what `kubeadm certs certificate-key`
    /// does).
    pub fn generate() -> Result<Self, Error> {
        let mut key = CertificateKey([0; CERTIFICATE_KEY_LEN]);
        aws_lc_rs::rand::fill(&mut key.0).map_err(|_| Error::Random)?;
        Ok(key)
    }

    /// Returns the secret key as 64 lower-case hex characters, the form kubeadm prints and
    /// `--certificate-key` takes. The returned string is zeroized when dropped.
    pub fn expose_hex(&self) -> Zeroizing<String> {
        use std::fmt::Write as _;
        // Capacity is exact, so the string never reallocates and leaves no unzeroized copy.
        let mut out = Zeroizing::new(String::with_capacity(2 * CERTIFICATE_KEY_LEN));
        for byte in &self.0 {
            // Writing to a String cannot fail.
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    fn aead_key(&self) -> Result<LessSafeKey, Error> {
        UnboundKey::new(&AES_256_GCM, &self.0)
            .map(LessSafeKey::new)
            .map_err(|_| Error::Aead {
                operation: "key setup",
                len: CERTIFICATE_KEY_LEN,
            })
    }
}

impl fmt::Debug for CertificateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CertificateKey([redacted])")
    }
}

impl FromStr for CertificateKey {
    type Err = Error;

    /// Parses exactly 64 hex characters (either case). Errors name the length or the position of
    /// the first bad character, never the input.
    fn from_str(s: &str) -> Result<Self, Error> {
        let len = s.chars().count();
        if len != 2 * CERTIFICATE_KEY_LEN {
            return Err(Error::CertificateKeyLength { len });
        }
        let mut key = CertificateKey([0; CERTIFICATE_KEY_LEN]);
        // 64 characters, all checked to be ASCII hex digits below, so each pair is one byte.
        let mut digits = s.chars().enumerate().map(|(i, c)| {
            c.to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
                .ok_or(Error::CertificateKeyNotHex { position: i + 1 })
        });
        for byte in key.0.iter_mut() {
            let (Some(hi), Some(lo)) = (digits.next(), digits.next()) else {
                return Err(Error::CertificateKeyLength { len });
            };
            *byte = (hi? << 4) | lo?;
        }
        Ok(key)
    }
}

/// Encrypts `plaintext` as one `kubeadm-certs` value: `nonce(12) ‖ ciphertext ‖ tag(16)` with a
/// fresh random nonce.
pub fn encrypt(key: &CertificateKey, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).map_err(|_| Error::Random)?;
    encrypt_with_nonce(key, nonce, plaintext)
}

/// [`encrypt`] with a caller-chosen nonce; only for test vectors (a repeated nonce breaks GCM).
pub(crate) fn encrypt_with_nonce(
    key: &CertificateKey,
    nonce: [u8; NONCE_LEN],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let aead = key.aead_key()?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let sealed = out.split_at_mut_checked(NONCE_LEN).and_then(|(_, body)| {
        aead.seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), body)
            .ok()
    });
    match sealed {
        Some(tag) => {
            out.extend_from_slice(tag.as_ref());
            Ok(out)
        }
        None => {
            // The buffer held plaintext before sealing failed.
            out.zeroize();
            Err(Error::Aead {
                operation: "encryption",
                len: plaintext.len(),
            })
        }
    }
}

/// Decrypts one `kubeadm-certs` value. Fails with kubeadm's `size of data is less than the
/// nonce` when `data` is shorter than 12 bytes and with
/// [`Error::SecretDecrypt`] when authentication fails (wrong key, altered data).
pub fn decrypt(key: &CertificateKey, data: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
    decrypt_entry(key, data, None)
}

fn decrypt_entry(
    key: &CertificateKey,
    data: &[u8],
    entry: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let (nonce, body) = data
        .split_at_checked(NONCE_LEN)
        .ok_or_else(|| Error::DataShorterThanNonce {
            entry: entry.map(str::to_owned),
            len: data.len(),
        })?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::Aead {
        operation: "decryption",
        len: data.len(),
    })?;
    let aead = key.aead_key()?;
    let mut buf = Zeroizing::new(body.to_vec());
    let plain_len = aead
        .open_in_place(nonce, Aad::empty(), buf.as_mut_slice())
        .map_err(|_| Error::SecretDecrypt {
            entry: entry.map(str::to_owned),
        })?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

/// Where etcd's CA lives, which decides the entry list (kubeadm's `etcd.local` / `etcd.external`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Etcd {
    /// Stacked etcd: `etcd/ca.crt` and `etcd/ca.key` under the certificate directory.
    Local,
    /// External etcd: the client files from `etcd.external` in the kubeadm configuration.
    /// kubeadm requires absolute paths here; a relative path is taken relative to the
    /// certificate directory.
    External {
        /// `etcd.external.caFile`.
        ca_file: PathBuf,
        /// `etcd.external.certFile`.
        cert_file: PathBuf,
        /// `etcd.external.keyFile`.
        key_file: PathBuf,
    },
}

/// One file carried by the `kubeadm-certs` Secret.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadEntry {
    /// The Secret data key, e.g. `etcd-ca.crt`.
    pub secret_key: &'static str,
    /// kubeadm's name for the file (used in its messages), e.g. `etcd/ca.crt`.
    pub name: &'static str,
    /// The file's path: relative to the certificate directory for the cluster CAs and
    /// service-account keys, as configured for external etcd.
    pub path: PathBuf,
    /// Whether the file is a private key (downloaded with mode 0600, else 0644).
    pub is_private_key: bool,
}

impl UploadEntry {
    fn fixed(secret_key: &'static str, name: &'static str, is_private_key: bool) -> Self {
        UploadEntry {
            secret_key,
            name,
            path: PathBuf::from(name),
            is_private_key,
        }
    }

    fn external(secret_key: &'static str, path: &Path, is_private_key: bool) -> Self {
        UploadEntry {
            secret_key,
            name: secret_key,
            path: path.to_path_buf(),
            is_private_key,
        }
    }

    /// The file's location for a given certificate directory (`path` if it is absolute).
    pub fn full_path(&self, cert_dir: &Path) -> PathBuf {
        cert_dir.join(&self.path)
    }
}

/// The files kubeadm uploads, in a fixed order: the cluster CA, front-proxy CA and
/// service-account keys, then etcd's CA (local) or the etcd client files (external).
pub fn entries(etcd: &Etcd) -> Vec<UploadEntry> {
    let mut list = vec![
        UploadEntry::fixed("ca.crt", "ca.crt", false),
        UploadEntry::fixed("ca.key", "ca.key", true),
        UploadEntry::fixed("front-proxy-ca.crt", "front-proxy-ca.crt", false),
        UploadEntry::fixed("front-proxy-ca.key", "front-proxy-ca.key", true),
        UploadEntry::fixed("sa.pub", "sa.pub", false),
        UploadEntry::fixed("sa.key", "sa.key", true),
    ];
    match etcd {
        Etcd::Local => {
            list.push(UploadEntry::fixed("etcd-ca.crt", "etcd/ca.crt", false));
            list.push(UploadEntry::fixed("etcd-ca.key", "etcd/ca.key", true));
        }
        Etcd::External {
            ca_file,
            cert_file,
            key_file,
        } => {
            list.push(UploadEntry::external("external-etcd-ca.crt", ca_file, false));
            list.push(UploadEntry::external("external-etcd.crt", cert_file, false));
            list.push(UploadEntry::external("external-etcd.key", key_file, true));
        }
    }
    list
}

/// The bootstrap token whose Secret owns `kubeadm-certs`, so that the garbage collector deletes
/// the certificates when the (2-hour) token expires.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OwnerRef {
    /// Name of the token's Secret, `bootstrap-token-<id>`.
    pub secret_name: String,
    /// `metadata.uid` of that Secret, as read from the API server.
    pub uid: String,
}

impl OwnerRef {
    /// An owner given the token Secret's name and uid.
    pub fn new(secret_name: impl Into<String>, uid: impl Into<String>) -> Self {
        OwnerRef {
            secret_name: secret_name.into(),
            uid: uid.into(),
        }
    }

    /// An owner given the token id (the part before the dot); the name becomes
    /// `bootstrap-token-<id>`.
    pub fn for_token_id(token_id: &str, uid: impl Into<String>) -> Self {
        OwnerRef::new(format!("bootstrap-token-{token_id}"), uid)
    }

    /// kubeadm's controller reference to the token Secret, for a `kubeadm-certs` Secret built
    /// before the token existed (read the files first, create the token only if that worked).
    pub fn to_owner_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: "v1".to_owned(),
            kind: "Secret".to_owned(),
            name: self.secret_name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

/// Reads the files of [`entries`] under `cert_dir`, encrypts each with `key`, and returns the
/// `kube-system/kubeadm-certs` Secret (type `Opaque`) ready to create or update.
///
/// A file that does not exist becomes an empty value, as in kubeadm; any other read error is
/// [`Error::Read`] naming the file. With `owner`, the Secret gets kubeadm's controller
/// owner reference to the token Secret.
pub fn build_secret(
    cert_dir: &Path,
    key: &CertificateKey,
    etcd: &Etcd,
    owner: Option<&OwnerRef>,
) -> Result<Secret, Error> {
    let mut data = BTreeMap::new();
    for entry in entries(etcd) {
        let path = entry.full_path(cert_dir);
        let value = match crate::read::file(&path) {
            Ok(contents) => encrypt(key, &contents)?,
            Err(Error::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        data.insert(entry.secret_key.to_owned(), ByteString(value));
    }
    Ok(Secret {
        metadata: ObjectMeta {
            name: Some(SECRET_NAME.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            owner_references: owner.map(|o| vec![o.to_owner_reference()]),
            ..ObjectMeta::default()
        },
        type_: Some("Opaque".to_owned()),
        data: Some(data),
        ..Secret::default()
    })
}

/// The Role and RoleBinding `kube-system/kubeadm:kubeadm-certs`: `get` on the `kubeadm-certs`
/// Secret for the group `system:bootstrappers:kubeadm:default-node-token`.
pub fn rbac() -> (Role, RoleBinding) {
    let metadata = ObjectMeta {
        name: Some(RBAC_NAME.to_owned()),
        namespace: Some(NAMESPACE.to_owned()),
        ..ObjectMeta::default()
    };
    let role = Role {
        metadata: metadata.clone(),
        rules: Some(vec![PolicyRule {
            verbs: vec!["get".to_owned()],
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["secrets".to_owned()]),
            resource_names: Some(vec![SECRET_NAME.to_owned()]),
            ..PolicyRule::default()
        }]),
    };
    let binding = RoleBinding {
        metadata,
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: RBAC_NAME.to_owned(),
        },
        subjects: Some(vec![Subject {
            // What the API server defaults an empty apiGroup to for a Group subject.
            api_group: Some("rbac.authorization.k8s.io".to_owned()),
            kind: "Group".to_owned(),
            name: BOOTSTRAP_GROUP.to_owned(),
            namespace: None,
        }]),
    };
    (role, binding)
}

/// A decrypted file from the `kubeadm-certs` Secret, to be written by the caller.
///
/// `Debug` shows the path, mode and length, never the contents.
#[non_exhaustive]
pub struct DownloadedFile {
    /// Where to write the file.
    pub path: PathBuf,
    /// The decrypted contents; zeroized on drop.
    pub contents: Zeroizing<Vec<u8>>,
    /// File mode: 0600 for private keys, 0644 for certificates and `sa.pub` (kubeadm ≥ 1.22).
    pub mode: u32,
}

impl fmt::Debug for DownloadedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadedFile")
            .field("path", &self.path)
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("len", &self.contents.len())
            .field("contents", &format_args!("[redacted]"))
            .finish()
    }
}

/// Decrypts the files of [`entries`] from a `kubeadm-certs` Secret, for a control-plane join.
///
/// All or nothing: every required value is decrypted before anything is returned, and any
/// failure returns an error and no file. A missing data key is
/// [`Error::SecretEntryMissing`]; an empty value (file absent at upload) is skipped; a value that
/// does not decrypt is [`Error::SecretDecrypt`] or [`Error::DataShorterThanNonce`] naming the
/// entry. Data keys the entry list does not name are ignored.
pub fn download(
    secret: &Secret,
    key: &CertificateKey,
    cert_dir: &Path,
    etcd: &Etcd,
) -> Result<Vec<DownloadedFile>, Error> {
    let mut files = Vec::new();
    for entry in entries(etcd) {
        let path = entry.full_path(cert_dir);
        let Some(ByteString(value)) = secret.data.as_ref().and_then(|d| d.get(entry.secret_key)) else {
            return Err(Error::SecretEntryMissing {
                name: entry.name.to_owned(),
                path,
            });
        };
        if value.is_empty() {
            continue;
        }
        let contents = decrypt_entry(key, value, Some(entry.secret_key))?;
        let mode = if entry.is_private_key { 0o600 } else { 0o644 };
        files.push(DownloadedFile { path, contents, mode });
    }
    Ok(files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// The fixed-nonce vector, relative to `CARGO_MANIFEST_DIR`.
    const VECTOR: &str = "../../testdata/pki/upload-certs-vector.txt";

    fn hex(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2), "odd hex length");
        s.as_bytes()
            .chunks(2)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).expect("hex"))
            .collect()
    }

    fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("vector has no line starting with {prefix:?}"))
            .trim()
    }

    #[test]
    fn fixed_nonce_vector_is_byte_exact() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(VECTOR);
        let text = std::fs::read_to_string(&path).expect("read vector");
        let key: CertificateKey = field(&text, "certificate-key (hex, 32 bytes):").parse().unwrap();
        let nonce: [u8; NONCE_LEN] = hex(field(&text, "nonce (12 bytes, hex):")).try_into().unwrap();
        let repr = field(&text, "plaintext (repr):");
        let inner = repr
            .strip_prefix("b'")
            .and_then(|r| r.strip_suffix('\''))
            .expect("b'...' repr");
        assert!(
            !inner.replace("\\n", "").contains('\\'),
            "unexpected escape in vector plaintext"
        );
        let plaintext = inner.replace("\\n", "\n");
        let expected = hex(field(&text, "secret value = nonce || ciphertext || tag (hex):"));

        let sealed = encrypt_with_nonce(&key, nonce, plaintext.as_bytes()).unwrap();
        assert_eq!(sealed, expected);
        assert_eq!(sealed.len(), NONCE_LEN + plaintext.len() + TAG_LEN);
        assert_eq!(decrypt(&key, &sealed).unwrap().as_slice(), plaintext.as_bytes());

        // As seen in the Secret's JSON `.data`.
        let b64 = field(&text, "secret value base64 (as seen in Secret .data):");
        let json = serde_json::to_string(&ByteString(sealed)).unwrap();
        assert_eq!(json, format!("\"{b64}\""));
    }

    #[test]
    fn random_nonces_differ() {
        let key = CertificateKey::generate().unwrap();
        let a = encrypt(&key, b"same").unwrap();
        let b = encrypt(&key, b"same").unwrap();
        assert_ne!(a.get(..NONCE_LEN), b.get(..NONCE_LEN));
    }

    #[test]
    fn nonce_only_input_fails_authentication_not_length() {
        let key = CertificateKey::generate().unwrap();
        for len in NONCE_LEN..NONCE_LEN + TAG_LEN {
            let err = decrypt(&key, &vec![0u8; len]).unwrap_err();
            assert!(
                matches!(err, Error::SecretDecrypt { entry: None }),
                "len {len}: {err:?}"
            );
        }
    }

    #[test]
    fn entry_lists() {
        let local = entries(&Etcd::Local);
        let keys: Vec<_> = local.iter().map(|e| e.secret_key).collect();
        assert_eq!(
            keys,
            [
                "ca.crt",
                "ca.key",
                "front-proxy-ca.crt",
                "front-proxy-ca.key",
                "sa.pub",
                "sa.key",
                "etcd-ca.crt",
                "etcd-ca.key"
            ]
        );
        for e in &local {
            // Data key = relative path with '/' replaced by '-'.
            assert_eq!(e.secret_key, e.path.to_str().unwrap().replace('/', "-"));
            assert_eq!(e.is_private_key, e.secret_key.ends_with(".key"));
        }
        let ext = entries(&Etcd::External {
            ca_file: "/etc/etcd/ca.pem".into(),
            cert_file: "/etc/etcd/client.pem".into(),
            key_file: "/etc/etcd/client-key.pem".into(),
        });
        let tail: Vec<_> = ext
            .iter()
            .skip(6)
            .map(|e| (e.secret_key, e.path.clone(), e.is_private_key))
            .collect();
        assert_eq!(
            tail,
            [
                ("external-etcd-ca.crt", PathBuf::from("/etc/etcd/ca.pem"), false),
                ("external-etcd.crt", PathBuf::from("/etc/etcd/client.pem"), false),
                (
                    "external-etcd.key",
                    PathBuf::from("/etc/etcd/client-key.pem"),
                    true
                ),
            ]
        );
        assert_eq!(ext.len(), 9);
        assert_eq!(
            ext.first().unwrap().full_path(Path::new("/etc/kubernetes/pki")),
            Path::new("/etc/kubernetes/pki/ca.crt")
        );
        assert_eq!(
            ext.get(6).unwrap().full_path(Path::new("/etc/kubernetes/pki")),
            Path::new("/etc/etcd/ca.pem")
        );
    }

    #[test]
    fn rbac_shape() {
        let (role, binding) = rbac();
        let role = serde_json::to_value(&role).unwrap();
        assert_eq!(
            role,
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": "kubeadm:kubeadm-certs", "namespace": "kube-system"},
                "rules": [{
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": ["kubeadm-certs"],
                    "verbs": ["get"]
                }]
            })
        );
        let binding = serde_json::to_value(&binding).unwrap();
        assert_eq!(
            binding,
            serde_json::json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "kubeadm:kubeadm-certs", "namespace": "kube-system"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "kubeadm:kubeadm-certs"
                },
                "subjects": [{
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group",
                    "name": "system:bootstrappers:kubeadm:default-node-token"
                }]
            })
        );
    }
}
