//! Rotating a CA (`ca`, `front-proxy-ca` or `etcd-ca`) without downtime, in three steps with a
//! restart of the listed components after each:
//!
//! 1. **stage**: a new CA is generated and added to every trust bundle: `<ca>.crt` becomes
//!    `[old, new]` (the old one still first, so still the signer) and, for the cluster CA, every
//!    kubeconfig's `certificate-authority-data` too. The new key waits in `<ca>.next.key`. After
//!    the restart every component trusts both CAs.
//! 2. **issue**: the new CA becomes the signer (`<ca>.key`, and `<ca>.crt` = `[new, old]`: the
//!    files that hold exactly one CA, the key and the bundle's signing first certificate, switch
//!    together), then every leaf and kubeconfig client certificate it signs is re-issued, each
//!    in its own crash-safe batch. Both CAs stay trusted.
//! 3. **retire**: once nothing is signed by the old CA (the kubelet's own client certificate
//!    included, when kubelet.conf names it), the old CA leaves every bundle.
//!
//! The phase is computed from the files alone ([`observe`]), so `apply` of a step resumes after
//! any crash and is a no-op when the step is already done; a step out of order is refused.
//! Nothing here talks to the cluster: `cluster-info` must carry the bundle of `ca.crt` after
//! stage and after retire (the CLI updates it with `--kubeconfig`), and nodes joining meanwhile
//! should pin both CAs (a one-string join token carries both pins).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use kubetrust_fs::{Mode, NewFile};
use kubetrust_kubeconfig::Config;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES};
use crate::profile::{CA_CERTIFICATE_VALIDITY, Validity};
use crate::renew::{RenewTarget, SanChange, renew_one};
use crate::renewal::KeyChoice;
use crate::tree::{CLUSTER_CA, CertSpec, TreeConfig, load_ca};
use crate::{Certificate, CertificateAuthority, Dirs, Error, PrivateKey, read};

/// The CAs that can be rotated, by the names `certs renew` and the tree use.
pub const ROTATABLE: [&str; 3] = ["ca", "front-proxy-ca", "etcd-ca"];

/// Where a CA's rotation stands, as its files show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// One CA, no rotation under way (or one finished).
    Idle,
    /// A new CA is trusted everywhere but does not sign yet.
    Staged,
    /// The new CA signs; some certificates are still signed by the old one.
    Issuing,
    /// Everything is signed by the new CA; the old one is still trusted.
    Issued,
}

/// A step of the rotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Step {
    /// Generate the new CA and add it to every bundle.
    Stage,
    /// Make the new CA the signer and re-issue everything it signs.
    Issue,
    /// Remove the old CA from every bundle.
    Retire,
}

impl Step {
    /// Parses `stage`, `issue` or `retire`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "stage" => Some(Self::Stage),
            "issue" => Some(Self::Issue),
            "retire" => Some(Self::Retire),
            _ => None,
        }
    }

    /// Whether a rotation at `phase` has taken this step (so a script that runs every step
    /// again after a crash goes on where it stopped).
    fn taken_at(self, phase: Phase) -> bool {
        match self {
            Self::Stage => phase != Phase::Idle,
            Self::Issue => phase == Phase::Issued,
            Self::Retire => phase == Phase::Idle,
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Idle => "idle",
            Self::Staged => "staged",
            Self::Issuing => "issuing",
            Self::Issued => "issued",
        })
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stage => "stage",
            Self::Issue => "issue",
            Self::Retire => "retire",
        })
    }
}

/// What the next step of a CA's rotation would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationPlan {
    /// The CA (`ca`, `front-proxy-ca`, `etcd-ca`).
    pub ca: &'static str,
    /// Where the rotation stands.
    pub phase: Phase,
    /// The step that moves it on (`Stage` when idle: a new rotation).
    pub next: Step,
    /// The files that step writes (or removes).
    pub files: Vec<PathBuf>,
    /// The certificates and kubeconfigs it re-issues.
    pub reissues: Vec<&'static str>,
    /// The components to restart after it, so they read what it wrote.
    pub reload: Vec<&'static str>,
    /// Why the step cannot be taken yet, if it cannot.
    pub blocked: Option<String>,
}

