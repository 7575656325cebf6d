//! Importing externally signed certificates: each must fit the key generated for it, chain to
//! its CA and carry what kubeadm would have put in it.

use std::fmt;
use std::path::Path;

use kubetrust_kubeconfig::Config;

use crate::kubeconfigs::{KUBECONFIG_FILES, KubeconfigSpec};
use crate::tree::{CLUSTER_CA, CertSpec, TreeConfig, first_uncovered};
use crate::{
    AltNames, Certificate, Dirs, Error, ExtKeyUsage, KubeconfigEntry, PrivateKey, Subject, read, verify_chain,
};

/// What is wrong with one externally signed certificate.
#[derive(Debug)]
#[non_exhaustive]
pub enum ImportProblem {
    /// A key, certificate, CA or kubeconfig that cannot be read or parsed.
    Unreadable(Error),
    /// The certificate is not for the key generated with its CSR.
    NotForKey,
    /// The certificate does not chain to the expected CA.
    NotSignedByCa,
    /// The subject's CN differs.
    CommonName {
        /// In the certificate.
        have: String,
        /// What kubeadm would have issued.
        want: String,
    },
    /// The subject's O values differ (compared sorted).
    Organizations {
        /// In the certificate, sorted.
        have: Vec<String>,
        /// What kubeadm would have issued, sorted.
        want: Vec<String>,
    },
    /// An extended key usage kubeadm would have set is missing.
    MissingUsage(ExtKeyUsage),
    /// A SAN the config requires is not covered.
    MissingSan(String),
}

impl From<Error> for ImportProblem {
    fn from(error: Error) -> Self {
        Self::Unreadable(error)
    }
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unreadable(error) => write!(f, "{error}"),
            Self::NotForKey => f.write_str("the certificate is not for the generated key"),
            Self::NotSignedByCa => f.write_str("not signed by the expected CA"),
            Self::CommonName { have, want } => write!(f, "CN is {have:?}, want {want:?}"),
            Self::Organizations { have, want } => write!(f, "O is {have:?}, want {want:?}"),
            Self::MissingUsage(usage) => write!(f, "extended key usage {usage:?} missing"),
            Self::MissingSan(san) => write!(f, "not valid for {san}"),
        }
    }
}

