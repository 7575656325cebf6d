//! DER encoding of certificates and certification requests, laid out the way Go's crypto/x509
//! writes them for kubeadm: O before CN with several O values in one RDN, PrintableString
//! where possible, extensions in Go's order (KeyUsage, ExtKeyUsage, BasicConstraints, SKID,
//! AKID, SAN), SHA-1 subject key ids, UTCTime before 2050.
//!
//! rcgen cannot hold two O values in a name and orders extensions differently, so the
//! structures are encoded here with `der` and signed with aws-lc-rs.

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{
    AnyRef, BitStringRef, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, SetOfVec, UintRef,
    UtcTime,
};
use der::{Encode, Sequence};
use sha1::Digest as _;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, SubjectAltName, SubjectKeyIdentifier};

use crate::key::{KeyAlgorithm, PrivateKey};
use crate::{Error, ExtKeyUsage, KeyUsage, Subject};

const OID_CN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const OID_O: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_SKID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_AKID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");
const OID_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
pub(crate) const OID_EXTENSION_REQUEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");

/// DER AlgorithmIdentifiers of the signatures each key type makes.
pub(crate) fn signature_algorithm_der(algorithm: KeyAlgorithm) -> &'static [u8] {
    match algorithm {
        // sha256WithRSAEncryption, NULL parameters
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 | KeyAlgorithm::Rsa4096 => &[
            0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
        ],
        // ecdsa-with-SHA256
        KeyAlgorithm::EcdsaP256 => &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
        ],
        // ecdsa-with-SHA384
        KeyAlgorithm::EcdsaP384 => &[
            0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
        ],
        // id-Ed25519
        KeyAlgorithm::Ed25519 => &[0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70],
    }
}

/// What goes into one certificate, already decided by policy.
pub(crate) struct TbsParams<'a> {
    /// Big-endian, without a sign byte (kubeadm draws 8 bytes, CSR signers 16).
    pub(crate) serial: &'a [u8],
    pub(crate) subject: &'a Subject,
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    pub(crate) is_ca: bool,
    pub(crate) key_usage: KeyUsage,
    pub(crate) ext_key_usages: &'a [ExtKeyUsage],
    pub(crate) dns_names: &'a [String],
    pub(crate) ip_addresses: &'a [IpAddr],
    /// DER SubjectPublicKeyInfo of the subject key.
    pub(crate) subject_spki: &'a [u8],
    /// The issuer's raw subject name; `None` for self-signed.
    pub(crate) issuer_name: Option<&'a [u8]>,
    /// The issuer's subject key id, written as the AKID; `None` for self-signed.
    pub(crate) authority_key_id: Option<&'a [u8]>,
}

#[derive(Sequence)]
struct TbsCertificate<'a> {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    version: u8,
    serial_number: UintRef<'a>,
    signature: AnyRef<'a>,
    issuer: AnyRef<'a>,
    validity: x509_cert::time::Validity,
    subject: AnyRef<'a>,
    subject_public_key_info: AnyRef<'a>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT")]
    extensions: Vec<Extension>,
}

#[derive(Sequence)]
struct Signed<'a> {
    to_be_signed: AnyRef<'a>,
    algorithm: AnyRef<'a>,
    signature: BitStringRef<'a>,
}

/// Encodes, signs and returns the DER certificate.
pub(crate) fn sign_certificate(params: &TbsParams<'_>, signer: &PrivateKey) -> Result<Vec<u8>, Error> {
    let subject = encode_name(params.subject)?;
    let issuer = params.issuer_name.unwrap_or(&subject);
    let mut extensions = Vec::new();
    if !params.key_usage.is_empty() {
        extensions.push(key_usage(params.key_usage)?);
    }
    if !params.ext_key_usages.is_empty() {
        let oids: Vec<ObjectIdentifier> = params.ext_key_usages.iter().map(|u| u.oid()).collect();
        extensions.push(ext(OID_EXT_KEY_USAGE, false, &oids)?);
    }
    extensions.push(ext(
        OID_BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca: params.is_ca,
            path_len_constraint: None,
        },
    )?);
    if params.is_ca {
        let skid = subject_key_id(params.subject_spki)?;
        extensions.push(ext(OID_SKID, false, &SubjectKeyIdentifier(octets(&skid)?))?);
    }
    if let Some(akid) = params.authority_key_id {
        let value = AuthorityKeyIdentifier {
            key_identifier: Some(octets(akid)?),
            ..Default::default()
        };
        extensions.push(ext(OID_AKID, false, &value)?);
    }
    if let Some(san) = subject_alt_name(params.dns_names, params.ip_addresses)? {
        extensions.push(san);
    }
    let tbs = TbsCertificate {
        version: 2,
        serial_number: UintRef::new(params.serial).map_err(encoding)?,
        signature: any(signer.signature_algorithm_der())?,
        issuer: any(issuer)?,
        validity: x509_cert::time::Validity::new(time(params.not_before)?, time(params.not_after)?),
        subject: any(&subject)?,
        subject_public_key_info: any(params.subject_spki)?,
        extensions,
    }
    .to_der()
    .map_err(encoding)?;
    sign(&tbs, signer)
}

