//! Resolving contexts, relative paths, minify and flatten.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use kubetrust_kubeconfig::{Config, Error};

const CERT: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";
const KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nBAUG\n-----END EC PRIVATE KEY-----\n";

/// A kubeconfig in `<dir>/sub/config` that references files relative to `<dir>/sub`.
fn fixture(dir: &Path) -> std::path::PathBuf {
    let sub = dir.join("sub");
    std::fs::create_dir_all(sub.join("certs")).unwrap();
    std::fs::write(sub.join("certs/ca.crt"), CERT).unwrap();
    std::fs::write(sub.join("certs/client.crt"), CERT).unwrap();
    std::fs::write(sub.join("certs/client.key"), KEY).unwrap();
    std::fs::write(sub.join("certs/token"), "abcdef.0123456789abcdef\n").unwrap();
    let path = sub.join("config");
    std::fs::write(
        &path,
        "clusters:\n\
         - {name: c1, cluster: {server: 'https://c1:6443', certificate-authority: certs/ca.crt}}\n\
         - {name: c2, cluster: {server: 'https://c2:6443'}}\n\
         users:\n\
         - {name: u1, user: {client-certificate: certs/client.crt, client-key: certs/client.key, tokenFile: certs/token}}\n\
         - {name: u2, user: {exec: {command: ./bin/helper, apiVersion: client.authentication.k8s.io/v1}}}\n\
         contexts:\n\
         - {name: one, context: {cluster: c1, user: u1, namespace: kube-system}}\n\
         - {name: two, context: {cluster: c2, user: u2}}\n\
         - {name: broken, context: {cluster: nowhere, user: u1}}\n\
         - {name: nouser, context: {cluster: c1, user: nobody}}\n\
         current-context: one\n",
    )
    .unwrap();
    path
}

#[test]
fn resolve_reads_relative_files_from_the_kubeconfigs_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(fixture(dir.path())).unwrap();
    let resolved = config.resolve(None).unwrap();
    assert_eq!(resolved.context_name, "one");
    assert_eq!(resolved.namespace, "kube-system");
    assert_eq!(resolved.cluster.certificate_authority_data, CERT.as_bytes());
    assert!(resolved.cluster.certificate_authority.is_empty());
    assert_eq!(resolved.user.client_certificate_data, CERT.as_bytes());
    assert_eq!(resolved.user.client_key_data.expose_secret(), KEY.as_bytes());
    assert_eq!(resolved.user.token.expose_secret(), "abcdef.0123456789abcdef");
    assert_eq!(
        Path::new(&resolved.user.token_file),
        dir.path().join("sub/certs/token")
    );
}

#[test]
fn resolve_makes_a_path_like_exec_command_absolute() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(fixture(dir.path())).unwrap();
    let resolved = config.resolve(Some("two")).unwrap();
    let exec = resolved.user.exec.unwrap();
    assert_eq!(Path::new(&exec.command), dir.path().join("sub/./bin/helper"));
}

#[test]
fn unknown_context_cluster_and_user_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(fixture(dir.path())).unwrap();
    let err = config.resolve(Some("three")).unwrap_err();
    let Error::UnknownContext { name, available } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(name, "three");
    assert_eq!(available, &["one", "two", "broken", "nouser"]);
    assert!(
        matches!(config.resolve(Some("broken")), Err(Error::UnknownCluster { cluster, .. }) if cluster == "nowhere")
    );
    assert!(
        matches!(config.resolve(Some("nouser")), Err(Error::UnknownUser { user, .. }) if user == "nobody")
    );
    assert!(matches!(
        Config::default().resolve(None),
        Err(Error::NoCurrentContext)
    ));
}

