//! CSRs and the external-CA workflow: generate-csr layout, an outside CA signs, import checks.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::Path;
use std::time::SystemTime;

use common::{mode, openssl_ok};
use kubetrust_pki::external::{self, CsrItem, ImportProblem};
use kubetrust_pki::kubeconfigs::KubeconfigSpec;
use kubetrust_pki::tree::{self, Action, CertSpec, TreeConfig};
use kubetrust_pki::{
    AltNames, CertificateAuthority, CertificateRequest, Dirs, Error, ExtKeyUsage, KeyAlgorithm, PrivateKey,
    RequestPolicy, Subject, Validity,
};

fn config() -> TreeConfig {
    TreeConfig::new("cp-1", "192.168.10.11".parse().unwrap())
        .with_control_plane_endpoint("k8s-api.example.test:6443")
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256)
}

fn policy(subject: Option<Subject>, allowed: Option<AltNames>) -> RequestPolicy {
    let validity = Validity::kubeadm(SystemTime::now(), kubetrust_pki::CERTIFICATE_VALIDITY);
    let mut policy = RequestPolicy::new(vec![ExtKeyUsage::ClientAuth], validity);
    policy.subject = subject;
    policy.allowed_alt_names = allowed;
    policy
}

#[test]
fn our_requests_verify_in_openssl_and_parse_back() {
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let subject = Subject::new("system:node:cp-1").with_organization("system:nodes");
    let mut names = AltNames::default();
    names.add_dns("cp-1");
    names.add_ip("10.0.0.1".parse().unwrap());
    let request = CertificateRequest::new(&subject, &names, &key).unwrap();
    let parsed = CertificateRequest::from_pem(request.to_pem().as_bytes()).unwrap();
    assert_eq!(parsed.subject(), &subject);
    assert_eq!(parsed.alt_names(), &names);
    assert_eq!(parsed.public_key_der(), key.public_key_der());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.csr");
    std::fs::write(&path, request.to_pem()).unwrap();
    let Some(text) = openssl_ok(&["req", "-in", path.to_str().unwrap(), "-noout", "-verify", "-text"]) else {
        return;
    };
    assert!(
        text.contains("Subject: O = system:nodes, CN = system:node:cp-1"),
        "{text}"
    );
    assert!(text.contains("DNS:cp-1, IP Address:10.0.0.1"), "{text}");
    assert!(!text.contains("Key Usage"), "no usages requested: {text}");
}

#[test]
fn a_tampered_request_fails_its_self_signature() {
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let request = CertificateRequest::new(&Subject::new("x"), &AltNames::default(), &key).unwrap();
    let mut der = kubetrust_pki_der(&request);
    // Flip a byte inside the subject CN ("x").
    let at = der.iter().position(|b| *b == b'x').unwrap();
    der[at] = b'y';
    let err = CertificateRequest::from_der(&der).unwrap_err();
    assert!(
        err.to_string().contains("the self-signature does not verify"),
        "{err}"
    );
}

fn kubetrust_pki_der(request: &CertificateRequest) -> Vec<u8> {
    let pem = request.to_pem();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[test]
fn the_policy_not_the_request_decides_ca_flag_and_usages() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let csr = dir.path().join("r.csr");
    let Some(_) = openssl_ok(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        key.to_str().unwrap(),
    ]) else {
        return;
    };
    openssl_ok(&[
        "req",
        "-new",
        "-key",
        key.to_str().unwrap(),
        "-out",
        csr.to_str().unwrap(),
        "-subj",
        "/O=system:nodes/CN=system:node:n1",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-addext",
        "subjectAltName=DNS:n1,IP:10.0.0.5",
    ]);
    let request = CertificateRequest::from_pem(&std::fs::read(&csr).unwrap()).unwrap();
    let ca =
        CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap();

    let mut allowed = AltNames::default();
    allowed.add_dns("n1");
    allowed.add_ip("10.0.0.5".parse().unwrap());
    let expected = Subject::new("system:node:n1").with_organization("system:nodes");
    let cert = ca
        .issue_for_request(&request, &policy(Some(expected), Some(allowed)))
        .unwrap();
    assert!(
        !cert.is_ca(),
        "the request asked for CA:TRUE; the policy never grants it"
    );
    assert_eq!(cert.ext_key_usages(), [ExtKeyUsage::ClientAuth]);
    assert_eq!(cert.dns_names(), ["n1"]);

    let err = ca.issue_for_request(&request, &policy(None, None)).unwrap_err();
    assert!(
        matches!(&err, Error::RequestRejected { reason, .. } if reason == "SAN DNS name \"n1\" is not allowed"),
        "{err}"
    );
    let err = ca
        .issue_for_request(&request, &policy(Some(Subject::new("system:node:n2")), None))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is not the expected CN=\"system:node:n2\""),
        "{err}"
    );
}

