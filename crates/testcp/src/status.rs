//! kube-apiserver's error answers: a `Status` body with its HTTP code and exact texts.

use serde_json::{Value, json};

/// Which object (or collection) an error is about; the `details` of a `Status`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Target {
    /// API group; empty for the core group.
    pub group: String,
    /// The plural resource (`certificatesigningrequests`), or a Kind for `Invalid`.
    pub kind: String,
    /// The object's name; empty for a collection.
    pub name: String,
}

impl Target {
    /// The object `name` of `resource` in `group`.
    pub fn new(group: &str, resource: &str, name: &str) -> Self {
        Self {
            group: group.into(),
            kind: resource.into(),
            name: name.into(),
        }
    }

    /// `resource.group` as the apiserver writes it (`secrets` in the core group).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// `resource.group "name"`, or `resource.group` for a collection.
    fn subject(&self) -> String {
        if self.name.is_empty() {
            self.qualified()
        } else {
            format!("{} {:?}", self.qualified(), self.name)
        }
    }
}

/// One field error of an `Invalid` answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cause {
    /// `FieldValueInvalid`, `FieldValueRequired`, `FieldValueNotSupported`,
    /// `FieldValueDuplicate`, `FieldValueForbidden`.
    pub reason: &'static str,
    /// The field path, e.g. `spec.usages[1]`.
    pub field: String,
    /// e.g. `Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)`.
    pub message: String,
}

impl Cause {
    /// `field: Invalid value: <value>: <detail>`; `value` is already rendered as Go does
    /// (`599`, `"text"`).
    pub fn invalid(field: impl Into<String>, value: &str, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid",
            field: field.into(),
            message: format!("Invalid value: {value}: {detail}"),
        }
    }

    /// `field: Required value`.
    pub fn required(field: impl Into<String>) -> Self {
        Self {
            reason: "FieldValueRequired",
            field: field.into(),
            message: "Required value".into(),
        }
    }

    /// `field: Unsupported value: "<v>": supported values: "a", "b"`.
    pub fn not_supported(field: impl Into<String>, value: &str, supported: &[&str]) -> Self {
        let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        Self {
            reason: "FieldValueNotSupported",
            field: field.into(),
            message: format!(
                "Unsupported value: {value:?}: supported values: {}",
                list.join(", ")
            ),
        }
    }

    /// `field: Duplicate value: "<v>"`.
    pub fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Self {
            reason: "FieldValueDuplicate",
            field: field.into(),
            message: format!("Duplicate value: {value:?}"),
        }
    }

    /// `field: Forbidden: <detail>`.
    pub fn forbidden(field: impl Into<String>, detail: &str) -> Self {
        Self {
            reason: "FieldValueForbidden",
            field: field.into(),
            message: format!("Forbidden: {detail}"),
        }
    }
}

