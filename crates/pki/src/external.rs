//! The external-CA workflow: generate keys and CSRs in `kubeadm certs generate-csr`'s layout,
//! let an outside CA sign them, then import and validate the signed certificates.

use std::path::{Path, PathBuf};

use kubetrust_fs::Mode;
use kubetrust_kubeconfig::{ClientCredentials, ClusterEndpoint, Config, SecretBytes};

use crate::kubeconfigs::{KUBECONFIG_FILES, KubeconfigSpec};
use crate::tree::{CERTIFICATES, CertSpec, TreeConfig, first_uncovered, read_key};
use crate::{AltNames, Certificate, CertificateRequest, Error, PrivateKey, verify_chain};

/// One key + CSR pair written by [`generate_csrs`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsrItem {
    /// The certificate or kubeconfig name (`apiserver`, `admin.conf`, ...).
    pub name: String,
    /// Where the CSR went.
    pub csr_path: PathBuf,
}

/// Writes a key and a CSR for every leaf certificate of the local-etcd tree
/// (`<cert_dir>/<base>.key` + `.csr`) and for every kubeconfig (a partial
/// `<kubeconfig_dir>/<file>` holding only the server, names and `client-key-data`, plus
/// `<file>.csr`). CSRs carry only subject and SANs: the CA decides usages. Refuses, writing
/// nothing, if any target exists.
pub fn generate_csrs(
    cert_dir: &Path,
    kubeconfig_dir: &Path,
    config: &TreeConfig,
) -> Result<Vec<CsrItem>, Error> {
    config.validate()?;
    let leaves: Vec<&CertSpec> = CERTIFICATES.iter().filter(|s| !s.is_ca()).collect();
    let mut problems = Vec::new();
    for spec in &leaves {
        let (key, csr) = (spec.key_path(cert_dir), csr_path(&spec.cert_path(cert_dir)));
        if key.exists() || csr.exists() {
            problems.push(format!(
                "file already exists: key or CSR {}",
                cert_dir.join(spec.base_name).display()
            ));
        }
    }
    for spec in &KUBECONFIG_FILES {
        let path = kubeconfig_dir.join(spec.file_name);
        if path.exists() {
            problems.push(format!("file already exists: kube config: {}", path.display()));
        }
        let csr = csr_path(&path);
        if csr.exists() {
            problems.push(format!("file already exists: csr: {}", csr.display()));
        }
    }
    if !problems.is_empty() {
        return Err(Error::TreeRefused {
            cert_dir: cert_dir.to_owned(),
            problems,
        });
    }

    let mut items = Vec::new();
    for spec in leaves {
        let (alt_names, _) = spec.alt_names(config)?;
        let subject = spec.subject(config);
        let key = PrivateKey::generate(config.encryption_algorithm)?;
        let request = CertificateRequest::new(&subject, &alt_names, &key)?;
        let csr = csr_path(&spec.cert_path(cert_dir));
        if let Some(dir) = csr.parent() {
            kubetrust_fs::create_dir_all(dir, Mode::PUBLIC_DIR)?;
        }
        kubetrust_fs::write_new(&spec.key_path(cert_dir), key.to_pem().as_bytes(), Mode::PRIVATE)?;
        kubetrust_fs::write_new(&csr, request.to_pem().as_bytes(), Mode::PRIVATE)?;
        items.push(CsrItem {
            name: spec.name.to_owned(),
            csr_path: csr,
        });
    }
    kubetrust_fs::create_dir_all(kubeconfig_dir, Mode::PUBLIC_DIR)?;
    for spec in &KUBECONFIG_FILES {
        let key = PrivateKey::generate(config.encryption_algorithm)?;
        let request = CertificateRequest::new(&spec.subject(config), &AltNames::default(), &key)?;
        let path = kubeconfig_dir.join(spec.file_name);
        let partial = partial_kubeconfig(spec, config, &key)?;
        let yaml = partial.to_yaml().map_err(|source| Error::Kubeconfig {
            path: path.clone(),
            source,
        })?;
        kubetrust_fs::write_new(&path, yaml.as_bytes(), Mode::PRIVATE)?;
        let csr = csr_path(&path);
        kubetrust_fs::write_new(&csr, request.to_pem().as_bytes(), Mode::PRIVATE)?;
        items.push(CsrItem {
            name: spec.file_name.to_owned(),
            csr_path: csr,
        });
    }
    Ok(items)
}

fn partial_kubeconfig(spec: &KubeconfigSpec, config: &TreeConfig, key: &PrivateKey) -> Result<Config, Error> {
    let endpoint = ClusterEndpoint::new(spec.server_url(config)?, Vec::new()).with_name(&config.cluster_name);
    let credentials = ClientCredentials::EmbeddedCertificate {
        certificate_pem: Vec::new(),
        key_pem: SecretBytes::new(key.to_pem().as_bytes().to_vec()),
    };
    Ok(Config::for_user(
        &endpoint,
        &spec.client_name(config),
        credentials,
    ))
}

