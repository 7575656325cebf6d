//! The served resources: one table that routing, discovery, validation, Tables and OpenAPI
//! all read, so they can never disagree.

use crate::store::Resource;

/// How object names of a resource are validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 subdomain (most resources).
    DnsSubdomain,
    /// RFC 1123 label (namespaces).
    DnsLabel,
    /// Any path segment: not `.`/`..`, no `/` or `%` (RBAC objects).
    PathSegment,
}

/// The extra Table columns a resource prints (besides Name and Age).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// Name, Age.
    Plain,
    /// Name, Status, Age.
    Namespace,
    /// Name, Type, Data, Age.
    Secret,
    /// Name, Data, Age.
    ConfigMap,
    /// Name, Role, Age, Users, Groups, ServiceAccounts.
    Binding,
    /// Name, Created At.
    Role,
    /// Name, Age, SignerName, Requestor, RequestedDuration, Condition.
    CertificateSigningRequest,
}

/// One served resource.
#[derive(Debug)]
pub struct ServedResource {
    /// API group, empty for core.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural name.
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// List kind.
    pub list_kind: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Whether objects are kept (reviews are answered, not stored).
    pub stored: bool,
    /// Discovery verbs.
    pub verbs: &'static [&'static str],
    /// Subresources (each served with get, patch, update).
    pub subresources: &'static [&'static str],
    /// Short names (`csr`, `cm`).
    pub short_names: &'static [&'static str],
    /// Name validation.
    pub names: NameRule,
    /// Table columns.
    pub columns: Columns,
    /// Field selector labels besides `metadata.name` / `metadata.namespace`.
    pub fields: &'static [&'static str],
}

const CRUD: &[&str] = &["create", "delete", "get", "list", "patch", "update", "watch"];
const CREATE: &[&str] = &["create"];
const RBAC: &str = "rbac.authorization.k8s.io";
const AUTHZ: &str = "authorization.k8s.io";

const fn crud(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    list_kind: &'static str,
    namespaced: bool,
) -> ServedResource {
    ServedResource {
        group,
        version: "v1",
        plural,
        singular,
        kind,
        list_kind,
        namespaced,
        stored: true,
        verbs: CRUD,
        subresources: &[],
        short_names: &[],
        names: NameRule::DnsSubdomain,
        columns: Columns::Plain,
        fields: &[],
    }
}

/// Every served resource.
pub static RESOURCES: &[ServedResource] = &[
    ServedResource {
        short_names: &["ns"],
        names: NameRule::DnsLabel,
        columns: Columns::Namespace,
        fields: &["status.phase"],
        ..crud("", "namespaces", "namespace", "Namespace", "NamespaceList", false)
    },
    ServedResource {
        short_names: &["cm"],
        columns: Columns::ConfigMap,
        ..crud("", "configmaps", "configmap", "ConfigMap", "ConfigMapList", true)
    },
    ServedResource {
        columns: Columns::Secret,
        fields: &["type"],
        ..crud("", "secrets", "secret", "Secret", "SecretList", true)
    },
    ServedResource {
        short_names: &["no"],
        subresources: &["status"],
        ..crud("", "nodes", "node", "Node", "NodeList", false)
    },
    ServedResource {
        short_names: &["sa"],
        ..crud(
            "",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            "ServiceAccountList",
            true,
        )
    },
    // Stored only (no controller runs them), so a controller's manifest can be applied whole.
    ServedResource {
        short_names: &["deploy"],
        ..crud(
            "apps",
            "deployments",
            "deployment",
            "Deployment",
            "DeploymentList",
            true,
        )
    },
    // Leader election (`kubetrust approver run`) and the Events controllers record.
    ServedResource {
        ..crud(
            "coordination.k8s.io",
            "leases",
            "lease",
            "Lease",
            "LeaseList",
            true,
        )
    },
    ServedResource {
        short_names: &["ev"],
        ..crud("events.k8s.io", "events", "event", "Event", "EventList", true)
    },
    ServedResource {
        names: NameRule::PathSegment,
        columns: Columns::Role,
        ..crud(
            RBAC,
            "clusterroles",
            "clusterrole",
            "ClusterRole",
            "ClusterRoleList",
            false,
        )
    },
    ServedResource {
        names: NameRule::PathSegment,
        columns: Columns::Binding,
        ..crud(
            RBAC,
            "clusterrolebindings",
            "clusterrolebinding",
            "ClusterRoleBinding",
            "ClusterRoleBindingList",
            false,
        )
    },
    ServedResource {
        names: NameRule::PathSegment,
        columns: Columns::Role,
        ..crud(RBAC, "roles", "role", "Role", "RoleList", true)
    },
    ServedResource {
        names: NameRule::PathSegment,
        columns: Columns::Binding,
        ..crud(
            RBAC,
            "rolebindings",
            "rolebinding",
            "RoleBinding",
            "RoleBindingList",
            true,
        )
    },
    ServedResource {
        short_names: &["csr"],
        // Upstream does not care what CSRs are called: only the path-segment rule applies
        // (kubelet names them `node-csr-<base64url digest>`, upper case included).
        names: NameRule::PathSegment,
        subresources: &["approval", "status"],
        columns: Columns::CertificateSigningRequest,
        fields: &["spec.signerName"],
        ..crud(
            "certificates.k8s.io",
            "certificatesigningrequests",
            "certificatesigningrequest",
            "CertificateSigningRequest",
            "CertificateSigningRequestList",
            false,
        )
    },
    ServedResource {
        stored: false,
        verbs: CREATE,
        ..crud(
            AUTHZ,
            "subjectaccessreviews",
            "subjectaccessreview",
            "SubjectAccessReview",
            "",
            false,
        )
    },
    ServedResource {
        stored: false,
        verbs: CREATE,
        ..crud(
            AUTHZ,
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            "SelfSubjectAccessReview",
            "",
            false,
        )
    },
];

impl ServedResource {
    /// The store's key for this resource.
    pub fn resource(&self) -> Resource {
        Resource::new(self.group, self.plural)
    }

    /// `v1` or `group/v1`, the `apiVersion` of its objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Whether `verb` is served.
    pub fn serves(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }
}

/// The resource `plural` of `group`/`version`, if served.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ServedResource> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The served group/versions in discovery order, core (`""`) first.
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !seen.contains(&(r.group, r.version)) {
            seen.push((r.group, r.version));
        }
    }
    seen
}
