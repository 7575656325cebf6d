//! `kubeadm certs renew`: re-issue leaves and kubeconfig client certificates from the CA on
//! disk, keeping CN, O, SANs and usages, with a new key and serial; plus changing a serving
//! certificate's SANs in the same step, which kubeadm users do by deleting files.

use std::path::Path;
use std::time::SystemTime;

use kubetrust_fs::Mode;

use crate::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES, KubeconfigSpec};
use crate::tree::{CERTIFICATES, CertSpec, TreeConfig, load_ca, read_chain};
use crate::{AltNames, CertProfile, Certificate, CertificateAuthority, Error, Validity};

/// What `renew` did with one name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewStatus {
    /// Re-issued.
    Renewed,
    /// The file does not exist (not an error, as in kubeadm).
    Missing,
    /// The issuing CA has no key here: its owner must renew.
    ExternalCa {
        /// The CA's file base name (`ca`, `front-proxy-ca`, `etcd/ca`).
        ca_base_name: &'static str,
    },
}

/// One renewed (or skipped) name with kubeadm's message for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenewOutcome {
    /// The renew name (`apiserver`, `admin.conf`, ...).
    pub name: &'static str,
    /// What happened.
    pub status: RenewStatus,
    /// kubeadm's line: `<long name> renewed`, `MISSING! <long name>`, ...
    pub message: String,
}

/// SANs to add to or remove from a serving certificate while renewing it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SanChange {
    /// IPs or DNS names (wildcards allowed) to add.
    pub add: Vec<String>,
    /// IPs or DNS names to drop.
    pub remove: Vec<String>,
}

impl SanChange {
    /// Adds these SANs.
    pub fn adding(sans: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            add: sans.into_iter().map(Into::into).collect(),
            remove: Vec::new(),
        }
    }

    fn apply(&self, names: &AltNames, cert_name: &str) -> Result<AltNames, Error> {
        let mut dns: Vec<String> = names.dns_names();
        let mut ips = names.ip_addresses().to_vec();
        for san in &self.remove {
            match san.parse::<std::net::IpAddr>() {
                Ok(ip) => ips.retain(|i| *i != ip),
                Err(_) => dns.retain(|d| d != san),
            }
        }
        let mut changed = AltNames::from_parts(dns, ips);
        for san in &self.add {
            changed
                .add_extra(san, cert_name)
                .map_err(|_| Error::InvalidSan { value: san.clone() })?;
        }
        Ok(changed)
    }
}

/// The names `renew` accepts, sorted as `renew all` processes them.
pub fn renewable_names(config: &TreeConfig) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = CertSpec::for_config(config)
        .iter()
        .filter(|s| !s.is_ca())
        .map(|s| s.name)
        .chain(
            KUBECONFIG_FILES
                .iter()
                .filter(|s| s.file_name != "kubelet.conf")
                .map(|s| s.file_name),
        )
        .collect();
    names.sort_unstable();
    names
}

/// Renews `name` (`all` for every renewable name). CAs and kubelet.conf are not renewable.
pub fn renew(
    cert_dir: &Path,
    kubeconfig_dir: &Path,
    name: &str,
    config: &TreeConfig,
    now: SystemTime,
) -> Result<Vec<RenewOutcome>, Error> {
    let names = renewable_names(config);
    let selected: Vec<&'static str> = if name == "all" {
        names
    } else {
        vec![
            names
                .iter()
                .copied()
                .find(|n| *n == name)
                .ok_or_else(|| Error::NotRenewable {
                    name: name.to_owned(),
                    renewable: renewable_names(config).join(", "),
                })?,
        ]
    };
    selected
        .into_iter()
        .map(|name| match CertSpec::by_name(name) {
            Some(spec) => renew_certificate(cert_dir, spec, config, None, now),
            None => {
                let spec = KubeconfigSpec::by_file_name(name).ok_or_else(|| Error::NotRenewable {
                    name: name.to_owned(),
                    renewable: String::new(),
                })?;
                renew_kubeconfig(cert_dir, kubeconfig_dir, spec, config, now)
            }
        })
        .collect()
}

