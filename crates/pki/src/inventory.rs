//! `kubeadm certs check-expiration` as a library: every certificate of the tree, every CA, the
//! client certificates embedded in kubeconfig files and optionally the kubelet's rotated client
//! certificate — with expiry, issuing CA, external-CA state, and what is wrong with each.

use std::path::Path;
use std::time::SystemTime;

use kubetrust_kubeconfig::KUBELET_CLIENT_CURRENT_FILE;

use crate::expiration::{ExpirationEntry, ExpirationReport, Problem};
use crate::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES};
use crate::tree::{CertSpec, TreeConfig, first_uncovered};
use crate::{Certificate, Dirs, Error, PrivateKey, read, verify_chain};

/// Scans the cert dir and kubeconfig dir. `config` decides which certificates belong to the
/// tree (external etcd) and which SANs the serving certificates must cover; with
/// `kubelet_dir` the kubelet's client certificate is listed too. Rows are sorted as kubeadm
/// sorts them. Files that are missing are rows marked missing; files that cannot be read are
/// rows with a problem, so one bad file does not hide the rest.
pub fn check_expiration(
    dirs: &Dirs,
    config: &TreeConfig,
    kubelet_dir: Option<&Path>,
    now: SystemTime,
) -> ExpirationReport {
    let cert_dir = &dirs.cert_dir;
    let specs = CertSpec::for_config(config);
    let mut report = ExpirationReport::default();
    let mut cas: Vec<(&str, Vec<Certificate>, bool)> = Vec::new();
    for spec in specs.iter().filter(|s| s.is_ca()) {
        let external = !spec.key_path(cert_dir).exists();
        let entry = match present_chain(spec.name, &spec.cert_path(cert_dir)) {
            Ok(bundle) => {
                let entry = row(spec.name, &bundle, now).with_externally_managed(external);
                let entry = match bundle.first() {
                    Some(cert) if !cert.is_ca() => entry.with_problem(Problem::NotACa),
                    Some(cert) if !external => key_problem(entry, cert, &spec.key_path(cert_dir)),
                    _ => entry,
                };
                cas.push((spec.name, bundle, external));
                entry
            }
            Err(missing) => missing,
        };
        report.certificate_authorities.push(entry);
    }
    let ca = |name: &str| {
        cas.iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, bundle, external)| (bundle.as_slice(), *external))
    };

    for spec in specs.iter().filter(|s| !s.is_ca()) {
        let ca_name = spec.issuer().name;
        let (bundle, external) = ca(ca_name).unwrap_or((&[], false));
        let entry = match present_chain(spec.name, &spec.cert_path(cert_dir)) {
            Ok(chain) => {
                let mut entry = chain_problems(row(spec.name, &chain, now), &chain, bundle, ca_name);
                if let (Some(cert), Ok((names, _))) = (chain.first(), spec.alt_names(config)) {
                    entry = key_problem(entry, cert, &spec.key_path(cert_dir));
                    if !config.node_name.is_empty()
                        && let Some(missing) = first_uncovered(cert, &names)
                    {
                        entry = entry.with_problem(Problem::MissingSan(missing));
                    }
                }
                entry
            }
            Err(missing) => missing,
        };
        report
            .certificates
            .push(entry.with_ca(ca_name).with_externally_managed(external));
    }

    let (cluster_ca, cluster_external) = ca("ca").unwrap_or((&[], false));
    for spec in KUBECONFIG_FILES.iter().filter(|s| s.file_name != "kubelet.conf") {
        let path = dirs.kubeconfig_dir.join(spec.file_name);
        let entry = if path.exists() {
            kubeconfig_row(spec.file_name, &path, cluster_ca, now)
        } else {
            ExpirationEntry::missing(spec.file_name)
        };
        report
            .certificates
            .push(entry.with_ca("ca").with_externally_managed(cluster_external));
    }

    if let Some(dir) = kubelet_dir {
        let name = KUBELET_CLIENT_CURRENT_FILE;
        let entry = match present_chain(name, &dir.join(name)) {
            Ok(chain) => chain_problems(row(name, &chain, now), &chain, cluster_ca, "ca"),
            Err(missing) => missing,
        };
        report
            .certificates
            .push(entry.with_ca("ca").with_externally_managed(cluster_external));
    }
    report.sort();
    report
}

/// The certificates of `path`, or the row to show instead: missing, or missing with why it
/// could not be read.
fn present_chain(name: &str, path: &Path) -> Result<Vec<Certificate>, ExpirationEntry> {
    if !path.exists() {
        return Err(ExpirationEntry::missing(name));
    }
    read::certificates(path).map_err(|e| unreadable(name, e))
}

fn unreadable(name: &str, error: Error) -> ExpirationEntry {
    ExpirationEntry::missing(name).with_problem(Problem::Unreadable(error))
}

/// The row of a kubeconfig's embedded client certificate.
fn kubeconfig_row(name: &str, path: &Path, cluster_ca: &[Certificate], now: SystemTime) -> ExpirationEntry {
    let client = match EmbeddedClient::load(path) {
        Ok(client) => client,
        Err(e) => return unreadable(name, e),
    };
    let chain = match client.certificate_chain() {
        Ok(chain) => chain,
        Err(e) => return unreadable(name, e),
    };
    let entry = chain_problems(row(name, &chain, now), &chain, cluster_ca, "ca");
    match (chain.first(), client.private_key()) {
        (Some(cert), Ok(key)) if !cert.matches_key(&key) => entry.with_problem(Problem::ClientKeyMismatch),
        (_, Err(e)) => entry.with_problem(Problem::Unreadable(e)),
        _ => entry,
    }
}

/// A present row with the first certificate's NotAfter and its validity problems.
fn row(name: &str, chain: &[Certificate], now: SystemTime) -> ExpirationEntry {
    let Some(cert) = chain.first() else {
        return ExpirationEntry::missing(name);
    };
    let entry = ExpirationEntry::present(name, cert.not_after());
    if now > cert.not_after() {
        entry.with_problem(Problem::Expired)
    } else if now < cert.not_before() {
        entry.with_problem(Problem::NotYetValid)
    } else {
        entry
    }
}

fn chain_problems(
    entry: ExpirationEntry,
    chain: &[Certificate],
    ca: &[Certificate],
    ca_name: &str,
) -> ExpirationEntry {
    match chain.split_first() {
        Some(_) if ca.is_empty() => entry.with_problem(Problem::CaMissing {
            ca: ca_name.to_owned(),
        }),
        Some((cert, rest)) if !verify_chain(cert, rest, ca) => entry.with_problem(Problem::NotSignedBy {
            ca: ca_name.to_owned(),
        }),
        _ => entry,
    }
}

fn key_problem(entry: ExpirationEntry, cert: &Certificate, key_path: &Path) -> ExpirationEntry {
    if !key_path.exists() {
        return entry.with_problem(Problem::KeyMissing {
            path: key_path.to_owned(),
        });
    }
    match PrivateKey::from_file(key_path) {
        Ok(key) if cert.matches_key(&key) => entry,
        Ok(_) => entry.with_problem(Problem::KeyMismatch {
            path: key_path.to_owned(),
        }),
        Err(e) => entry.with_problem(Problem::Unreadable(e)),
    }
}
