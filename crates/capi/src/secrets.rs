//! [`ClusterPki`] to and from Cluster API's Secrets (`util/secret/certificates.go`).

use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use kubetrust_pki::{CaCertHash, Certificate, CertificateAuthority, KeyAlgorithm, PrivateKey};

use crate::cluster_pki::{EtcdCa, ca_specs, generate_ca};
use crate::layout::{Purpose, TLS_CRT, TLS_KEY, cluster_secret};
use crate::{ClusterPki, Error};

impl ClusterPki {
    /// The four Secrets in Cluster API's layout, in its order: `<cluster>-ca`, `-etcd`,
    /// `-proxy` and `-sa`, each with `tls.crt` / `tls.key`, type `cluster.x-k8s.io/secret`
    /// and the `cluster.x-k8s.io/cluster-name` label. `-etcd` has no `tls.key` for external
    /// etcd; `-sa`'s `tls.crt` is the `PUBLIC KEY` PEM. Cluster API also sets an owner
    /// reference (the KubeadmConfig or control plane); add it before creating the Secrets.
    pub fn to_secrets(&self, cluster: &str, namespace: &str) -> Vec<Secret> {
        let ca_secret = |purpose, ca: &CertificateAuthority| {
            cluster_secret(
                cluster,
                namespace,
                purpose,
                [
                    (TLS_CRT, ca.bundle_pem().into_bytes()),
                    (TLS_KEY, ca.key().to_pem().as_bytes().to_vec()),
                ],
            )
        };
        let etcd = match &self.etcd_ca {
            EtcdCa::Local(ca) => ca_secret(Purpose::EtcdCa, ca),
            EtcdCa::External(bundle) => {
                let pem: String = bundle.iter().map(Certificate::to_pem).collect();
                cluster_secret(cluster, namespace, Purpose::EtcdCa, [(TLS_CRT, pem.into_bytes())])
            }
        };
        let sa = &self.service_account_key;
        vec![
            ca_secret(Purpose::ClusterCa, &self.cluster_ca),
            etcd,
            ca_secret(Purpose::FrontProxyCa, &self.front_proxy_ca),
            cluster_secret(
                cluster,
                namespace,
                Purpose::ServiceAccount,
                [
                    (TLS_CRT, sa.public_key_pem().into_bytes()),
                    (TLS_KEY, sa.to_pem().as_bytes().to_vec()),
                ],
            ),
        ]
    }

    /// Adopts the four Secrets of `cluster` from `secrets` exactly as they are, whoever made
    /// them: Cluster API's CA shape (serial 0, path length 0) is accepted. Secrets are matched
    /// by name, as Cluster API looks them up: pass those of the Cluster's namespace.
    ///
    /// Every Secret must exist ([`Error::MissingSecret`]) with a `tls.crt`
    /// ([`Error::MissingData`]); `tls.key` may be absent only from `-etcd` (external etcd).
    /// Certificates and keys must parse ([`Error::Certificate`], [`Error::PrivateKey`],
    /// [`Error::PublicKey`]), the first certificate must be a CA ([`Error::NotACa`]) and the
    /// key must be its key ([`Error::KeyMismatch`]).
    pub fn from_secrets(cluster: &str, secrets: &[Secret]) -> Result<Self, Error> {
        let required = |purpose: Purpose| {
            let name = purpose.secret_name(cluster);
            find(secrets, &name).ok_or(Error::MissingSecret { name })
        };
        Ok(Self {
            cluster_ca: adopt_ca(required(Purpose::ClusterCa)?)?,
            etcd_ca: adopt_etcd_ca(required(Purpose::EtcdCa)?)?,
            front_proxy_ca: adopt_ca(required(Purpose::FrontProxyCa)?)?,
            service_account_key: adopt_service_account(required(Purpose::ServiceAccount)?)?,
        })
    }