/// Encodes and signs a PKCS#10 request: subject and SANs only, as `kubeadm certs generate-csr`
/// makes them ("it is the responsibility of the CA to specify the correct cert usages").
pub(crate) fn sign_request(
    subject: &Subject,
    dns_names: &[String],
    ip_addresses: &[IpAddr],
    key: &PrivateKey,
) -> Result<Vec<u8>, Error> {
    #[derive(Sequence)]
    struct RequestInfo<'a> {
        version: u8,
        subject: AnyRef<'a>,
        public_key: AnyRef<'a>,
        #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
        attributes: SetOfVec<x509_cert::attr::Attribute>,
    }
    let subject_der = encode_name(subject)?;
    let mut attributes = SetOfVec::new();
    if let Some(san) = subject_alt_name(dns_names, ip_addresses)? {
        let requested = der::Any::encode_from(&vec![san]).map_err(encoding)?;
        let values = SetOfVec::try_from(vec![requested]).map_err(encoding)?;
        attributes
            .insert(x509_cert::attr::Attribute {
                oid: OID_EXTENSION_REQUEST,
                values,
            })
            .map_err(encoding)?;
    }
    let info = RequestInfo {
        version: 0,
        subject: any(&subject_der)?,
        public_key: any(key.public_key_der())?,
        attributes,
    }
    .to_der()
    .map_err(encoding)?;
    sign(&info, key)
}

fn sign(to_be_signed: &[u8], signer: &PrivateKey) -> Result<Vec<u8>, Error> {
    let signature = signer.sign(to_be_signed)?;
    Signed {
        to_be_signed: any(to_be_signed)?,
        algorithm: any(signer.signature_algorithm_der())?,
        signature: BitStringRef::from_bytes(&signature).map_err(encoding)?,
    }
    .to_der()
    .map_err(encoding)
}

/// The subject as Go writes a `pkix.Name` with only O and CN set.
pub(crate) fn encode_name(subject: &Subject) -> Result<Vec<u8>, Error> {
    let mut rdns: Vec<SetOfVec<AttributeTypeAndValue>> = Vec::new();
    if !subject.organizations.is_empty() {
        let mut set = SetOfVec::new();
        for org in &subject.organizations {
            set.insert(attribute(OID_O, org)?).map_err(encoding)?;
        }
        rdns.push(set);
    }
    if !subject.common_name.is_empty() {
        rdns.push(SetOfVec::try_from(vec![attribute(OID_CN, &subject.common_name)?]).map_err(encoding)?);
    }
    rdns.to_der().map_err(encoding)
}

fn attribute(oid: ObjectIdentifier, value: &str) -> Result<AttributeTypeAndValue, Error> {
    let value = if is_printable(value) {
        der::Any::encode_from(&der::asn1::PrintableStringRef::new(value).map_err(encoding)?)
    } else {
        der::Any::encode_from(&der::asn1::Utf8StringRef::new(value).map_err(encoding)?)
    }
    .map_err(encoding)?;
    Ok(AttributeTypeAndValue { oid, value })
}

