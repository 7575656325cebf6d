//! [`ClusterPki`]: the CAs and keys a workload cluster needs, generated in kubeadm's shape.

use std::time::SystemTime;

use kubetrust_bootstrap_token::{BootstrapToken, JoinCommand};
use kubetrust_pki::tree::{CERTIFICATES, CertSpec, TreeConfig};
use kubetrust_pki::{
    CA_CERTIFICATE_VALIDITY, CaCertHash, Certificate, CertificateAuthority, KeyAlgorithm, PrivateKey,
    Validity,
};

use crate::Error;

/// The etcd CA: one that signs (stacked etcd), or only the certificates to trust (external
/// etcd, whose CA key Cluster API never holds).
#[derive(Debug)]
#[non_exhaustive]
pub enum EtcdCa {
    /// Stacked etcd: certificate and key.
    Local(Box<CertificateAuthority>),
    /// External etcd: the CA bundle only.
    External(Vec<Certificate>),
}

impl EtcdCa {
    /// The certificates to trust for etcd (the `tls.crt` / `etcd/ca.crt` bundle).
    pub fn bundle(&self) -> &[Certificate] {
        match self {
            Self::Local(ca) => ca.bundle(),
            Self::External(bundle) => bundle,
        }
    }
}

/// What a workload cluster's control plane shares across machines: the cluster CA, the etcd
/// CA, the front-proxy CA and the service-account key pair.
///
/// Generate one ([`ClusterPki::generate`]), adopt Cluster API's Secrets
/// ([`ClusterPki::from_secrets`]) or a kubeadm cert dir ([`ClusterPki::from_dir`]), then hand
/// it out as Secrets, files, a kubeconfig Secret or join pins. `Debug` never shows a key.
#[derive(Debug)]
pub struct ClusterPki {
    pub(crate) cluster_ca: CertificateAuthority,
    pub(crate) etcd_ca: EtcdCa,
    pub(crate) front_proxy_ca: CertificateAuthority,
    pub(crate) service_account_key: PrivateKey,
}

/// kubeadm's specs of the three CAs (names, common names, file names), from pki's list.
pub(crate) struct CaSpecs {
    pub(crate) cluster: &'static CertSpec,
    pub(crate) front_proxy: &'static CertSpec,
    pub(crate) etcd: &'static CertSpec,
}

pub(crate) fn ca_specs() -> CaSpecs {
    // kubeadm's GetDefaultCertList order; a change in pki's list breaks this at compile time
    // (its length) or in the test below (its order).
    let [cluster, _, _, front_proxy, _, etcd, _, _, _, _] = &CERTIFICATES;
    CaSpecs {
        cluster,
        front_proxy,
        etcd,
    }
}

/// One of kubeadm's self-signed CAs with a new key of `algorithm`.
pub(crate) fn generate_ca(
    spec: &CertSpec,
    algorithm: KeyAlgorithm,
    now: SystemTime,
) -> Result<CertificateAuthority, Error> {
    let common_name = spec.common_name(&TreeConfig::default());
    let validity = Validity::kubeadm(now, CA_CERTIFICATE_VALIDITY);
    Ok(CertificateAuthority::self_signed(
        &common_name,
        PrivateKey::generate(algorithm)?,
        validity,
    )?)
}

impl ClusterPki {
    /// Generates the three CAs (kubeadm's profile: CN `kubernetes`, `etcd-ca`,
    /// `front-proxy-ca`, random serial, 10 years) and the service-account key, every key of
    /// `algorithm`. Cluster API itself generates RSA-2048 ([`KeyAlgorithm::default`]).
    ///
    /// Cluster API's own CAs differ (serial 0, path length 0, no SAN); both shapes are valid
    /// CAs for kubeadm and are adopted alike by [`ClusterPki::from_secrets`].
    pub fn generate(algorithm: KeyAlgorithm, now: SystemTime) -> Result<Self, Error> {
        let specs = ca_specs();
        Ok(Self {
            cluster_ca: generate_ca(specs.cluster, algorithm, now)?,
            etcd_ca: EtcdCa::Local(Box::new(generate_ca(specs.etcd, algorithm, now)?)),
            front_proxy_ca: generate_ca(specs.front_proxy, algorithm, now)?,
            service_account_key: PrivateKey::generate(algorithm)?,
        })
    }

