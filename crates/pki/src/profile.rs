//! What a certificate says: subject, names, usages, validity. Policy lives here, encoding in
//! `x509`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{AltNames, ExtKeyUsage};

/// kubeadm's leaf validity, `certificateValidityPeriod` (8760h).
pub const CERTIFICATE_VALIDITY: Duration = Duration::from_secs(365 * 24 * 3600);
/// kubeadm's CA validity, `caCertificateValidityPeriod` (87600h: 3650 days, not 10 calendar
/// years).
pub const CA_CERTIFICATE_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// kubeadm backdates NotBefore by five minutes to absorb clock skew.
pub const CERTIFICATE_BACKDATE: Duration = Duration::from_secs(5 * 60);

/// The subject attributes kubeadm uses: one CN, any number of O.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Subject {
    /// CommonName: the user name (`kubernetes-admin`, `system:node:cp-1`) or service name.
    pub common_name: String,
    /// Organization values: the groups (`system:nodes`, `kubeadm:cluster-admins`).
    pub organizations: Vec<String>,
}

impl Subject {
    /// A subject with only a CN.
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            organizations: Vec::new(),
        }
    }

    /// Adds an O value (a group).
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.organizations.push(organization.into());
        self
    }
}

/// NotBefore and NotAfter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// Start.
    pub not_before: SystemTime,
    /// End.
    pub not_after: SystemTime,
}

impl Validity {
    /// kubeadm 1.31+: from `start` − 5 min to `start` + `period`.
    pub fn kubeadm(start: SystemTime, period: Duration) -> Self {
        Self {
            not_before: start.checked_sub(CERTIFICATE_BACKDATE).unwrap_or(UNIX_EPOCH),
            not_after: later(start, period),
        }
    }
}

/// `start + period`, or a time past X.509's year 9999 when that overflows, so an absurd
/// validity (`--validity-period 99999999999h`) becomes [`Error::InvalidValidity`] at issue
/// time instead of a panic here.
///
/// [`Error::InvalidValidity`]: crate::Error::InvalidValidity
pub(crate) fn later(start: SystemTime, period: Duration) -> SystemTime {
    const YEAR_10000: u64 = 253_402_300_800;
    start
        .checked_add(period)
        .unwrap_or(UNIX_EPOCH + Duration::from_secs(YEAR_10000))
}

/// Everything a CA needs to issue one leaf, decided by the caller's policy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertProfile {
    /// Subject CN and O.
    pub subject: Subject,
    /// SAN DNS names and IPs (none for client certificates).
    pub alt_names: AltNames,
    /// At least one extended key usage (kubeadm: `must specify at least one ExtKeyUsage`).
    pub usages: Vec<ExtKeyUsage>,
    /// Validity window.
    pub validity: Validity,
}

impl CertProfile {
    /// A client certificate (clientAuth, no SANs) valid for kubeadm's default year from `start`.
    pub fn client(subject: Subject, start: SystemTime) -> Self {
        Self {
            subject,
            alt_names: AltNames::default(),
            usages: vec![ExtKeyUsage::ClientAuth],
            validity: Validity::kubeadm(start, CERTIFICATE_VALIDITY),
        }
    }

    /// A serving certificate (serverAuth) for `alt_names`, valid for kubeadm's default year.
    pub fn server(subject: Subject, alt_names: AltNames, start: SystemTime) -> Self {
        Self {
            subject,
            alt_names,
            usages: vec![ExtKeyUsage::ServerAuth],
            validity: Validity::kubeadm(start, CERTIFICATE_VALIDITY),
        }
    }

    /// Replaces the usages.
    pub fn with_usages(mut self, usages: impl Into<Vec<ExtKeyUsage>>) -> Self {
        self.usages = usages.into();
        self
    }

    /// Replaces the SANs.
    pub fn with_alt_names(mut self, alt_names: AltNames) -> Self {
        self.alt_names = alt_names;
        self
    }

    /// Replaces the validity window.
    pub fn with_validity(mut self, validity: Validity) -> Self {
        self.validity = validity;
        self
    }
}
