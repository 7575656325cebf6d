//! Loading: client-go's lenient rules, and one precise error for each kind of bad input.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use kubetrust_kubeconfig::{Config, Error, Source};

fn load(text: &str) -> Result<Config, Error> {
    Config::from_bytes(text.as_bytes())
}

#[test]
fn empty_and_comment_only_documents_are_empty_configs() {
    for text in ["", "\n", "# nothing\n", "---\n", "null"] {
        assert_eq!(load(text).unwrap(), Config::default(), "{text:?}");
    }
    assert_eq!(
        Config::default().to_yaml().unwrap(),
        "apiVersion: v1\nclusters: null\ncontexts: null\ncurrent-context: \"\"\nkind: Config\nusers: null\n"
    );
}

#[test]
fn json_and_yaml_load_to_the_same_model() {
    let yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://c:6443\n    insecure-skip-tls-verify: true\n";
    let json = r#"{"apiVersion":"v1","kind":"Config","clusters":[{"name":"c","cluster":{"server":"https://c:6443","insecure-skip-tls-verify":true}}]}"#;
    let from_yaml = load(yaml).unwrap();
    assert_eq!(from_yaml, load(json).unwrap());
    assert!(from_yaml.clusters[0].cluster.insecure_skip_tls_verify);
}

#[test]
fn unknown_fields_survive_load_and_save_at_every_level() {
    let text = "bogusTop: {a: [1, 2]}\npreferences: {colors: true, theme: dark}\n\
        clusters: [{name: c, extra: 1, cluster: {server: s, flavour: x}}]\n\
        users: [{name: u, user: {exec: {command: c, newField: true, env: [{name: A, value: b, secretRef: r}]}, future: 2}}]\n\
        contexts: [{name: x, context: {cluster: c, user: u, color: blue}}]\n";
    let config = load(text).unwrap();
    assert_eq!(
        config.unknown_fields["bogusTop"],
        serde_json::json!({"a": [1, 2]})
    );
    assert_eq!(config.clusters[0].cluster.unknown_fields["flavour"], "x");
    let saved = config.to_yaml().unwrap();
    for field in [
        "bogusTop:",
        "theme: dark",
        "extra: 1",
        "flavour: x",
        "newField: true",
        "secretRef: r",
        "future: 2",
        "color: blue",
    ] {
        assert!(saved.contains(field), "{field} lost:\n{saved}");
    }
    assert_eq!(load(&saved).unwrap(), config);
}

#[test]
fn nulls_are_zero_values_like_in_go() {
    let config = load("clusters: null\nusers: [{name: u, user: null}]\ncurrent-context: null\n").unwrap();
    assert!(config.clusters.is_empty());
    assert_eq!(config.users[0].name, "u");
    assert_eq!(config.current_context, "");
}

#[test]
fn malformed_yaml_names_the_position() {
    let err = load("clusters: [\n").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Syntax {
                source_name: Source::Bytes,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("line"), "{err}");
}

#[test]
fn malformed_json_is_a_syntax_error() {
    let err = load("{\"clusters\": [}").unwrap_err();
    assert!(matches!(err, Error::Syntax { .. }), "{err:?}");
}

