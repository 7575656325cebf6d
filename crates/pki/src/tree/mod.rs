//! The kubeadm certificate tree under a cert dir: plan what to create, reuse or refuse, then
//! create it with keys generated in parallel and every file written atomically.
//!
//! Existing files follow kubeadm's rules, tightened where kubeadm is silent: a CA is reused
//! when its certificate is a CA and its key (if present) is its key; a CA certificate without
//! its key is an external CA whose leaves must all exist. A leaf is reused when its key loads
//! and matches, it chains to its CA, and it covers every SAN the config requires. Anything
//! else is refused before a single file is written.

mod refusal;
mod spec;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use refusal::Refusal;
pub use spec::{CERTIFICATES, CLUSTER_CA, CertSpec, TreeConfig};

use crate::keygen::KeySupply;
use crate::{
    AltNames, CertProfile, Certificate, CertificateAuthority, Error, PrivateKey, Subject, Validity, read,
    verify_chain,
};
use kubetrust_fs::{Mode, NewFile};

/// What the plan does with one certificate (or the `sa` key pair).
#[derive(Debug)]
#[non_exhaustive]
pub enum Action {
    /// Generate a key and a certificate.
    Create,
    /// The existing files satisfy the config; leave them.
    Reuse,
    /// A CA certificate without its key: an external CA. Nothing is generated for it.
    ExternalCa,
    /// The existing files do not satisfy the config; the refusal says which check failed.
    Refuse(Refusal),
}

/// One line of the plan.
#[derive(Debug)]
#[non_exhaustive]
pub struct PlanItem {
    /// The certificate's name (`ca`, `apiserver`, ... or `sa`).
    pub name: &'static str,
    /// kubeadm's file base name (`etcd/ca`, ..., `sa`).
    pub base_name: &'static str,
    /// The decision.
    pub action: Action,
    /// The SANs of a serving certificate to create (for kubeadm's "is signed for" line).
    pub serving_names: Option<AltNames>,
}

/// What [`plan`] found: one item per certificate plus `sa`, and warnings (dropped SANs,
/// certificates outside their validity period).
#[derive(Debug)]
#[non_exhaustive]
pub struct Plan {
    /// The cert dir the plan is for.
    pub cert_dir: PathBuf,
    /// In kubeadm's order, `sa` last.
    pub items: Vec<PlanItem>,
    /// Non-fatal findings, in kubeadm's words where it has them.
    pub warnings: Vec<String>,
}

impl Plan {
    /// How many keys carrying out the plan generates: one per item created (`sa` included).
    pub fn keys_to_create(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i.action, Action::Create))
            .count()
    }

    /// Items that were refused.
    pub fn refusals(&self) -> impl Iterator<Item = (&'static str, &Refusal)> {
        self.items.iter().filter_map(|i| match &i.action {
            Action::Refuse(refusal) => Some((i.name, refusal)),
            _ => None,
        })
    }

    /// The plan as kubeadm-style `[certs]` lines.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "[certs] Using certificateDir folder {:?}",
            self.cert_dir.display().to_string()
        )];
        for item in &self.items {
            let (name, base) = (item.name, item.base_name);
            lines.push(match (&item.action, name) {
                (Action::Create, "sa") => "[certs] Generating \"sa\" key and public key".to_owned(),
                (Action::Reuse, "sa") => "[certs] Using the existing \"sa\" key".to_owned(),
                (Action::Create, _) => format!("[certs] Generating {base:?} certificate and key"),
                (Action::Reuse, _) => format!("[certs] Using the existing {base:?} certificate and key"),
                (Action::ExternalCa, _) => {
                    format!("[certs] Using existing {base} keyless certificate authority")
                }
                (Action::Refuse(refusal), _) => format!("[certs] Refusing {base:?}: {refusal}"),
            });
            if let (Action::Create, Some(names)) = (&item.action, &item.serving_names) {
                lines.push(format!(
                    "[certs] {base} serving cert is signed for {}",
                    names.describe()
                ));
            }
        }
        lines
    }
}

