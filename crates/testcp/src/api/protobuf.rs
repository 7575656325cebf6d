//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), which kubectl's
//! typed clientset sends: the `k8s\0` magic, a `runtime.Unknown` envelope, and the object,
//! decoded with `k8s-pb` and converted to the JSON the rest of the server works on.
//! gogo-proto emits empty scalars, so `""` and `0` mean unset; an empty `Time` means null.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_pb::api::authorization::v1 as authz;
use k8s_pb::api::certificates::v1 as certificates;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::rbac::v1 as rbac;
use k8s_pb::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_pb::apimachinery::pkg::runtime::Unknown;
use prost::Message;
use serde_json::{Map, Value, json};

use crate::status::ApiError;

/// The media type of protobuf bodies.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";

fn malformed(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("unable to decode protobuf {what}: {error}"))
}

/// Decodes a protobuf request body into the object's JSON (with `apiVersion` and `kind`).
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let envelope = body.strip_prefix(MAGIC).ok_or_else(|| {
        ApiError::bad_request(
            "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]",
        )
    })?;
    let unknown = Unknown::decode(envelope).map_err(|e| malformed("envelope", e))?;
    let type_meta = unknown.type_meta.unwrap_or_default();
    let api_version = type_meta.api_version.unwrap_or_default();
    let kind = type_meta.kind.unwrap_or_default();
    let raw = unknown.raw.unwrap_or_default();
    let raw = raw.as_slice();
    let mut object = match (api_version.as_str(), kind.as_str()) {
        ("certificates.k8s.io/v1", "CertificateSigningRequest") => csr(decode_as(raw, &kind)?),
        ("v1", "Secret") => secret(decode_as(raw, &kind)?),
        ("v1", "ConfigMap") => config_map(decode_as(raw, &kind)?),
        ("v1", "Namespace") => namespace(decode_as(raw, &kind)?),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            let b: rbac::ClusterRoleBinding = decode_as(raw, &kind)?;
            binding(b.metadata, &b.subjects, b.role_ref)
        }
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
            let b: rbac::RoleBinding = decode_as(raw, &kind)?;
            binding(b.metadata, &b.subjects, b.role_ref)
        }
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview") => self_review(decode_as(raw, &kind)?),
        ("authorization.k8s.io/v1", "SubjectAccessReview") => review(decode_as(raw, &kind)?),
        _ => {
            return Err(ApiError::unsupported_media_type(&format!(
                "{CONTENT_TYPE} ({api_version}, Kind={kind})"
            )));
        }
    };
    if let Some(map) = object.as_object_mut() {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
    }
    Ok(object)
}

fn decode_as<M: Message + Default>(raw: &[u8], kind: &str) -> Result<M, ApiError> {
    M::decode(raw).map_err(|e| malformed(kind, e))
}

/// A set string field (`""` is unset).
fn text(value: Option<String>) -> Option<Value> {
    value.filter(|s| !s.is_empty()).map(Value::String)
}

/// RFC 3339 of a set `Time` (an empty message is null).
fn time(value: Option<Time>) -> Option<Value> {
    let seconds = value?.seconds.filter(|s| *s != 0)?;
    let timestamp = jiff::Timestamp::from_second(seconds).ok()?;
    Some(json!(timestamp.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

fn strings(values: Vec<String>) -> Option<Value> {
    (!values.is_empty()).then(|| json!(values))
}

fn string_map(map: BTreeMap<String, String>) -> Option<Value> {
    (!map.is_empty()).then(|| json!(map))
}

fn bytes_map(map: BTreeMap<String, Vec<u8>>) -> Option<Value> {
    let encoded: Map<String, Value> = map
        .into_iter()
        .map(|(k, v)| (k, json!(STANDARD.encode(v))))
        .collect();
    (!encoded.is_empty()).then_some(Value::Object(encoded))
}

/// A JSON object of the fields that are set.
fn object(fields: impl IntoIterator<Item = (&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v)))
            .collect(),
    )
}

fn metadata(meta: Option<ObjectMeta>) -> Option<Value> {
    let meta = meta.unwrap_or_default();
    Some(object([
        ("name", text(meta.name)),
        ("generateName", text(meta.generate_name)),
        ("namespace", text(meta.namespace)),
        ("uid", text(meta.uid)),
        ("resourceVersion", text(meta.resource_version)),
        ("generation", meta.generation.filter(|g| *g != 0).map(Value::from)),
        ("creationTimestamp", time(meta.creation_timestamp)),
        ("deletionTimestamp", time(meta.deletion_timestamp)),
        ("labels", string_map(meta.labels)),
        ("annotations", string_map(meta.annotations)),
        ("finalizers", strings(meta.finalizers)),
    ]))
}

