//! The renewal planner: which certificates to renew before they expire, what renewing each one
//! writes, with which key, and which components must reload it; [`apply`] carries a plan out.
//!
//! A plan is computed from the inventory ([`check_expiration`](crate::inventory::check_expiration)'s
//! report), so it sees what `check-expiration` sees, and it is data: `kubetrust certs plan -o
//! json` writes it, someone reviews it, `kubetrust certs apply PLANFILE` carries it out later.
//! [`apply`] checks every renewal against the files first (a certificate that changed since
//! the plan was made is left alone), and a dry run goes through the same checks without
//! writing. Each renewal is written atomically: a certificate and a new key as one batch.
//! kubeadm's renewal has none of this: it renews what it is told to and leaves working out the
//! restarts to the reader of its docs.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::expiration::{ExpirationEntry, ExpirationReport, Problem, rfc3339};
use crate::renew::{RenewOutcome, RenewTarget, renew_one};
use crate::tree::TreeConfig;
use crate::{Certificate, Dirs, Error, read};

/// `kind` of a serialised plan.
pub const PLAN_KIND: &str = "RenewalPlan";
/// `apiVersion` of a serialised plan.
pub const PLAN_API_VERSION: &str = "kubetrust.io/v1alpha1";

/// The key a renewed certificate gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyChoice {
    /// A new key, as `kubeadm certs renew` does.
    #[default]
    New,
    /// The key it has (the certificate is re-issued for the same public key, so anything
    /// pinned to that key keeps working).
    Reuse,
}

/// What to renew, and what follows from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RenewalPlan {
    /// Always [`PLAN_KIND`].
    pub kind: String,
    /// Always [`PLAN_API_VERSION`].
    pub api_version: String,
    /// When the plan was made (RFC 3339, UTC).
    pub created: String,
    /// How far ahead it looked: certificates expiring within this many seconds are renewed.
    pub window_seconds: u64,
    /// The renewals, in `certs renew all`'s order.
    pub renewals: Vec<PlannedRenewal>,
    /// Certificates inside the window that this plan does not renew, and why.
    pub not_renewed: Vec<NotRenewed>,
    /// Every component to restart once the plan is applied (the union of the renewals').
    pub reload: Vec<String>,
}

/// One certificate to renew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PlannedRenewal {
    /// The name `certs renew` takes: `apiserver`, `admin.conf`, ...
    pub name: String,
    /// The current certificate's serial number (hex): `apply` renews only this certificate.
    pub serial: String,
    /// The current certificate's NotAfter (RFC 3339).
    pub not_after: String,
    /// Whether it has already expired.
    pub expired: bool,
    /// The issuing CA.
    pub ca: String,
    /// The key the renewed certificate gets.
    pub key: KeyChoice,
    /// The files renewing it writes.
    pub files: Vec<PathBuf>,
    /// The components that read it only at start-up and must be restarted.
    pub reload: Vec<String>,
}

/// A certificate inside the window that the plan does not renew.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotRenewed {
    /// The inventory's name for it.
    pub name: String,
    /// Its NotAfter, when it could be read.
    pub not_after: Option<String>,
    /// Why it is left out, and what to do instead.
    pub reason: String,
}

/// What [`apply`] did with one renewal.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// Renewed (or, in a dry run, would be).
    Renewed(RenewOutcome),
    /// Left alone: the certificate is not the one the plan saw (renewed or replaced since), or
    /// it is gone.
    Changed {
        /// The renewal's name.
        name: String,
        /// What was found instead.
        found: String,
    },
}