/// The CA spec of a rotatable CA name.
///
/// # Errors
/// [`Error::NotRotatable`] for any other name.
pub fn rotatable(name: &str) -> Result<&'static CertSpec, Error> {
    ROTATABLE
        .contains(&name)
        .then(|| CertSpec::by_name(name))
        .flatten()
        .ok_or_else(|| Error::NotRotatable {
            name: name.to_owned(),
        })
}

/// What the files of `ca` say about its rotation.
struct Observed {
    phase: Phase,
    bundle: Vec<Certificate>,
    /// The key waiting in `<ca>.next.key`, when staged (or left over after the switch).
    next_key: Option<PrivateKey>,
    /// The leaves and kubeconfigs this CA signs that its signer did not sign.
    stale: Vec<RenewTarget>,
}

fn next_key_path(ca: &CertSpec, cert_dir: &Path) -> PathBuf {
    cert_dir.join(format!("{}.next.key", ca.base_name))
}

/// The phase of `ca`'s rotation (`ca`, `front-proxy-ca`, `etcd-ca`), from the files alone.
/// Where a run may have been killed, call `kubetrust_fs::recover` on both directories first
/// (as [`apply_rotation`] does): a batch it interrupted is then completed.
///
/// # Errors
/// Unreadable files, an unknown CA, or files no rotation step leaves (a next key whose
/// certificate is not in the bundle).
pub fn observe(dirs: &Dirs, config: &TreeConfig, ca: &str) -> Result<Phase, Error> {
    Ok(observe_files(dirs, config, rotatable(ca)?)?.phase)
}

fn observe_files(dirs: &Dirs, config: &TreeConfig, spec: &'static CertSpec) -> Result<Observed, Error> {
    let authority = load_ca(spec, &dirs.cert_dir)?;
    let bundle = authority.bundle().to_vec();
    let signer = authority.certificate().clone();
    let next_path = next_key_path(spec, &dirs.cert_dir);
    let next_key = if next_path.exists() {
        Some(PrivateKey::from_file(&next_path)?)
    } else {
        None
    };
    let staged = match &next_key {
        Some(key) if !signer.matches_key(key) => {
            if !bundle.iter().any(|cert| cert.matches_key(key)) {
                return Err(Error::RotationInconsistent {
                    ca: spec.name,
                    reason: format!("{} is in no certificate of the bundle", next_path.display()),
                });
            }
            true
        }
        _ => false,
    };
    let stale = if bundle.len() > 1 && !staged {
        signed_certificates(spec, config)
            .into_iter()
            .filter(|target| !current_is_signed_by(target, dirs, &signer))
            .collect()
    } else {
        Vec::new()
    };
    let phase = match (staged, bundle.len(), stale.is_empty()) {
        (true, _, _) => Phase::Staged,
        (false, 1, _) => Phase::Idle,
        (false, _, false) => Phase::Issuing,
        (false, _, true) => Phase::Issued,
    };
    Ok(Observed {
        phase,
        bundle,
        next_key,
        stale,
    })
}

/// The leaves of `ca` in this tree, and for the cluster CA the kubeconfigs `certs renew` renews.
fn signed_certificates(ca: &'static CertSpec, config: &TreeConfig) -> Vec<RenewTarget> {
    let leaves = CertSpec::for_config(config)
        .iter()
        .filter(|spec| !spec.is_ca() && spec.issuer().name == ca.name)
        .map(|spec| RenewTarget::Certificate {
            spec,
            san_change: SanChange::default(),
        });
    let kubeconfigs = KUBECONFIG_FILES
        .iter()
        .filter(|spec| ca.name == CLUSTER_CA.name && spec.file_name != "kubelet.conf")
        .map(RenewTarget::Kubeconfig);
    leaves.chain(kubeconfigs).collect()
}

