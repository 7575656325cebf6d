//! Which certificates a kubeadm control plane has, and what each one says.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{AltNames, CA_CERTIFICATE_VALIDITY, CERTIFICATE_VALIDITY, Error, ExtKeyUsage, KeyAlgorithm};
use kubetrust_kubeadm_config::net::{Host, HostPort, is_dns1123_subdomain};

use crate::{first_service_ip, parse_control_plane_endpoint};

/// The cluster facts the certificate tree depends on (kubeadm's `InitConfiguration` +
/// `ClusterConfiguration` fields of the same names). `Default` has kubeadm's defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TreeConfig {
    /// `nodeRegistration.name`: CN of the etcd certificates, a SAN of the apiserver's.
    pub node_name: String,
    /// `localAPIEndpoint.advertiseAddress`.
    pub advertise_address: IpAddr,
    /// `localAPIEndpoint.bindPort` (6443).
    pub bind_port: u16,
    /// `controlPlaneEndpoint`: `host[:port]`, or empty.
    pub control_plane_endpoint: String,
    /// `apiServer.certSANs`.
    pub apiserver_cert_sans: Vec<String>,
    /// `etcd.local.serverCertSANs`.
    pub etcd_server_cert_sans: Vec<String>,
    /// `etcd.local.peerCertSANs`.
    pub etcd_peer_cert_sans: Vec<String>,
    /// `networking.serviceSubnet` (`10.96.0.0/12`).
    pub service_subnet: String,
    /// `networking.dnsDomain` (`cluster.local`).
    pub dns_domain: String,
    /// `clusterName` (`kubernetes`), the cluster name in kubeconfig files.
    pub cluster_name: String,
    /// `encryptionAlgorithm` for every generated key.
    pub encryption_algorithm: KeyAlgorithm,
    /// `certificateValidityPeriod` (8760h).
    pub certificate_validity: Duration,
    /// `caCertificateValidityPeriod` (87600h).
    pub ca_certificate_validity: Duration,
    /// `etcd.external` is set: no etcd CA and no etcd certificates.
    pub external_etcd: bool,
}

impl Default for TreeConfig {
    fn default() -> Self {
        Self {
            node_name: String::new(),
            advertise_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            bind_port: 6443,
            control_plane_endpoint: String::new(),
            apiserver_cert_sans: Vec::new(),
            etcd_server_cert_sans: Vec::new(),
            etcd_peer_cert_sans: Vec::new(),
            service_subnet: "10.96.0.0/12".to_owned(),
            dns_domain: "cluster.local".to_owned(),
            cluster_name: "kubernetes".to_owned(),
            encryption_algorithm: KeyAlgorithm::default(),
            certificate_validity: CERTIFICATE_VALIDITY,
            ca_certificate_validity: CA_CERTIFICATE_VALIDITY,
            external_etcd: false,
        }
    }
}

impl TreeConfig {
    /// A config for one control-plane node; everything else at kubeadm's defaults.
    pub fn new(node_name: impl Into<String>, advertise_address: IpAddr) -> Self {
        Self {
            node_name: node_name.into(),
            advertise_address,
            ..Self::default()
        }
    }

    /// Sets `controlPlaneEndpoint`.
    pub fn with_control_plane_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.control_plane_endpoint = endpoint.into();
        self
    }

    /// Sets `apiServer.certSANs`.
    pub fn with_apiserver_cert_sans(mut self, sans: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.apiserver_cert_sans = sans.into_iter().map(Into::into).collect();
        self
    }

    /// Sets `networking.serviceSubnet`.
    pub fn with_service_subnet(mut self, subnet: impl Into<String>) -> Self {
        self.service_subnet = subnet.into();
        self
    }

    /// Sets `networking.dnsDomain`.
    pub fn with_dns_domain(mut self, domain: impl Into<String>) -> Self {
        self.dns_domain = domain.into();
        self
    }

    /// Sets `encryptionAlgorithm`.
    pub fn with_encryption_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.encryption_algorithm = algorithm;
        self
    }

    /// Sets the `bindPort`.
    pub fn with_bind_port(mut self, port: u16) -> Self {
        self.bind_port = port;
        self
    }

    /// Skips the etcd CA and certificates (`etcd.external`).
    pub fn with_external_etcd(mut self, external: bool) -> Self {
        self.external_etcd = external;
        self
    }

    /// `https://<advertiseAddress>:<bindPort>`: the server of controller-manager.conf and
    /// scheduler.conf.
    pub fn local_api_endpoint(&self) -> String {
        format!(
            "https://{}",
            HostPort::new(Host::Ip(self.advertise_address), Some(self.bind_port))
        )
    }

    /// The server of admin.conf, super-admin.conf and kubelet.conf: the control-plane
    /// endpoint (its port, else bindPort), or the local endpoint.
    pub fn control_plane_url(&self) -> Result<String, Error> {
        if self.control_plane_endpoint.is_empty() {
            return Ok(self.local_api_endpoint());
        }
        let mut endpoint = parse_control_plane_endpoint(&self.control_plane_endpoint)?;
        endpoint.port = endpoint.port.or(Some(self.bind_port));
        Ok(format!("https://{endpoint}"))
    }

    /// Checks what can be checked before any key is generated.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if !is_dns1123_subdomain(&self.node_name) {
            return Err(Error::InvalidNodeName {
                value: self.node_name.clone(),
            });
        }
        if self.advertise_address.is_unspecified() {
            return Err(Error::InvalidAdvertiseAddress {
                value: self.advertise_address.to_string(),
            });
        }
        first_service_ip(&self.service_subnet)?;
        if !self.control_plane_endpoint.is_empty() {
            parse_control_plane_endpoint(&self.control_plane_endpoint)?;
        }
        Ok(())
    }
}

