//! The `<cluster>-kubeconfig` Secret (`util/kubeconfig/kubeconfig.go`): built exactly as
//! Cluster API builds it, and read back with its client certificate's expiry.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::Secret;
use kubetrust_kubeconfig::Config;
use kubetrust_pki::kubeconfigs::{ClientCredentialsSpec, UserKubeconfig, build, client_validity};
use kubetrust_pki::tree::TreeConfig;
use kubetrust_pki::{Certificate, CertificateAuthority, KeyAlgorithm, Subject, parse_control_plane_endpoint};

use crate::layout::{KUBECONFIG_DATA, Purpose, cluster_secret};
use crate::secrets::{name_of, required_data};
use crate::{ClusterPki, Error};

/// The admin client certificate's lifetime: Cluster API's `DefaultCertDuration` (365 days).
pub const CLIENT_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);

/// When Cluster API's kubeconfig reconcilers rotate the Secret: once the client certificate
/// expires within this period (`ClientCertificateRenewalDuration`, half of
/// [`CLIENT_CERTIFICATE_VALIDITY`]; Cluster API `util/certs/consts.go`: `DefaultCertDuration / 2`).
pub const ROTATION_THRESHOLD: Duration = Duration::from_secs(365 * 24 * 3600 / 2);

/// The client certificate's subject: CN `kubernetes-admin`, O `system:masters` (Cluster API
/// keeps `system:masters`, unlike kubeadm's admin.conf since 1.29).
const ADMIN_COMMON_NAME: &str = "kubernetes-admin";
const ADMIN_GROUP: &str = "system:masters";

/// The admin kubeconfig of a workload cluster as Cluster API's `kubeconfig.New` makes it:
/// cluster `<cluster>` at `https://<endpoint>` with the CA's signing certificate embedded;
/// user `<cluster>-admin` with a new client certificate (CN `kubernetes-admin`, O
/// `system:masters`, clientAuth, valid from the CA's NotBefore for
/// [`CLIENT_CERTIFICATE_VALIDITY`]) and key of `algorithm`; context
/// `<cluster>-admin@<cluster>`, current.
///
/// Cluster API generates RSA-2048 client keys ([`KeyAlgorithm::default`]); newer releases
/// follow the control plane's `encryptionAlgorithm`, which `algorithm` stands for.
pub fn admin_kubeconfig(
    cluster: &str,
    endpoint: &str,
    ca: &CertificateAuthority,
    algorithm: KeyAlgorithm,
    now: SystemTime,
) -> Result<Config, Error> {
    parse_control_plane_endpoint(endpoint)?;
    let subject = Subject::new(ADMIN_COMMON_NAME).with_organization(ADMIN_GROUP);
    let credentials = ClientCredentialsSpec::Certificate {
        subject,
        validity: client_validity(ca, now, CLIENT_CERTIFICATE_VALIDITY),
    };
    let mut request = UserKubeconfig::new(&TreeConfig::default(), format!("{cluster}-admin"), credentials)?;
    request.cluster_name = cluster.to_owned();
    request.server = format!("https://{endpoint}");
    request.key_algorithm = algorithm;
    Ok(build(ca, request)?)
}

impl ClusterPki {
    /// The `<cluster>-kubeconfig` Secret for a control-plane `endpoint` (`host:port`): key
    /// `value` holds [`admin_kubeconfig`] as client-go writes it, with a client key of the
    /// cluster CA key's algorithm. Type and label as [`ClusterPki::to_secrets`]; Cluster
    /// API's owner reference (the Cluster) is the caller's to add.
    pub fn kubeconfig_secret(
        &self,
        cluster: &str,
        namespace: &str,
        endpoint: &str,
        now: SystemTime,
    ) -> Result<Secret, Error> {
        let algorithm = self.cluster_ca.key().algorithm();
        let config = admin_kubeconfig(cluster, endpoint, &self.cluster_ca, algorithm, now)?;
        let yaml = config.to_yaml().map_err(|source| Error::Kubeconfig {
            secret: Purpose::Kubeconfig.secret_name(cluster),
            key: KUBECONFIG_DATA,
            source: Box::new(source),
        })?;
        let yaml = zeroize::Zeroizing::new(yaml);
        Ok(cluster_secret(
            cluster,
            namespace,
            Purpose::Kubeconfig,
            [(KUBECONFIG_DATA, yaml.as_bytes().to_vec())],
        ))
    }
}

/// A kubeconfig read from a Cluster API kubeconfig Secret, with what rotation needs.
#[derive(Debug)]
#[non_exhaustive]
pub struct KubeconfigSecret {
    /// The kubeconfig (keys held as secrets: `Debug` redacts them).
    pub config: Config,
    /// The earliest NotAfter among the users' embedded client certificates; `None` when no
    /// user has one (token or exec credentials).
    pub client_certificate_expiry: Option<SystemTime>,
}

impl KubeconfigSecret {
    /// Reads `value` of a kubeconfig Secret (`<cluster>-kubeconfig` or
    /// `-user-kubeconfig`) and the expiry of its client certificates. Errors name the Secret;
    /// the kubeconfig's content is never quoted.
    pub fn read(secret: &Secret) -> Result<Self, Error> {
        let bytes = required_data(secret, KUBECONFIG_DATA)?;
        let config = Config::from_bytes(bytes).map_err(|source| Error::Kubeconfig {
            secret: name_of(secret),
            key: KUBECONFIG_DATA,
            source: Box::new(source),
        })?;
        let mut expiry: Option<SystemTime> = None;
        for user in config
            .users
            .iter()
            .filter(|u| !u.user.client_certificate_data.is_empty())
        {
            let cert = Certificate::from_pem(&user.user.client_certificate_data).map_err(|source| {
                Error::ClientCertificate {
                    secret: name_of(secret),
                    user: user.name.clone(),
                    source,
                }
            })?;
            let not_after = cert.not_after();
            expiry = Some(expiry.map_or(not_after, |earliest| earliest.min(not_after)));
        }
        Ok(Self {
            config,
            client_certificate_expiry: expiry,
        })
    }

    /// Whether Cluster API would rotate this Secret at `now`: a client certificate expires
    /// within `threshold` (Cluster API uses [`ROTATION_THRESHOLD`]).
    pub fn needs_rotation(&self, now: SystemTime, threshold: Duration) -> bool {
        self.client_certificate_expiry
            .is_some_and(|expiry| expiry.duration_since(now).map_or(true, |left| left < threshold))
    }
}
