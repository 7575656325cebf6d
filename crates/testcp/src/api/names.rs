//! Object name validation with the apiserver's texts.

use super::resources::{NameRule, ServedResource};
use crate::status::{ApiError, Cause, Target};

const SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

/// RFC 1123 subdomain: at most 253 characters of dot-separated labels.
pub fn dns_subdomain(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err("must be no more than 253 characters".into());
    }
    if name.split('.').all(is_label) {
        Ok(())
    } else {
        Err(SUBDOMAIN.into())
    }
}

fn dns_label(name: &str) -> Result<(), String> {
    if name.len() > 63 {
        return Err("must be no more than 63 characters".into());
    }
    if is_label(name) { Ok(()) } else { Err(LABEL.into()) }
}

fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn path_segment(name: &str) -> Result<(), String> {
    if name == "." || name == ".." {
        return Err(format!("may not be '{name}'"));
    }
    for bad in ["/", "%"] {
        if name.contains(bad) {
            return Err(format!("may not contain '{bad}'"));
        }
    }
    Ok(())
}

/// Checks a name for `resource`: 422 `Kind "name" is invalid: metadata.name: ...`.
pub fn validate(resource: &ServedResource, name: &str) -> Result<(), ApiError> {
    let check = match resource.names {
        NameRule::DnsSubdomain => dns_subdomain(name),
        NameRule::DnsLabel => dns_label(name),
        NameRule::PathSegment => path_segment(name),
    };
    check.map_err(|why| {
        let target = Target::new(resource.group, resource.kind, name);
        ApiError::invalid(
            target,
            vec![Cause::invalid("metadata.name", &format!("{name:?}"), &why)],
        )
    })
}

/// 422 for an object with neither `name` nor `generateName`.
pub fn required(resource: &ServedResource) -> ApiError {
    let cause = Cause {
        reason: "FieldValueRequired",
        field: "metadata.name".into(),
        message: "Required value: name or generateName is required".into(),
    };
    ApiError::invalid(Target::new(resource.group, resource.kind, ""), vec![cause])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::find;

    #[test]
    fn names_per_rule() {
        let secrets = find("", "v1", "secrets").unwrap();
        let bindings = find("rbac.authorization.k8s.io", "v1", "clusterrolebindings").unwrap();
        assert!(validate(secrets, "bootstrap-token-abcdef").is_ok());
        let err = validate(secrets, "Bad_Name").unwrap_err();
        assert_eq!(err.code, 422);
        assert!(err.message.starts_with("Secret \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"));
        assert!(validate(bindings, "kubeadm:node-autoapprove-bootstrap").is_ok());
        assert!(validate(bindings, "a/b").is_err());
        assert!(validate(find("", "v1", "namespaces").unwrap(), "a.b").is_err());
    }

    #[test]
    fn csr_names_are_path_segments() {
        // Found by the testcp_router fuzz target: a kubelet's digest name was refused with 422.
        let csrs = find("certificates.k8s.io", "v1", "certificatesigningrequests").unwrap();
        assert!(validate(csrs, "node-csr-7nvIpW5ygEf1XYUTfWWENlU0qCudErkPqx6IBgyFHWE").is_ok());
        assert_eq!(validate(csrs, "a/b").unwrap_err().code, 422);
        assert_eq!(validate(csrs, "..").unwrap_err().code, 422);
    }
}
