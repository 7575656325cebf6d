//! The one reader of kubeadm's multi-document config files: YAML or JSON, `---`-separated,
//! grouped by kind, with kubeadm's rules for versions and repeated kinds.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{ApiVersion, Error};

/// kubeadm's API group.
pub const GROUP: &str = "kubeadm.k8s.io";

/// One kubeadm document, still untyped.
pub(crate) struct Document {
    pub(crate) version: ApiVersion,
    pub(crate) kind: String,
    pub(crate) body: Value,
}

/// Splits `text` into its kubeadm documents. Documents of other API groups (kubelet,
/// kube-proxy) are skipped, as kubeadm passes them to their components.
pub(crate) fn split(text: &str) -> Result<Vec<Document>, Error> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple_with_options(text, options()).map_err(|e| Error::Syntax {
            reason: e.to_string(),
        })?;
    let mut kubeadm: Vec<Document> = Vec::new();
    for (index, document) in documents.into_iter().enumerate() {
        if document.is_null() {
            continue;
        }
        let text_field = |name: &str| document.get(name).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (text_field("apiVersion"), text_field("kind"));
        if api_version.is_empty() || kind.is_empty() {
            return Err(Error::MissingTypeMeta { document: index + 1 });
        }
        let Some(version) = ApiVersion::of(api_version)? else {
            continue;
        };
        if kubeadm.iter().any(|seen| seen.kind == kind) {
            return Err(Error::DuplicateKind {
                kind: kind.to_owned(),
            });
        }
        let kind = kind.to_owned();
        kubeadm.push(Document {
            version,
            kind,
            body: document,
        });
    }
    Ok(kubeadm)
}

/// Decodes one document into its typed form. Serde's messages quote wrong values, and a
/// wrong value may be a token put in the wrong place, so such messages keep only what was
/// expected.
pub(crate) fn decode<T: DeserializeOwned>(kind: &'static str, body: Value) -> Result<T, Error> {
    serde_path_to_error::deserialize(body).map_err(|e| Error::Field {
        kind,
        field: e.path().to_string(),
        reason: without_value(&e.into_inner().to_string()),
    })
}

/// `invalid type: string "abc", expected a boolean` → `wrong type or value, expected a
/// boolean`; the crate's own messages (which never quote secrets) pass through.
fn without_value(message: &str) -> String {
    let quotes_input = message.starts_with("invalid type: ")
        || message.starts_with("invalid value: ")
        || message.starts_with("unknown variant ")
        || message.starts_with("invalid length ");
    if !quotes_input {
        return message.to_owned();
    }
    match message.rsplit_once(", expected ") {
        Some((_, expected)) => format!("wrong type or value, expected {expected}"),
        None => "wrong type or value".to_owned(),
    }
}

/// No source snippets: the lines around an error may hold a token or a certificate key.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options
}

impl ApiVersion {
    /// `None` for another API group; an error for kubeadm versions this crate cannot read.
    fn of(api_version: &str) -> Result<Option<Self>, Error> {
        let Some((group, version)) = api_version.split_once('/') else {
            return Ok(None);
        };
        if group != GROUP {
            return Ok(None);
        }
        match version {
            "v1beta3" => Ok(Some(Self::V1beta3)),
            "v1beta4" => Ok(Some(Self::V1beta4)),
            "v1beta1" | "v1beta2" | "v1alpha1" | "v1alpha2" | "v1alpha3" => Err(Error::OldApiVersion {
                api_version: api_version.to_owned(),
            }),
            _ => Err(Error::UnknownApiVersion {
                api_version: api_version.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_lose_the_value() {
        assert_eq!(
            without_value("invalid type: string \"abcdef.0123456789abcdef\", expected a boolean"),
            "wrong type or value, expected a boolean"
        );
        assert_eq!(
            without_value("invalid value: string \"x, expected \", expected u16"),
            "wrong type or value, expected u16"
        );
        assert_eq!(without_value("missing field `kind`"), "missing field `kind`");
    }
}
