//! Cluster API's Secret layout: names, data keys, type and label (`util/secret/consts.go`).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// The data key of a certificate (or, for [`Purpose::ServiceAccount`], the public key).
pub const TLS_CRT: &str = "tls.crt";
/// The data key of a private key.
pub const TLS_KEY: &str = "tls.key";
/// The data key of the kubeconfig in `<cluster>-kubeconfig`.
pub const KUBECONFIG_DATA: &str = "value";
/// The Secret type Cluster API's controllers give the Secrets they create; they treat other
/// types as user-supplied (and do not rotate them).
pub const SECRET_TYPE: &str = "cluster.x-k8s.io/secret";
/// The label that ties a Secret to its Cluster (Cluster API's `ClusterNameLabel`).
pub const CLUSTER_NAME_LABEL: &str = "cluster.x-k8s.io/cluster-name";

/// What a cluster Secret holds; its name is `<cluster>-<suffix>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// `<cluster>-ca`: the cluster CA.
    ClusterCa,
    /// `<cluster>-etcd`: the etcd CA (certificate only with external etcd).
    EtcdCa,
    /// `<cluster>-proxy`: the front-proxy CA.
    FrontProxyCa,
    /// `<cluster>-sa`: the service-account key pair (`tls.crt` is the `PUBLIC KEY`).
    ServiceAccount,
    /// `<cluster>-apiserver-etcd-client`: user-supplied with external etcd, never generated.
    ApiserverEtcdClient,
    /// `<cluster>-kubeconfig`: the admin kubeconfig (`value`).
    Kubeconfig,
    /// `<cluster>-user-kubeconfig`: a user kubeconfig some control-plane providers write.
    UserKubeconfig,
}

impl Purpose {
    /// The four Secrets of [`crate::ClusterPki`], in Cluster API's order.
    pub const PKI: [Purpose; 4] = [
        Self::ClusterCa,
        Self::EtcdCa,
        Self::FrontProxyCa,
        Self::ServiceAccount,
    ];

    /// The name suffix: `ca`, `etcd`, `proxy`, `sa`, ...
    pub const fn suffix(self) -> &'static str {
        match self {
            Self::ClusterCa => "ca",
            Self::EtcdCa => "etcd",
            Self::FrontProxyCa => "proxy",
            Self::ServiceAccount => "sa",
            Self::ApiserverEtcdClient => "apiserver-etcd-client",
            Self::Kubeconfig => "kubeconfig",
            Self::UserKubeconfig => "user-kubeconfig",
        }
    }

    /// The Secret's name for a cluster: `<cluster>-<suffix>`.
    pub fn secret_name(self, cluster: &str) -> String {
        format!("{cluster}-{}", self.suffix())
    }
}

/// A Secret as Cluster API's controllers create it: its name, the cluster label, the
/// cluster Secret type and `data`. Owner references are the caller's (they need the owner's
/// uid).
pub(crate) fn cluster_secret(
    cluster: &str,
    namespace: &str,
    purpose: Purpose,
    data: impl IntoIterator<Item = (&'static str, Vec<u8>)>,
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(purpose.secret_name(cluster)),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(
                CLUSTER_NAME_LABEL.to_owned(),
                cluster.to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        type_: Some(SECRET_TYPE.to_owned()),
        data: Some(
            data.into_iter()
                .map(|(key, value)| (key.to_owned(), ByteString(value)))
                .collect(),
        ),
        ..Secret::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_cluster_api() {
        let names: Vec<String> = Purpose::PKI.iter().map(|p| p.secret_name("c1")).collect();
        assert_eq!(names, ["c1-ca", "c1-etcd", "c1-proxy", "c1-sa"]);
        assert_eq!(Purpose::Kubeconfig.secret_name("c1"), "c1-kubeconfig");
        assert_eq!(Purpose::UserKubeconfig.secret_name("c1"), "c1-user-kubeconfig");
        assert_eq!(
            Purpose::ApiserverEtcdClient.secret_name("c1"),
            "c1-apiserver-etcd-client"
        );
    }
}
