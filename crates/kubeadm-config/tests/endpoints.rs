//! The one accept set for endpoints: every crate that takes a `host[:port]` calls
//! `HostPort`, so this table is the rule for pki, discovery and the CLI alike.

use kubetrust_kubeadm_config::net::{EndpointError, Host, HostPort};

#[test]
fn accepted_with_and_without_port() {
    let accepted = [
        ("10.0.0.10:6443", "10.0.0.10:6443", Some(6443)),
        ("[::1]:6443", "[::1]:6443", Some(6443)),
        ("[fd00::10]:443", "[fd00::10]:443", Some(443)),
        ("api.example.com:6443", "api.example.com:6443", Some(6443)),
        ("Control-Plane:1", "Control-Plane:1", Some(1)),
        ("k8s-api:65535", "k8s-api:65535", Some(65535)),
        ("k8s-api", "k8s-api", None),
        ("10.0.0.10", "10.0.0.10", None),
        ("fd00::1", "fd00::1", None),
        ("[fd00::1]", "fd00::1", None),
    ];
    for (text, shown, port) in accepted {
        let endpoint = HostPort::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(endpoint.to_string(), shown, "{text}");
        assert_eq!(endpoint.port, port, "{text}");
        assert_eq!(HostPort::with_port(text).is_ok(), port.is_some(), "{text}");
    }
    let HostPort { host, .. } = HostPort::parse("[fd00::1]:6443").unwrap();
    assert_eq!(host, Host::Ip("fd00::1".parse().unwrap()));
    assert_eq!(
        HostPort::parse("Node-1.Example:80").unwrap().host,
        Host::Name("Node-1.Example".into())
    );
}

#[test]
fn refused_with_the_rule_that_failed() {
    use EndpointError::*;
    let refused = [
        ("", Empty),
        ("a b:6443", InvalidHost),
        ("a_b:6443", InvalidHost),
        ("-a:6443", InvalidHost),
        ("a..b:6443", InvalidHost),
        (":6443", InvalidHost),
        ("user@host:6443", InvalidHost),
        ("host/path:6443", InvalidHost),
        ("host:port", InvalidPort),
        ("host:", InvalidPort),
        ("host:0", InvalidPort),
        ("host:65536", InvalidPort),
        ("host:+80", InvalidPort),
        ("host: 80", InvalidPort),
        ("a:b:c", TooManyColons),
        ("[fd00::1", Brackets),
        ("[fd00::1]6443", Brackets),
        ("[10.0.0.1]:6443", NotIpv6InBrackets),
        ("[host]:6443", NotIpv6InBrackets),
        ("[fd00::1]:0", InvalidPort),
    ];
    for (text, want) in refused {
        assert_eq!(HostPort::parse(text), Err(want), "{text:?}");
        assert_eq!(HostPort::with_port(text), Err(want), "{text:?}");
    }
    assert_eq!(HostPort::with_port("k8s-api"), Err(MissingPort));
    assert_eq!(HostPort::with_port("[fd00::1]"), Err(MissingPort));
    assert_eq!(HostPort::with_port("fd00::1:6443"), Err(TooManyColons));
    assert_eq!(HostPort::with_port(&"a".repeat(254)), Err(InvalidHost));
}
