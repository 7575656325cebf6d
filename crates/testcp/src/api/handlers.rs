//! The generic resource handlers over the store: get, list, watch, create, update, patch,
//! delete, and the access reviews (answered, not stored). Every write goes through
//! `crate::strategy`.

use http::{HeaderMap, Response, StatusCode, header};
use k8s_openapi::api::authorization::v1::SubjectAccessReviewSpec;
use serde_json::{Value, json};

use super::request_info::RequestInfo;
use super::resources::{self, ServedResource};
use super::selectors::Selector;
use super::{Api, ApiBody, ApiRequest, Query, json_response, names, protobuf, table, watch};
use crate::identity::UserInfo;
use crate::status::ApiError;
use crate::store::{Filter, ObjectKey, Resource};
use crate::strategy;

/// One resource request, resolved against the resource table.
pub(super) struct Call<'a> {
    pub(super) api: &'a Api,
    pub(super) resource: &'static ServedResource,
    pub(super) info: &'a RequestInfo,
    pub(super) query: &'a Query,
    pub(super) headers: &'a HeaderMap,
    pub(super) user: UserInfo,
    /// The object's namespace in the store (empty for cluster-scoped resources).
    pub(super) namespace: String,
}

/// Routes a resource request to its handler.
pub(super) async fn serve(
    api: &Api,
    info: &RequestInfo,
    query: &Query,
    request: ApiRequest,
    user: UserInfo,
) -> Result<Response<ApiBody>, ApiError> {
    let resource =
        resources::find(&info.group, &info.version, &info.resource).ok_or_else(ApiError::unknown_path)?;
    let namespace = if resource.namespaced {
        info.namespace.clone()
    } else {
        String::new()
    };
    let collection_verb = matches!(info.verb.as_str(), "list" | "watch");
    let misplaced = if resource.namespaced {
        namespace.is_empty() && !collection_verb
    } else {
        !info.namespace.is_empty() && resource.plural != "namespaces"
    };
    if misplaced
        || (!info.subresource.is_empty() && !resource.subresources.contains(&info.subresource.as_str()))
    {
        return Err(ApiError::unknown_path());
    }
    let verb_served = if info.subresource.is_empty() {
        resource.serves(&info.verb)
    } else {
        matches!(info.verb.as_str(), "get" | "update" | "patch")
    };
    // Collections take no PUT or PATCH, objects no POST (as the apiserver's routes).
    let verb_served = verb_served
        && match info.verb.as_str() {
            "create" => info.name.is_empty(),
            "update" | "patch" => !info.name.is_empty(),
            _ => true,
        };
    if !verb_served {
        return Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        ));
    }
    let call = Call {
        api,
        resource,
        info,
        query,
        headers: &request.headers,
        user,
        namespace,
    };
    let body = || request.body.clone();
    match info.verb.as_str() {
        "get" => call.get(),
        "list" => call.list(),
        "watch" => call.watch(),
        "create" => call.create(decode(call.headers, &body()?)?),
        "update" => call.update(decode(call.headers, &body()?)?),
        "patch" => call.patch(&body()?),
        "delete" => call.delete(&body()?),
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    }
}