/// Looks at `cert_dir` and decides, per certificate, what [`create`] would do. Reads only.
pub fn plan(cert_dir: &Path, config: &TreeConfig, now: SystemTime) -> Result<Plan, Error> {
    config.validate()?;
    let mut plan = Plan {
        cert_dir: cert_dir.to_owned(),
        items: Vec::new(),
        warnings: Vec::new(),
    };
    // Per CA name: its bundle when it exists and is usable, and whether it is keyless.
    let mut cas: BTreeMap<&str, (Option<Vec<Certificate>>, bool)> = BTreeMap::new();
    for spec in CertSpec::for_config(config) {
        let (names, warnings) = spec.alt_names(config)?;
        plan.warnings.extend(warnings);
        let action = match spec.ca {
            None => {
                let (action, bundle) = inspect_ca(spec, cert_dir, now, &mut plan.warnings);
                cas.insert(spec.name, (bundle, matches!(action, Action::ExternalCa)));
                action
            }
            Some(ca) => {
                let (bundle, keyless) = match cas.get(ca.name) {
                    Some((bundle, keyless)) => (bundle.as_deref(), *keyless),
                    None => (None, false),
                };
                let leaf = Leaf {
                    spec,
                    ca,
                    required: &names,
                    ca_bundle: bundle,
                    ca_keyless: keyless,
                };
                inspect_leaf(&leaf, cert_dir, now, &mut plan.warnings)
            }
        };
        let serving = !spec.is_ca() && spec.usages.contains(&crate::ExtKeyUsage::ServerAuth);
        plan.items.push(PlanItem {
            name: spec.name,
            base_name: spec.base_name,
            action,
            serving_names: serving.then_some(names),
        });
    }
    plan.items.push(PlanItem {
        name: "sa",
        base_name: "sa",
        action: inspect_sa(cert_dir),
        serving_names: None,
    });
    Ok(plan)
}

/// Creates what the plan says is missing. Fails, writing nothing, if anything was refused.
/// Keys are generated in parallel; the files are written as one batch, never over an existing
/// file, after a batch that a crash interrupted here is completed ([`kubetrust_fs::recover`]).
/// Returns the plan that was carried out.
pub fn create(cert_dir: &Path, config: &TreeConfig, now: SystemTime) -> Result<Plan, Error> {
    kubetrust_fs::recover(cert_dir)?;
    let mut keys = KeySupply::new(config.encryption_algorithm);
    carry_out(plan(cert_dir, config, now)?, config, now, &mut keys)
}

/// Creates one certificate of the tree by its phase name (`ca`, `apiserver`, ..., `sa`), as
/// `kubeadm init phase certs <name>`: a CA or `sa` is created when missing; a leaf is created
/// when missing and signed by its CA, which must already be usable here. Existing files are
/// reused or refused by the same rules as [`create`]; nothing else of the tree is touched.
pub fn create_one(cert_dir: &Path, config: &TreeConfig, name: &str, now: SystemTime) -> Result<Plan, Error> {
    kubetrust_fs::recover(cert_dir)?;
    let mut keys = KeySupply::new(config.encryption_algorithm);
    carry_out(plan_one(cert_dir, config, name, now)?, config, now, &mut keys)
}

/// The plan of [`create_one`]: the whole tree's plan narrowed to `name`, with a leaf refused
/// when its CA is missing or refused.
pub fn plan_one(cert_dir: &Path, config: &TreeConfig, name: &str, now: SystemTime) -> Result<Plan, Error> {
    let mut plan = plan(cert_dir, config, now)?;
    let ca_usable = |ca: &str| {
        plan.items
            .iter()
            .any(|i| i.name == ca && matches!(i.action, Action::Reuse | Action::ExternalCa))
    };
    let ca_of = CertSpec::for_config(config)
        .iter()
        .find(|spec| spec.name == name)
        .map(|spec| spec.ca.map(|ca| ca.name));
    let ca_missing = match ca_of {
        None if name != "sa" => {
            return Err(Error::NotInTree {
                name: name.to_owned(),
            });
        }
        Some(Some(ca)) if !ca_usable(ca) => Some(ca),
        _ => None,
    };
    plan.items.retain(|item| item.name == name);
    if let (Some(ca), Some(item)) = (ca_missing, plan.items.first_mut())
        && matches!(item.action, Action::Create)
    {
        item.action = Action::Refuse(Refusal::CaUnusable { ca });
    }
    Ok(plan)
}