/// The CN of a tree certificate: fixed, or the node name (etcd server and peer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommonName {
    Fixed(&'static str),
    NodeName,
}

/// How a tree certificate's SANs are composed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SanRecipe {
    None,
    ApiServer,
    EtcdServer,
    EtcdPeer,
}

/// One entry of kubeadm's certificate list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertSpec {
    /// The phase and renew name: `apiserver`, `etcd-server`, ...
    pub name: &'static str,
    /// Files are `<base_name>.crt` / `.key` under the cert dir: `apiserver`, `etcd/server`, ...
    pub base_name: &'static str,
    /// The issuing CA (`ca`, `front-proxy-ca`, `etcd-ca`); `None` for CAs.
    pub ca: Option<&'static CertSpec>,
    /// kubeadm's description of the certificate.
    pub long_name: &'static str,
    pub(crate) common_name: CommonName,
    pub(crate) organizations: &'static [&'static str],
    pub(crate) usages: &'static [ExtKeyUsage],
    pub(crate) sans: SanRecipe,
}

use ExtKeyUsage::{ClientAuth, ServerAuth};

const fn ca(
    name: &'static str,
    base_name: &'static str,
    cn: &'static str,
    long_name: &'static str,
) -> CertSpec {
    CertSpec {
        name,
        base_name,
        ca: None,
        long_name,
        common_name: CommonName::Fixed(cn),
        organizations: &[],
        usages: &[],
        sans: SanRecipe::None,
    }
}

/// The cluster CA, `ca`: it signs the API server's certificates and every kubeconfig's.
pub const CLUSTER_CA: CertSpec = ca(
    "ca",
    "ca",
    "kubernetes",
    "self-signed Kubernetes CA to provision identities for other Kubernetes components",
);
const FRONT_PROXY_CA: CertSpec = ca(
    "front-proxy-ca",
    "front-proxy-ca",
    "front-proxy-ca",
    "self-signed CA to provision identities for front proxy",
);
const ETCD_CA: CertSpec = ca(
    "etcd-ca",
    "etcd/ca",
    "etcd-ca",
    "self-signed CA to provision identities for etcd",
);

/// kubeadm's `GetDefaultCertList`, in its order.
pub const CERTIFICATES: [CertSpec; 10] = [
    CLUSTER_CA,
    CertSpec {
        name: "apiserver",
        base_name: "apiserver",
        ca: Some(&CLUSTER_CA),
        long_name: "certificate for serving the Kubernetes API",
        common_name: CommonName::Fixed("kube-apiserver"),
        organizations: &[],
        usages: &[ServerAuth],
        sans: SanRecipe::ApiServer,
    },
    CertSpec {
        name: "apiserver-kubelet-client",
        base_name: "apiserver-kubelet-client",
        ca: Some(&CLUSTER_CA),
        long_name: "certificate for the API server to connect to kubelet",
        common_name: CommonName::Fixed("kube-apiserver-kubelet-client"),
        organizations: &["kubeadm:cluster-admins"],
        usages: &[ClientAuth],
        sans: SanRecipe::None,
    },
    FRONT_PROXY_CA,
    CertSpec {
        name: "front-proxy-client",
        base_name: "front-proxy-client",
        ca: Some(&FRONT_PROXY_CA),
        long_name: "certificate for the front proxy client",
        common_name: CommonName::Fixed("front-proxy-client"),
        organizations: &[],
        usages: &[ClientAuth],
        sans: SanRecipe::None,
    },
    ETCD_CA,
    CertSpec {
        name: "etcd-server",
        base_name: "etcd/server",
        ca: Some(&ETCD_CA),
        long_name: "certificate for serving etcd",
        common_name: CommonName::NodeName,
        organizations: &[],
        usages: &[ServerAuth, ClientAuth],
        sans: SanRecipe::EtcdServer,
    },
    CertSpec {
        name: "etcd-peer",
        base_name: "etcd/peer",
        ca: Some(&ETCD_CA),
        long_name: "certificate for etcd nodes to communicate with each other",
        common_name: CommonName::NodeName,
        organizations: &[],
        usages: &[ServerAuth, ClientAuth],
        sans: SanRecipe::EtcdPeer,
    },
    CertSpec {
        name: "etcd-healthcheck-client",
        base_name: "etcd/healthcheck-client",
        ca: Some(&ETCD_CA),
        long_name: "certificate for liveness probes to healthcheck etcd",
        common_name: CommonName::Fixed("kube-etcd-healthcheck-client"),
        organizations: &[],
        usages: &[ClientAuth],
        sans: SanRecipe::None,
    },
    CertSpec {
        name: "apiserver-etcd-client",
        base_name: "apiserver-etcd-client",
        ca: Some(&ETCD_CA),
        long_name: "certificate the apiserver uses to access etcd",
        common_name: CommonName::Fixed("kube-apiserver-etcd-client"),
        organizations: &[],
        usages: &[ClientAuth],
        sans: SanRecipe::None,
    },
];

