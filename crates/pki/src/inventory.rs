//! `kubeadm certs check-expiration` as a library: every certificate of the tree, every CA, the
//! client certificates embedded in kubeconfig files and optionally the kubelet's rotated client
//! certificate — with expiry, issuing CA, external-CA state, and what is wrong with each.

use std::path::Path;
use std::time::SystemTime;

use crate::expiration::{ExpirationEntry, ExpirationReport};
use crate::kubeconfigs::{EmbeddedClient, KUBECONFIG_FILES};
use crate::tree::{CertSpec, TreeConfig, first_uncovered, read_chain, read_key};
use crate::{Certificate, verify_chain};

/// The kubelet's current client certificate under its cert dir (`/var/lib/kubelet/pki`).
pub const KUBELET_CLIENT_CURRENT: &str = "kubelet-client-current.pem";

/// Scans the cert dir and kubeconfig dir. `config` decides which certificates belong to the
/// tree (external etcd) and which SANs the serving certificates must cover; with
/// `kubelet_dir` the kubelet's client certificate is listed too. Rows are sorted as kubeadm
/// sorts them. Files that are missing are rows marked missing; files that cannot be read are
/// rows with a problem, so one bad file does not hide the rest.
pub fn check_expiration(
    cert_dir: &Path,
    kubeconfig_dir: &Path,
    config: &TreeConfig,
    kubelet_dir: Option<&Path>,
    now: SystemTime,
) -> ExpirationReport {
    let specs = CertSpec::for_config(config);
    let mut report = ExpirationReport::default();
    let mut cas: Vec<(&str, Vec<Certificate>, bool)> = Vec::new();
    for spec in specs.iter().filter(|s| s.is_ca()) {
        let external = !spec.key_path(cert_dir).exists();
        let path = spec.cert_path(cert_dir);
        let entry = match read_chain(&path) {
            _ if !path.exists() => ExpirationEntry::missing(spec.name),
            Ok(bundle) => {
                let entry = row(spec.name, &bundle, now).with_externally_managed(external);
                let entry = match bundle.first() {
                    Some(cert) if !cert.is_ca() => {
                        entry.with_problem("not a CA (BasicConstraints CA:TRUE missing)")
                    }
                    Some(cert) if !external => key_problem(entry, cert, &spec.key_path(cert_dir)),
                    _ => entry,
                };
                cas.push((spec.name, bundle, external));
                entry
            }
            Err(reason) => ExpirationEntry::missing(spec.name).with_problem(reason),
        };
        report.certificate_authorities.push(entry);
    }
    let ca = |name: &str| {
        cas.iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, bundle, external)| (bundle.as_slice(), *external))
    };

    for spec in specs.iter().filter(|s| !s.is_ca()) {
        let ca_name = spec.ca.unwrap_or_default();
        let (bundle, external) = ca(ca_name).unwrap_or((&[], false));
        let path = spec.cert_path(cert_dir);
        let entry = match read_chain(&path) {
            _ if !path.exists() => ExpirationEntry::missing(spec.name),
            Ok(chain) => {
                let mut entry = chain_problems(row(spec.name, &chain, now), &chain, bundle, ca_name);
                if let (Some(cert), Ok((names, _))) = (chain.first(), spec.alt_names(config)) {
                    entry = key_problem(entry, cert, &spec.key_path(cert_dir));
                    if !config.node_name.is_empty()
                        && let Some(missing) = first_uncovered(cert, &names)
                    {
                        entry = entry.with_problem(format!("missing SAN {missing}"));
                    }
                }
                entry
            }
            Err(reason) => ExpirationEntry::missing(spec.name).with_problem(reason),
        };
        report
            .certificates
            .push(entry.with_ca(ca_name).with_externally_managed(external));
    }

    let (cluster_ca, cluster_external) = ca("ca").unwrap_or((&[], false));
    for spec in KUBECONFIG_FILES.iter().filter(|s| s.file_name != "kubelet.conf") {
        let path = kubeconfig_dir.join(spec.file_name);
        let entry = if !path.exists() {
            ExpirationEntry::missing(spec.file_name)
        } else {
            match EmbeddedClient::load(&path) {
                Ok(client) => match client.certificate_chain() {
                    Ok(chain) => {
                        let entry =
                            chain_problems(row(spec.file_name, &chain, now), &chain, cluster_ca, "ca");
                        match (chain.first(), client.private_key()) {
                            (Some(cert), Ok(key)) if !cert.matches_key(&key) => {
                                entry.with_problem("client-key-data does not match the certificate")
                            }
                            (_, Err(reason)) => entry.with_problem(reason),
                            _ => entry,
                        }
                    }
                    Err(reason) => ExpirationEntry::missing(spec.file_name).with_problem(reason),
                },
                Err(reason) => ExpirationEntry::missing(spec.file_name).with_problem(reason),
            }
        };
        report
            .certificates
            .push(entry.with_ca("ca").with_externally_managed(cluster_external));
    }

    if let Some(dir) = kubelet_dir {
        let path = dir.join(KUBELET_CLIENT_CURRENT);
        let name = "kubelet-client-current.pem";
        let entry = match read_chain(&path) {
            _ if !path.exists() => ExpirationEntry::missing(name),
            Ok(chain) => chain_problems(row(name, &chain, now), &chain, cluster_ca, "ca"),
            Err(reason) => ExpirationEntry::missing(name).with_problem(reason),
        };
        report
            .certificates
            .push(entry.with_ca("ca").with_externally_managed(cluster_external));
    }
    report.sort();
    report
}

/// A present row with the first certificate's NotAfter and its validity problems.
fn row(name: &str, chain: &[Certificate], now: SystemTime) -> ExpirationEntry {
    let Some(cert) = chain.first() else {
        return ExpirationEntry::missing(name);
    };
    let entry = ExpirationEntry::present(name, cert.not_after());
    if now > cert.not_after() {
        entry.with_problem("expired")
    } else if now < cert.not_before() {
        entry.with_problem("not valid yet")
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
        Some(_) if ca.is_empty() => {
            entry.with_problem(format!("CA {ca_name} is missing, so the chain cannot be checked"))
        }
        Some((cert, rest)) if !verify_chain(cert, rest, ca) => {
            entry.with_problem(format!("not signed by {ca_name}"))
        }
        _ => entry,
    }
}

fn key_problem(entry: ExpirationEntry, cert: &Certificate, key_path: &Path) -> ExpirationEntry {
    if !key_path.exists() {
        return entry.with_problem(format!("key {} is missing", key_path.display()));
    }
    match read_key(key_path) {
        Ok(key) if cert.matches_key(&key) => entry,
        Ok(_) => entry.with_problem(format!(
            "key {} does not match the certificate",
            key_path.display()
        )),
        Err(reason) => entry.with_problem(reason),
    }
}