fn content_type(headers: &HeaderMap) -> String {
    let value = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A JSON or protobuf body as a JSON object.
fn decode(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let content_type = content_type(headers);
    let value = match content_type.as_str() {
        protobuf::CONTENT_TYPE => protobuf::decode(body)?,
        ""
        | "application/json"
        | "application/merge-patch+json"
        | "application/strategic-merge-patch+json"
        | "application/apply-patch+yaml" => serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?,
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    if value.is_object() {
        Ok(value)
    } else {
        Err(ApiError::bad_request(
            "the body of the request is not a JSON object",
        ))
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// RFC 7386 JSON merge patch (`null` deletes a key).
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

impl Call<'_> {
    fn key(&self) -> ObjectKey {
        ObjectKey {
            resource: self.resource.resource(),
            namespace: self.namespace.clone(),
            name: self.info.name.clone(),
        }
    }

    fn store_resource(&self) -> Resource {
        self.resource.resource()
    }

    fn wants_table(&self) -> bool {
        self.headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(table::wanted)
    }

    fn get(&self) -> Result<Response<ApiBody>, ApiError> {
        let object = self.api.store.get(&self.key())?;
        if self.wants_table() {
            let revision = text(&object, "/metadata/resourceVersion")
                .parse()
                .unwrap_or_default();
            let now = self.api.store.clock().now();
            return Ok(json_response(
                StatusCode::OK,
                &table::table(self.resource, [&*object], revision, now),
            ));
        }
        Ok(json_response(StatusCode::OK, &object))
    }

    /// The store filter and the selectors of a list or watch.
    pub(super) fn selection(&self) -> Result<(Filter, Selector, Selector), ApiError> {
        let mut supported = vec!["metadata.name", "metadata.namespace"];
        supported.extend_from_slice(self.resource.fields);
        let fields = Selector::fields(self.query.get("fieldSelector").unwrap_or_default(), &supported)?;
        let labels = Selector::labels(self.query.get("labelSelector").unwrap_or_default())?;
        let filter = Filter {
            namespace: (!self.namespace.is_empty()).then(|| self.namespace.clone()),
            name: fields.exact("metadata.name").map(str::to_owned),
        };
        Ok((filter, fields, labels))
    }

    fn list(&self) -> Result<Response<ApiBody>, ApiError> {
        let (filter, fields, labels) = self.selection()?;
        let (items, revision) = self.api.store.list(&self.store_resource(), &filter);
        let items: Vec<&Value> = items
            .iter()
            .map(|item| &**item)
            .filter(|item| selected(item, &fields, &labels))
            .collect();
        if self.wants_table() {
            let now = self.api.store.clock().now();
            return Ok(json_response(
                StatusCode::OK,
                &table::table(self.resource, items, revision, now),
            ));
        }
        let list = json!({
            "kind": self.resource.list_kind,
            "apiVersion": self.resource.api_version(),
            "metadata": {"resourceVersion": revision.to_string()},
            "items": items,
        });
        Ok(json_response(StatusCode::OK, &list))
    }

    fn watch(&self) -> Result<Response<ApiBody>, ApiError> {
        let (filter, fields, labels) = self.selection()?;
        watch::start(self, filter, fields, labels, self.wants_table())
    }

    /// Checks the body's kind, apiVersion, namespace and name against the URL and stamps
    /// kind and apiVersion.
    fn check_body(&self, object: &mut Value) -> Result<(), ApiError> {
        let expected_version = self.resource.api_version();
        let kind = text(object, "/kind");
        let version = text(object, "/apiVersion");
        if (!kind.is_empty() && kind != self.resource.kind)
            || (!version.is_empty() && version != expected_version)
        {
            return Err(ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type {}): {version}, Kind={kind}",
                self.resource.kind
            )));
        }
        let namespace = text(object, "/metadata/namespace");
        if self.resource.namespaced && !namespace.is_empty() && namespace != self.namespace {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let name = text(object, "/metadata/name");
        if !self.info.name.is_empty() && !name.is_empty() && name != self.info.name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({name}) does not match the name on the URL ({})",
                self.info.name
            )));
        }
        let name = if name.is_empty() {
            self.info.name.clone()
        } else {
            name.to_owned()
        };
        if let Some(map) = object.as_object_mut() {
            map.insert("kind".into(), json!(self.resource.kind));
            map.insert("apiVersion".into(), json!(expected_version));
            let metadata = map.entry("metadata").or_insert_with(|| json!({}));
            if let Some(metadata) = metadata.as_object_mut() {
                if !name.is_empty() {
                    metadata.insert("name".into(), json!(name));
                }
                if !self.resource.namespaced {
                    metadata.remove("namespace");
                }
            } else {
                return Err(ApiError::bad_request("metadata must be an object"));
            }
        }
        if self.resource.plural == "secrets" {
            fold_string_data(object)?;
        }
        Ok(())
    }

    fn create(&self, mut object: Value) -> Result<Response<ApiBody>, ApiError> {
        self.check_body(&mut object)?;
        if !self.resource.stored {
            return self.review(object);
        }
        let name = text(&object, "/metadata/name");
        let generate_name = text(&object, "/metadata/generateName");
        match (name.is_empty(), generate_name.is_empty()) {
            (false, _) => names::validate(self.resource, name)?,
            (true, false) => names::validate(self.resource, &format!("{generate_name}x"))?,
            (true, true) => return Err(names::required(self.resource)),
        }
        if self.resource.namespaced {
            let key = ObjectKey {
                resource: Resource::new("", "namespaces"),
                namespace: String::new(),
                name: self.namespace.clone(),
            };
            self.api.store.get(&key)?;
        }
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            metadata.remove("resourceVersion");
        }
        strategy::before_create(&self.store_resource(), &mut object, &self.user, &self.api.store)?;
        let created = self
            .api
            .store
            .create(&self.store_resource(), &self.namespace, object)?;
        Ok(json_response(StatusCode::CREATED, &created))
    }

    fn store_update(&self, old: &Value, mut new: Value) -> Result<Response<ApiBody>, ApiError> {
        strategy::before_update(
            &self.store_resource(),
            &self.info.subresource,
            old,
            &mut new,
            &self.user,
            &self.api.store,
        )?;
        let updated = self.api.store.update(&self.key(), new)?;
        Ok(json_response(StatusCode::OK, &updated))
    }

    fn update(&self, mut object: Value) -> Result<Response<ApiBody>, ApiError> {
        self.check_body(&mut object)?;
        let old = self.api.store.get(&self.key())?;
        self.store_update(&old, object)
    }

    fn patch(&self, body: &[u8]) -> Result<Response<ApiBody>, ApiError> {
        let content_type = content_type(self.headers);
        if !matches!(
            content_type.as_str(),
            "application/merge-patch+json"
                | "application/strategic-merge-patch+json"
                | "application/apply-patch+yaml"
        ) {
            return Err(ApiError::unsupported_media_type(&content_type));
        }
        let patch = decode(self.headers, body)?;
        let old = match self.api.store.get(&self.key()) {
            Ok(old) => old,
            // Server-side apply creates what does not exist yet.
            Err(e)
                if e.code == 404
                    && content_type == "application/apply-patch+yaml"
                    && self.info.subresource.is_empty() =>
            {
                return self.create(patch);
            }
            Err(e) => return Err(e),
        };
        let mut new = (*old).clone();
        merge(&mut new, &patch);
        if patch.pointer("/metadata/resourceVersion").is_none() {
            // Patches apply to the version read here: a concurrent write is a conflict.
            if let (Some(metadata), Some(version)) = (
                new.get_mut("metadata").and_then(Value::as_object_mut),
                old.pointer("/metadata/resourceVersion"),
            ) {
                metadata.insert("resourceVersion".into(), version.clone());
            }
        }
        self.check_body(&mut new)?;
        self.store_update(&old, new)
    }

    fn delete(&self, body: &[u8]) -> Result<Response<ApiBody>, ApiError> {
        let options: Value = if body.iter().all(u8::is_ascii_whitespace) {
            json!({})
        } else {
            serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
        };
        let key = self.key();
        let wanted_version = text(&options, "/preconditions/resourceVersion");
        if !wanted_version.is_empty() {
            let current = self.api.store.get(&key)?;
            if text(&current, "/metadata/resourceVersion") != wanted_version {
                return Err(ApiError::conflict(self.resource.resource().target(&key.name)));
            }
        }
        let uid = options.pointer("/preconditions/uid").and_then(Value::as_str);
        let deleted = self.api.store.delete(&key, uid)?;
        let mut details = serde_json::Map::new();
        details.insert("name".into(), json!(key.name));
        if !self.resource.group.is_empty() {
            details.insert("group".into(), json!(self.resource.group));
        }
        details.insert("kind".into(), json!(self.resource.plural));
        details.insert("uid".into(), json!(text(&deleted, "/metadata/uid")));
        let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details});
        Ok(json_response(StatusCode::OK, &status))
    }

    /// SubjectAccessReview / SelfSubjectAccessReview: answered by RBAC, not stored.
    fn review(&self, mut object: Value) -> Result<Response<ApiBody>, ApiError> {
        let spec_json = object.get("spec").cloned().unwrap_or_else(|| json!({}));
        let mut spec: SubjectAccessReviewSpec = serde_json::from_value(spec_json)
            .map_err(|e| ApiError::bad_request(format!("invalid spec: {e}")))?;
        if self.resource.plural == "selfsubjectaccessreviews" {
            spec.user = Some(self.user.name.clone());
            spec.groups = Some(self.user.groups.clone());
            spec.uid = (!self.user.uid.is_empty()).then(|| self.user.uid.clone());
            spec.extra = (!self.user.extra.is_empty()).then(|| self.user.extra.clone());
        }
        let status = crate::rbac::review(&self.api.store, &spec);
        let status = serde_json::to_value(status).map_err(|e| ApiError::internal(e.to_string()))?;
        if let Some(map) = object.as_object_mut() {
            map.insert("status".into(), status);
        }
        Ok(json_response(StatusCode::CREATED, &object))
    }
}

