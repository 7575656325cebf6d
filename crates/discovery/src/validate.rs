//! `validate()`: kubeadm's checks on a fetched `cluster-info`, in kubeadm's order, as a pure
//! function.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_kubeconfig::{Config, SecretString};
use kubetrust_pki::{CaCertHash, Certificate};

use crate::{Error, Trust};

pub use kubetrust_bootstrap_token::{JWS_KEY_PREFIX, KUBECONFIG_KEY};

/// The `data` of a `cluster-info` ConfigMap, however the caller holds it.
pub trait ClusterInfoData {
    /// The value of `key`, if present.
    fn entry(&self, key: &str) -> Option<&str>;
    /// Every key (to name the tokens that do have signatures).
    fn keys(&self) -> Vec<&str>;
}

impl ClusterInfoData for BTreeMap<String, String> {
    fn entry(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.keys().map(String::as_str).collect()
    }
}

impl ClusterInfoData for ConfigMap {
    fn entry(&self, key: &str) -> Option<&str> {
        self.data.as_ref()?.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.data
            .as_ref()
            .map(|d| d.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

/// One CA certificate of the discovered bundle with its pin.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaCertificate {
    /// The parsed certificate.
    pub certificate: Certificate,
    /// Its `sha256:` pin.
    pub pin: CaCertHash,
}

/// A `cluster-info` that passed every check.
#[derive(Clone, Debug)]
pub struct ValidatedClusterInfo {
    kubeconfig: String,
    server: String,
    ca_pem: Vec<u8>,
    ca: Vec<CaCertificate>,
    pinned: bool,
}

impl ValidatedClusterInfo {
    /// The API server URL cluster-info names (kubeadm uses it for the TLS bootstrap, not the
    /// endpoint that was dialled).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Every CA certificate of the bundle, in order, with its pin.
    pub fn ca_certificates(&self) -> &[CaCertificate] {
        &self.ca
    }

    /// The CA bundle exactly as cluster-info carries it (PEM).
    pub fn ca_pem(&self) -> &[u8] {
        &self.ca_pem
    }

    /// The signed kubeconfig, byte for byte (fetch #2 must return the same bytes).
    pub fn kubeconfig(&self) -> &str {
        &self.kubeconfig
    }

    /// Whether the CA was checked against pins (false only under the unsafe skip).
    pub fn was_pinned(&self) -> bool {
        self.pinned
    }

    /// The bootstrap kubeconfig kubeadm hands to the kubelet: cluster-info's server and CA,
    /// user `tls-bootstrap-token-user` with `tls_bootstrap_token` (usually the discovery token).
    pub fn bootstrap_kubeconfig(&self, tls_bootstrap_token: &BootstrapToken) -> Config {
        let token = SecretString::new(tls_bootstrap_token.expose_secret().as_str());
        Config::bootstrap_token(&self.server, self.ca_pem.clone(), token)
    }
}

/// Decides whether to trust a fetched `cluster-info`. The checks run in kubeadm's order and
/// the first failure is returned:
///
/// 1. a `kubeconfig` entry exists;
/// 2. a `jws-kubeconfig-<token id>` entry exists ([`Error::is_retryable`]: the signer may lag);
/// 3. the detached JWS over the kubeconfig verifies with the token (nothing before this point
///    is trusted);
/// 4. the kubeconfig parses and has exactly one cluster;
/// 5. its `certificate-authority-data` holds at least one certificate;
/// 6. with [`Trust::Pinned`], some certificate's public key matches some pin.
///
/// Pure: no I/O, no clock.
///
/// ```
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kubetrust_discovery::{PinSet, Trust, validate};
///
/// // As `kubectl get cm -n kube-public cluster-info -o json` prints it.
/// let cluster_info: ConfigMap =
///     serde_json::from_str(include_str!("../../../testdata/discovery/cluster-info-configmap.json"))?;
/// let token = "7h3k9q.x2m5p8r1t4w7z0c3".parse()?;
/// let pin = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
/// let info = validate(&cluster_info, &token, &Trust::Pinned(PinSet::parse([pin])?))?;
/// assert_eq!(info.server(), "https://10.0.0.10:6443");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn validate(
    cluster_info: &impl ClusterInfoData,
    token: &BootstrapToken,
    trust: &Trust,
) -> Result<ValidatedClusterInfo, Error> {
    let kubeconfig = cluster_info
        .entry(KUBECONFIG_KEY)
        .filter(|k| !k.is_empty())
        .ok_or(Error::NoKubeconfig)?;
    let token_id = token.id().as_str();
    let jws_key = token.id().jws_key();
    let Some(jws) = cluster_info.entry(&jws_key).filter(|j| !j.is_empty()) else {
        let signed_ids = cluster_info
            .keys()
            .into_iter()
            .filter_map(|k| k.strip_prefix(JWS_KEY_PREFIX))
            .map(str::to_owned)
            .collect();
        return Err(Error::NoSignatureForToken {
            token_id: token_id.to_owned(),
            signed_ids,
        });
    };
    token.verify_jws(jws, kubeconfig.as_bytes()).map_err(|e| {
        // The token crate's JWS errors already open with kubeadm's sentence, which this
        // variant's message adds itself; keep only what differs.
        let text = e.to_string();
        let detail = text
            .split_once("can't trust this API Server: ")
            .map_or(text.as_str(), |(_, d)| d);
        Error::InvalidSignature {
            token_id: token_id.to_owned(),
            reason: detail.to_owned(),
        }
    })?;

    let config = Config::from_bytes(kubeconfig.as_bytes()).map_err(|e| Error::MalformedKubeconfig {
        reason: e.to_string(),
    })?;
    let [cluster] = config.clusters.as_slice() else {
        return Err(Error::ClusterCount {
            count: config.clusters.len(),
        });
    };
    let cluster = &cluster.cluster;
    if cluster.certificate_authority_data.is_empty() {
        let reason = if cluster.certificate_authority.is_empty() {
            "the cluster has no certificate-authority-data".to_owned()
        } else {
            format!(
                "the cluster names a CA file ({}) instead of embedding certificate-authority-data",
                cluster.certificate_authority
            )
        };
        return Err(Error::InvalidCa { reason });
    }
    let certificates =
        Certificate::chain_from_pem(&cluster.certificate_authority_data).map_err(|e| Error::InvalidCa {
            reason: match e {
                kubetrust_pki::CertError::NoCertificate => {
                    "data does not contain any valid RSA or ECDSA certificates".to_owned()
                }
                other => other.to_string(),
            },
        })?;
    let ca: Vec<CaCertificate> = certificates
        .into_iter()
        .map(|certificate| CaCertificate {
            pin: CaCertHash::of_certificate(&certificate),
            certificate,
        })
        .collect();
    let pinned = match trust {
        Trust::Pinned(pins) => {
            if !ca.iter().any(|c| pins.contains(&c.pin)) {
                return Err(Error::PinMismatch {
                    observed: ca.iter().map(|c| c.pin).collect(),
                    expected: pins.pins().to_vec(),
                });
            }
            true
        }
        Trust::UnsafeSkipCaVerification => false,
    };
    Ok(ValidatedClusterInfo {
        kubeconfig: kubeconfig.to_owned(),
        server: cluster.server.clone(),
        ca_pem: cluster.certificate_authority_data.clone(),
        ca,
        pinned,
    })
}
