//! File discovery's reading of a discovery kubeconfig (`FileDiscovery::check_kubeconfig`:
//! parse, current cluster and user, flatten, credentials) never panics, never shows a secret in
//! an error or in Debug output, and what it accepts is a usable bootstrap kubeconfig: with a TLS
//! bootstrap token, kubeadm's token kubeconfig for one of the file's servers; without, the file's
//! own with credentials for its current user.
//!
//! Input: one flag byte, then the kubeconfig bytes. Flag bit 0 adds the TLS bootstrap token
//! `7h3k9q.x2m5p8r1t4w7z0c3`; bit 1 makes the location an `https://` URL instead of a path.
//! Kubeconfigs that reference files (CA, client certificate or key, token file) are skipped:
//! reading the host's files is not parsing. The secrets looked for are the bootstrap token's
//! and every user's token, password and client key, where they are long enough to be told
//! apart from the file's other text.

#![no_main]

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::file::FileDiscovery;
use kubetrust_kubeconfig::{AuthInfo, Config, SecretBytes, SecretString};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const TOKEN_SECRET: &str = "x2m5p8r1t4w7z0c3";
/// Shorter secrets are too likely to occur in harmless text by chance.
const MIN_SECRET: usize = 8;

fn references_files(config: &Config) -> bool {
    config
        .clusters
        .iter()
        .any(|c| !c.cluster.certificate_authority.is_empty())
        || config.users.iter().any(|u| {
            !(u.user.client_certificate.is_empty()
                && u.user.client_key.is_empty()
                && u.user.token_file.is_empty())
        })
}

fn has_credentials(user: &AuthInfo) -> bool {
    !user.token.is_empty()
        || (!user.username.is_empty() && !user.password.is_empty())
        || (!user.client_certificate_data.is_empty() && !user.client_key_data.is_empty())
        || user.exec.is_some()
        || user.auth_provider.is_some()
}

/// The secrets in `config` that no public part of it (or `location`) contains.
fn secrets(config: Option<&Config>, location: &str, bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    if !String::from_utf8_lossy(bytes).contains(TOKEN_SECRET) {
        found.push(TOKEN_SECRET.to_owned());
    }
    let Some(config) = config else {
        return found;
    };
    let mut public = config.clone();
    for named in &mut public.users {
        named.user.token = SecretString::new("");
        named.user.password = SecretString::new("");
        named.user.client_key_data = SecretBytes::new(Vec::new());
    }
    let public = format!("{location}\n{}", public.to_yaml().unwrap_or_default());
    for user in config.users.iter().map(|u| &u.user) {
        let key = String::from_utf8_lossy(user.client_key_data.expose_secret()).into_owned();
        for secret in [
            user.token.expose_secret().to_owned(),
            user.password.expose_secret().to_owned(),
            key,
        ] {
            let secret = secret.trim().to_owned();
            if secret.len() >= MIN_SECRET && !public.contains(&secret) {
                found.push(secret);
            }
        }
    }
    found
}

fn shown(error: &dyn std::error::Error) -> String {
    let mut text = format!("{error} {error:?}");
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(" {cause} {cause:?}"));
        source = cause.source();
    }
    text
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, bytes)) = input.split_first() else {
        return;
    };
    let parsed = Config::from_bytes(bytes).ok();
    if parsed.as_ref().is_some_and(references_files) {
        return;
    }
    let location = if flags & 2 == 0 {
        "/etc/kubernetes/discovery.yaml"
    } else {
        "https://discovery.example.com/discovery.yaml"
    };
    let mut discovery = FileDiscovery::new(location);
    if flags & 1 != 0 {
        let token: BootstrapToken = TOKEN.parse().expect("fixed token");
        discovery = discovery.with_tls_bootstrap_token(token);
    }
    let secrets = secrets(parsed.as_ref(), location, bytes);
    let text = match discovery.check_kubeconfig(bytes) {
        Ok(kubeconfig) => {
            let file = parsed.as_ref().expect("an accepted kubeconfig parses");
            assert!(!file.clusters.is_empty(), "accepted without a cluster");
            let resolved = kubeconfig
                .resolve(None)
                .expect("the bootstrap kubeconfig resolves");
            assert!(has_credentials(&resolved.user), "accepted without credentials");
            if flags & 1 != 0 {
                assert_eq!(resolved.user.token.expose_secret(), TOKEN);
                assert!(
                    file.clusters
                        .iter()
                        .any(|c| c.cluster.server == resolved.cluster.server),
                    "a server the file does not name"
                );
            }
            format!("{kubeconfig:?} {discovery:?}")
        }
        Err(error) => shown(&error),
    };
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret is shown: {text}");
    }
});