    /// Cluster API's `LookupOrGenerate`: adopts the Secrets that exist and generates the
    /// rest (kubeadm's shape, keys of `algorithm`). Returns the purposes that were generated:
    /// exactly the Secrets of [`ClusterPki::to_secrets`] the caller must create. A present
    /// but broken Secret is an error, never replaced.
    pub fn lookup_or_generate(
        cluster: &str,
        secrets: &[Secret],
        algorithm: KeyAlgorithm,
        now: SystemTime,
    ) -> Result<(Self, Vec<Purpose>), Error> {
        let lookup = |purpose: Purpose| find(secrets, &purpose.secret_name(cluster));
        let missing: Vec<Purpose> = Purpose::PKI
            .into_iter()
            .filter(|p| lookup(*p).is_none())
            .collect();
        let specs = ca_specs();
        let ca = |purpose, spec| match lookup(purpose) {
            Some(secret) => adopt_ca(secret),
            None => generate_ca(spec, algorithm, now),
        };
        let etcd_ca = match lookup(Purpose::EtcdCa) {
            Some(secret) => adopt_etcd_ca(secret)?,
            None => EtcdCa::Local(Box::new(generate_ca(specs.etcd, algorithm, now)?)),
        };
        let service_account_key = match lookup(Purpose::ServiceAccount) {
            Some(secret) => adopt_service_account(secret)?,
            None => PrivateKey::generate(algorithm)?,
        };
        let pki = Self {
            cluster_ca: ca(Purpose::ClusterCa, specs.cluster)?,
            etcd_ca,
            front_proxy_ca: ca(Purpose::FrontProxyCa, specs.front_proxy)?,
            service_account_key,
        };
        Ok((pki, missing))
    }
}

/// The `caCertHashes` from a `<cluster>-ca` Secret alone (what a worker's bootstrap data
/// needs): one pin per certificate of its `tls.crt`.
pub fn ca_cert_hashes(ca_secret: &Secret) -> Result<Vec<CaCertHash>, Error> {
    Ok(certificates(ca_secret)?
        .iter()
        .map(CaCertHash::of_certificate)
        .collect())
}

fn find<'a>(secrets: &'a [Secret], name: &str) -> Option<&'a Secret> {
    secrets.iter().find(|s| s.metadata.name.as_deref() == Some(name))
}

pub(crate) fn name_of(secret: &Secret) -> String {
    secret.metadata.name.clone().unwrap_or_default()
}

/// The bytes of `key`, `None` when absent.
pub(crate) fn data<'a>(secret: &'a Secret, key: &str) -> Option<&'a [u8]> {
    secret.data.as_ref()?.get(key).map(|value| value.0.as_slice())
}

pub(crate) fn required_data<'a>(secret: &'a Secret, key: &'static str) -> Result<&'a [u8], Error> {
    data(secret, key).ok_or_else(|| Error::MissingData {
        secret: name_of(secret),
        key,
    })
}

fn certificates(secret: &Secret) -> Result<Vec<Certificate>, Error> {
    Certificate::chain_from_pem(required_data(secret, TLS_CRT)?).map_err(|source| Error::Certificate {
        secret: name_of(secret),
        key: TLS_CRT,
        source,
    })
}

fn ca_certificates(secret: &Secret) -> Result<Vec<Certificate>, Error> {
    let bundle = certificates(secret)?;
    match bundle.first() {
        Some(first) if !first.is_ca() => Err(Error::NotACa {
            secret: name_of(secret),
            key: TLS_CRT,
            subject: first.subject_text(),
        }),
        _ => Ok(bundle),
    }
}

fn private_key(secret: &Secret) -> Result<PrivateKey, Error> {
    PrivateKey::from_pem(required_data(secret, TLS_KEY)?).map_err(|source| Error::PrivateKey {
        secret: name_of(secret),
        key: TLS_KEY,
        source,
    })
}

fn adopt_ca(secret: &Secret) -> Result<CertificateAuthority, Error> {
    let bundle = ca_certificates(secret)?;
    let key = private_key(secret)?;
    if !bundle.first().is_some_and(|cert| cert.matches_key(&key)) {
        return Err(Error::KeyMismatch {
            secret: name_of(secret),
        });
    }
    Ok(CertificateAuthority::new(bundle, key)?)
}

fn adopt_etcd_ca(secret: &Secret) -> Result<EtcdCa, Error> {
    if data(secret, TLS_KEY).is_some() {
        adopt_ca(secret).map(|ca| EtcdCa::Local(Box::new(ca)))
    } else {
        ca_certificates(secret).map(EtcdCa::External)
    }
}

fn adopt_service_account(secret: &Secret) -> Result<PrivateKey, Error> {
    let public = required_data(secret, TLS_CRT)?;
    let blocks = kubetrust_kubeconfig::pem::parse(public).unwrap_or_default();
    let Some(spki) = blocks.iter().find(|b| b.label == "PUBLIC KEY" && !b.has_headers) else {
        return Err(Error::PublicKey {
            secret: name_of(secret),
            key: TLS_CRT,
        });
    };
    let key = private_key(secret)?;
    if spki.der != key.public_key_der() {
        return Err(Error::KeyMismatch {
            secret: name_of(secret),
        });
    }
    Ok(key)
}
