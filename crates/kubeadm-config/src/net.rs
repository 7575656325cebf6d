//! Host, port and DNS-1123 rules: the one accept set for every endpoint a user writes
//! (`controlPlaneEndpoint`, `apiServerEndpoint`, `--control-plane-endpoint`, SANs).
//!
//! kubeadm checks these fields unevenly: `controlPlaneEndpoint` must be an IP address or a
//! lower-case RFC 1123 subdomain, while `discovery.bootstrapToken.apiServerEndpoint` only has to
//! pass Go's `net.SplitHostPort`, so `a b:6443` is accepted and fails later at connect time.
//! kubetrust applies one strict rule everywhere, so a value accepted at load is one the network
//! code can use: the host is an IP address (IPv6 in brackets when a port follows) or a DNS name
//! (RFC 1123 labels; upper case allowed, as DNS ignores case), the port is a decimal number in
//! `1..=65535`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Why an endpoint was refused. The texts follow Go's `net.SplitHostPort` and kubeadm's
/// `ParseHostPort` where they have one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// Nothing was given.
    #[error("the endpoint is empty")]
    Empty,
    /// `host` without `:port` where a port is required.
    #[error("missing port in address")]
    MissingPort,
    /// An unbracketed IPv6 address followed by a port, or stray colons.
    #[error("too many colons in address (an IPv6 address with a port needs brackets: [fd00::1]:6443)")]
    TooManyColons,
    /// `[` without its `]`, or characters between `]` and `:`.
    #[error("missing ']' in address, or characters after it other than :port")]
    Brackets,
    /// Brackets around something that is not an IPv6 address.
    #[error("the host in brackets is not an IPv6 address")]
    NotIpv6InBrackets,
    /// The host is neither an IP address nor a DNS name.
    #[error("the host must be a valid IP address or a valid RFC-1123 DNS subdomain")]
    InvalidHost,
    /// The port is not a number in `1..=65535`.
    #[error("port must be a valid number between 1 and 65535, inclusive")]
    InvalidPort,
}

/// The host part of an endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Host {
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// A DNS name, as written.
    Name(String),
}

impl fmt::Display for Host {
    /// Bare, without brackets: the form a certificate's SAN holds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(ip) => ip.fmt(f),
            Self::Name(name) => f.write_str(name),
        }
    }
}

/// `host[:port]`, checked.
///
/// ```
/// use kubetrust_kubeadm_config::net::{Host, HostPort};
/// let endpoint: HostPort = "[fd00::10]:6443".parse()?;
/// assert_eq!(endpoint.port, Some(6443));
/// assert_eq!(endpoint.to_string(), "[fd00::10]:6443");
/// assert!(HostPort::with_port("a b:6443").is_err());
/// assert!(HostPort::with_port("cp.example.com").is_err()); // a port is required here
/// # Ok::<(), kubetrust_kubeadm_config::net::EndpointError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct HostPort {
    /// The host.
    pub host: Host,
    /// The port, when one was given.
    pub port: Option<u16>,
}

impl HostPort {
    /// An endpoint from its parts (already valid: an IP, or a name the caller checked).
    pub fn new(host: Host, port: Option<u16>) -> Self {
        Self { host, port }
    }

    /// Parses `host`, `host:port`, `[ipv6]:port` or a bare IPv6 address; the port is optional
    /// (kubeadm's `controlPlaneEndpoint`).
    pub fn parse(text: &str) -> Result<Self, EndpointError> {
        if text.is_empty() {
            return Err(EndpointError::Empty);
        }
        if let Some(inner) = text.strip_prefix('[') {
            let (address, after) = inner.split_once(']').ok_or(EndpointError::Brackets)?;
            let ip = address
                .parse::<std::net::Ipv6Addr>()
                .map_err(|_| EndpointError::NotIpv6InBrackets)?;
            let port = match after {
                "" => None,
                _ => Some(parse_port(
                    after.strip_prefix(':').ok_or(EndpointError::Brackets)?,
                )?),
            };
            return Ok(Self {
                host: Host::Ip(IpAddr::V6(ip)),
                port,
            });
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Self {
                host: Host::Ip(ip),
                port: None,
            });
        }
        let (host, port) = match text.split_once(':') {
            None => (text, None),
            Some((_, after)) if after.contains(':') => return Err(EndpointError::TooManyColons),
            Some((host, port)) => (host, Some(parse_port(port)?)),
        };
        Ok(Self {
            host: parse_host(host)?,
            port,
        })
    }

    /// Parses `host:port` or `[ipv6]:port`; the port is required (kubeadm's
    /// `apiServerEndpoint`, which it passes to Go's `net.SplitHostPort`).
    pub fn with_port(text: &str) -> Result<Self, EndpointError> {
        let endpoint = Self::parse(text)?;
        match (&endpoint.host, endpoint.port) {
            (_, Some(_)) => Ok(endpoint),
            // `fd00::1:6443` parses as a bare IPv6 address; Go reports the colons.
            (Host::Ip(IpAddr::V6(_)), None) if !text.starts_with('[') => Err(EndpointError::TooManyColons),
            (_, None) => Err(EndpointError::MissingPort),
        }
    }
}

impl FromStr for HostPort {
    type Err = EndpointError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for HostPort {
    /// `host[:port]` with IPv6 in brackets when a port follows: a valid URL authority.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.host, self.port) {
            (Host::Ip(IpAddr::V6(ip)), Some(port)) => write!(f, "[{ip}]:{port}"),
            (host, Some(port)) => write!(f, "{host}:{port}"),
            (host, None) => host.fmt(f),
        }
    }
}

fn parse_host(host: &str) -> Result<Host, EndpointError> {
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return Ok(Host::Ip(IpAddr::V4(ip)));
    }
    if is_dns1123_subdomain(&host.to_ascii_lowercase()) {
        Ok(Host::Name(host.to_owned()))
    } else {
        Err(EndpointError::InvalidHost)
    }
}

/// Go's `ParsePort` without zero: decimal digits only (no sign, no spaces), `1..=65535`.
fn parse_port(port: &str) -> Result<u16, EndpointError> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EndpointError::InvalidPort);
    }
    match port.parse::<u16>() {
        Ok(0) | Err(_) => Err(EndpointError::InvalidPort),
        Ok(port) => Ok(port),
    }
}

/// Kubernetes' `IsDNS1123Subdomain`: lower-case labels of `[a-z0-9-]`, alphanumeric at both
/// ends, separated by dots, 253 characters at most. Object names (a node's name) and the
/// DNS names kubeadm accepts in certificates follow it.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && !s.is_empty() && s.split('.').all(is_dns1123_label)
}

/// Kubernetes' `IsDNS1123Label`: `[a-z0-9-]`, alphanumeric at both ends, 63 characters at most.
pub fn is_dns1123_label(s: &str) -> bool {
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = s.as_bytes();
    bytes.len() <= 63
        && bytes.first().is_some_and(alphanumeric)
        && bytes.last().is_some_and(alphanumeric)
        && bytes.iter().all(|b| alphanumeric(b) || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_subdomains() {
        for ok in ["a", "node-1", "a.b.c", "0abc", &"a".repeat(63)] {
            assert!(is_dns1123_subdomain(ok), "{ok}");
        }
        for bad in ["", "A", "-a", "a-", "a..b", ".a", "a_b", &"a".repeat(64), "a b"] {
            assert!(!is_dns1123_subdomain(bad), "{bad}");
        }
        let long = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(61)].join(".");
        assert_eq!(long.len(), 253);
        assert!(is_dns1123_subdomain(&long));
        assert!(!is_dns1123_subdomain(&format!("{long}e")));
    }
}
