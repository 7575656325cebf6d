//! The API server behind TLS: kube-apiserver's request pipeline (faults → authentication →
//! impersonation → request info → authorization → handler) over the store, and the routes
//! that are not resources (version, health, discovery, OpenAPI).

pub mod discovery;
mod handlers;
pub mod names;
pub mod openapi;
pub mod protobuf;
pub mod request_info;
pub mod resources;
pub mod selectors;
pub mod table;
mod watch;

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Response, StatusCode, Uri, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use kubetrust_pki::Certificate;
use serde_json::Value;

use crate::authn::{self, Credentials};
use crate::faults::{Faults, Verdict};
use crate::identity::UserInfo;
use crate::rbac::{self, Attributes};
use crate::status::{ApiError, Target};
use crate::store::Store;
use request_info::RequestInfo;

/// A response body: a whole JSON document or a watch stream.
pub type ApiBody = BoxBody<Bytes, Infallible>;

/// One request as the server read it.
pub struct ApiRequest {
    /// HTTP method.
    pub method: Method,
    /// Path and query.
    pub uri: Uri,
    /// Headers.
    pub headers: HeaderMap,
    /// The body, or why it could not be read (too large, broken connection).
    pub body: Result<Bytes, ApiError>,
    /// The TLS client certificate chain (DER, leaf first); empty when none was presented.
    pub client_chain: Vec<Vec<u8>>,
}

/// What to do with a request.
pub enum Outcome {
    /// Send this response.
    Respond(Response<ApiBody>),
    /// Close the connection without answering (an injected fault).
    Drop,
}

/// Everything the handlers share.
#[derive(Clone)]
pub struct Api {
    /// The objects.
    pub store: Store,
    /// The CA bundle client certificates must chain to.
    pub client_ca: Vec<Certificate>,
    /// Injected faults.
    pub faults: Faults,
    /// Turns true when the server stops; watch streams end then.
    pub stopping: tokio::sync::watch::Receiver<bool>,
}

/// The decoded query string.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses `a=b&c=d` (percent-decoded, `+` as space); at most 64 parameters are kept.
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .take(64)
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let decode = |s: &str| request_info::percent_decode(&s.replace('+', " "));
                (decode(key), decode(value))
            })
            .collect();
        Self(pairs)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Whether `key` is `true` or `1`.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.get(key), Some("true" | "1"))
    }
}

/// A JSON response (`Content-Type: application/json`, which typed clients require).
pub fn json_response(status: StatusCode, body: &Value) -> Response<ApiBody> {
    with_content_type(status, "application/json", Bytes::from(body.to_string()))
}

fn with_content_type(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<ApiBody> {
    let mut response = Response::new(Full::new(body).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The `Status` answer of `error`, with `Retry-After` when it has one.
pub fn error_response(error: &ApiError) -> Response<ApiBody> {
    let status = StatusCode::from_u16(error.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json_response(status, &error.to_status());
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

impl Api {
    /// Runs one request through the pipeline. Never panics on any input.
    pub async fn handle(&self, request: ApiRequest) -> Outcome {
        match self.faults.verdict(request.uri.path()) {
            Verdict::Drop => return Outcome::Drop,
            Verdict::Fail(error) => return Outcome::Respond(error_response(&error)),
            Verdict::Serve => {}
        }
        Outcome::Respond(self.serve(request).await.unwrap_or_else(|e| error_response(&e)))
    }

    async fn serve(&self, request: ApiRequest) -> Result<Response<ApiBody>, ApiError> {
        let user = self.authenticate(&request)?;
        let user = crate::impersonate::impersonate(&self.store, user, &request.headers)?;
        let query = Query::parse(request.uri.query());
        let info = request_info::parse(&request.method, request.uri.path(), query.flag("watch"));
        self.authorize(&info, &user)?;
        if info.resource_request {
            handlers::serve(self, &info, &query, request, user).await
        } else {
            self.non_resource(&info, &request)
        }
    }

    fn authenticate(&self, request: &ApiRequest) -> Result<UserInfo, ApiError> {
        let authorization = header_text(&request.headers, header::AUTHORIZATION);
        let bearer_token = authorization
            .strip_prefix("Bearer ")
            .or_else(|| authorization.strip_prefix("bearer "))
            .map(str::trim);
        let credentials = Credentials {
            bearer_token,
            client_chain: &request.client_chain,
        };
        authn::authenticate(
            &self.store,
            &self.client_ca,
            &credentials,
            self.store.clock().now(),
        )
    }

    fn authorize(&self, info: &RequestInfo, user: &UserInfo) -> Result<(), ApiError> {
        let attributes = Attributes {
            user: user.clone(),
            verb: info.verb.clone(),
            resource_request: info.resource_request,
            api_group: info.group.clone(),
            api_version: info.version.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            namespace: info.namespace.clone(),
            name: info.name.clone(),
            path: info.path.clone(),
        };
        let decision = rbac::authorize(&self.store, &attributes);
        if decision.allowed {
            return Ok(());
        }
        let mut why = attributes.denial_message();
        if !decision.reason.is_empty() {
            why = format!("{why}: {}", decision.reason);
        }
        if info.resource_request {
            Err(ApiError::forbidden(
                Target::new(&info.group, &info.resource, &info.name),
                &why,
            ))
        } else {
            Err(ApiError::forbidden_path(&why))
        }
    }

    fn non_resource(&self, info: &RequestInfo, request: &ApiRequest) -> Result<Response<ApiBody>, ApiError> {
        if request.method != Method::GET && request.method != Method::HEAD {
            return Err(ApiError::unknown_path());
        }
        let accept = header_text(&request.headers, header::ACCEPT);
        let path = info.path.trim_end_matches('/');
        let ok = |body: Value| Ok(json_response(StatusCode::OK, &body));
        match path {
            "/version" => ok(discovery::version()),
            "/healthz" | "/readyz" | "/livez" => Ok(with_content_type(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"ok"),
            )),
            "/api" | "/apis" if discovery::aggregated_wanted(accept) => {
                let body = discovery::aggregated(path == "/api").to_string();
                Ok(with_content_type(
                    StatusCode::OK,
                    discovery::AGGREGATED_CONTENT_TYPE,
                    Bytes::from(body),
                ))
            }
            "/api" => ok(discovery::api_versions()),
            "/apis" => ok(discovery::api_group_list()),
            "/openapi/v3" => ok(openapi::index()),
            _ => {
                if let Some(gv) = path.strip_prefix("/openapi/v3/") {
                    return openapi::document(gv).map_or_else(|| Err(ApiError::unknown_path()), ok);
                }
                let discovered = match path.split('/').collect::<Vec<_>>().as_slice() {
                    ["", "api", version] => discovery::api_resource_list("", version),
                    ["", "apis", group, version] => discovery::api_resource_list(group, version),
                    _ => None,
                };
                discovered.map_or_else(|| Err(ApiError::unknown_path()), ok)
            }
        }
    }
}