/// An outside CA: signs every CSR of the layout with the right profile.
fn sign_everything(
    pki: &Path,
    kdir: &Path,
    items: &[CsrItem],
    cas: &[(&str, CertificateAuthority)],
    skip_san: Option<&str>,
) {
    for item in items {
        let request = CertificateRequest::from_pem(&std::fs::read(&item.csr_path).unwrap()).unwrap();
        let (ca_name, usages) = match CertSpec::by_name(&item.name) {
            Some(spec) => (spec.issuer().name, spec.usages().to_vec()),
            None => ("ca", vec![ExtKeyUsage::ClientAuth]),
        };
        let ca = &cas.iter().find(|(n, _)| *n == ca_name).unwrap().1;
        let mut names = request.alt_names().clone();
        if skip_san == Some(item.name.as_str()) {
            names = AltNames::from_parts(
                names.dns_names().into_iter().skip(1),
                names.ip_addresses().to_vec(),
            );
        }
        let validity = Validity::kubeadm(SystemTime::now(), kubetrust_pki::CERTIFICATE_VALIDITY);
        let profile = kubetrust_pki::CertProfile::client(request.subject().clone(), SystemTime::now())
            .with_usages(usages)
            .with_validity(validity)
            .with_alt_names(names);
        let cert = ca.issue(&profile, request.public_key_der()).unwrap();
        let out = match CertSpec::by_name(&item.name) {
            Some(spec) => spec.cert_path(pki),
            None => kdir.join(format!("{}.crt", item.name)),
        };
        std::fs::write(out, cert.to_pem()).unwrap();
    }
}

#[test]
fn generate_csr_sign_outside_import_then_the_tree_is_external_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (pki, kdir) = (dir.path().join("pki"), dir.path().join("kube"));
    let items = external::generate_csrs(&Dirs::new(&pki, &kdir), &config()).unwrap();
    assert_eq!(items.len(), 7 + 5);
    assert_eq!(mode(&pki.join("apiserver.key")), 0o600);
    assert_eq!(mode(&pki.join("etcd/server.csr")), 0o600);
    assert_eq!(mode(&kdir.join("admin.conf.csr")), 0o600);
    let partial = std::fs::read_to_string(kdir.join("admin.conf")).unwrap();
    assert!(
        partial.contains("client-key-data") && !partial.contains("client-certificate-data"),
        "{partial}"
    );

    let err = external::generate_csrs(&Dirs::new(&pki, &kdir), &config()).unwrap_err();
    assert!(
        matches!(&err, Error::CsrTargetsExist { existing, .. } if existing.len() == 7 + 2 * 5),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains("file already exists: key or CSR") && err.contains("file already exists: kube config"),
        "{err}"
    );

    // The outside CA: three CAs whose keys never reach the node.
    let now = SystemTime::now();
    let cas: Vec<(&str, CertificateAuthority)> = ["ca", "front-proxy-ca", "etcd-ca"]
        .into_iter()
        .map(|name| {
            let cn = CertSpec::by_name(name).unwrap().common_name(&config());
            (
                name,
                CertificateAuthority::generate(&cn, KeyAlgorithm::EcdsaP256, now).unwrap(),
            )
        })
        .collect();
    for (name, ca) in &cas {
        std::fs::write(CertSpec::by_name(name).unwrap().cert_path(&pki), ca.bundle_pem()).unwrap();
    }
    sign_everything(&pki, &kdir, &items, &cas, Some("apiserver"));
    let err = external::import_signed(&Dirs::new(&pki, &kdir), &config()).unwrap_err();
    assert!(
        matches!(&err, Error::ExternalCaInvalid { problems }
            if matches!(problems.as_slice(), [("apiserver", ImportProblem::MissingSan(_))])),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("apiserver: not valid for"), "{err}");
    assert!(
        !std::fs::read_to_string(kdir.join("admin.conf"))
            .unwrap()
            .contains("client-certificate-data"),
        "nothing written"
    );

    sign_everything(&pki, &kdir, &items, &cas, None);
    external::import_signed(&Dirs::new(&pki, &kdir), &config()).unwrap();
    let admin = kubetrust_kubeconfig::Config::from_file(kdir.join("admin.conf")).unwrap();
    assert!(!admin.users[0].user.client_certificate_data.is_empty());
    assert_eq!(
        admin.clusters[0].cluster.certificate_authority_data,
        cas[0].1.certificate().to_pem().into_bytes()
    );
    assert!(KubeconfigSpec::by_file_name("admin.conf").is_some());

    // sa is the node's own; the rest is external CA material kubeadm accepts.
    let plan = tree::plan(&pki, &config(), now).unwrap();
    for item in &plan.items {
        let fits = match item.name {
            "ca" | "front-proxy-ca" | "etcd-ca" => matches!(item.action, Action::ExternalCa),
            "sa" => matches!(item.action, Action::Create),
            _ => matches!(item.action, Action::Reuse),
        };
        assert!(fits, "{}: {:?}", item.name, item.action);
    }
}