/// Plans the renewal of every certificate in `report` that expires within `window` of `now`.
/// CAs, certificates of an external CA, the kubelet's own certificate and unreadable files are
/// listed in [`RenewalPlan::not_renewed`] with the reason.
pub fn plan_renewal(
    report: &ExpirationReport,
    dirs: &Dirs,
    config: &TreeConfig,
    now: SystemTime,
    window: Duration,
    key: KeyChoice,
) -> RenewalPlan {
    let horizon = i64::try_from(window.as_secs()).unwrap_or(i64::MAX);
    let due = |entry: &&ExpirationEntry| entry.residual_seconds(now).is_some_and(|left| left <= horizon);
    let mut renewals = Vec::new();
    let mut not_renewed = Vec::new();
    for entry in report.certificate_authorities.iter().filter(due) {
        not_renewed.push(left_out(
            entry,
            "a CA is not renewed in place (kubeadm neither): every certificate it signed would have to \
             change with it; rotate the CA instead",
        ));
    }
    for entry in report.certificates.iter().filter(due) {
        let target = RenewTarget::parse(&entry.name, config);
        match (target, entry.problems.iter().find(|p| blocks(p, key))) {
            (Err(_), _) => not_renewed.push(left_out(
                entry,
                "not renewable here: the kubelet rotates its own client certificate",
            )),
            (Ok(_), _) if entry.externally_managed => not_renewed.push(left_out(
                entry,
                "its CA's key is not here (external CA): have the CA's owner renew it (certs generate-csr)",
            )),
            (Ok(_), Some(problem)) => {
                not_renewed.push(left_out(
                    entry,
                    &format!("it cannot be renewed as it is: {problem}"),
                ));
            }
            (Ok(target), None) => match planned(&target, entry, dirs, key, now) {
                Ok(renewal) => renewals.push(renewal),
                Err(error) => not_renewed.push(left_out(entry, &format!("it cannot be read: {error}"))),
            },
        }
    }
    let mut reload: Vec<String> = renewals.iter().flat_map(|r| r.reload.iter().cloned()).collect();
    reload.sort();
    reload.dedup();
    RenewalPlan {
        kind: PLAN_KIND.to_owned(),
        api_version: PLAN_API_VERSION.to_owned(),
        created: rfc3339(now),
        window_seconds: window.as_secs(),
        renewals,
        not_renewed,
        reload,
    }
}

/// Carries out `plan`: each renewal whose certificate is still the one the plan saw (same
/// serial number) is renewed, every other one is reported as [`Applied::Changed`]. With `dry_run`,
/// the same checks run and nothing is written.
///
/// # Errors
/// A plan of another kind or version ([`Error::InvalidRenewalPlan`]), a name this config does
/// not renew ([`Error::NotRenewable`]), or the renewal's own errors; renewals before the
/// failing one stay done.
pub fn apply(
    plan: &RenewalPlan,
    dirs: &Dirs,
    config: &TreeConfig,
    now: SystemTime,
    dry_run: bool,
) -> Result<Vec<Applied>, Error> {
    if plan.kind != PLAN_KIND || plan.api_version != PLAN_API_VERSION {
        return Err(Error::InvalidRenewalPlan {
            reason: format!(
                "expected kind {PLAN_KIND} and apiVersion {PLAN_API_VERSION}, found {:?} and {:?}",
                plan.kind, plan.api_version
            ),
        });
    }
    kubetrust_fs::recover(&dirs.cert_dir)?;
    kubetrust_fs::recover(&dirs.kubeconfig_dir)?;
    let mut applied = Vec::with_capacity(plan.renewals.len());
    for renewal in &plan.renewals {
        let target = RenewTarget::parse(&renewal.name, config)?;
        let found = match current_certificate(&target, dirs) {
            Ok(cert) => serial_hex(&cert),
            Err(error) => {
                applied.push(Applied::Changed {
                    name: renewal.name.clone(),
                    found: format!("unreadable: {error}"),
                });
                continue;
            }
        };
        if found != renewal.serial {
            applied.push(Applied::Changed {
                name: renewal.name.clone(),
                found: format!("the certificate with serial {found}, not {}", renewal.serial),
            });
        } else if dry_run {
            applied.push(Applied::Renewed(RenewOutcome::dry_run(&target)));
        } else {
            applied.push(Applied::Renewed(renew_one(
                dirs,
                &target,
                config,
                now,
                renewal.key,
            )?));
        }
    }
    Ok(applied)
}

