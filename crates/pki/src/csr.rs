//! PKCS#10 certification requests: making them (the external-CA workflow of
//! `kubeadm certs generate-csr`) and issuing from them under a policy that decides everything
//! the requester must not (usages, CA flag, validity).

use der::{Decode, Encode};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::pem::{self, PemLabel};
use crate::x509;
use crate::{
    AltNames, CertProfile, Certificate, CertificateAuthority, Error, ExtKeyUsage, PrivateKey, Subject,
    Validity,
};

/// A parsed PKCS#10 request whose self-signature has been verified.
#[derive(Clone, Debug)]
pub struct CertificateRequest {
    der: Vec<u8>,
    subject: Subject,
    alt_names: AltNames,
    public_key: Vec<u8>,
}

/// Whether parsing a request checks its self-signature: always for requests from outside.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SelfSignature {
    Verify,
    /// The request was signed in this process a moment ago.
    Trusted,
}

impl CertificateRequest {
    /// Makes a request for `key` with only a subject and SANs, as kubeadm does.
    pub fn new(subject: &Subject, alt_names: &AltNames, key: &PrivateKey) -> Result<Self, Error> {
        let der = x509::sign_request(subject, &alt_names.dns_names(), alt_names.ip_addresses(), key)?;
        // Signed just now with `key`: checking that signature again would cost one signature
        // verification per request (a seventh of a joining node's CPU in the 1000-node bench).
        Self::parse(&der, SelfSignature::Trusted)
    }

    /// Parses a `CERTIFICATE REQUEST` PEM block.
    pub fn from_pem(pem_bytes: &[u8]) -> Result<Self, Error> {
        let blocks = pem::parse(pem_bytes).map_err(|e| Error::InvalidRequest {
            reason: e.to_string(),
        })?;
        let block = blocks
            .iter()
            .find(|b| !b.has_headers && PemLabel::of(&b.label) == Some(PemLabel::CertificateRequest))
            .ok_or_else(|| Error::InvalidRequest {
                reason: "no CERTIFICATE REQUEST block".into(),
            })?;
        Self::from_der(&block.der)
    }

    /// Parses DER and verifies the self-signature (proof the requester holds the key).
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        Self::parse(der, SelfSignature::Verify)
    }

    fn parse(der: &[u8], self_signature: SelfSignature) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidRequest { reason };
        let request = x509_cert::request::CertReq::from_der(der).map_err(|e| invalid(e.to_string()))?;
        let info = request.info.to_der().map_err(|e| invalid(e.to_string()))?;
        let public_key = request
            .info
            .public_key
            .to_der()
            .map_err(|e| invalid(e.to_string()))?;
        let signature = request
            .signature
            .as_bytes()
            .ok_or_else(|| invalid("signature has unused bits".into()))?;
        if self_signature == SelfSignature::Verify
            && !crate::cert::signature_verifies(
                &request.algorithm.oid,
                &request.info.public_key,
                &info,
                signature,
            )
        {
            return Err(invalid("the self-signature does not verify".into()));
        }
        let subject = crate::cert::subject_of(&request.info.subject);
        let mut alt_names = AltNames::default();
        for attribute in request
            .info
            .attributes
            .iter()
            .filter(|a| a.oid == x509::OID_EXTENSION_REQUEST)
        {
            for value in attribute.values.iter() {
                let extensions: Vec<x509_cert::ext::Extension> = value
                    .decode_as()
                    .map_err(|e: der::Error| invalid(e.to_string()))?;
                for ext in extensions
                    .iter()
                    .filter(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME)
                {
                    let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
                        .map_err(|e| invalid(e.to_string()))?;
                    for name in san.0 {
                        match name {
                            GeneralName::DnsName(dns) => alt_names.add_dns(dns.to_string()),
                            GeneralName::IpAddress(ip) => match crate::cert::ip_from_bytes(ip.as_bytes()) {
                                Some(ip) => alt_names.add_ip(ip),
                                None => return Err(invalid("malformed IP address SAN".into())),
                            },
                            other => return Err(invalid(format!("unsupported SAN type {other:?}"))),
                        }
                    }
                }
            }
        }
        Ok(Self {
            der: der.to_vec(),
            subject,
            alt_names,
            public_key,
        })
    }

    /// The requested subject.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// The requested SANs.
    pub fn alt_names(&self) -> &AltNames {
        &self.alt_names
    }

    /// The DER SubjectPublicKeyInfo of the requester's key.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key
    }

    /// PEM `CERTIFICATE REQUEST`.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE REQUEST", &self.der)
    }
}

/// What a signer allows from a request. Usages, validity and CA:FALSE always come from here;
/// a request's own key usages, CA flag or validity wishes are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestPolicy {
    /// The subject the request must carry; `None` accepts the requested one.
    pub subject: Option<Subject>,
    /// The SANs the request may ask for (a subset is fine); `None` allows no SANs at all.
    pub allowed_alt_names: Option<AltNames>,
    /// The usages issued.
    pub usages: Vec<ExtKeyUsage>,
    /// The validity issued.
    pub validity: Validity,
}

impl RequestPolicy {
    /// A policy issuing `usages` for `validity`, accepting the requested subject and no SANs.
    pub fn new(usages: Vec<ExtKeyUsage>, validity: Validity) -> Self {
        Self {
            subject: None,
            allowed_alt_names: None,
            usages,
            validity,
        }
    }
}

impl CertificateAuthority {
    /// Issues a leaf for a verified request if the policy allows its subject and SANs.
    pub fn issue_for_request(
        &self,
        request: &CertificateRequest,
        policy: &RequestPolicy,
    ) -> Result<Certificate, Error> {
        let rejected = |reason: String| Error::RequestRejected {
            subject: request.subject.common_name.clone(),
            reason,
        };
        if let Some(want) = &policy.subject
            && want != &request.subject
        {
            return Err(rejected(format!(
                "subject CN={:?} O={:?} is not the expected CN={:?} O={:?}",
                request.subject.common_name,
                request.subject.organizations,
                want.common_name,
                want.organizations
            )));
        }
        let allowed = policy.allowed_alt_names.clone().unwrap_or_default();
        let dns_allowed = allowed.dns_names();
        if let Some(dns) = request
            .alt_names
            .dns_names()
            .into_iter()
            .find(|d| !dns_allowed.contains(d))
        {
            return Err(rejected(format!("SAN DNS name {dns:?} is not allowed")));
        }
        if let Some(ip) = request
            .alt_names
            .ip_addresses()
            .iter()
            .find(|ip| !allowed.ip_addresses().contains(ip))
        {
            return Err(rejected(format!("SAN IP {ip} is not allowed")));
        }
        let profile = CertProfile {
            subject: request.subject.clone(),
            alt_names: request.alt_names.clone(),
            usages: policy.usages.clone(),
            validity: policy.validity,
        };
        self.issue(&profile, &request.public_key)
    }
}