/// Whether the certificate `target` names exists and `signer` signed it (a missing file is
/// nothing to re-issue).
fn current_is_signed_by(target: &RenewTarget, dirs: &Dirs, signer: &Certificate) -> bool {
    let current = match target {
        RenewTarget::Certificate { spec, .. } => {
            let path = spec.cert_path(&dirs.cert_dir);
            if !path.exists() {
                return true;
            }
            read::certificate(&path).ok()
        }
        RenewTarget::Kubeconfig(spec) => {
            let path = dirs.kubeconfig_dir.join(spec.file_name);
            if !path.exists() {
                return true;
            }
            EmbeddedClient::load(&path)
                .and_then(|client| client.certificate_chain())
                .ok()
                .and_then(|chain| chain.into_iter().next())
        }
        RenewTarget::All => None,
    };
    current.is_some_and(|cert| cert.is_signed_by(signer))
}

/// The kubeconfig files that embed this CA: every one of kubeadm's that exists (kubelet.conf
/// included) for the cluster CA, none for the others.
fn embedding_kubeconfigs(ca: &CertSpec, dirs: &Dirs) -> Vec<PathBuf> {
    if ca.name != CLUSTER_CA.name {
        return Vec::new();
    }
    KUBECONFIG_FILES
        .iter()
        .map(|spec| dirs.kubeconfig_dir.join(spec.file_name))
        .filter(|path| path.exists())
        .collect()
}

/// Who reads this CA's bundle at start-up.
fn trusting(ca: &CertSpec) -> Vec<&'static str> {
    match ca.name {
        "ca" => vec![
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubelet",
        ],
        "front-proxy-ca" => vec!["kube-apiserver"],
        _ => vec!["etcd", "kube-apiserver"],
    }
}

/// What the step after the current phase of `ca` would do.
///
/// # Errors
/// As [`observe`].
pub fn plan_rotation(dirs: &Dirs, config: &TreeConfig, ca: &str) -> Result<RotationPlan, Error> {
    let spec = rotatable(ca)?;
    let observed = observe_files(dirs, config, spec)?;
    let crt = spec.cert_path(&dirs.cert_dir);
    let next_key = next_key_path(spec, &dirs.cert_dir);
    let kubeconfigs = embedding_kubeconfigs(spec, dirs);
    let mut plan = RotationPlan {
        ca: spec.name,
        phase: observed.phase,
        next: Step::Stage,
        files: Vec::new(),
        reissues: Vec::new(),
        reload: trusting(spec),
        blocked: None,
    };
    match observed.phase {
        Phase::Idle => {
            plan.files = [crt, next_key].into_iter().chain(kubeconfigs).collect();
        }
        Phase::Staged | Phase::Issuing => {
            plan.next = Step::Issue;
            // Staged, everything the CA signs is re-issued after the switch.
            let stale: Vec<RenewTarget> = if observed.phase == Phase::Staged {
                signed_certificates(spec, config)
                    .into_iter()
                    .filter(|target| {
                        target_files(target, dirs)
                            .first()
                            .is_some_and(|file| file.exists())
                    })
                    .collect()
            } else {
                observed.stale
            };
            if observed.phase == Phase::Staged {
                plan.files.extend([crt, spec.key_path(&dirs.cert_dir), next_key]);
            }
            plan.files
                .extend(stale.iter().flat_map(|target| target_files(target, dirs)));
            plan.reissues = stale.iter().map(RenewTarget::name).collect();
            plan.reload = reissue_reload(spec, &plan.reissues);
        }
        Phase::Issued => {
            plan.next = Step::Retire;
            plan.files = std::iter::once(crt).chain(kubeconfigs).collect();
            plan.blocked = kubelet_blocker(spec, dirs, &observed.bundle);
        }
    }
    Ok(plan)
}

fn target_files(target: &RenewTarget, dirs: &Dirs) -> Vec<PathBuf> {
    match target {
        RenewTarget::Certificate { spec, .. } => {
            vec![spec.cert_path(&dirs.cert_dir), spec.key_path(&dirs.cert_dir)]
        }
        RenewTarget::Kubeconfig(spec) => vec![dirs.kubeconfig_dir.join(spec.file_name)],
        RenewTarget::All => Vec::new(),
    }
}

