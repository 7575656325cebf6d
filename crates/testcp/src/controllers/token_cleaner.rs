//! kube-controller-manager's `tokencleaner`: deletes bootstrap-token Secrets once they expire
//! (an unparseable expiration counts as expired; no expiration never does).

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kubetrust_bootstrap_token::{Expiration, SECRET_NAMESPACE, SECRET_TYPE};
use serde::Deserialize;

use super::resync;
use crate::store::{Event, Filter, ObjectKey, Resource, Store};

/// How often the cleaner looks without an event: expiry on the test clock announces itself to
/// no one, and tests advance that clock by whole seconds.
const PERIOD: Duration = Duration::from_millis(250);

/// Starts the cleaner on `store`; it runs until the task is aborted.
pub fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(resync::run(store, PERIOD, wants, clean))
}

fn secrets() -> Resource {
    Resource::new("", "secrets")
}

/// Added or updated Secrets of `kube-system`.
fn wants(event: &Event) -> bool {
    event.key.resource == secrets() && event.key.namespace == SECRET_NAMESPACE
}

/// One pass: every expired token Secret is deleted, only if it is still the object that was
/// judged (uid precondition); NotFound and Conflict mean someone else acted first.
fn clean(store: &Store) {
    let filter = Filter {
        namespace: Some(SECRET_NAMESPACE.into()),
        name: None,
    };
    let now = store.clock().now();
    let (items, _) = store.list(&secrets(), &filter);
    for secret in items.iter().filter_map(|s| Secret::deserialize(s.as_ref()).ok()) {
        if secret.type_.as_deref() != Some(SECRET_TYPE) || !Expiration::of_secret(&secret).is_expired(now) {
            continue;
        }
        let name = secret.metadata.name.unwrap_or_default();
        let key = ObjectKey {
            resource: secrets(),
            namespace: SECRET_NAMESPACE.into(),
            name: name.clone(),
        };
        match store.delete(&key, secret.metadata.uid.as_deref()) {
            Ok(_) => tracing::info!(secret = %name, "token cleaner: deleted expired bootstrap token"),
            Err(error) => tracing::debug!(secret = %name, %error, "token cleaner: not deleted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use kubetrust_bootstrap_token::{BootstrapToken, TokenSpec};

    use super::*;
    use crate::clock::Clock;

    async fn eventually(mut done: impl FnMut() -> bool) -> bool {
        for _ in 0..200 {
            if done() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    fn add(store: &Store, spec: TokenSpec) -> ObjectKey {
        let secret = spec.to_secret(store.clock().now()).unwrap();
        let name = secret.metadata.name.clone().unwrap();
        store
            .create(
                &secrets(),
                SECRET_NAMESPACE,
                serde_json::to_value(secret).unwrap(),
            )
            .unwrap();
        ObjectKey {
            resource: secrets(),
            namespace: SECRET_NAMESPACE.into(),
            name,
        }
    }

    #[tokio::test]
    async fn expired_tokens_are_deleted_and_others_kept() {
        let store = Store::new(Clock::default());
        let cleaner = spawn(store.clone());
        let expiring = add(
            &store,
            TokenSpec::new(BootstrapToken::generate().unwrap()).with_ttl(Duration::from_secs(60)),
        );
        let forever = add(
            &store,
            TokenSpec::new(BootstrapToken::generate().unwrap())
                .with_lifetime(kubetrust_bootstrap_token::Lifetime::Never),
        );
        let other = store
            .create(
                &secrets(),
                SECRET_NAMESPACE,
                serde_json::json!({"metadata": {"name": "plain"}, "type": "Opaque"}),
            )
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(store.get(&expiring).is_ok(), "deleted before expiry");

        store.clock().advance(Duration::from_secs(61));
        assert!(
            eventually(|| store.get(&expiring).is_err()).await,
            "expired token kept"
        );
        assert!(store.get(&forever).is_ok());
        let plain = ObjectKey {
            resource: secrets(),
            namespace: SECRET_NAMESPACE.into(),
            name: other["metadata"]["name"].as_str().unwrap().into(),
        };
        assert!(store.get(&plain).is_ok());
        cleaner.abort();
    }

    #[tokio::test]
    async fn an_unparseable_expiration_counts_as_expired() {
        let store = Store::new(Clock::default());
        let key = add(&store, TokenSpec::new(BootstrapToken::generate().unwrap()));
        store
            .modify(&key, |secret| {
                secret["data"]["expiration"] = serde_json::json!("bm90IGEgZGF0ZQ==");
                Ok(())
            })
            .unwrap();
        let cleaner = spawn(store.clone());
        assert!(eventually(|| store.get(&key).is_err()).await);
        cleaner.abort();
    }
}