impl CertSpec {
    /// Looks a certificate up by its name.
    pub fn by_name(name: &str) -> Option<&'static CertSpec> {
        CERTIFICATES.iter().find(|s| s.name == name)
    }

    /// The certificates of a tree: all ten, or the first five with external etcd.
    pub fn for_config(config: &TreeConfig) -> &'static [CertSpec] {
        if config.external_etcd {
            CERTIFICATES.get(..5).unwrap_or_default()
        } else {
            &CERTIFICATES
        }
    }

    /// Whether this is a CA.
    pub fn is_ca(&self) -> bool {
        self.ca.is_none()
    }

    /// The CA that signs this certificate: its CA, or itself for a (self-signed) CA.
    pub fn issuer(&'static self) -> &'static CertSpec {
        self.ca.unwrap_or(self)
    }

    /// `<cert_dir>/<base_name>.crt`.
    pub fn cert_path(&self, cert_dir: &Path) -> PathBuf {
        cert_dir.join(format!("{}.crt", self.base_name))
    }

    /// `<cert_dir>/<base_name>.key`.
    pub fn key_path(&self, cert_dir: &Path) -> PathBuf {
        cert_dir.join(format!("{}.key", self.base_name))
    }

    /// The CN for this node.
    pub fn common_name(&self, config: &TreeConfig) -> String {
        match self.common_name {
            CommonName::Fixed(cn) => cn.to_owned(),
            CommonName::NodeName => config.node_name.clone(),
        }
    }

    /// The subject (CN and O) for this node.
    pub fn subject(&self, config: &TreeConfig) -> crate::Subject {
        let mut subject = crate::Subject::new(self.common_name(config));
        subject.organizations = self.organizations.iter().map(|o| (*o).to_owned()).collect();
        subject
    }

    /// The O values.
    pub fn organizations(&self) -> &'static [&'static str] {
        self.organizations
    }

    /// The extended key usages.
    pub fn usages(&self) -> &'static [ExtKeyUsage] {
        self.usages
    }

    /// The SANs for this node, and kubeadm's warnings for dropped extra SANs.
    pub fn alt_names(&self, config: &TreeConfig) -> Result<(AltNames, Vec<String>), Error> {
        let mut names = AltNames::default();
        let mut warnings = Vec::new();
        let mut extras = |names: &mut AltNames, sans: &[String], file: &str| {
            for san in sans {
                if let Err(dropped) = names.add_extra(san, file) {
                    warnings.push(dropped.to_string());
                }
            }
        };
        match self.sans {
            SanRecipe::None if self.is_ca() => {
                if let CommonName::Fixed(cn) = self.common_name {
                    names.add_dns(cn);
                }
            }
            SanRecipe::None => {}
            SanRecipe::ApiServer => {
                names.add_dns(&config.node_name);
                for dns in ["kubernetes", "kubernetes.default", "kubernetes.default.svc"] {
                    names.add_dns(dns);
                }
                names.add_dns(format!("kubernetes.default.svc.{}", config.dns_domain));
                names.add_ip(first_service_ip(&config.service_subnet)?);
                names.add_ip(config.advertise_address);
                if !config.control_plane_endpoint.is_empty() {
                    match parse_control_plane_endpoint(&config.control_plane_endpoint)?.host {
                        Host::Ip(ip) => names.add_ip(ip),
                        Host::Name(name) => names.add_dns(name),
                        _ => {}
                    }
                }
                extras(&mut names, &config.apiserver_cert_sans, "apiserver.crt");
            }
            SanRecipe::EtcdServer | SanRecipe::EtcdPeer => {
                names.add_dns(&config.node_name);
                names.add_dns("localhost");
                names.add_ip(config.advertise_address);
                names.add_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
                names.add_ip(IpAddr::V6(Ipv6Addr::LOCALHOST));
                let (sans, file) = if self.sans == SanRecipe::EtcdServer {
                    (&config.etcd_server_cert_sans, "etcd/server.crt")
                } else {
                    (&config.etcd_peer_cert_sans, "etcd/peer.crt")
                };
                extras(&mut names, sans, file);
            }
        }
        Ok((names, warnings))
    }
}