/// Writes what `plan` creates, with keys from `keys` (topped up in one parallel batch); fails,
/// writing nothing, if it refuses anything.
pub(crate) fn carry_out(
    plan: Plan,
    config: &TreeConfig,
    now: SystemTime,
    keys: &mut KeySupply,
) -> Result<Plan, Error> {
    let cert_dir = plan.cert_dir.clone();
    let cert_dir = cert_dir.as_path();
    if plan.refusals().next().is_some() {
        return Err(Error::TreeRefused { plan: Box::new(plan) });
    }
    keys.reserve(plan.keys_to_create());

    let mut files: Vec<(PathBuf, Vec<u8>, Mode)> = Vec::new();
    // CAs created now, or loaded from disk when a leaf of theirs is created.
    let mut cas: BTreeMap<&str, CertificateAuthority> = BTreeMap::new();
    let ca_validity = Validity::kubeadm(now, config.ca_certificate_validity);
    let leaf_validity = Validity::kubeadm(now, config.certificate_validity);
    let created = CertSpec::for_config(config).iter().filter(|spec| {
        plan.items
            .iter()
            .any(|i| i.name == spec.name && matches!(i.action, Action::Create))
    });
    for spec in created {
        let key = keys.take()?;
        let key_pem = key.to_pem();
        let cert = match spec.ca {
            None => {
                let ca = CertificateAuthority::self_signed(&spec.common_name(config), key, ca_validity)?;
                let cert = ca.certificate().clone();
                cas.insert(spec.name, ca);
                cert
            }
            Some(ca_spec) => {
                let ca = match cas.entry(ca_spec.name) {
                    Entry::Occupied(created) => created.into_mut(),
                    Entry::Vacant(slot) => slot.insert(load_ca(ca_spec, cert_dir)?),
                };
                let mut subject = Subject::new(spec.common_name(config));
                subject.organizations = spec.organizations.iter().map(|o| (*o).to_owned()).collect();
                let (alt_names, _) = spec.alt_names(config)?;
                let profile = CertProfile {
                    subject,
                    alt_names,
                    usages: spec.usages.to_vec(),
                    validity: leaf_validity,
                };
                ca.issue(&profile, key.public_key_der())?
            }
        };
        files.push((spec.cert_path(cert_dir), cert.to_pem().into_bytes(), Mode::PUBLIC));
        files.push((
            spec.key_path(cert_dir),
            key_pem.as_bytes().to_vec(),
            Mode::PRIVATE,
        ));
    }
    if plan
        .items
        .iter()
        .any(|i| i.name == "sa" && matches!(i.action, Action::Create))
    {
        let key = keys.take()?;
        files.push((
            cert_dir.join("sa.key"),
            key.to_pem().as_bytes().to_vec(),
            Mode::PRIVATE,
        ));
        files.push((
            cert_dir.join("sa.pub"),
            key.public_key_pem().into_bytes(),
            Mode::PRIVATE,
        ));
    }
    write_all(cert_dir, files)?;
    Ok(plan)
}

fn write_all(cert_dir: &Path, mut files: Vec<(PathBuf, Vec<u8>, Mode)>) -> Result<(), Error> {
    for (path, ..) in &files {
        if let Some(dir) = path.parent().filter(|d| d.starts_with(cert_dir)) {
            kubetrust_fs::create_dir_all(dir, Mode::PUBLIC_DIR)?;
        }
    }
    let batch = NewFile::batch(&files);
    let written = kubetrust_fs::write_new_all(&batch);
    drop(batch);
    // Key material must not linger in freed memory.
    files
        .iter_mut()
        .for_each(|(_, contents, _)| zeroize::Zeroize::zeroize(contents));
    Ok(written?)
}

fn exists(path: &Path) -> bool {
    path.symlink_metadata().is_ok()
}

fn inspect_ca(
    spec: &CertSpec,
    cert_dir: &Path,
    now: SystemTime,
    warnings: &mut Vec<String>,
) -> (Action, Option<Vec<Certificate>>) {
    let (crt, key) = (spec.cert_path(cert_dir), spec.key_path(cert_dir));
    if !exists(&crt) && !exists(&key) {
        return (Action::Create, None);
    }
    let refuse = |refusal| (Action::Refuse(refusal), None);
    let bundle = match read::certificates(&crt) {
        Ok(bundle) => bundle,
        Err(error) => return refuse(Refusal::Unreadable(error)),
    };
    let Some(cert) = bundle.first().filter(|cert| cert.is_ca()) else {
        return refuse(Refusal::NotACa {
            base_name: spec.base_name,
        });
    };
    period_warning(spec.base_name, cert, now, warnings);
    if !exists(&key) {
        return (Action::ExternalCa, Some(bundle));
    }
    match PrivateKey::from_file(&key) {
        Ok(k) if cert.matches_key(&k) => (Action::Reuse, Some(bundle)),
        Ok(_) => refuse(Refusal::CaKeyMismatch { key, cert: crt }),
        Err(error) => refuse(Refusal::Unreadable(error)),
    }
}

/// A leaf to inspect, with what the plan knows of its CA.
struct Leaf<'a> {
    spec: &'a CertSpec,
    ca: &'a CertSpec,
    /// The SANs the config requires.
    required: &'a AltNames,
    /// The CA's certificates, when the CA exists and is usable.
    ca_bundle: Option<&'a [Certificate]>,
    /// Whether the CA has no key here (external CA).
    ca_keyless: bool,
}