    /// Assembles a PKI from parts a caller already holds.
    pub fn new(
        cluster_ca: CertificateAuthority,
        etcd_ca: EtcdCa,
        front_proxy_ca: CertificateAuthority,
        service_account_key: PrivateKey,
    ) -> Self {
        Self {
            cluster_ca,
            etcd_ca,
            front_proxy_ca,
            service_account_key,
        }
    }

    /// The cluster CA: signs the API server's and every kubeconfig's certificate.
    pub fn cluster_ca(&self) -> &CertificateAuthority {
        &self.cluster_ca
    }

    /// The etcd CA.
    pub fn etcd_ca(&self) -> &EtcdCa {
        &self.etcd_ca
    }

    /// The front-proxy CA: signs the aggregation layer's client certificate.
    pub fn front_proxy_ca(&self) -> &CertificateAuthority {
        &self.front_proxy_ca
    }

    /// The key that signs service-account tokens (`sa.key`; its public half is `sa.pub`).
    pub fn service_account_key(&self) -> &PrivateKey {
        &self.service_account_key
    }

    /// The `caCertHashes` of a JoinConfiguration: one `sha256:` pin per certificate of the
    /// cluster CA bundle, in bundle order, as Cluster API and kubeadm compute them.
    pub fn ca_cert_hashes(&self) -> Vec<CaCertHash> {
        self.cluster_ca
            .bundle()
            .iter()
            .map(CaCertHash::of_certificate)
            .collect()
    }

    /// The worker `kubeadm join` command for `endpoint` (`host:port`) and `token`, pinned to
    /// the cluster CA: what a bootstrap provider hands a new machine.
    pub fn join_command(&self, endpoint: &str, token: BootstrapToken) -> JoinCommand {
        JoinCommand::new(endpoint, token)
            .with_ca_cert_hashes(self.ca_cert_hashes().iter().map(ToString::to_string))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ca_specs_are_the_three_cas() {
        let specs = ca_specs();
        let names = [specs.cluster, specs.front_proxy, specs.etcd].map(|s| (s.name, s.base_name, s.is_ca()));
        assert_eq!(
            names,
            [
                ("ca", "ca", true),
                ("front-proxy-ca", "front-proxy-ca", true),
                ("etcd-ca", "etcd/ca", true)
            ]
        );
    }

    #[test]
    fn generated_in_kubeadm_shape_with_the_chosen_algorithm() {
        let now = SystemTime::now();
        let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, now).unwrap();
        assert_eq!(pki.cluster_ca().certificate().subject().common_name, "kubernetes");
        assert_eq!(
            pki.front_proxy_ca().certificate().subject().common_name,
            "front-proxy-ca"
        );
        let EtcdCa::Local(etcd) = pki.etcd_ca() else {
            panic!("generated etcd CA must have its key");
        };
        assert_eq!(etcd.certificate().subject().common_name, "etcd-ca");
        assert_eq!(pki.service_account_key().algorithm(), KeyAlgorithm::EcdsaP256);
        assert_eq!(etcd.key().algorithm(), KeyAlgorithm::EcdsaP256);
        assert!(!format!("{pki:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn join_command_carries_one_pin_per_ca_certificate() {
        let pki = ClusterPki::generate(KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();
        let pins = pki.ca_cert_hashes();
        assert_eq!(pins.len(), 1);
        assert_eq!(
            pins[0],
            CaCertHash::of_public_key(pki.cluster_ca().key().public_key_der())
        );
        let token: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
        let cmd = pki.join_command("cp.example.com:6443", token);
        assert!(
            cmd.withheld()
                .ends_with(&format!("--discovery-token-ca-cert-hash {} ", pins[0])),
            "{}",
            cmd.withheld()
        );
    }
}
