//! `kubeadm certs renew`: re-issue leaves and kubeconfig client certificates from the CA on
//! disk, keeping CN, O, SANs and usages, with a new key and serial; plus changing a serving
//! certificate's SANs in the same step, which kubeadm users do by deleting files.

use std::path::Path;
use std::time::SystemTime;

use kubetrust_fs::{Mode, NewFile};

use crate::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES, KubeconfigSpec};
use crate::renewal::KeyChoice;
use crate::tree::{CLUSTER_CA, CertSpec, TreeConfig, load_ca};
use crate::{
    AltNames, CertProfile, Certificate, CertificateAuthority, Dirs, Error, PrivateKey, Validity, read,
};

/// What `renew` did with one name.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewStatus {
    /// Re-issued.
    Renewed,
    /// The file does not exist (not an error, as in kubeadm).
    Missing,
    /// A dry run found it would be renewed.
    WouldRenew,
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

impl RenewOutcome {
    /// What a dry run says of a renewal that would go ahead.
    pub(crate) fn dry_run(target: &RenewTarget) -> Self {
        let long_name = match target {
            RenewTarget::Certificate { spec, .. } => spec.long_name,
            RenewTarget::Kubeconfig(spec) => spec.long_name,
            RenewTarget::All => "all",
        };
        outcome(
            target.name(),
            RenewStatus::WouldRenew,
            format!("{long_name} would be renewed (dry run)"),
        )
    }
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

/// What `renew` renews: kubeadm's `certs renew <name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewTarget {
    /// Every renewable certificate and kubeconfig (`all`).
    All,
    /// A leaf of the tree, its SANs changed by `san_change` (an empty change keeps them).
    Certificate {
        /// The certificate.
        spec: &'static CertSpec,
        /// SANs to add or drop.
        san_change: SanChange,
    },
    /// The client certificate embedded in a kubeconfig file.
    Kubeconfig(&'static KubeconfigSpec),
}

impl RenewTarget {
    /// Parses a name `kubeadm certs renew` takes: `all`, a leaf of this config's tree
    /// (`apiserver`, ...) or a kubeconfig file (`admin.conf`, ...). CAs and kubelet.conf are
    /// [`Error::NotRenewable`].
    pub fn parse(name: &str, config: &TreeConfig) -> Result<Self, Error> {
        if name == "all" {
            return Ok(Self::All);
        }
        let renewable = renewable(config);
        renewable
            .iter()
            .find(|target| target.name() == name)
            .cloned()
            .ok_or_else(|| not_renewable(name, &renewable))
    }

    /// The name kubeadm uses: `all`, `apiserver`, `admin.conf`, ...
    pub fn name(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Certificate { spec, .. } => spec.name,
            Self::Kubeconfig(spec) => spec.file_name,
        }
    }
}

/// What `renew all` renews, sorted by name as kubeadm processes them: the tree's leaves and
/// the kubeconfigs except kubelet.conf (the kubelet rotates its own).
pub fn renewable(config: &TreeConfig) -> Vec<RenewTarget> {
    let mut targets: Vec<RenewTarget> = CertSpec::for_config(config)
        .iter()
        .filter(|s| !s.is_ca())
        .map(|spec| RenewTarget::Certificate {
            spec,
            san_change: SanChange::default(),
        })
        .chain(
            KUBECONFIG_FILES
                .iter()
                .filter(|s| s.file_name != "kubelet.conf")
                .map(RenewTarget::Kubeconfig),
        )
        .collect();
    targets.sort_unstable_by_key(RenewTarget::name);
    targets
}

fn not_renewable(name: &str, renewable: &[RenewTarget]) -> Error {
    let names: Vec<&str> = renewable.iter().map(RenewTarget::name).collect();
    Error::NotRenewable {
        name: name.to_owned(),
        renewable: names.join(", "),
    }
}