fn inspect_leaf(leaf: &Leaf<'_>, cert_dir: &Path, now: SystemTime, warnings: &mut Vec<String>) -> Action {
    let (spec, ca) = (leaf.spec, leaf.ca.name);
    let (crt, key) = (spec.cert_path(cert_dir), spec.key_path(cert_dir));
    if !exists(&crt) && !exists(&key) {
        return if leaf.ca_keyless {
            Action::Refuse(Refusal::MissingUnderExternalCa { ca, cert: crt, key })
        } else {
            Action::Create
        };
    }
    let loaded = PrivateKey::from_file(&key).and_then(|key| Ok((key, read::certificates(&crt)?)));
    let (key, chain) = match loaded {
        Ok(loaded) => loaded,
        Err(error) => return Action::Refuse(Refusal::Unreadable(error)),
    };
    let Some((cert, intermediates)) = chain.split_first().filter(|(cert, _)| cert.matches_key(&key)) else {
        return Action::Refuse(Refusal::KeyMismatch { cert: crt });
    };
    let Some(bundle) = leaf.ca_bundle else {
        return Action::Refuse(Refusal::CaToBeCreated { ca });
    };
    if !verify_chain(cert, intermediates, bundle) {
        return Action::Refuse(Refusal::NotSignedByCa {
            base_name: spec.base_name,
        });
    }
    if let Some(san) = first_uncovered(cert, leaf.required) {
        return Action::Refuse(Refusal::MissingSan {
            base_name: spec.base_name,
            san,
        });
    }
    period_warning(spec.base_name, cert, now, warnings);
    Action::Reuse
}

fn inspect_sa(cert_dir: &Path) -> Action {
    let (key_path, pub_path) = (cert_dir.join("sa.key"), cert_dir.join("sa.pub"));
    if !exists(&key_path) {
        return if exists(&pub_path) {
            Action::Refuse(Refusal::SaPubWithoutKey)
        } else {
            Action::Create
        };
    }
    let key = match PrivateKey::from_file(&key_path) {
        Ok(key) => key,
        Err(error) => return Action::Refuse(Refusal::SaKeyUnloadable(error)),
    };
    match read::file(&pub_path) {
        Ok(bytes) if bytes.as_slice() == key.public_key_pem().as_bytes() => Action::Reuse,
        Ok(_) => Action::Refuse(Refusal::SaPubMismatch),
        Err(error) => Action::Refuse(Refusal::SaPubUnreadable(error)),
    }
}

/// The first required SAN the certificate does not cover, with Go's hostname-verification
/// rules: exact DNS match (case-insensitive) or a `*.` wildcard covering one leftmost label;
/// IPs must be listed.
pub(crate) fn first_uncovered(cert: &Certificate, required: &AltNames) -> Option<String> {
    let dns = cert.dns_names();
    let ips = cert.ip_addresses();
    let covers = |name: &str| {
        dns.iter().any(|d| {
            d.eq_ignore_ascii_case(name)
                || d.strip_prefix("*.").is_some_and(|suffix| {
                    name.split_once('.')
                        .is_some_and(|(label, rest)| !label.is_empty() && rest.eq_ignore_ascii_case(suffix))
                })
        })
    };
    required
        .dns_names()
        .into_iter()
        .find(|name| !covers(name))
        .or_else(|| {
            required
                .ip_addresses()
                .iter()
                .find(|ip| !ips.contains(ip))
                .map(ToString::to_string)
        })
}

fn period_warning(name: &str, cert: &Certificate, now: SystemTime, warnings: &mut Vec<String>) {
    if now < cert.not_before() {
        warnings.push(format!(
            "WARNING: could not validate bounds for certificate {name}: the certificate is not valid yet"
        ));
    } else if now > cert.not_after() {
        warnings.push(format!(
            "WARNING: could not validate bounds for certificate {name}: the certificate has expired"
        ));
    }
}

/// Loads a CA (certificate bundle and key) from the cert dir.
pub fn load_ca(spec: &CertSpec, cert_dir: &Path) -> Result<CertificateAuthority, Error> {
    let crt = spec.cert_path(cert_dir);
    let bundle = read::certificates(&crt).map_err(|e| Error::LoadCa {
        path: crt,
        source: Box::new(e),
    })?;
    let key_path = spec.key_path(cert_dir);
    let key = PrivateKey::from_file(&key_path).map_err(|e| Error::LoadCa {
        path: key_path,
        source: Box::new(e),
    })?;
    CertificateAuthority::new(bundle, key)
}
