//! Secrets as YAML for people and `kubectl apply`, with private keys redacted by default.

use k8s_openapi::api::core::v1::Secret;
use serde_json::Value;

use crate::Error;
use crate::layout::{KUBECONFIG_DATA, TLS_KEY};
use crate::secrets::data;

/// Whether [`to_yaml`] prints private key material.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Keys {
    /// Private data (`tls.key`, and a kubeconfig's `value`, which embeds a client key) is
    /// replaced by `<redacted: N bytes>`.
    #[default]
    Redacted,
    /// Everything is printed: the output can be applied, and must be kept secret.
    Shown,
}

/// The data keys that hold private keys.
const PRIVATE_DATA: [&str; 2] = [TLS_KEY, KUBECONFIG_DATA];

/// The Secrets as a multi-document YAML stream (`---` between documents), data base64 as the
/// API serves it; with [`Keys::Redacted`], private data values become `<redacted: N bytes>`
/// (N = the decoded length), so the output can be shown or logged.
pub fn to_yaml(secrets: &[Secret], keys: Keys) -> Result<String, Error> {
    let mut documents = Vec::with_capacity(secrets.len());
    for secret in secrets {
        let mut value = serde_json::to_value(secret).map_err(|e| Error::Yaml(e.to_string()))?;
        if keys == Keys::Redacted {
            redact(secret, &mut value);
        }
        documents.push(serde_saphyr::to_string(&value).map_err(|e| Error::Yaml(e.to_string()))?);
    }
    Ok(documents.join("---\n"))
}

fn redact(secret: &Secret, value: &mut Value) {
    let Some(map) = value.get_mut("data").and_then(Value::as_object_mut) else {
        return;
    };
    for key in PRIVATE_DATA {
        if let (Some(slot), Some(bytes)) = (map.get_mut(key), data(secret, key)) {
            *slot = Value::String(format!("<redacted: {} bytes>", bytes.len()));
        }
    }
}
