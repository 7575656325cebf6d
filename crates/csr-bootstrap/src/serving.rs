//! The kubelet's serving certificate request (`serverTLSBootstrap: true`, spec §6.5): the same
//! subject as its client certificate, SANs from the Node's addresses, signer
//! `kubernetes.io/kubelet-serving`. Such CSRs are never auto-approved by the controller manager;
//! an approver must bind the SANs to the Node ([`policy::serving`](crate::policy::serving)).

use std::net::IpAddr;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::NodeAddress;
use kubetrust_kubeadm_config::net::is_dns1123_subdomain;
use kubetrust_pki::{AltNames, CertificateRequest, KeyAlgorithm, PrivateKey};

use crate::Error;
use crate::csr::{check_expiration, csr_object, node_subject};
use crate::policy::serving::{EC_USAGES, RSA_USAGES, SIGNER};

/// The SANs the kubelet asks for: DNS names from `Hostname` (when not an IP), `ExternalDNS`
/// and `InternalDNS`; IPs from `InternalIP`, `ExternalIP` and IP-valued `Hostname`;
/// de-duplicated and sorted (IPs numerically, IPv4 first). Other types and unparsable IPs are
/// left out.
pub fn serving_alt_names(addresses: &[NodeAddress]) -> AltNames {
    let mut dns = Vec::new();
    let mut ips: Vec<IpAddr> = Vec::new();
    for address in addresses {
        let ip = address.address.parse::<IpAddr>().ok();
        match (address.type_.as_str(), ip) {
            ("Hostname", Some(ip)) | ("InternalIP" | "ExternalIP", Some(ip)) => ips.push(ip),
            ("Hostname" | "ExternalDNS" | "InternalDNS", None) => dns.push(address.address.clone()),
            _ => {}
        }
    }
    ips.sort();
    ips.dedup();
    AltNames::from_parts(dns, ips)
}

/// The usages the kubelet sends for a serving certificate: RSA adds `key encipherment`.
pub fn serving_usages(algorithm: KeyAlgorithm) -> Result<&'static [&'static str], Error> {
    match (algorithm, EC_USAGES, RSA_USAGES) {
        (KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384, [ec], _) => Ok(ec),
        (KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096, _, [rsa, _]) => Ok(rsa),
        (other, ..) => Err(Error::UnsupportedKey { algorithm: other }),
    }
}

/// The serving `CertificateSigningRequest` of node `node_name` for `key` and the Node's
/// `addresses`, with `generateName: csr-` (each attempt has a fresh key, as the kubelet's
/// certificate manager does). Like the kubelet, no request is made without at least one IP.
pub fn serving_csr(
    node_name: &str,
    key: &PrivateKey,
    addresses: &[NodeAddress],
    expiration_seconds: Option<i32>,
) -> Result<CertificateSigningRequest, Error> {
    if !is_dns1123_subdomain(node_name) {
        return Err(Error::InvalidNodeName {
            name: node_name.to_owned(),
        });
    }
    check_expiration(expiration_seconds)?;
    let alt_names = serving_alt_names(addresses);
    if alt_names.ip_addresses().is_empty() {
        return Err(Error::NoServingAddress);
    }
    let usages = serving_usages(key.algorithm())?;
    let request = CertificateRequest::new(&node_subject(node_name), &alt_names, key)
        .map_err(|e| Error::BuildRequest(Box::new(e)))?;
    Ok(csr_object(None, &request, SIGNER, usages, expiration_seconds))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::policy::usage::{DIGITAL_SIGNATURE, SERVER_AUTH};

    fn address(type_: &str, address: &str) -> NodeAddress {
        NodeAddress {
            type_: type_.to_owned(),
            address: address.to_owned(),
        }
    }

    #[test]
    fn sans_from_addresses_deduplicated_and_sorted() {
        let names = serving_alt_names(&[
            address("Hostname", "worker-1"),
            address("InternalIP", "10.0.0.21"),
            address("ExternalIP", "203.0.113.7"),
            address("InternalIP", "10.0.0.3"),
            address("Hostname", "10.0.0.21"),
            address("InternalDNS", "worker-1.internal"),
            address("ExternalDNS", "worker-1"),
            address("InternalIP", "fd00::1"),
            address("Other", "ignored.example"),
        ]);
        assert_eq!(names.dns_names(), ["worker-1", "worker-1.internal"]);
        let ips: Vec<String> = names.ip_addresses().iter().map(ToString::to_string).collect();
        assert_eq!(ips, ["10.0.0.3", "10.0.0.21", "203.0.113.7", "fd00::1"]);
    }

    #[test]
    fn serving_csr_shape() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let csr = serving_csr("worker-1", &key, &[address("InternalIP", "10.0.0.21")], None).unwrap();
        assert_eq!(csr.spec.signer_name, SIGNER);
        assert_eq!(csr.metadata.generate_name.as_deref(), Some("csr-"));
        assert_eq!(csr.spec.usages.unwrap(), [DIGITAL_SIGNATURE, SERVER_AUTH]);
        let request = CertificateRequest::from_pem(&csr.spec.request.0).unwrap();
        assert_eq!(request.subject(), &node_subject("worker-1"));
        assert_eq!(
            request.alt_names().ip_addresses(),
            ["10.0.0.21".parse::<IpAddr>().unwrap()]
        );
        assert!(matches!(
            serving_csr("worker-1", &key, &[address("Hostname", "worker-1")], None),
            Err(Error::NoServingAddress)
        ));
    }
}
