//! `kubelet.conf`: the kubeconfig the kubelet writes after its bootstrap, and the kubelet's rule
//! for whether an existing one still works (spec §1.2, §1.9). The rule decides whether a node
//! bootstraps again, so it must catch what krustlet missed: an expired or mismatched pair.

use std::path::Path;
use std::time::SystemTime;

use kubetrust_fs::Mode;
use kubetrust_kubeconfig::Config;

use crate::Error;
use crate::store::{Invalidity, Pair, check_pair};

/// Whether a client kubeconfig still works.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfState {
    /// It loads, its current context resolves, and its pair matches and has not expired.
    Valid(Pair),
    /// It must be (re)bootstrapped.
    Invalid(Invalidity),
}

/// The kubelet's `isClientConfigStillValid` at `now`: missing, unloadable, unresolvable,
/// mismatched or expired means [`ConfState::Invalid`]; a stat error other than "not found" is
/// an error.
pub fn client_config_state(path: &Path, now: SystemTime) -> Result<ConfState, Error> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ConfState::Invalid(Invalidity::Missing {
                path: path.to_owned(),
            }));
        }
        Err(source) => {
            return Err(Error::ConfStat {
                path: path.to_owned(),
                source,
            });
        }
        Ok(_) => {}
    }
    let unparsable = |e: kubetrust_kubeconfig::Error| {
        ConfState::Invalid(Invalidity::Unparsable {
            path: path.to_owned(),
            reason: e.to_string(),
        })
    };
    let resolved = match Config::from_file(path).and_then(|c| c.resolve(None)) {
        Ok(resolved) => resolved,
        Err(e) => return Ok(unparsable(e)),
    };
    let user = &resolved.user;
    Ok(
        match check_pair(
            path,
            &user.client_certificate_data,
            user.client_key_data.expose_secret(),
            now,
        ) {
            Ok(pair) => ConfState::Valid(pair),
            Err(why) => ConfState::Invalid(why),
        },
    )
}

/// The kubeconfig the kubelet writes after bootstrapping with `bootstrap`: the server of the
/// bootstrap's current context, its CA (the file path when it referenced one, else the data),
/// `insecure-skip-tls-verify` copied, and cert and key both at `current_pem`; names
/// `default-cluster`/`default-auth`/`default-context`, namespace `default`.
pub fn kubelet_conf(bootstrap: &Config, current_pem: &Path) -> Result<Config, Error> {
    let context = bootstrap
        .context_or_current(None)
        .map_err(Error::BootstrapKubeconfig)?;
    let cluster = &bootstrap
        .cluster(&context.context.cluster)
        .ok_or_else(|| {
            Error::BootstrapKubeconfig(kubetrust_kubeconfig::Error::UnknownCluster {
                context: context.name.clone(),
                cluster: context.context.cluster.clone(),
            })
        })?
        .cluster;
    // Absolute, as kubeadm writes it: clients resolve a relative path in a kubeconfig from the
    // kubeconfig's own directory, not from where this process runs.
    let mut config = Config::kubelet_bootstrapped(
        cluster.server.clone(),
        cluster.certificate_authority_data.clone(),
        &crate::store::absolute(current_pem)?,
    );
    for named in &mut config.clusters {
        if named.cluster.certificate_authority_data.is_empty() {
            named.cluster.certificate_authority = cluster.certificate_authority.clone();
        }
        named.cluster.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
    }
    Ok(config)
}

/// Writes `config` to `path` atomically with mode 0600 (it names the node's private key),
/// creating a missing parent directory (0755).
pub fn write_conf(path: &Path, config: &Config) -> Result<(), Error> {
    let yaml = config.to_yaml().map_err(Error::EncodeConf)?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        kubetrust_fs::create_dir_all(parent, Mode::PUBLIC_DIR)?;
    }
    kubetrust_fs::write_atomic(path, yaml.as_bytes(), Mode::PRIVATE)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use kubetrust_kubeconfig::SecretString;

    use super::*;

    const VECTOR: &str = include_str!("../../../testdata/csr/12-kubelet-kubeconfig.yaml");

    #[test]
    fn matches_the_kubelets_file() {
        let expected = Config::from_bytes(VECTOR.as_bytes()).unwrap();
        let ca = expected.clusters[0].cluster.certificate_authority_data.clone();
        let bootstrap = Config::bootstrap_token(
            "https://10.0.0.10:6443",
            ca,
            SecretString::new("abcdef.0123456789abcdef"),
        );
        let written = kubelet_conf(
            &bootstrap,
            Path::new("/var/lib/kubelet/pki/kubelet-client-current.pem"),
        )
        .unwrap();
        assert_eq!(written.to_yaml().unwrap(), VECTOR);
    }

    #[test]
    fn missing_and_garbage_are_invalid() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kubelet.conf");
        let now = SystemTime::now();
        assert!(matches!(
            client_config_state(&path, now).unwrap(),
            ConfState::Invalid(Invalidity::Missing { .. })
        ));
        std::fs::write(&path, VECTOR).unwrap();
        // The referenced /var/lib/kubelet/pki file does not exist here.
        assert!(matches!(
            client_config_state(&path, now).unwrap(),
            ConfState::Invalid(Invalidity::Unparsable { .. })
        ));
        let nested = dir.path().join("etc/kubernetes/kubelet.conf");
        write_conf(&nested, &Config::from_bytes(VECTOR.as_bytes()).unwrap()).unwrap();
        write_conf(&path, &Config::from_bytes(VECTOR.as_bytes()).unwrap()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