/// Checks the externally signed certificates against the config and completes the
/// kubeconfig files. Leaves: `<base>.crt` must exist, match `<base>.key`, chain to its CA's
/// `.crt`, carry the expected subject and usages and cover the required SANs. Kubeconfigs:
/// the signed client certificate comes from `<file>.crt` beside the kubeconfig (or is already
/// embedded); after the same checks it is embedded with the cluster CA. Every problem is
/// reported; kubeconfigs are only rewritten when there are none.
pub fn import_signed(dirs: &Dirs, config: &TreeConfig) -> Result<(), Error> {
    let mut problems = Vec::new();
    for spec in CertSpec::for_config(config).iter().filter(|s| !s.is_ca()) {
        if let Err(problem) = check_leaf(spec, &dirs.cert_dir, config) {
            problems.push((spec.name, problem));
        }
    }
    let mut completed = Vec::new();
    for spec in &KUBECONFIG_FILES {
        let path = dirs.kubeconfig_dir.join(spec.file_name);
        match complete_kubeconfig(spec, &path, &dirs.cert_dir, config) {
            Ok(kubeconfig) => completed.push((path, kubeconfig)),
            Err(problem) => problems.push((spec.file_name, problem)),
        }
    }
    if !problems.is_empty() {
        return Err(Error::ExternalCaInvalid { problems });
    }
    for (path, kubeconfig) in completed {
        kubeconfig.save(&path).map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

fn check_leaf(spec: &'static CertSpec, cert_dir: &Path, config: &TreeConfig) -> Result<(), ImportProblem> {
    let key = PrivateKey::from_file(&spec.key_path(cert_dir))?;
    let chain = read::certificates(&spec.cert_path(cert_dir))?;
    let (alt_names, _) = spec.alt_names(config)?;
    let expected = Expected {
        subject: spec.subject(config),
        usages: spec.usages(),
        alt_names: &alt_names,
    };
    let ca = read::certificates(&spec.issuer().cert_path(cert_dir))?;
    check_signed(&chain, &key, &ca, &expected)
}

/// The kubeconfig with its signed client certificate and the cluster CA embedded.
fn complete_kubeconfig(
    spec: &KubeconfigSpec,
    path: &Path,
    cert_dir: &Path,
    config: &TreeConfig,
) -> Result<Config, ImportProblem> {
    let ca = read::certificates(&CLUSTER_CA.cert_path(cert_dir))?;
    let mut kubeconfig = Config::from_file(path).map_err(|source| Error::KubeconfigLoad {
        path: path.to_owned(),
        source,
    })?;
    let user_name = spec.client_name(config);
    let user = kubeconfig
        .users
        .iter_mut()
        .find(|u| u.name == user_name)
        .ok_or_else(|| Error::KubeconfigEntryMissing {
            path: path.to_owned(),
            entry: KubeconfigEntry::AuthInfo,
            name: user_name.clone(),
        })?;
    let signed_file = path.with_extension("conf.crt");
    let cert_pem = match read::file(&signed_file) {
        Ok(pem) => pem.to_vec(),
        Err(_) if !user.user.client_certificate_data.is_empty() => user.user.client_certificate_data.clone(),
        Err(e) => return Err(e.into()),
    };
    let key = PrivateKey::from_pem(user.user.client_key_data.expose_secret()).map_err(|source| {
        Error::EmbeddedKey {
            path: path.to_owned(),
            source,
        }
    })?;
    let chain = Certificate::chain_from_pem(&cert_pem).map_err(|source| Error::LoadCertificate {
        path: signed_file,
        source,
    })?;
    let expected = Expected {
        subject: spec.subject(config),
        usages: &[ExtKeyUsage::ClientAuth],
        alt_names: &AltNames::default(),
    };
    check_signed(&chain, &key, &ca, &expected)?;
    user.user.client_certificate_data = cert_pem;
    let ca_pem = ca
        .first()
        .map(Certificate::to_pem)
        .unwrap_or_default()
        .into_bytes();
    for cluster in &mut kubeconfig.clusters {
        cluster.cluster.certificate_authority_data = ca_pem.clone();
    }
    Ok(kubeconfig)
}

struct Expected<'a> {
    subject: Subject,
    usages: &'a [ExtKeyUsage],
    alt_names: &'a AltNames,
}

fn check_signed(
    chain: &[Certificate],
    key: &PrivateKey,
    ca: &[Certificate],
    expected: &Expected<'_>,
) -> Result<(), ImportProblem> {
    let Some((cert, intermediates)) = chain.split_first().filter(|(cert, _)| cert.matches_key(key)) else {
        return Err(ImportProblem::NotForKey);
    };
    if !verify_chain(cert, intermediates, ca) {
        return Err(ImportProblem::NotSignedByCa);
    }
    let subject = cert.subject();
    if subject.common_name != expected.subject.common_name {
        return Err(ImportProblem::CommonName {
            have: subject.common_name,
            want: expected.subject.common_name.clone(),
        });
    }
    let (mut have, mut want) = (subject.organizations, expected.subject.organizations.clone());
    have.sort();
    want.sort();
    if have != want {
        return Err(ImportProblem::Organizations { have, want });
    }
    let usages = cert.ext_key_usages();
    if let Some(missing) = expected.usages.iter().find(|u| !usages.contains(u)) {
        return Err(ImportProblem::MissingUsage(*missing));
    }
    if let Some(missing) = first_uncovered(cert, expected.alt_names) {
        return Err(ImportProblem::MissingSan(missing));
    }
    Ok(())
}