/// Renews one certificate of the tree, optionally changing its SANs.
pub fn renew_certificate(
    cert_dir: &Path,
    spec: &'static CertSpec,
    config: &TreeConfig,
    san_change: Option<&SanChange>,
    now: SystemTime,
) -> Result<RenewOutcome, Error> {
    let path = spec.cert_path(cert_dir);
    let ca_spec = CERTIFICATES
        .iter()
        .find(|c| Some(c.name) == spec.ca)
        .ok_or(Error::EmptyBundle)?;
    let ca = match signing_ca(spec.name, spec.long_name, &path, ca_spec, cert_dir)? {
        Ok(ca) => ca,
        Err(skipped) => return Ok(skipped),
    };
    let current = read_chain(&path)
        .ok()
        .and_then(|chain| chain.into_iter().next())
        .ok_or_else(|| Error::LoadCa {
            path: path.clone(),
            reason: "cannot read the certificate to renew".into(),
        })?;
    let mut profile = profile_of(&current, config, now);
    if let Some(change) = san_change {
        profile.alt_names = change.apply(&profile.alt_names, &format!("{}.crt", spec.base_name))?;
    }
    let (cert, key) = ca.issue_with_new_key(&profile, config.encryption_algorithm)?;
    kubetrust_fs::write_atomic(&path, cert.to_pem().as_bytes(), Mode::PUBLIC)?;
    kubetrust_fs::write_atomic(&spec.key_path(cert_dir), key.to_pem().as_bytes(), Mode::PRIVATE)?;
    Ok(outcome(
        spec.name,
        RenewStatus::Renewed,
        format!("{} renewed", spec.long_name),
    ))
}

fn renew_kubeconfig(
    cert_dir: &Path,
    kubeconfig_dir: &Path,
    spec: &'static KubeconfigSpec,
    config: &TreeConfig,
    now: SystemTime,
) -> Result<RenewOutcome, Error> {
    let path = kubeconfig_dir.join(spec.file_name);
    let ca_spec = CERTIFICATES.first().ok_or(Error::EmptyBundle)?;
    let ca = match signing_ca(spec.file_name, spec.long_name, &path, ca_spec, cert_dir)? {
        Ok(ca) => ca,
        Err(skipped) => return Ok(skipped),
    };
    let invalid = |reason: String| Error::LoadCa {
        path: path.clone(),
        reason,
    };
    let mut client = EmbeddedClient::load(&path).map_err(invalid)?;
    if !client.has_embedded_ca() {
        return Err(invalid(format!(
            "kubeConfig file {} does not have an embedded server certificate",
            path.display()
        )));
    }
    let chain = client.certificate_chain().map_err(invalid)?;
    let current = chain
        .first()
        .ok_or_else(|| invalid("no client certificate".into()))?;
    let (cert, key) =
        ca.issue_with_new_key(&profile_of(current, config, now), config.encryption_algorithm)?;
    client.replace(&cert, &key, ca.certificate());
    client.save()?;
    Ok(outcome(
        spec.file_name,
        RenewStatus::Renewed,
        format!("{} renewed", spec.long_name),
    ))
}

/// The CA to renew `path` with, or kubeadm's reason to skip it: the file is missing, or the
/// CA has no key here (an external CA renews its own certificates).
fn signing_ca(
    name: &'static str,
    long_name: &str,
    path: &Path,
    ca_spec: &CertSpec,
    cert_dir: &Path,
) -> Result<Result<CertificateAuthority, RenewOutcome>, Error> {
    if !path.exists() {
        return Ok(Err(outcome(
            name,
            RenewStatus::Missing,
            format!("MISSING! {long_name}"),
        )));
    }
    if !ca_spec.key_path(cert_dir).exists() {
        let status = RenewStatus::ExternalCa {
            ca_base_name: ca_spec.base_name,
        };
        let message = format!(
            "Detected external {}, {long_name} can't be renewed",
            ca_spec.base_name
        );
        return Ok(Err(outcome(name, status, message)));
    }
    load_ca(ca_spec, cert_dir).map(Ok)
}

/// kubeadm copies CN, O, SANs and usages from the existing certificate (it is authoritative,
/// not the config); validity restarts at `now` (1.31+).
fn profile_of(current: &Certificate, config: &TreeConfig, now: SystemTime) -> CertProfile {
    CertProfile {
        subject: current.subject(),
        alt_names: AltNames::from_parts(current.dns_names(), current.ip_addresses()),
        usages: current.ext_key_usages(),
        validity: Validity::kubeadm(now, config.certificate_validity),
    }
}

fn outcome(name: &'static str, status: RenewStatus, message: String) -> RenewOutcome {
    RenewOutcome {
        name,
        status,
        message,
    }
}