#[test]
fn missing_referenced_file_and_directory_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(dir.path());
    std::fs::remove_file(dir.path().join("sub/certs/client.key")).unwrap();
    let config = Config::from_file(&path).unwrap();
    let err = config.resolve(None).unwrap_err();
    assert!(
        matches!(&err, Error::ReferencedFile { field: "client-key", path, .. } if path.ends_with("certs/client.key")),
        "{err:?}"
    );

    std::fs::create_dir(dir.path().join("sub/certs/client.key")).unwrap();
    let err = config.resolve(None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ReferencedDirectory {
                field: "client-key",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn certificate_data_is_checked() {
    let bad_ca = "clusters: [{name: c, cluster: {server: s, certificate-authority-data: aGVsbG8=}}]\n\
                  users: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
    let err = Config::from_bytes(bad_ca.as_bytes())
        .unwrap()
        .resolve(None)
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidPem { field: "certificate-authority", owner, .. } if owner == "c"),
        "{err:?}"
    );

    let half = "clusters: [{name: c, cluster: {server: s}}]\n\
                users: [{name: u, user: {client-certificate-data: aGVsbG8=}}]\n\
                contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n";
    let err = Config::from_bytes(half.as_bytes())
        .unwrap()
        .resolve(None)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::IncompleteClientCertificate {
                missing: "client-key",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn minify_keeps_one_context_and_flatten_embeds_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(fixture(dir.path())).unwrap();
    let mut minified = config.minify(None).unwrap();
    assert_eq!(minified.contexts.len(), 1);
    assert_eq!(minified.clusters.len(), 1);
    assert_eq!(minified.users[0].name, "u1");
    minified.flatten().unwrap();
    let user = &minified.users[0].user;
    assert_eq!(user.client_certificate_data, CERT.as_bytes());
    assert!(user.client_certificate.is_empty() && user.client_key.is_empty());
    assert_eq!(
        user.token_file, "certs/token",
        "kubectl keeps tokenFile as written"
    );
    assert_eq!(
        minified.clusters[0].cluster.certificate_authority_data,
        CERT.as_bytes()
    );

    let two = config.minify(Some("two")).unwrap();
    assert_eq!(two.current_context, "two");
    assert!(matches!(
        Config::default().minify(None),
        Err(Error::NoCurrentContext)
    ));
}

#[test]
fn minify_refuses_what_client_go_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_file(fixture(dir.path())).unwrap();
    assert!(
        matches!(config.minify(Some("broken")), Err(Error::UnknownCluster { context, cluster }) if context == "broken" && cluster == "nowhere")
    );
    assert!(
        matches!(config.minify(Some("nouser")), Err(Error::UnknownUser { context, user }) if context == "nouser" && user == "nobody")
    );
    assert!(
        matches!(config.minify(Some("ghost")), Err(Error::UnknownContext { name, .. }) if name == "ghost")
    );
    // An empty --context is no --context.
    assert_eq!(config.minify(Some("")).unwrap().current_context, "one");
}

#[test]
fn minify_keeps_no_cluster_or_user_for_an_empty_name() {
    let config = Config::from_bytes(
        b"clusters: [{name: '', cluster: {server: 'https://x'}}]\n\
          users: [{name: '', user: {token: t}}]\n\
          contexts: [{name: bare, context: {}}]\n",
    )
    .unwrap();
    let minified = config.minify(Some("bare")).unwrap();
    assert!(minified.clusters.is_empty() && minified.users.is_empty());
    assert_eq!(minified.contexts.len(), 1);
}

#[test]
fn flatten_refuses_a_path_next_to_data() {
    let cases = [
        (
            "clusters: [{name: c, cluster: {certificate-authority: ca.crt, certificate-authority-data: QUJD}}]",
            "certificate-authority",
            "c",
        ),
        (
            "users: [{name: u, user: {client-certificate: a.crt, client-certificate-data: QUJD}}]",
            "client-certificate",
            "u",
        ),
        (
            "users: [{name: u, user: {client-key: a.key, client-key-data: QUJD}}]",
            "client-key",
            "u",
        ),
    ];
    for (document, expected_field, expected_owner) in cases {
        let mut config = Config::from_bytes(document.as_bytes()).unwrap();
        let err = config.flatten().unwrap_err();
        assert!(
            matches!(&err, Error::PathAndData { field, owner } if *field == expected_field && owner == expected_owner),
            "{document}: {err:?}"
        );
        let shown = err.to_string();
        assert!(
            shown.contains(expected_field) && shown.contains(expected_owner),
            "{shown}"
        );
    }
}

#[test]
fn flatten_embeds_any_content_and_names_a_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.crt"), "not PEM at all").unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        "clusters: [{name: c, cluster: {certificate-authority: ca.crt}}]\n\
         users: [{name: u, user: {client-key: missing.key}}]\n",
    )
    .unwrap();
    let mut config = Config::from_file(&path).unwrap();
    let err = config.flatten().unwrap_err();
    assert!(
        matches!(&err, Error::ReferencedFile { field: "client-key", path, .. } if path.ends_with("missing.key")),
        "{err:?}"
    );
    config.users.clear();
    config.flatten().unwrap();
    assert_eq!(
        config.clusters[0].cluster.certificate_authority_data,
        b"not PEM at all"
    );
}
