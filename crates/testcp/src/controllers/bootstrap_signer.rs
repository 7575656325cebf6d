//! kube-controller-manager's `bootstrapsigner`: keeps the `jws-kubeconfig-<id>` keys of
//! `kube-public/cluster-info` in step with the token Secrets that may sign, through
//! `kubetrust_bootstrap_token::sign_cluster_info`.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kubetrust_bootstrap_token::{
    CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, KUBECONFIG_KEY, SECRET_NAMESPACE, sign_cluster_info,
};
use serde::Deserialize;
use serde_json::Value;

use super::resync;
use crate::status::ApiError;
use crate::store::{Event, Filter, ObjectKey, Resource, Store};

/// How often the signer re-checks without an event: expired tokens lose their signature
/// within this time even before the token cleaner deletes them.
const PERIOD: Duration = Duration::from_millis(250);

/// Starts the signer on `store`; it runs until the task is aborted.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(resync::run(store, PERIOD, wants, sign))
}

fn cluster_info_key() -> ObjectKey {
    ObjectKey {
        resource: Resource::new("", "configmaps"),
        namespace: CLUSTER_INFO_NAMESPACE.into(),
        name: CLUSTER_INFO_NAME.into(),
    }
}

/// Changes to token Secrets and to `cluster-info`.
fn wants(event: &Event) -> bool {
    let key = &event.key;
    (key.resource == Resource::new("", "secrets") && key.namespace == SECRET_NAMESPACE)
        || *key == cluster_info_key()
}

/// One signer pass; a missing or unusable `cluster-info` means nothing to do, as upstream.
fn sign(store: &Store) {
    let key = cluster_info_key();
    let Ok(stored) = store.get(&key) else {
        return;
    };
    let Ok(config_map) = ConfigMap::deserialize(stored.as_ref()) else {
        tracing::debug!("bootstrap signer: cluster-info is not a ConfigMap");
        return;
    };
    let filter = Filter {
        namespace: Some(SECRET_NAMESPACE.into()),
        name: None,
    };
    let (items, _) = store.list(&Resource::new("", "secrets"), &filter);
    let secrets: Vec<Secret> = items
        .iter()
        .filter_map(|s| Secret::deserialize(s.as_ref()).ok())
        .collect();
    let (plan, skipped) = match sign_cluster_info(&config_map, &secrets, store.clock().now()) {
        Ok(decision) => decision,
        Err(error) => {
            tracing::debug!(%error, "bootstrap signer: nothing to sign");
            return;
        }
    };
    for secret in skipped {
        tracing::debug!(secret = %secret.name, reason = %secret.reason, "bootstrap signer: not signing with");
    }
    if !plan.changed {
        return;
    }
    let signed = config_map
        .data
        .as_ref()
        .and_then(|d| d.get(KUBECONFIG_KEY))
        .cloned();
    let written = store.modify(&key, |object| {
        let data = object
            .get_mut("data")
            .ok_or_else(|| ApiError::conflict(key.resource.target(&key.name)))?;
        // The kubeconfig changed since it was signed: its own event brings the next pass.
        if data.get(KUBECONFIG_KEY).and_then(Value::as_str) != signed.as_deref() {
            return Err(ApiError::conflict(key.resource.target(&key.name)));
        }
        let mut current = ConfigMap {
            data: Some(BTreeMap::deserialize(&*data).map_err(|e| ApiError::internal(e.to_string()))?),
            ..ConfigMap::default()
        };
        plan.apply(&mut current);
        *data = serde_json::to_value(current.data).map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(())
    });
    if let Err(error) = written {
        tracing::debug!(%error, "bootstrap signer: cluster-info not updated");
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use kubetrust_bootstrap_token::{BootstrapToken, TokenSpec, cluster_info_config_map};

    use super::*;
    use crate::clock::Clock;

    /// Waits up to two seconds of real time for `done`.
    async fn eventually(mut done: impl FnMut() -> bool) -> bool {
        for _ in 0..200 {
            if done() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    fn jws(store: &Store, token: &BootstrapToken) -> Option<String> {
        let cm = store.get(&cluster_info_key()).unwrap();
        cm.pointer(&format!("/data/{}", token.id().jws_key()))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    #[tokio::test]
    async fn signatures_follow_the_token_secrets() {
        let store = Store::new(Clock::default());
        let cm = serde_json::to_value(cluster_info_config_map("https://10.0.0.10:6443", b"CA\n")).unwrap();
        store
            .create(&Resource::new("", "configmaps"), CLUSTER_INFO_NAMESPACE, cm)
            .unwrap();
        let signer = spawn(store.clone());

        let token = BootstrapToken::generate().unwrap();
        let secret = TokenSpec::new(token.clone())
            .to_secret(SystemTime::now())
            .unwrap();
        let secrets = Resource::new("", "secrets");
        store
            .create(&secrets, SECRET_NAMESPACE, serde_json::to_value(secret).unwrap())
            .unwrap();
        assert!(
            eventually(|| jws(&store, &token).is_some()).await,
            "no signature appeared"
        );
        let signature = jws(&store, &token).unwrap();
        let cm = store.get(&cluster_info_key()).unwrap();
        let kubeconfig = cm.pointer("/data/kubeconfig").and_then(Value::as_str).unwrap();
        token.verify_jws(&signature, kubeconfig.as_bytes()).unwrap();

        let key = ObjectKey {
            resource: secrets,
            namespace: SECRET_NAMESPACE.into(),
            name: token.id().secret_name(),
        };
        store.delete(&key, None).unwrap();
        assert!(
            eventually(|| jws(&store, &token).is_none()).await,
            "signature of a deleted token stayed"
        );
        signer.abort();
    }

    #[tokio::test]
    async fn expired_and_non_signing_tokens_lose_their_signature() {
        let store = Store::new(Clock::default());
        let cm = serde_json::to_value(cluster_info_config_map("https://10.0.0.10:6443", b"CA\n")).unwrap();
        store
            .create(&Resource::new("", "configmaps"), CLUSTER_INFO_NAMESPACE, cm)
            .unwrap();
        let signer = spawn(store.clone());
        let short = BootstrapToken::generate().unwrap();
        let secret = TokenSpec::new(short.clone())
            .with_ttl(Duration::from_secs(60))
            .to_secret(store.clock().now())
            .unwrap();
        let auth_only = BootstrapToken::generate().unwrap();
        let no_signing = TokenSpec::new(auth_only.clone())
            .with_usages([kubetrust_bootstrap_token::Usage::Authentication])
            .to_secret(store.clock().now())
            .unwrap();
        let secrets = Resource::new("", "secrets");
        store
            .create(&secrets, SECRET_NAMESPACE, serde_json::to_value(secret).unwrap())
            .unwrap();
        store
            .create(
                &secrets,
                SECRET_NAMESPACE,
                serde_json::to_value(no_signing).unwrap(),
            )
            .unwrap();
        assert!(eventually(|| jws(&store, &short).is_some()).await);
        assert_eq!(jws(&store, &auth_only), None);
        store.clock().advance(Duration::from_secs(61));
        assert!(
            eventually(|| jws(&store, &short).is_none()).await,
            "expired token still signs"
        );
        signer.abort();
    }
}
