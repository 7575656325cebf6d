//! One accept set for endpoints: the kubeadm config reader, the PKI tree and token discovery
//! accept and refuse exactly the same `host:port` values (they once disagreed on `a b:6443`).

use std::time::SystemTime;

use kubetrust::discovery::DiscoveryConfig;
use kubetrust::kubeadm_config::net::HostPort;
use kubetrust::pki::tree::{self, TreeConfig};

const ENDPOINTS: [&str; 16] = [
    "10.0.0.10:6443",
    "[fd00::10]:6443",
    "cp.example.com:6443",
    "Control-Plane:1",
    "cp.example.com",
    "a b:6443",
    "a_b:6443",
    "user@cp:6443",
    "cp:0",
    "cp:65536",
    "cp:port",
    "fd00::1:6443",
    "[10.0.0.1]:6443",
    "[fd00::1",
    "evil/x:6443",
    ":6443",
];

fn join_configuration(endpoint: &str) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    \
         token: abcdef.0123456789abcdef\n    apiServerEndpoint: '{endpoint}'\n    unsafeSkipCAVerification: true\n"
    )
}

#[test]
fn discovery_config_follows_the_rule() {
    for endpoint in ENDPOINTS {
        let accepted = DiscoveryConfig::from_kubeadm_config(&join_configuration(endpoint)).is_ok();
        assert_eq!(accepted, HostPort::with_port(endpoint).is_ok(), "{endpoint:?}");
    }
}

#[test]
fn the_tree_follows_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    for endpoint in ENDPOINTS {
        let config =
            TreeConfig::new("cp-1", "10.0.0.10".parse().unwrap()).with_control_plane_endpoint(endpoint);
        let accepted = tree::plan(dir.path(), &config, SystemTime::now()).is_ok();
        assert_eq!(accepted, HostPort::parse(endpoint).is_ok(), "{endpoint:?}");
    }
}