/// After the switch: whoever signs with the CA, and whoever reads a re-issued certificate.
fn reissue_reload(ca: &CertSpec, reissued: &[&str]) -> Vec<&'static str> {
    let mut reload: Vec<&'static str> = if ca.name == CLUSTER_CA.name {
        vec!["kube-controller-manager"]
    } else {
        Vec::new()
    };
    for name in reissued {
        for component in crate::renewal::consumers(name) {
            if !reload.contains(component) {
                reload.push(component);
            }
        }
    }
    reload
}

/// The old CA cannot go while the kubelet's client certificate (kubelet.conf's, embedded or
/// the file it names) is signed by it only: the kubelet would lose the API server.
fn kubelet_blocker(ca: &CertSpec, dirs: &Dirs, bundle: &[Certificate]) -> Option<String> {
    let (signer, old) = bundle.split_first()?;
    let path = dirs.kubeconfig_dir.join("kubelet.conf");
    if ca.name != CLUSTER_CA.name || !path.exists() {
        return None;
    }
    // Resolving reads a certificate kubelet.conf names by path in.
    let resolved = Config::from_file(&path).ok()?.resolve(None).ok()?;
    let cert = Certificate::chain_from_pem(&resolved.user.client_certificate_data)
        .ok()?
        .into_iter()
        .next()?;
    let stale = !cert.is_signed_by(signer) && old.iter().any(|ca| cert.is_signed_by(ca));
    stale.then(|| {
        format!(
            "the kubelet's client certificate ({}) is signed by the old CA: let the kubelet rotate it (or remove it and restart the kubelet) first",
            path.display()
        )
    })
}

/// Removes `<ca>.next.key` once it is the signing key: what a crash right after the switch
/// leaves behind.
fn remove_spent_next_key(dirs: &Dirs, spec: &CertSpec) -> Result<(), Error> {
    let path = next_key_path(spec, &dirs.cert_dir);
    if !path.exists()
        || PrivateKey::from_file(&path)?.public_key_der()
            != PrivateKey::from_file(&spec.key_path(&dirs.cert_dir))?.public_key_der()
    {
        return Ok(());
    }
    kubetrust_fs::remove(&path)?;
    Ok(())
}

/// Takes `step` of `ca`'s rotation: nothing when the files show it taken already (stage once
/// staged or later, issue once issued, retire once idle: so `stage`, `issue`, `retire` run
/// again after a crash go on where it stopped); the rest of it when a crash interrupted it;
/// [`Error::RotationStepOutOfOrder`] when an earlier step is missing. Returns what it did.
///
/// # Errors
/// As [`observe`]; a blocked retirement ([`Error::RotationBlocked`]); write errors.
pub fn apply_rotation(
    dirs: &Dirs,
    config: &TreeConfig,
    ca: &str,
    step: Step,
    now: SystemTime,
) -> Result<Vec<String>, Error> {
    kubetrust_fs::recover(&dirs.cert_dir)?;
    kubetrust_fs::recover(&dirs.kubeconfig_dir)?;
    let spec = rotatable(ca)?;
    remove_spent_next_key(dirs, spec)?;
    let observed = observe_files(dirs, config, spec)?;
    let plan = plan_rotation(dirs, config, ca)?;
    if step.taken_at(observed.phase) {
        return Ok(Vec::new());
    }
    if plan.next != step {
        return Err(Error::RotationStepOutOfOrder {
            ca: spec.name,
            step,
            phase: observed.phase,
            next: plan.next,
        });
    }
    if let Some(reason) = plan.blocked {
        return Err(Error::RotationBlocked {
            ca: spec.name,
            reason,
        });
    }
    match step {
        Step::Stage => stage(dirs, config, spec, &observed.bundle, now),
        Step::Issue => issue(dirs, config, spec, observed, now),
        Step::Retire => retire(dirs, spec, &observed.bundle),
    }
}

