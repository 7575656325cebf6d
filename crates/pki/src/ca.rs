//! Certificate authorities: kubeadm's self-signed CA profile, loading one from disk with the
//! key checked against the certificate, CA bundles, and issuing leaves.

use std::time::SystemTime;

use crate::x509::{self, TbsParams};
use crate::{
    CertProfile, Certificate, CertificateRequest, Error, ExtKeyUsage, KeyUsage, PrivateKey, Subject, Validity,
};

/// A CA that can sign: its certificate, its key, and the trust bundle it was loaded with.
///
/// `ca.crt` may hold several certificates (during a CA rotation, or an intermediate with
/// its root). The first one signs; all of them are what clients should trust.
#[derive(Debug)]
pub struct CertificateAuthority {
    signing: Certificate,
    bundle: Vec<Certificate>,
    key: PrivateKey,
    key_id: Vec<u8>,
}

impl CertificateAuthority {
    /// Creates a self-signed CA with kubeadm's profile: random serial, CA:TRUE without a path
    /// length, digitalSignature + keyEncipherment + keyCertSign, SAN DNS = CN, subject key id.
    pub fn self_signed(common_name: &str, key: PrivateKey, validity: Validity) -> Result<Self, Error> {
        let subject = Subject::new(common_name);
        let dns = [common_name.to_owned()];
        let der = x509::sign_certificate(
            &TbsParams {
                serial: &random_serial()?,
                subject: &subject,
                not_before: validity.not_before,
                not_after: validity.not_after,
                is_ca: true,
                key_usage: KeyUsage::kubeadm(true),
                ext_key_usages: &[],
                dns_names: &dns,
                ip_addresses: &[],
                subject_spki: key.public_key_der(),
                issuer_name: None,
                authority_key_id: None,
            },
            &key,
        )?;
        let cert = Certificate::from_der(&der).map_err(|e| Error::Encoding(e.to_string()))?;
        Self::new(vec![cert], key)
    }

    /// A CA from its certificate bundle (first = signing certificate) and key. Fails when the
    /// first certificate is not a CA or the key is not its key.
    pub fn new(bundle: Vec<Certificate>, key: PrivateKey) -> Result<Self, Error> {
        let cert = bundle.first().ok_or(Error::EmptyBundle)?.clone();
        if !cert.is_ca() {
            return Err(Error::NotACa {
                subject: cert.subject_text(),
            });
        }
        if !cert.matches_key(&key) {
            return Err(Error::KeyMismatch {
                subject: cert.subject_text(),
            });
        }
        let key_id = match cert.subject_key_id() {
            Some(id) => id,
            None => x509::subject_key_id(key.public_key_der())?.to_vec(),
        };
        Ok(Self {
            signing: cert,
            bundle,
            key,
            key_id,
        })
    }

    /// The signing certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.signing
    }

    /// Every certificate of `ca.crt`: what peers should trust.
    pub fn bundle(&self) -> &[Certificate] {
        &self.bundle
    }

    /// The CA's private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The bundle as PEM, signing certificate first (the `ca.crt` file).
    pub fn bundle_pem(&self) -> String {
        self.bundle.iter().map(Certificate::to_pem).collect()
    }

    /// Issues a leaf for `subject_public_key` (a DER SubjectPublicKeyInfo) with exactly the
    /// profile's subject, names, usages and validity: CA:FALSE, digitalSignature +
    /// keyEncipherment, AKID = this CA's key id, random serial.
    pub fn issue(&self, profile: &CertProfile, subject_public_key: &[u8]) -> Result<Certificate, Error> {
        if profile.subject.common_name.is_empty() {
            return Err(Error::MissingCommonName);
        }
        if profile.usages.is_empty() {
            return Err(Error::MissingExtKeyUsage {
                common_name: profile.subject.common_name.clone(),
            });
        }
        let issuer_name = self.certificate().subject_der();
        let der = x509::sign_certificate(
            &TbsParams {
                serial: &random_serial()?,
                subject: &profile.subject,
                not_before: profile.validity.not_before,
                not_after: profile.validity.not_after,
                is_ca: false,
                key_usage: KeyUsage::kubeadm(false),
                ext_key_usages: &profile.usages,
                dns_names: &profile.alt_names.dns_names(),
                ip_addresses: profile.alt_names.ip_addresses(),
                subject_spki: subject_public_key,
                issuer_name: Some(&issuer_name),
                authority_key_id: Some(&self.key_id),
            },
            &self.key,
        )?;
        Certificate::from_der(&der).map_err(|e| Error::Encoding(e.to_string()))
    }

    /// Signs a verified request as a Kubernetes CSR signer does: the request's subject, SANs and
    /// key; the usages and validity the signer's policy decided; CA:FALSE; a random 128-bit
    /// serial. The request's own extensions (CA flag, usages) are never copied.
    pub fn sign_request(
        &self,
        request: &CertificateRequest,
        key_usage: KeyUsage,
        ext_key_usages: &[ExtKeyUsage],
        validity: Validity,
    ) -> Result<Certificate, Error> {
        let issuer_name = self.certificate().subject_der();
        let serial = random_serial_128()?;
        let der = x509::sign_certificate(
            &TbsParams {
                serial: &serial,
                subject: request.subject(),
                not_before: validity.not_before,
                not_after: validity.not_after,
                is_ca: false,
                key_usage,
                ext_key_usages,
                dns_names: &request.alt_names().dns_names(),
                ip_addresses: request.alt_names().ip_addresses(),
                subject_spki: request.public_key_der(),
                issuer_name: Some(&issuer_name),
                authority_key_id: Some(&self.key_id),
            },
            &self.key,
        )?;
        Certificate::from_der(&der).map_err(|e| Error::Encoding(e.to_string()))
    }

    /// Generates a key of `algorithm` and issues a leaf for it.
    pub fn issue_with_new_key(
        &self,
        profile: &CertProfile,
        algorithm: crate::KeyAlgorithm,
    ) -> Result<(Certificate, PrivateKey), Error> {
        let key = PrivateKey::generate(algorithm)?;
        Ok((self.issue(profile, key.public_key_der())?, key))
    }

    /// Whether `cert` chains to this CA: signed by any certificate of the bundle, directly or
    /// through `intermediates` (the rest of the leaf's file).
    pub fn verifies(&self, cert: &Certificate, intermediates: &[Certificate]) -> bool {
        crate::verify_chain(cert, intermediates, &self.bundle)
    }

    /// A convenience for tests and tools: a fresh CA with kubeadm's default validity.
    pub fn generate(
        common_name: &str,
        algorithm: crate::KeyAlgorithm,
        now: SystemTime,
    ) -> Result<Self, Error> {
        let validity = Validity::kubeadm(now, crate::CA_CERTIFICATE_VALIDITY);
        Self::self_signed(common_name, PrivateKey::generate(algorithm)?, validity)
    }
}

/// A uniform random serial in [1, 2^128), as kube-controller-manager's signer draws them
/// (it allows 0; a serial must be positive, so 0 is drawn again).
fn random_serial_128() -> Result<[u8; 16], Error> {
    loop {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
        if bytes.iter().any(|b| *b != 0) {
            return Ok(bytes);
        }
    }
}

/// A uniform random serial in [1, 2^63 − 1), as kubeadm draws them.
pub(crate) fn random_serial() -> Result<[u8; 8], Error> {
    loop {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|_| Error::Random)?;
        let value = u64::from_be_bytes(bytes) >> 1;
        if value != 0 && value != (1 << 63) - 1 {
            return Ok(value.to_be_bytes());
        }
    }
}