/// `<file>.csr` next to `<file>.crt` (or `<name>.conf.csr` next to a kubeconfig).
fn csr_path(path: &Path) -> PathBuf {
    let mut csr = path.to_owned();
    if csr.extension().is_some_and(|e| e == "crt") {
        csr.set_extension("csr");
    } else {
        csr.as_mut_os_string().push(".csr");
    }
    csr
}

/// Checks the externally signed certificates against the config and completes the
/// kubeconfig files. Leaves: `<base>.crt` must exist, match `<base>.key`, chain to its CA's
/// `.crt`, carry the expected subject and usages and cover the required SANs. Kubeconfigs:
/// the signed client certificate comes from `<file>.crt` beside the kubeconfig (or is already
/// embedded); after the same checks it is embedded with the cluster CA. Every problem is
/// reported; kubeconfigs are only rewritten when there are none.
pub fn import_signed(cert_dir: &Path, kubeconfig_dir: &Path, config: &TreeConfig) -> Result<(), Error> {
    let mut problems = Vec::new();
    let ca_bundle = |name: &str| -> Result<Vec<Certificate>, String> {
        let spec = CertSpec::by_name(name).ok_or_else(|| format!("unknown CA {name}"))?;
        let path = spec.cert_path(cert_dir);
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read CA {}: {e}", path.display()))?;
        Certificate::chain_from_pem(&bytes).map_err(|e| format!("CA {}: {e}", path.display()))
    };
    for spec in CertSpec::for_config(config).iter().filter(|s| !s.is_ca()) {
        let checked = (|| {
            let key = read_key(&spec.key_path(cert_dir))?;
            let path = spec.cert_path(cert_dir);
            let bytes =
                std::fs::read(&path).map_err(|e| format!("signed certificate {}: {e}", path.display()))?;
            let chain =
                Certificate::chain_from_pem(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            let (alt_names, _) = spec.alt_names(config).map_err(|e| e.to_string())?;
            let expected = Expected {
                subject: spec.subject(config),
                usages: spec.usages(),
                alt_names: &alt_names,
            };
            check_signed(&chain, &key, &ca_bundle(spec.ca.unwrap_or_default())?, &expected)
        })();
        if let Err(problem) = checked {
            problems.push(format!("{}: {problem}", spec.name));
        }
    }
    let mut completed = Vec::new();
    let cluster_ca = ca_bundle("ca");
    for spec in &KUBECONFIG_FILES {
        let path = kubeconfig_dir.join(spec.file_name);
        let checked = (|| {
            let ca = cluster_ca.clone()?;
            let mut kubeconfig = Config::from_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let user_name = spec.client_name(config);
            let user = kubeconfig
                .users
                .iter_mut()
                .find(|u| u.name == user_name)
                .ok_or_else(|| format!("{}: no user {user_name:?}", path.display()))?;
            let signed_file = path.with_extension("conf.crt");
            let cert_pem = match std::fs::read(&signed_file) {
                Ok(pem) => pem,
                Err(_) if !user.user.client_certificate_data.is_empty() => {
                    user.user.client_certificate_data.clone()
                }
                Err(e) => return Err(format!("signed certificate {}: {e}", signed_file.display())),
            };
            let key = PrivateKey::from_pem(user.user.client_key_data.expose_secret())
                .map_err(|e| format!("{}: client-key-data: {e}", path.display()))?;
            let chain = Certificate::chain_from_pem(&cert_pem)
                .map_err(|e| format!("{}: {e}", signed_file.display()))?;
            let expected = Expected {
                subject: spec.subject(config),
                usages: &[crate::ExtKeyUsage::ClientAuth],
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
        })();
        match checked {
            Ok(kubeconfig) => completed.push((path, kubeconfig)),
            Err(problem) => problems.push(format!("{}: {problem}", spec.file_name)),
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

struct Expected<'a> {
    subject: crate::Subject,
    usages: &'a [crate::ExtKeyUsage],
    alt_names: &'a AltNames,
}

fn check_signed(
    chain: &[Certificate],
    key: &PrivateKey,
    ca: &[Certificate],
    expected: &Expected<'_>,
) -> Result<(), String> {
    let (cert, intermediates) = chain.split_first().ok_or("empty certificate file")?;
    if !cert.matches_key(key) {
        return Err("the certificate is not for the generated key".into());
    }
    if !verify_chain(cert, intermediates, ca) {
        return Err("not signed by the expected CA".into());
    }
    let subject = cert.subject();
    if subject.common_name != expected.subject.common_name {
        return Err(format!(
            "CN is {:?}, want {:?}",
            subject.common_name, expected.subject.common_name
        ));
    }
    let (mut have, mut want) = (
        subject.organizations.clone(),
        expected.subject.organizations.clone(),
    );
    have.sort();
    want.sort();
    if have != want {
        return Err(format!("O is {have:?}, want {want:?}"));
    }
    let usages = cert.ext_key_usages();
    if let Some(missing) = expected.usages.iter().find(|u| !usages.contains(u)) {
        return Err(format!("extended key usage {missing:?} missing"));
    }
    if let Some(missing) = first_uncovered(cert, expected.alt_names) {
        return Err(format!("not valid for {missing}"));
    }
    Ok(())
}
