//! Subject alternative names as kubeadm composes them: DNS names de-duplicated and sorted,
//! IPs de-duplicated in first-seen order, invalid extra SANs dropped with a warning.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kubetrust_kubeadm_config::net::{HostPort, is_dns1123_subdomain};

use crate::Error;

/// A certificate's SAN DNS names and IP addresses, normalised the way kubeadm writes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AltNames {
    dns: BTreeSet<String>,
    ips: Vec<IpAddr>,
}

impl AltNames {
    /// DNS names, sorted.
    pub fn dns_names(&self) -> Vec<String> {
        self.dns.iter().cloned().collect()
    }

    /// IP addresses, in first-seen order.
    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ips
    }

    /// Whether there are no names at all (client certificates).
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.ips.is_empty()
    }

    /// Adds a DNS name (duplicates collapse).
    pub fn add_dns(&mut self, name: impl Into<String>) {
        self.dns.insert(name.into());
    }

    /// Adds an IP (duplicates collapse; order is kept).
    pub fn add_ip(&mut self, ip: IpAddr) {
        if !self.ips.contains(&ip) {
            self.ips.push(ip);
        }
    }

    /// Adds a user-supplied SAN: an IP, an RFC 1123 subdomain or a wildcard `*.subdomain`.
    /// Anything else is not added and comes back as a [`DroppedSan`], which kubeadm only warns
    /// about.
    pub fn add_extra(&mut self, san: &str, cert_file: &str) -> Result<(), DroppedSan> {
        if let Ok(ip) = san.parse::<IpAddr>() {
            self.add_ip(ip);
        } else if is_dns1123_subdomain(san) || san.strip_prefix("*.").is_some_and(is_dns1123_subdomain) {
            self.add_dns(san);
        } else {
            return Err(DroppedSan {
                san: san.to_owned(),
                cert_file: cert_file.to_owned(),
            });
        }
        Ok(())
    }

    /// Builds from lists (as read from an existing certificate).
    pub fn from_parts(dns: impl IntoIterator<Item = String>, ips: impl IntoIterator<Item = IpAddr>) -> Self {
        let mut names = Self::default();
        dns.into_iter().for_each(|d| names.add_dns(d));
        ips.into_iter().for_each(|ip| names.add_ip(ip));
        names
    }

    /// The names as kubeadm prints them: `DNS names [a b] and IPs [1.2.3.4 ::1]`.
    pub fn describe(&self) -> String {
        let dns: Vec<&str> = self.dns.iter().map(String::as_str).collect();
        let ips: Vec<String> = self.ips.iter().map(IpAddr::to_string).collect();
        format!("DNS names [{}] and IPs [{}]", dns.join(" "), ips.join(" "))
    }
}

/// An extra SAN that is neither an IP nor a DNS name; its `Display` is kubeadm's warning.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "[certificates] WARNING: '{san}' was not added to the '{cert_file}' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry"
)]
#[non_exhaustive]
pub struct DroppedSan {
    /// The SAN as given.
    pub san: String,
    /// The certificate it was meant for.
    pub cert_file: String,
}

/// The first address of the first CIDR in a comma-separated service subnet list: the
/// network address plus one (`10.96.0.0/12` → `10.96.0.1`), the apiserver's service VIP.
pub fn first_service_ip(service_subnet: &str) -> Result<IpAddr, Error> {
    let invalid = || Error::InvalidServiceSubnet {
        value: service_subnet.to_owned(),
    };
    let first = service_subnet.split(',').next().unwrap_or_default().trim();
    let (addr, prefix) = first.split_once('/').ok_or_else(invalid)?;
    let prefix: u32 = prefix.parse().map_err(|_| invalid())?;
    match addr.parse::<IpAddr>().map_err(|_| invalid())? {
        IpAddr::V4(v4) if prefix <= 31 => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            Ok(IpAddr::V4(Ipv4Addr::from((u32::from(v4) & mask) + 1)))
        }
        IpAddr::V6(v6) if prefix <= 127 => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            Ok(IpAddr::V6(Ipv6Addr::from((u128::from(v6) & mask) + 1)))
        }
        _ => Err(invalid()),
    }
}

/// Parses a `controlPlaneEndpoint`, `host[:port]`, by the workspace's one endpoint rule.
pub fn parse_control_plane_endpoint(endpoint: &str) -> Result<HostPort, Error> {
    HostPort::parse(endpoint).map_err(|reason| Error::InvalidControlPlaneEndpoint {
        value: endpoint.to_owned(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_sorted_ips_in_order() {
        let mut names = AltNames::default();
        names.add_dns("b");
        names.add_dns("a");
        names.add_dns("b");
        names.add_ip("10.0.0.2".parse().unwrap());
        names.add_ip("10.0.0.1".parse().unwrap());
        names.add_ip("10.0.0.2".parse().unwrap());
        assert_eq!(names.describe(), "DNS names [a b] and IPs [10.0.0.2 10.0.0.1]");
    }

    #[test]
    fn extra_sans_follow_kubeadm() {
        let mut names = AltNames::default();
        assert!(names.add_extra("extra.example.test", "apiserver.crt").is_ok());
        assert!(names.add_extra("*.apps.example.test", "apiserver.crt").is_ok());
        assert!(names.add_extra("10.0.0.100", "apiserver.crt").is_ok());
        let warning = names.add_extra("bad_name!", "apiserver.crt").unwrap_err();
        assert_eq!(
            warning.to_string(),
            "[certificates] WARNING: 'bad_name!' was not added to the 'apiserver.crt' SAN, because it is not a valid IP or RFC-1123 compliant DNS entry"
        );
        assert!(names.add_extra("Upper.example", "apiserver.crt").is_err());
        assert_eq!(names.dns_names(), ["*.apps.example.test", "extra.example.test"]);
    }

    #[test]
    fn service_vip_is_network_plus_one() {
        assert_eq!(first_service_ip("10.96.0.0/12").unwrap().to_string(), "10.96.0.1");
        assert_eq!(
            first_service_ip("10.96.5.7/12,fd00::/108").unwrap().to_string(),
            "10.96.0.1"
        );
        assert_eq!(
            first_service_ip("fd00:10:96::/112").unwrap().to_string(),
            "fd00:10:96::1"
        );
        for bad in ["", "10.96.0.0", "10.96.0.0/33", "x/12", "10.0.0.0/32"] {
            assert!(first_service_ip(bad).is_err(), "{bad}");
        }
    }
}