/// ASN.1 PrintableString's alphabet, which Go prefers when a value fits it.
fn is_printable(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

/// Key Usage is critical, as Go marks it.
fn key_usage(usage: KeyUsage) -> Result<Extension, Error> {
    let (unused, bytes) = usage.bit_string();
    ext(
        OID_KEY_USAGE,
        true,
        &BitStringRef::new(unused, &bytes).map_err(encoding)?,
    )
}

fn subject_alt_name(dns_names: &[String], ip_addresses: &[IpAddr]) -> Result<Option<Extension>, Error> {
    if dns_names.is_empty() && ip_addresses.is_empty() {
        return Ok(None);
    }
    let mut names = Vec::with_capacity(dns_names.len() + ip_addresses.len());
    for dns in dns_names {
        names.push(GeneralName::DnsName(
            Ia5String::new(dns).map_err(|_| Error::InvalidSan { value: dns.clone() })?,
        ));
    }
    names.extend(ip_addresses.iter().map(|ip| GeneralName::from(*ip)));
    ext(OID_SAN, false, &SubjectAltName(names)).map(Some)
}

/// Go's subject key id: SHA-1 of the subjectPublicKey bits (RFC 5280 method 1).
pub(crate) fn subject_key_id(spki: &[u8]) -> Result<[u8; 20], Error> {
    let parsed = spki::SubjectPublicKeyInfoRef::try_from(spki).map_err(|e| Error::Encoding(e.to_string()))?;
    Ok(sha1::Sha1::digest(parsed.subject_public_key.raw_bytes()).into())
}

fn ext(oid: ObjectIdentifier, critical: bool, value: &impl Encode) -> Result<Extension, Error> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: octets(&value.to_der().map_err(encoding)?)?,
    })
}

fn octets(bytes: &[u8]) -> Result<OctetString, Error> {
    OctetString::new(bytes).map_err(encoding)
}

fn any(der: &[u8]) -> Result<AnyRef<'_>, Error> {
    use der::Decode;
    AnyRef::from_der(der).map_err(encoding)
}

/// UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds.
fn time(t: SystemTime) -> Result<x509_cert::time::Time, Error> {
    let since_epoch = t.duration_since(UNIX_EPOCH).map_err(|_| Error::InvalidValidity)?;
    let whole = Duration::from_secs(since_epoch.as_secs());
    const YEAR_2050: u64 = 2_524_608_000;
    Ok(if whole.as_secs() < YEAR_2050 {
        UtcTime::from_unix_duration(whole)
            .map_err(|_| Error::InvalidValidity)?
            .into()
    } else {
        GeneralizedTime::from_unix_duration(whole)
            .map_err(|_| Error::InvalidValidity)?
            .into()
    })
}

fn encoding(e: der::Error) -> Error {
    Error::Encoding(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_put_o_before_cn_and_group_several_o_in_one_rdn() {
        let subject = Subject::new("kubernetes-admin")
            .with_organization("b-org")
            .with_organization("a:org");
        let der = encode_name(&subject).unwrap();
        // SEQUENCE { SET { O=a:org, O=b-org }, SET { CN } }: two RDNs.
        let name = <x509_cert::name::Name as der::Decode>::from_der(&der).unwrap();
        assert_eq!(name.iter_rdn().count(), 2);
        assert_eq!(name.to_string(), "CN=kubernetes-admin,O=a:org+O=b-org");
        // PrintableString (tag 0x13) for `a:org`.
        assert!(der.windows(2).any(|w| w == [0x13, 5]));
    }

    #[test]
    fn utf8_when_not_printable() {
        let der = encode_name(&Subject::new("nöde")).unwrap();
        assert!(der.windows(2).any(|w| w[0] == 0x0c), "UTF8String tag");
    }

    #[test]
    fn times_switch_to_generalized_in_2050() {
        let before = UNIX_EPOCH + Duration::from_secs(2_524_607_999);
        assert!(matches!(time(before).unwrap(), x509_cert::time::Time::UtcTime(_)));
        let after = UNIX_EPOCH + Duration::from_secs(2_524_608_000);
        assert!(matches!(
            time(after).unwrap(),
            x509_cert::time::Time::GeneralTime(_)
        ));
    }

    #[test]
    fn key_usage_bits_are_minimal() {
        let ca = key_usage(KeyUsage::kubeadm(true)).unwrap();
        assert_eq!(ca.extn_value.as_bytes(), [0x03, 0x02, 0x02, 0xa4]);
        let leaf = key_usage(KeyUsage::kubeadm(false)).unwrap();
        assert_eq!(leaf.extn_value.as_bytes(), [0x03, 0x02, 0x05, 0xa0]);
        assert!(leaf.critical);
    }
}