#[test]
fn a_document_that_is_not_a_mapping_is_refused() {
    let err = load("- a\n- b\n").unwrap_err();
    assert!(
        matches!(err, Error::NotAMapping { found: "a list", .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_types_name_the_field() {
    let err = load("clusters: [{name: a, cluster: {server: https://a, insecure-skip-tls-verify: maybe}}]")
        .unwrap_err();
    let Error::Field { field, message, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field, "clusters[0].cluster.insecure-skip-tls-verify");
    assert!(message.contains("boolean"), "{message}");

    let err = load("users: [{name: u, user: {as-groups: admin}}]").unwrap_err();
    assert!(
        matches!(&err, Error::Field { field, .. } if field == "users[0].user.as-groups"),
        "{err:?}"
    );
}

#[test]
fn type_errors_on_credentials_do_not_echo_the_value() {
    let err = load("users: [{name: u, user: {password: 123456}}]").unwrap_err();
    assert!(
        matches!(&err, Error::Field { field, .. } if field == "users[0].user.password"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("123456"), "{err}");
    let err = load("users: [{name: u, user: {token: 'abc', as: 7}}]\nbad: [").unwrap_err();
    assert!(
        !err.to_string().contains("abc"),
        "YAML errors must not quote the source: {err}"
    );
}

#[test]
fn bad_base64_names_the_field_and_offset() {
    let err = load("users: [{name: u, user: {client-key-data: 'ab!c'}}]").unwrap_err();
    let Error::InvalidBase64 { field, reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(field, "users[0].user.client-key-data");
    assert_eq!(reason, "illegal base64 data at input byte 2");
    assert!(!err.to_string().contains("ab!c"), "key material echoed: {err}");
}

#[test]
fn duplicate_names_are_refused() {
    let err = load("contexts: [{name: a, context: {}}, {name: a, context: {}}]").unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateName { list, name, .. } if list == "contexts" && name == "a"),
        "{err:?}"
    );
    let err = load("users: [{user: {}}, {name: null, user: {}}]").unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateName { list, name, .. } if list == "users" && name.is_empty()),
        "{err:?}"
    );
}

#[test]
fn duplicate_extension_names_are_refused_in_every_list() {
    let twice = "extensions: [{name: e, extension: {}}, {name: e, extension: {}}]";
    for (document, list) in [
        (twice.to_owned(), "extensions"),
        (format!("preferences: {{{twice}}}"), "preferences.extensions"),
        (
            format!("clusters: [{{name: c, cluster: {{{twice}}}}}]"),
            "clusters[0].cluster.extensions",
        ),
        (
            format!("users: [{{name: u, user: {{{twice}}}}}]"),
            "users[0].user.extensions",
        ),
        (
            format!("contexts: [{{name: a, context: {{}}}}, {{name: b, context: {{{twice}}}}}]"),
            "contexts[1].context.extensions",
        ),
    ] {
        let err = load(&document).unwrap_err();
        assert!(
            matches!(&err, Error::DuplicateName { list: l, name, .. } if l == list && name == "e"),
            "{document}: {err:?}"
        );
    }
    load("extensions: [{name: e, extension: {}}, {name: f, extension: {}}]").unwrap();
}

#[test]
fn a_repeated_mapping_key_keeps_the_last_value_as_kubectl_does() {
    let config = load("users:\n- name: u\n  user:\n    token: first\n    token: second\n").unwrap();
    assert_eq!(config.users[0].user.token.expose_secret(), "second");
}

#[test]
fn other_api_versions_and_kinds_are_refused() {
    let err = load("apiVersion: v2\n").unwrap_err();
    assert!(
        matches!(&err, Error::Field { field, .. } if field == "apiVersion"),
        "{err:?}"
    );
    assert!(err.to_string().contains("\"v2\""));
    let err = load("kind: Pod\n").unwrap_err();
    assert!(
        matches!(&err, Error::Field { field, .. } if field == "kind"),
        "{err:?}"
    );
}

#[test]
fn non_utf8_input_is_refused() {
    let err = Config::from_bytes(b"clusters: \xff\xfe").unwrap_err();
    assert!(matches!(err, Error::NotUtf8 { offset: 10, .. }), "{err:?}");
}

#[test]
fn file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.conf");
    let err = Config::from_file(&missing).unwrap_err();
    assert!(
        matches!(&err, Error::Read { path, .. } if *path == missing),
        "{err:?}"
    );

    let err = Config::from_file(dir.path()).unwrap_err();
    assert!(matches!(err, Error::IsADirectory { .. }), "{err:?}");

    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "kind: [").unwrap();
    let err = Config::from_file(&bad).unwrap_err();
    assert!(err.to_string().contains("bad.conf"), "{err}");
}

#[test]
fn kubeconfig_lists_merge_first_definition_wins() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::write(
        &a,
        "clusters: [{name: shared, cluster: {server: https://from-a}}]\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "current-context: ctx\nclusters: [{name: shared, cluster: {server: https://from-b}}, {name: only-b, cluster: {server: https://b}}]\n",
    )
    .unwrap();
    let merged = Config::from_files(&[a.clone(), dir.path().join("absent"), b, a]).unwrap();
    assert_eq!(merged.cluster("shared").unwrap().cluster.server, "https://from-a");
    assert_eq!(merged.cluster("only-b").unwrap().cluster.server, "https://b");
    assert_eq!(merged.current_context, "ctx");
}

#[test]
fn saved_files_are_private_and_round_trip() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.conf");
    let config = load("users: [{name: u, user: {token: t, password: p}}]").unwrap();
    config.save(&path).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(Config::from_file(&path).unwrap(), config);
    let debug = format!("{config:?}");
    assert!(
        debug.contains("[redacted]") && !debug.contains("\"t\"") && !debug.contains("\"p\""),
        "{debug}"
    );
}

#[test]
fn control_characters_are_refused_as_kubectl_refuses_them() {
    for (text, code) in [
        ("users: [{name: u, user: {token: \"a\u{7f}b\"}}]", "U+007F"),
        ("{\"current-context\": \"\u{1}\"}", "U+0001"),
        ("kind: Config\ncurrent-context: x\u{9f}\n", "U+009F"),
    ] {
        let err = load(text).unwrap_err();
        assert!(matches!(err, Error::Syntax { .. }), "{err:?}");
        assert!(err.to_string().contains(code), "{err}");
    }
    let err = load("kind: Config\ncurrent-context: x\u{fffe}\n").unwrap_err();
    assert!(err.to_string().contains("line 2, column 19"), "{err}");
    // Tabs, NEL, BOM and characters beyond the BMP are fine.
    load("\u{feff}current-context: \"a\tb\u{85}c \u{1F600}\"\n").unwrap();
}
