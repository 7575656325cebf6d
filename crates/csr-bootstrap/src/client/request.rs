//! What is asked for: the CSR object, the key it was made with, and what the issued
//! certificate must be.

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::NodeAddress;
use kubetrust_pki::{Certificate, ExtKeyUsage, PrivateKey, Subject};

use crate::csr::{GENERATE_NAME, Naming, client_csr, node_subject};
use crate::serving::serving_csr;
use crate::verify::Expected;

/// One certificate request: the CSR object built for `key`, and the CA bundle the issued
/// certificate must chain to. Built by [`Request::kubelet_client`] or
/// [`Request::kubelet_serving`], so object, key and expectations always agree.
#[derive(Debug)]
pub struct Request<'a> {
    key: &'a PrivateKey,
    csr: CertificateSigningRequest,
    subject: Subject,
    usage: ExtKeyUsage,
    ca: Vec<Certificate>,
}

impl<'a> Request<'a> {
    /// The kubelet client certificate of `node_name` (signer
    /// `kubernetes.io/kube-apiserver-client-kubelet`), named per `naming`, with an optional
    /// lifetime; `ca` is the cluster CA bundle.
    pub fn kubelet_client(
        node_name: &str,
        key: &'a PrivateKey,
        naming: Naming,
        expiration_seconds: Option<i32>,
        ca: Vec<Certificate>,
    ) -> Result<Self, crate::Error> {
        Ok(Self {
            key,
            csr: client_csr(node_name, key, naming, expiration_seconds)?,
            subject: node_subject(node_name),
            usage: ExtKeyUsage::ClientAuth,
            ca,
        })
    }

    /// The kubelet serving certificate of `node_name` for its `addresses` (signer
    /// `kubernetes.io/kubelet-serving`, `generateName: csr-`).
    pub fn kubelet_serving(
        node_name: &str,
        key: &'a PrivateKey,
        addresses: &[NodeAddress],
        expiration_seconds: Option<i32>,
        ca: Vec<Certificate>,
    ) -> Result<Self, crate::Error> {
        Ok(Self {
            key,
            csr: serving_csr(node_name, key, addresses, expiration_seconds)?,
            subject: node_subject(node_name),
            usage: ExtKeyUsage::ServerAuth,
            ca,
        })
    }

    /// The object that is POSTed.
    pub fn csr(&self) -> &CertificateSigningRequest {
        &self.csr
    }

    /// The key the CSR was made with.
    pub fn key(&self) -> &PrivateKey {
        self.key
    }

    /// The fixed name, or `csr-*` for a generated one (for messages).
    pub(crate) fn display_name(&self) -> String {
        self.csr
            .metadata
            .name
            .clone()
            .unwrap_or_else(|| format!("{GENERATE_NAME}*"))
    }

    pub(crate) fn expected(&self) -> Expected<'_> {
        Expected {
            key: self.key,
            ca: &self.ca,
            subject: &self.subject,
            usage: self.usage,
        }
    }
}
