//! What a request is about, from its method and path, as kube-apiserver's `RequestInfo`:
//! the verb, and for API paths the group, version, resource, subresource, namespace and name.

use http::Method;

/// A parsed request target.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// Whether the path is an API resource path (`/api/v1/...`, `/apis/g/v/...` with a resource).
    pub resource_request: bool,
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`; the
    /// lower-case method for non-resource paths.
    pub verb: String,
    /// The path as sent (without the query).
    pub path: String,
    /// API group (empty for core).
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource.
    pub subresource: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Longest path (in segments) any served route has; longer paths are non-resource paths.
const MAX_SEGMENTS: usize = 16;

/// Parses `method` `path` (`watch` is true when the query asks for a watch).
pub fn parse(method: &Method, path: &str, watch: bool) -> RequestInfo {
    let mut info = RequestInfo {
        verb: method.as_str().to_ascii_lowercase(),
        path: path.to_owned(),
        ..RequestInfo::default()
    };
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .take(MAX_SEGMENTS + 1)
        .map(percent_decode)
        .collect();
    let mut rest: &[String] = match segments.as_slice() {
        [api, version, rest @ ..] if api == "api" => {
            info.version.clone_from(version);
            rest
        }
        [apis, group, version, rest @ ..] if apis == "apis" => {
            info.group.clone_from(group);
            info.version.clone_from(version);
            rest
        }
        _ => return info,
    };
    if rest.is_empty() || segments.len() > MAX_SEGMENTS {
        return info;
    }
    if let [namespaces, namespace, tail @ ..] = rest
        && namespaces == "namespaces"
    {
        info.namespace.clone_from(namespace);
        if tail.is_empty() {
            // `/api/v1/namespaces/{name}`: the Namespace object itself.
            info.resource = "namespaces".into();
            info.name.clone_from(namespace);
        } else {
            rest = tail;
        }
    }
    if info.resource.is_empty() {
        let mut parts = rest.iter();
        info.resource = parts.next().cloned().unwrap_or_default();
        info.name = parts.next().cloned().unwrap_or_default();
        info.subresource = parts.next().cloned().unwrap_or_default();
        if parts.next().is_some() {
            return RequestInfo {
                verb: info.verb,
                path: info.path,
                ..RequestInfo::default()
            };
        }
    }
    info.resource_request = true;
    info.verb = match (method, info.name.is_empty()) {
        (&Method::GET | &Method::HEAD, true) if watch => "watch",
        (&Method::GET | &Method::HEAD, true) => "list",
        (&Method::GET | &Method::HEAD, false) => "get",
        (&Method::POST, _) => "create",
        (&Method::PUT, _) => "update",
        (&Method::PATCH, _) => "patch",
        (&Method::DELETE, true) => "deletecollection",
        (&Method::DELETE, false) => "delete",
        _ => return info,
    }
    .into();
    info
}

/// `%XX` escapes decoded (invalid ones kept as sent).
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (byte, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths() {
        let info = parse(
            &Method::PUT,
            "/apis/certificates.k8s.io/v1/certificatesigningrequests/csr-1/approval",
            false,
        );
        assert_eq!(
            (
                info.verb.as_str(),
                info.group.as_str(),
                info.resource.as_str(),
                info.name.as_str(),
                info.subresource.as_str()
            ),
            (
                "update",
                "certificates.k8s.io",
                "certificatesigningrequests",
                "csr-1",
                "approval"
            )
        );
        let info = parse(&Method::GET, "/api/v1/namespaces/kube-public/configmaps", true);
        assert_eq!(
            (
                info.verb.as_str(),
                info.namespace.as_str(),
                info.resource.as_str()
            ),
            ("watch", "kube-public", "configmaps")
        );
        let info = parse(&Method::GET, "/api/v1/namespaces/kube-public", false);
        assert_eq!(
            (info.verb.as_str(), info.resource.as_str(), info.name.as_str()),
            ("get", "namespaces", "kube-public")
        );
        let info = parse(
            &Method::DELETE,
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm%3Anode",
            false,
        );
        assert_eq!(
            (info.verb.as_str(), info.name.as_str()),
            ("delete", "kubeadm:node")
        );
    }

    #[test]
    fn non_resource_paths() {
        for path in ["/version", "/apis", "/api/v1", "/apis/g/v", "/healthz"] {
            let info = parse(&Method::GET, path, false);
            assert!(!info.resource_request, "{path}");
            assert_eq!(info.verb, "get");
        }
        assert!(!parse(&Method::GET, "/api/v1/a/b/c/d", false).resource_request);
    }
}
