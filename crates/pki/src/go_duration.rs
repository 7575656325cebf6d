//! Go duration strings (`8760h`, `1h30m`) as the PKI's flags and files take them, parsed by
//! the workspace's one Go-duration reader in `kubetrust-kubeadm-config`.

use std::time::Duration;

use crate::Error;

/// Parses a non-negative Go duration (`8760h`, `1h30m`, `1.5h`); the error quotes the input.
pub fn parse_duration(text: &str) -> Result<Duration, Error> {
    kubetrust_kubeadm_config::parse_duration(text).map_err(|reason| Error::InvalidDuration {
        value: text.to_owned(),
        reason,
    })
}
