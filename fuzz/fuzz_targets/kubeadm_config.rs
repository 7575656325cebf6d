//! kubeadm config files: the reader, the PKI's and discovery's readings of it, and the
//! endpoint and duration rules never panic; an accepted endpoint prints as text that parses
//! back to the same endpoint.

#![no_main]

use kubetrust_discovery::DiscoveryConfig;
use kubetrust_kubeadm_config::net::HostPort;
use kubetrust_kubeadm_config::{ConfigFile, parse_duration};
use kubetrust_pki::kubeadm_config::KubeadmConfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = ConfigFile::from_text(text) {
        let _ = KubeadmConfig::from_config_file(file.clone());
        let _ = DiscoveryConfig::from_config_file(file);
    }
    for line in text.lines() {
        if let Ok(endpoint) = HostPort::parse(line) {
            assert_eq!(
                HostPort::parse(&endpoint.to_string()).as_ref(),
                Ok(&endpoint),
                "{line:?}"
            );
        }
        if HostPort::with_port(line).is_ok() {
            assert!(HostPort::parse(line).is_ok(), "{line:?}");
        }
        let _ = parse_duration(line);
    }
});