fn csr(csr: certificates::CertificateSigningRequest) -> Value {
    let spec = csr.spec.unwrap_or_default();
    let extra: Map<String, Value> = spec.extra.into_iter().map(|(k, v)| (k, json!(v.items))).collect();
    let spec = object([
        ("request", spec.request.map(|r| json!(STANDARD.encode(r)))),
        ("signerName", text(spec.signer_name)),
        ("expirationSeconds", spec.expiration_seconds.map(Value::from)),
        ("usages", strings(spec.usages)),
        ("username", text(spec.username)),
        ("uid", text(spec.uid)),
        ("groups", strings(spec.groups)),
        ("extra", (!extra.is_empty()).then_some(Value::Object(extra))),
    ]);
    let status = csr.status.unwrap_or_default();
    let conditions: Vec<Value> = status
        .conditions
        .into_iter()
        .map(|c| {
            object([
                ("type", text(c.r#type)),
                ("status", text(c.status)),
                ("reason", text(c.reason)),
                ("message", text(c.message)),
                ("lastUpdateTime", time(c.last_update_time)),
                ("lastTransitionTime", time(c.last_transition_time)),
            ])
        })
        .collect();
    let status = object([
        ("conditions", (!conditions.is_empty()).then(|| json!(conditions))),
        (
            "certificate",
            status
                .certificate
                .filter(|c| !c.is_empty())
                .map(|c| json!(STANDARD.encode(c))),
        ),
    ]);
    object([
        ("metadata", metadata(csr.metadata)),
        ("spec", Some(spec)),
        ("status", Some(status)),
    ])
}

fn secret(secret: core::Secret) -> Value {
    object([
        ("metadata", metadata(secret.metadata)),
        ("type", text(secret.r#type)),
        ("data", bytes_map(secret.data)),
        ("stringData", string_map(secret.string_data)),
        ("immutable", secret.immutable.map(Value::from)),
    ])
}

fn config_map(config_map: core::ConfigMap) -> Value {
    object([
        ("metadata", metadata(config_map.metadata)),
        ("data", string_map(config_map.data)),
        ("binaryData", bytes_map(config_map.binary_data)),
        ("immutable", config_map.immutable.map(Value::from)),
    ])
}

fn namespace(namespace: core::Namespace) -> Value {
    let finalizers = namespace.spec.map(|s| s.finalizers).unwrap_or_default();
    let phase = namespace.status.and_then(|s| text(s.phase));
    object([
        ("metadata", metadata(namespace.metadata)),
        ("spec", strings(finalizers).map(|f| json!({"finalizers": f}))),
        ("status", phase.map(|p| json!({"phase": p}))),
    ])
}

fn binding(meta: Option<ObjectMeta>, subjects: &[rbac::Subject], role_ref: Option<rbac::RoleRef>) -> Value {
    let subjects: Vec<Value> = subjects
        .iter()
        .map(|s| {
            object([
                ("kind", text(s.kind.clone())),
                ("apiGroup", text(s.api_group.clone())),
                ("name", text(s.name.clone())),
                ("namespace", text(s.namespace.clone())),
            ])
        })
        .collect();
    let role_ref = role_ref.unwrap_or_default();
    object([
        ("metadata", metadata(meta)),
        ("subjects", (!subjects.is_empty()).then(|| json!(subjects))),
        (
            "roleRef",
            Some(object([
                ("apiGroup", text(role_ref.api_group)),
                ("kind", text(role_ref.kind)),
                ("name", text(role_ref.name)),
            ])),
        ),
    ])
}

fn attributes(
    resource: Option<authz::ResourceAttributes>,
    non_resource: Option<authz::NonResourceAttributes>,
) -> [(&'static str, Option<Value>); 2] {
    let resource = resource.map(|r| {
        object([
            ("namespace", text(r.namespace)),
            ("verb", text(r.verb)),
            ("group", text(r.group)),
            ("version", text(r.version)),
            ("resource", text(r.resource)),
            ("subresource", text(r.subresource)),
            ("name", text(r.name)),
        ])
    });
    let non_resource = non_resource.map(|n| object([("path", text(n.path)), ("verb", text(n.verb))]));
    [
        ("resourceAttributes", resource),
        ("nonResourceAttributes", non_resource),
    ]
}

fn self_review(review: authz::SelfSubjectAccessReview) -> Value {
    let spec = review.spec.unwrap_or_default();
    let spec = object(attributes(spec.resource_attributes, spec.non_resource_attributes));
    object([("metadata", metadata(review.metadata)), ("spec", Some(spec))])
}

fn review(review: authz::SubjectAccessReview) -> Value {
    let spec = review.spec.unwrap_or_default();
    let extra: Map<String, Value> = spec.extra.into_iter().map(|(k, v)| (k, json!(v.items))).collect();
    let [resource, non_resource] = attributes(spec.resource_attributes, spec.non_resource_attributes);
    let spec = object([
        resource,
        non_resource,
        ("user", text(spec.user)),
        ("groups", strings(spec.groups)),
        ("uid", text(spec.uid)),
        ("extra", (!extra.is_empty()).then_some(Value::Object(extra))),
    ]);
    object([("metadata", metadata(review.metadata)), ("spec", Some(spec))])
}