fn planned(
    target: &RenewTarget,
    entry: &ExpirationEntry,
    dirs: &Dirs,
    key: KeyChoice,
    now: SystemTime,
) -> Result<PlannedRenewal, Error> {
    let serial = serial_hex(&current_certificate(target, dirs)?);
    let files = match target {
        RenewTarget::Certificate { spec, .. } if key == KeyChoice::New => {
            vec![spec.cert_path(&dirs.cert_dir), spec.key_path(&dirs.cert_dir)]
        }
        RenewTarget::Certificate { spec, .. } => vec![spec.cert_path(&dirs.cert_dir)],
        RenewTarget::Kubeconfig(spec) => vec![dirs.kubeconfig_dir.join(spec.file_name)],
        RenewTarget::All => Vec::new(),
    };
    Ok(PlannedRenewal {
        name: target.name().to_owned(),
        serial,
        not_after: entry.not_after.map(rfc3339).unwrap_or_default(),
        expired: entry.residual_seconds(now).is_some_and(|left| left <= 0),
        ca: entry.ca_name.clone().unwrap_or_default(),
        key,
        files,
        reload: consumers(target.name()).iter().map(|c| (*c).to_owned()).collect(),
    })
}

fn serial_hex(cert: &Certificate) -> String {
    cert.serial().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Problems a renewal cannot get past: no certificate or CA to renew from, and, when the key is
/// kept, a key that does not belong to the certificate. (Expiry is what renewal is for; a
/// missing SAN stays missing, as in kubeadm, which copies SANs from the old certificate.)
fn blocks(problem: &Problem, key: KeyChoice) -> bool {
    match problem {
        Problem::Unreadable(_) | Problem::CaMissing { .. } => true,
        Problem::KeyMissing { .. } | Problem::KeyMismatch { .. } | Problem::ClientKeyMismatch => {
            key == KeyChoice::Reuse
        }
        _ => false,
    }
}

fn left_out(entry: &ExpirationEntry, reason: &str) -> NotRenewed {
    NotRenewed {
        name: entry.name.clone(),
        not_after: entry.not_after.map(rfc3339),
        reason: reason.to_owned(),
    }
}

/// The control-plane components that load a certificate only at start-up (kubeadm's static
/// Pods: none of them reloads these files). Clients (admin.conf, super-admin.conf) and etcd's
/// liveness probe read theirs anew on every use.
pub(crate) fn consumers(name: &str) -> &'static [&'static str] {
    match name {
        "apiserver" | "apiserver-kubelet-client" | "front-proxy-client" | "apiserver-etcd-client" => {
            &["kube-apiserver"]
        }
        "etcd-server" | "etcd-peer" => &["etcd"],
        "controller-manager.conf" => &["kube-controller-manager"],
        "scheduler.conf" => &["kube-scheduler"],
        _ => &[],
    }
}

/// The certificate a renewal would replace.
fn current_certificate(target: &RenewTarget, dirs: &Dirs) -> Result<Certificate, Error> {
    Ok(match target {
        RenewTarget::Certificate { spec, .. } => read::certificate(&spec.cert_path(&dirs.cert_dir))?,
        RenewTarget::Kubeconfig(spec) => {
            let client = crate::kubeconfigs::EmbeddedClient::load(&dirs.kubeconfig_dir.join(spec.file_name))?;
            client.certificate_chain()?.into_iter().next().ok_or_else(|| {
                Error::NoEmbeddedClientCertificate {
                    path: dirs.kubeconfig_dir.join(spec.file_name),
                }
            })?
        }
        RenewTarget::All => {
            return Err(Error::NotRenewable {
                name: "all".to_owned(),
                renewable: String::new(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfigs::KUBECONFIG_FILES;
    use crate::tree::CertSpec;

    #[test]
    fn every_renewable_name_has_its_consumers_decided() {
        let config = TreeConfig::new(
            "cp-1",
            "10.0.0.10"
                .parse()
                .unwrap_or(std::net::IpAddr::from([10, 0, 0, 10])),
        );
        let names: Vec<&str> = CertSpec::for_config(&config)
            .iter()
            .filter(|s| !s.is_ca())
            .map(|s| s.name)
            .chain(KUBECONFIG_FILES.iter().map(|f| f.file_name))
            .collect();
        let restarted: Vec<&str> = names.iter().flat_map(|n| consumers(n).iter().copied()).collect();
        for component in [
            "kube-apiserver",
            "etcd",
            "kube-controller-manager",
            "kube-scheduler",
        ] {
            assert!(restarted.contains(&component), "{component}");
        }
        assert!(consumers("admin.conf").is_empty() && consumers("etcd-healthcheck-client").is_empty());
    }
}
