//! What a certificate may be used for: the Key Usage bits and the Extended Key Usages, with
//! their encodings in one place.

use der::asn1::ObjectIdentifier;

/// Extended key usages (RFC 5280 §4.2.1.12 and the two Server Gated Crypto OIDs Go knows).
/// kubeadm only issues `ServerAuth` and `ClientAuth`; a CSR signer may issue any of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ExtKeyUsage {
    /// anyExtendedKeyUsage.
    Any,
    /// TLS Web Server Authentication.
    ServerAuth,
    /// TLS Web Client Authentication.
    ClientAuth,
    /// Code signing.
    CodeSigning,
    /// E-mail protection (S/MIME).
    EmailProtection,
    /// IPSec end system.
    IpsecEndSystem,
    /// IPSec tunnel.
    IpsecTunnel,
    /// IPSec user.
    IpsecUser,
    /// Time stamping.
    TimeStamping,
    /// OCSP signing.
    OcspSigning,
    /// Microsoft Server Gated Crypto.
    MicrosoftServerGatedCrypto,
    /// Netscape Server Gated Crypto.
    NetscapeServerGatedCrypto,
}

const EKU_OIDS: [(ExtKeyUsage, ObjectIdentifier); 12] = [
    (ExtKeyUsage::Any, ObjectIdentifier::new_unwrap("2.5.29.37.0")),
    (
        ExtKeyUsage::ServerAuth,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1"),
    ),
    (
        ExtKeyUsage::ClientAuth,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2"),
    ),
    (
        ExtKeyUsage::CodeSigning,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3"),
    ),
    (
        ExtKeyUsage::EmailProtection,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4"),
    ),
    (
        ExtKeyUsage::IpsecEndSystem,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.5"),
    ),
    (
        ExtKeyUsage::IpsecTunnel,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.6"),
    ),
    (
        ExtKeyUsage::IpsecUser,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.7"),
    ),
    (
        ExtKeyUsage::TimeStamping,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8"),
    ),
    (
        ExtKeyUsage::OcspSigning,
        ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9"),
    ),
    (
        ExtKeyUsage::MicrosoftServerGatedCrypto,
        ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.10.3.3"),
    ),
    (
        ExtKeyUsage::NetscapeServerGatedCrypto,
        ObjectIdentifier::new_unwrap("2.16.840.1.113730.4.1"),
    ),
];

impl ExtKeyUsage {
    pub(crate) fn oid(self) -> ObjectIdentifier {
        EKU_OIDS
            .iter()
            .find(|(usage, _)| *usage == self)
            .map_or(ObjectIdentifier::new_unwrap("2.5.29.37.0"), |(_, oid)| *oid)
    }

    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        EKU_OIDS.iter().find(|(_, o)| o == oid).map(|(usage, _)| *usage)
    }
}

/// The Key Usage bits (RFC 5280 §4.2.1.3), named as Go's `x509.KeyUsage` constants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyUsage(u16);

impl KeyUsage {
    /// digitalSignature.
    pub const DIGITAL_SIGNATURE: Self = Self(1 << 0);
    /// contentCommitment (formerly nonRepudiation).
    pub const CONTENT_COMMITMENT: Self = Self(1 << 1);
    /// keyEncipherment.
    pub const KEY_ENCIPHERMENT: Self = Self(1 << 2);
    /// dataEncipherment.
    pub const DATA_ENCIPHERMENT: Self = Self(1 << 3);
    /// keyAgreement.
    pub const KEY_AGREEMENT: Self = Self(1 << 4);
    /// keyCertSign.
    pub const CERT_SIGN: Self = Self(1 << 5);
    /// cRLSign.
    pub const CRL_SIGN: Self = Self(1 << 6);
    /// encipherOnly.
    pub const ENCIPHER_ONLY: Self = Self(1 << 7);
    /// decipherOnly.
    pub const DECIPHER_ONLY: Self = Self(1 << 8);

    /// What kubeadm sets on every certificate: digitalSignature + keyEncipherment, plus
    /// keyCertSign on CAs (for every key type).
    pub fn kubeadm(is_ca: bool) -> Self {
        let leaf = Self::DIGITAL_SIGNATURE | Self::KEY_ENCIPHERMENT;
        if is_ca { leaf | Self::CERT_SIGN } else { leaf }
    }

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The DER BIT STRING contents as Go writes them: bit 0 first, trailing zero bits dropped.
    /// Returns (unused bits in the last byte, bytes).
    pub(crate) fn bit_string(self) -> (u8, Vec<u8>) {
        let mut bytes: Vec<u8> = [self.0 as u8, (self.0 >> 8) as u8]
            .iter()
            .map(|b| b.reverse_bits())
            .collect();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        let unused = bytes
            .last()
            .map_or(0, |b| u8::try_from(b.trailing_zeros()).unwrap_or(0));
        (unused, bytes)
    }

    /// Reads the bits back from a BIT STRING's bytes.
    pub(crate) fn from_bit_string(bytes: &[u8]) -> Self {
        let low = bytes.first().map_or(0, |b| b.reverse_bits());
        let high = bytes.get(1).map_or(0, |b| b.reverse_bits() & 1);
        Self(u16::from(low) | (u16::from(high) << 8))
    }
}

impl std::ops::BitOr for KeyUsage {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for KeyUsage {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_strings_are_minimal_and_round_trip() {
        assert_eq!(KeyUsage::kubeadm(true).bit_string(), (2, vec![0xa4]));
        assert_eq!(KeyUsage::kubeadm(false).bit_string(), (5, vec![0xa0]));
        assert_eq!(KeyUsage::DIGITAL_SIGNATURE.bit_string(), (7, vec![0x80]));
        assert_eq!(KeyUsage::DECIPHER_ONLY.bit_string(), (7, vec![0x00, 0x80]));
        for usage in [
            KeyUsage::kubeadm(true),
            KeyUsage::DECIPHER_ONLY | KeyUsage::CRL_SIGN,
            KeyUsage::default(),
        ] {
            assert_eq!(KeyUsage::from_bit_string(&usage.bit_string().1), usage);
        }
    }

    #[test]
    fn every_eku_has_its_own_oid() {
        for (usage, oid) in EKU_OIDS {
            assert_eq!(usage.oid(), oid);
            assert_eq!(ExtKeyUsage::from_oid(&oid), Some(usage));
        }
    }
}