fn stage(
    dirs: &Dirs,
    config: &TreeConfig,
    spec: &CertSpec,
    bundle: &[Certificate],
    now: SystemTime,
) -> Result<Vec<String>, Error> {
    let key = PrivateKey::generate(config.encryption_algorithm)?;
    let key_pem = key.to_pem();
    let next = CertificateAuthority::self_signed(
        &spec.common_name(config),
        key,
        Validity::kubeadm(now, CA_CERTIFICATE_VALIDITY),
    )?;
    let staged: Vec<Certificate> = bundle
        .iter()
        .cloned()
        .chain([next.certificate().clone()])
        .collect();
    let next_key = next_key_path(spec, &dirs.cert_dir);
    let mut files = vec![(
        next_key,
        Zeroizing::new(key_pem.as_bytes().to_vec()),
        Mode::PRIVATE,
    )];
    files.extend(trust_bundle_files(dirs, spec, &staged)?);
    write_batch(&files)?;
    Ok(files
        .iter()
        .map(|(path, ..)| format!("[rotate-ca] Staged the new {} in {}", spec.name, path.display()))
        .collect())
}

fn issue(
    dirs: &Dirs,
    config: &TreeConfig,
    spec: &'static CertSpec,
    observed: Observed,
    now: SystemTime,
) -> Result<Vec<String>, Error> {
    let mut done = Vec::new();
    if let (Phase::Staged, Some(next_key)) = (observed.phase, observed.next_key) {
        let (new, old): (Vec<Certificate>, Vec<Certificate>) = observed
            .bundle
            .into_iter()
            .partition(|cert| cert.matches_key(&next_key));
        let switched: String = new.iter().chain(&old).map(Certificate::to_pem).collect();
        write_batch(&[
            (
                spec.cert_path(&dirs.cert_dir),
                Zeroizing::new(switched.into_bytes()),
                Mode::PUBLIC,
            ),
            (
                spec.key_path(&dirs.cert_dir),
                Zeroizing::new(next_key.to_pem().as_bytes().to_vec()),
                Mode::PRIVATE,
            ),
        ])?;
        remove_spent_next_key(dirs, spec)?;
        done.push(format!("[rotate-ca] The new {} signs from now on", spec.name));
    }
    let signer = load_ca(spec, &dirs.cert_dir)?.certificate().clone();
    for target in signed_certificates(spec, config) {
        if current_is_signed_by(&target, dirs, &signer) {
            continue;
        }
        let outcome = renew_one(dirs, &target, config, now, KeyChoice::New)?;
        done.push(format!("[rotate-ca] {}", outcome.message));
    }
    Ok(done)
}

fn retire(dirs: &Dirs, spec: &CertSpec, bundle: &[Certificate]) -> Result<Vec<String>, Error> {
    let signer = bundle.first().cloned().into_iter().collect::<Vec<_>>();
    let files = trust_bundle_files(dirs, spec, &signer)?;
    write_batch(&files)?;
    Ok(files
        .iter()
        .map(|(path, ..)| {
            format!(
                "[rotate-ca] Retired the old {} from {}",
                spec.name,
                path.display()
            )
        })
        .collect())
}

/// `<ca>.crt` and the embedding kubeconfigs, each trusting exactly `bundle`.
fn trust_bundle_files(dirs: &Dirs, spec: &CertSpec, bundle: &[Certificate]) -> Result<Vec<BatchFile>, Error> {
    let pem: String = bundle.iter().map(Certificate::to_pem).collect();
    let mut files = vec![(
        spec.cert_path(&dirs.cert_dir),
        Zeroizing::new(pem.clone().into_bytes()),
        Mode::PUBLIC,
    )];
    for path in embedding_kubeconfigs(spec, dirs) {
        let mut config = Config::from_file(&path).map_err(|source| Error::KubeconfigLoad {
            path: path.clone(),
            source,
        })?;
        for cluster in &mut config.clusters {
            if !cluster.cluster.certificate_authority_data.is_empty() {
                cluster.cluster.certificate_authority_data = pem.clone().into_bytes();
            }
        }
        let yaml = config.to_yaml().map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?;
        files.push((path, Zeroizing::new(yaml.into_bytes()), Mode::PRIVATE));
    }
    Ok(files)
}

/// A file of a batch: where, what (kubeconfigs and keys hold secrets), which mode.
type BatchFile = (PathBuf, Zeroizing<Vec<u8>>, Mode);

/// One crash-safe batch: all of `files` or none.
fn write_batch(files: &[BatchFile]) -> Result<(), Error> {
    Ok(kubetrust_fs::write_atomic_all(&NewFile::batch(files))?)
}