/// Renews `target` from the CAs in the cert dir. A target this config cannot renew (a CA,
/// kubelet.conf, an etcd certificate with external etcd) is [`Error::NotRenewable`].
pub fn renew(
    dirs: &Dirs,
    target: &RenewTarget,
    config: &TreeConfig,
    now: SystemTime,
) -> Result<Vec<RenewOutcome>, Error> {
    // A renewal that a crash interrupted is finished before anything is read.
    kubetrust_fs::recover(&dirs.cert_dir)?;
    kubetrust_fs::recover(&dirs.kubeconfig_dir)?;
    let renewable = renewable(config);
    match target {
        RenewTarget::All => {
            let mut outcomes = Vec::with_capacity(renewable.len());
            for target in &renewable {
                outcomes.extend(renew(dirs, target, config, now)?);
            }
            Ok(outcomes)
        }
        one if !renewable.iter().any(|r| r.name() == one.name()) => {
            Err(not_renewable(one.name(), &renewable))
        }
        one => renew_one(dirs, one, config, now, KeyChoice::New).map(|o| vec![o]),
    }
}

/// Renews one certificate or kubeconfig (not `All`), with a new key or the one it has.
pub(crate) fn renew_one(
    dirs: &Dirs,
    target: &RenewTarget,
    config: &TreeConfig,
    now: SystemTime,
    key: KeyChoice,
) -> Result<RenewOutcome, Error> {
    match target {
        RenewTarget::Certificate { spec, san_change } => {
            renew_certificate(&dirs.cert_dir, spec, san_change, config, now, key)
        }
        RenewTarget::Kubeconfig(spec) => renew_kubeconfig(dirs, spec, config, now, key),
        RenewTarget::All => Err(not_renewable("all", &renewable(config))),
    }
}

/// Renews one certificate of the tree with its SANs changed by `san_change`.
fn renew_certificate(
    cert_dir: &Path,
    spec: &'static CertSpec,
    san_change: &SanChange,
    config: &TreeConfig,
    now: SystemTime,
    key_choice: KeyChoice,
) -> Result<RenewOutcome, Error> {
    let path = spec.cert_path(cert_dir);
    let ca = match signing_ca(spec.name, spec.long_name, &path, spec.issuer(), cert_dir)? {
        Ok(ca) => ca,
        Err(skipped) => return Ok(skipped),
    };
    let current = read::certificate(&path)?;
    let mut profile = profile_of(&current, config, now);
    profile.alt_names = san_change.apply(&profile.alt_names, &format!("{}.crt", spec.base_name))?;
    if key_choice == KeyChoice::Reuse {
        let key = PrivateKey::from_file(&spec.key_path(cert_dir))?;
        let cert = ca.issue(&profile, key.public_key_der())?;
        kubetrust_fs::write_atomic(&path, cert.to_pem().as_bytes(), Mode::PUBLIC)?;
    } else {
        let (cert, key) = ca.issue_with_new_key(&profile, config.encryption_algorithm)?;
        // One batch: a crash between the two renames is completed by the next recover().
        let (cert_pem, key_pem) = (cert.to_pem(), key.to_pem());
        kubetrust_fs::write_atomic_all(&[
            NewFile {
                path: &path,
                contents: cert_pem.as_bytes(),
                mode: Mode::PUBLIC,
            },
            NewFile {
                path: &spec.key_path(cert_dir),
                contents: key_pem.as_bytes(),
                mode: Mode::PRIVATE,
            },
        ])?;
    }
    Ok(outcome(
        spec.name,
        RenewStatus::Renewed,
        format!("{} renewed", spec.long_name),
    ))
}

fn renew_kubeconfig(
    dirs: &Dirs,
    spec: &'static KubeconfigSpec,
    config: &TreeConfig,
    now: SystemTime,
    key_choice: KeyChoice,
) -> Result<RenewOutcome, Error> {
    let path = dirs.kubeconfig_dir.join(spec.file_name);
    let ca = match signing_ca(spec.file_name, spec.long_name, &path, &CLUSTER_CA, &dirs.cert_dir)? {
        Ok(ca) => ca,
        Err(skipped) => return Ok(skipped),
    };
    let mut client = EmbeddedClient::load(&path)?;
    if !client.has_embedded_ca() {
        return Err(Error::NoEmbeddedCa { path });
    }
    let chain = client.certificate_chain()?;
    let current = chain.first().ok_or(Error::NoEmbeddedClientCertificate { path })?;
    let profile = profile_of(current, config, now);
    let (cert, key) = match key_choice {
        KeyChoice::Reuse => {
            let key = client.private_key()?;
            (ca.issue(&profile, key.public_key_der())?, key)
        }
        KeyChoice::New => ca.issue_with_new_key(&profile, config.encryption_algorithm)?,
    };
    client.replace(&cert, &key, ca.bundle());
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