/// An API error: HTTP code, `reason` and `message` exactly as kube-apiserver answers.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `Status.reason` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Forbidden`, ...).
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`, absent for errors about no particular object.
    pub target: Option<Box<Target>>,
    /// `Status.details.causes`.
    pub causes: Vec<Cause>,
    /// `Retry-After` seconds (429 answers).
    pub retry_after: Option<u32>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String, target: Option<Target>) -> Self {
        Self {
            code,
            reason,
            message,
            target: target.map(Box::new),
            causes: Vec::new(),
            retry_after: None,
        }
    }

    /// 404 `resource.group "name" not found`.
    pub fn not_found(target: Target) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} not found", target.subject()),
            Some(target),
        )
    }

    /// 404 for a path the server does not serve.
    pub fn unknown_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            None,
        )
    }

    /// 409 `resource.group "name" already exists`.
    pub fn already_exists(target: Target) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} already exists", target.subject()),
            Some(target),
        )
    }

    /// 409 on a stale `resourceVersion`.
    pub fn conflict(target: Target) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {}: the object has been modified; please apply your \
             changes to the latest version and try again",
            target.subject()
        );
        Self::new(409, "Conflict", message, Some(target))
    }

    /// 422 `Kind.group "name" is invalid: <field>: <message>, <field>: <message>`.
    /// `target.kind` is the Kind here (`CertificateSigningRequest`), as in the apiserver.
    pub fn invalid(target: Target, causes: Vec<Cause>) -> Self {
        let list: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let joined = if list.len() == 1 {
            list.concat()
        } else {
            format!("[{}]", list.join(", "))
        };
        let message = format!("{} is invalid: {joined}", target.subject());
        Self {
            causes,
            ..Self::new(422, "Invalid", message, Some(target))
        }
    }

    /// 403 `resource.group "name" is forbidden: <why>`.
    pub fn forbidden(target: Target, why: &str) -> Self {
        Self::new(
            403,
            "Forbidden",
            format!("{} is forbidden: {why}", target.subject()),
            Some(target),
        )
    }

    /// 403 for a non-resource URL: `forbidden: User "u" cannot get path "/x"`.
    pub fn forbidden_path(why: &str) -> Self {
        Self::new(403, "Forbidden", format!("forbidden: {why}"), None)
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized".into(), None)
    }

    /// 400 `BadRequest` with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), None)
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message.into(), None)
    }

    /// 410 `Expired` for a watch or list from a compacted resourceVersion.
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into(), None)
    }

    /// 413 `RequestEntityTooLarge`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(413, "RequestEntityTooLarge", format!("limit is {limit}"), None)
    }

    /// 415 `UnsupportedMediaType`.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
            ),
            None,
        )
    }

    /// 429 `TooManyRequests`, with a `Retry-After` hint.
    pub fn too_many_requests(retry_after: u32) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                429,
                "TooManyRequests",
                "Too many requests, please try again later.".into(),
                None,
            )
        }
    }

    /// 500 `InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message.into(), None)
    }

    /// The `Status` body.
    pub fn to_status(&self) -> Value {
        let mut details = serde_json::Map::new();
        if let Some(target) = &self.target {
            if !target.name.is_empty() {
                details.insert("name".into(), json!(target.name));
            }
            if !target.group.is_empty() {
                details.insert("group".into(), json!(target.group));
            }
            details.insert("kind".into(), json!(target.kind));
        }
        if !self.causes.is_empty() {
            let causes = self
                .causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect();
            details.insert("causes".into(), causes);
        }
        if let Some(seconds) = self.retry_after {
            details.insert("retryAfterSeconds".into(), json!(seconds));
        }
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": details,
            "code": self.code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_matches_the_apiserver_vector() {
        let target = Target::new("certificates.k8s.io", "CertificateSigningRequest", "short-lived");
        let cause = Cause::invalid(
            "spec.expirationSeconds",
            "599",
            "may not specify a duration less than 600 seconds (10 minutes)",
        );
        let status = ApiError::invalid(target, vec![cause]).to_status();
        let vector: Value = serde_json::from_str(include_str!(
            "../../../testdata/csr/11-error-invalid-expiration.json"
        ))
        .unwrap();
        assert_eq!(status, vector);
    }

    #[test]
    fn already_exists_and_forbidden_match_the_vectors() {
        let name = "node-csr-7nvIpW5ygEf1XYUTfWWENlU0qCudErkPqx6IBgyFHWE";
        let target = Target::new("certificates.k8s.io", "certificatesigningrequests", name);
        let vector: Value = serde_json::from_str(include_str!(
            "../../../testdata/csr/11b-error-already-exists.json"
        ))
        .unwrap();
        assert_eq!(ApiError::already_exists(target.clone()).to_status(), vector);
        let vector: Value = serde_json::from_str(include_str!(
            "../../../testdata/csr/11c-error-approve-forbidden.json"
        ))
        .unwrap();
        let why = "user not permitted to approve requests with signerName \"kubernetes.io/kube-apiserver-client-kubelet\"";
        assert_eq!(ApiError::forbidden(target, why).to_status(), vector);
    }

    #[test]
    fn core_group_errors_have_no_group() {
        let err = ApiError::not_found(Target::new("", "configmaps", "nope"));
        assert_eq!(err.message, "configmaps \"nope\" not found");
        assert!(err.to_status()["details"].get("group").is_none());
    }
}