/// A Secret's `stringData` folded into `data` (base64), as the apiserver's conversion does on
/// every write, so `stringData` is never stored.
fn fold_string_data(secret: &mut Value) -> Result<(), ApiError> {
    use base64::Engine;
    let Some(map) = secret.as_object_mut() else {
        return Ok(());
    };
    let Some(string_data) = map.remove("stringData") else {
        return Ok(());
    };
    let Value::Object(string_data) = string_data else {
        return Err(ApiError::bad_request("stringData must be an object of strings"));
    };
    let data = map.entry("data").or_insert_with(|| json!({}));
    let Some(data) = data.as_object_mut() else {
        return Err(ApiError::bad_request("data must be an object"));
    };
    for (key, value) in string_data {
        let Value::String(value) = value else {
            return Err(ApiError::bad_request(format!(
                "stringData.{key} must be a string"
            )));
        };
        data.insert(
            key,
            json!(base64::engine::general_purpose::STANDARD.encode(value)),
        );
    }
    Ok(())
}

/// Whether `object` passes the field and label selectors.
pub(super) fn selected(object: &Value, fields: &Selector, labels: &Selector) -> bool {
    let field = |key: &str| match key {
        "metadata.name" => object.pointer("/metadata/name").and_then(Value::as_str),
        "metadata.namespace" => Some(text(object, "/metadata/namespace")),
        "spec.signerName" => Some(text(object, "/spec/signerName")),
        "status.phase" => Some(text(object, "/status/phase")),
        "type" => Some(text(object, "/type")),
        _ => None,
    };
    let label = |key: &str| {
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    };
    fields.matches(field) && labels.matches(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_data_is_folded_into_data() {
        let mut secret = json!({"data": {"a": "YQ=="}, "stringData": {"b": "b"}});
        fold_string_data(&mut secret).unwrap();
        assert_eq!(secret, json!({"data": {"a": "YQ==", "b": "Yg=="}}));
        assert_eq!(
            fold_string_data(&mut json!({"stringData": {"b": 1}}))
                .unwrap_err()
                .code,
            400
        );
    }

    #[test]
    fn merge_patch_deletes_with_null() {
        let mut target = json!({"data": {"a": "1", "b": "2"}, "type": "x"});
        merge(&mut target, &json!({"data": {"a": null, "c": "3"}}));
        assert_eq!(target, json!({"data": {"b": "2", "c": "3"}, "type": "x"}));
    }
}
