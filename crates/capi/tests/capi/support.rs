//! openssl for certificates in Cluster API's shape and for independent checks.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Whether openssl can run here; a missing one skips (with the reason), except under CI.
pub(crate) fn have_openssl() -> bool {
    match Command::new("openssl").arg("version").output() {
        Ok(out) if out.status.success() => true,
        _ if std::env::var("CI").as_deref() == Ok("true") => panic!("openssl is required under CI=true"),
        _ => {
            eprintln!("skipping: openssl not found on PATH");
            false
        }
    }
}

/// Runs openssl in `dir`, failing the test with its stderr.
pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A CA exactly as Cluster API's `newSelfSignedCACert` makes it: RSA-2048 (`RSA PRIVATE
/// KEY`), CN `kubernetes`, serial 0, CA:TRUE with pathlen 0, keyEncipherment |
/// digitalSignature | keyCertSign. Returns (certificate PEM, key PEM).
pub(crate) fn capi_ca(dir: &Path, name: &str) -> (Vec<u8>, Vec<u8>) {
    let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
    openssl(dir, &["genrsa", "-traditional", "-out", &key, "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-key",
            &key,
            "-out",
            &crt,
            "-subj",
            "/CN=kubernetes",
            "-days",
            "3650",
            "-set_serial",
            "0",
            "-addext",
            "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext",
            "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        ],
    );
    (
        std::fs::read(dir.join(crt)).unwrap(),
        std::fs::read(dir.join(key)).unwrap(),
    )
}

/// A service-account pair as Cluster API makes it: (`PUBLIC KEY` PEM, `RSA PRIVATE KEY` PEM).
pub(crate) fn capi_sa(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    openssl(dir, &["genrsa", "-traditional", "-out", "sa.key", "2048"]);
    openssl(dir, &["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
    (
        std::fs::read(dir.join("sa.pub")).unwrap(),
        std::fs::read(dir.join("sa.key")).unwrap(),
    )
}

/// A Secret with the given name and data, as a user or an older Cluster API would create it.
pub(crate) fn secret(name: &str, data: &[(&str, &[u8])]) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), ByteString(v.to_vec())))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Secret::default()
    }
}

/// The four Secrets of cluster `c1` in Cluster API's own shape, made by openssl.
pub(crate) fn capi_secrets(dir: &Path) -> Vec<Secret> {
    let ca = capi_ca(dir, "ca");
    let etcd = capi_ca(dir, "etcd");
    let proxy = capi_ca(dir, "proxy");
    let sa = capi_sa(dir);
    vec![
        secret("c1-ca", &[("tls.crt", &ca.0), ("tls.key", &ca.1)]),
        secret("c1-etcd", &[("tls.crt", &etcd.0), ("tls.key", &etcd.1)]),
        secret("c1-proxy", &[("tls.crt", &proxy.0), ("tls.key", &proxy.1)]),
        secret("c1-sa", &[("tls.crt", &sa.0), ("tls.key", &sa.1)]),
    ]
}

/// The bytes of one data key of one Secret.
pub(crate) fn data<'a>(secrets: &'a [Secret], name: &str, key: &str) -> &'a [u8] {
    let secret = secrets
        .iter()
        .find(|s| s.metadata.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no Secret {name}"));
    &secret.data.as_ref().unwrap()[key].0
}

/// Replaces (or, with `None`, removes) one data key of one Secret.
pub(crate) fn set_data(secrets: &mut [Secret], name: &str, key: &str, value: Option<&[u8]>) {
    let secret = secrets
        .iter_mut()
        .find(|s| s.metadata.name.as_deref() == Some(name))
        .unwrap();
    let data = secret.data.get_or_insert_with(BTreeMap::new);
    match value {
        Some(v) => data.insert(key.to_owned(), ByteString(v.to_vec())),
        None => data.remove(key),
    };
}
