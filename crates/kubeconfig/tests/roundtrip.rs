//! Property: any config survives save → load unchanged, as YAML and as JSON.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use kubetrust_kubeconfig::{
    AuthInfo, AuthProviderConfig, Cluster, Config, Context, ExecConfig, ExecEnvVar, NamedAuthInfo,
    NamedCluster, NamedContext, NamedExtension, Preferences, SecretBytes, SecretString,
};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::Value;

/// Strings a YAML writer can get wrong: reserved words, numbers, indicators, any character.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        2 => "[a-z0-9:@./_-]{0,24}",
        1 => prop::sample::select(vec![
            "", "true", "no", "y", "~", "null", "123", "0x1f", "1.5", "-", "- a", "---", "a: b", "#c",
            " lead", "trail ", "multi\nline", "tab\there", "\"quoted\"", "'single'", "\u{2028}", "\u{85}x",
            "\u{feff}bom", "é", "*alias", "&anchor", "!tag", "%", "@", "`", "{a}", "[b]", "<<", ".inf", "-.5",
            "nO", "yES", "0O17", "017", "1_0",
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Floats must come back bit for bit (serde_json's float_roundtrip; fuzzing found a
        // one-ULP drift without it). Whole ones print as integers, as client-go prints them,
        // and so come back as integers.
        any::<f64>()
            .prop_filter("finite, not whole", |f| f.is_finite()
                && (f.fract() != 0.0 || f.abs() >= 1e21))
            .prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields, with keys that cannot collide with the schema's.
fn unknown() -> impl Strategy<Value = BTreeMap<String, Value>> {
    btree_map(text().prop_map(|k| format!("x-{k}")), json_value(), 0..2)
}

fn extensions() -> impl Strategy<Value = Vec<NamedExtension>> {
    vec((text(), json_value(), unknown()), 0..2).prop_map(|items| {
        items
            .into_iter()
            .map(|(name, extension, unknown_fields)| {
                let mut e = NamedExtension::default();
                (e.name, e.extension, e.unknown_fields) = (name, extension, unknown_fields);
                e
            })
            .collect()
    })
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..64)
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        (text(), text(), any::<bool>(), text(), bytes()),
        (text(), any::<bool>(), extensions(), unknown()),
    )
        .prop_map(
            |((server, tls, insecure, ca, ca_data), (proxy, nocompress, extensions, unknown_fields))| {
                let mut c = Cluster::default();
                (
                    c.server,
                    c.tls_server_name,
                    c.insecure_skip_tls_verify,
                    c.certificate_authority,
                ) = (server, tls, insecure, ca);
                (c.certificate_authority_data, c.proxy_url, c.disable_compression) =
                    (ca_data, proxy, nocompress);
                (c.extensions, c.unknown_fields) = (extensions, unknown_fields);
                c
            },
        )
}

fn exec() -> impl Strategy<Value = ExecConfig> {
    (
        (
            text(),
            option::of(vec(text(), 0..3)),
            option::of(vec((text(), text()), 0..2)),
        ),
        (text(), text(), any::<bool>(), text(), unknown()),
    )
        .prop_map(
            |((command, args, env), (api, hint, provide, mode, unknown_fields))| {
                let mut e = ExecConfig::default();
                (e.command, e.args) = (command, args);
                e.env = env.map(|vars| {
                    vars.into_iter()
                        .map(|(name, value)| {
                            let mut v = ExecEnvVar::default();
                            (v.name, v.value) = (name, value);
                            v
                        })
                        .collect()
                });
                (
                    e.api_version,
                    e.install_hint,
                    e.provide_cluster_info,
                    e.interactive_mode,
                ) = (api, hint, provide, mode);
                e.unknown_fields = unknown_fields;
                e
            },
        )
}

fn auth_info() -> impl Strategy<Value = AuthInfo> {
    (
        (text(), bytes(), text(), bytes(), text(), text()),
        (
            text(),
            text(),
            vec(text(), 0..3),
            btree_map(text(), vec(text(), 0..2), 0..2),
            text(),
            text(),
        ),
        (
            option::of((text(), option::of(btree_map(text(), text(), 0..3)))),
            option::of(exec()),
            extensions(),
            unknown(),
        ),
    )
        .prop_map(
            |(
                (cert, cert_data, key, key_data, token, token_file),
                (r#as, uid, groups, extra, user, pass),
                (provider, exec, extensions, unknown_fields),
            )| {
                let mut a = AuthInfo::default();
                (a.client_certificate, a.client_certificate_data, a.client_key) = (cert, cert_data, key);
                (a.client_key_data, a.token, a.token_file) =
                    (SecretBytes::new(key_data), SecretString::new(token), token_file);
                (
                    a.impersonate,
                    a.impersonate_uid,
                    a.impersonate_groups,
                    a.impersonate_user_extra,
                ) = (r#as, uid, groups, extra);
                (a.username, a.password) = (user, SecretString::new(pass));
                a.auth_provider = provider.map(|(name, config)| {
                    let mut p = AuthProviderConfig::default();
                    (p.name, p.config) = (name, config);
                    p
                });
                (a.exec, a.extensions, a.unknown_fields) = (exec, extensions, unknown_fields);
                a
            },
        )
}

fn context() -> impl Strategy<Value = Context> {
    (text(), text(), text(), extensions(), unknown()).prop_map(
        |(cluster, user, namespace, extensions, unknown_fields)| {
            let mut c = Context::default();
            (c.cluster, c.user, c.namespace, c.extensions, c.unknown_fields) =
                (cluster, user, namespace, extensions, unknown_fields);
            c
        },
    )
}

/// Distinct names, as client-go requires.
fn names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set(text(), 0..3).prop_map(|s| s.into_iter().collect())
}

fn config() -> impl Strategy<Value = Config> {
    (
        (
            names(),
            vec(cluster(), 3),
            names(),
            vec(auth_info(), 3),
            names(),
            vec(context(), 3),
        ),
        (
            text(),
            option::of((any::<bool>(), extensions(), unknown())),
            extensions(),
            unknown(),
        ),
    )
        .prop_map(
            |((cn, clusters, un, users, xn, contexts), (current, prefs, extensions, unknown_fields))| {
                let mut config = Config::default();
                config.clusters = cn
                    .into_iter()
                    .zip(clusters)
                    .map(|(name, cluster)| {
                        let mut n = NamedCluster::default();
                        (n.name, n.cluster) = (name, cluster);
                        n
                    })
                    .collect();
                config.users = un
                    .into_iter()
                    .zip(users)
                    .map(|(name, user)| {
                        let mut n = NamedAuthInfo::default();
                        (n.name, n.user) = (name, user);
                        n
                    })
                    .collect();
                config.contexts = xn
                    .into_iter()
                    .zip(contexts)
                    .map(|(name, context)| {
                        let mut n = NamedContext::default();
                        (n.name, n.context) = (name, context);
                        n
                    })
                    .collect();
                config.current_context = current;
                config.preferences = prefs.map(|(colors, extensions, unknown_fields)| {
                    let mut p = Preferences::default();
                    (p.colors, p.extensions, p.unknown_fields) = (colors, extensions, unknown_fields);
                    p
                });
                (config.extensions, config.unknown_fields) = (extensions, unknown_fields);
                config
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yaml_save_then_load_is_identity(config in config()) {
        let yaml = config.to_yaml().unwrap();
        let loaded = Config::from_bytes(yaml.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(&loaded, &config, "{}", yaml);
        prop_assert_eq!(loaded.to_yaml().unwrap(), yaml, "saving is deterministic");
    }

    #[test]
    fn json_save_then_load_is_identity(config in config()) {
        let json = config.to_json().unwrap();
        let loaded = Config::from_bytes(json.as_bytes()).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        prop_assert_eq!(loaded, config);
    }
}

/// Whole floats load as the integers client-go writes for them, so save → load is identity
/// (found by fuzzing `kubeconfig_load`: `2.0496382304121723e18` saved as an integer).
#[test]
fn whole_floats_survive_save_and_load() {
    let text =
        "apiVersion: v1\nkind: Config\nx-a: 0002049638230412172400\nx-b: 1.0\nx-c: [2.5, -0.0, 1e300]\n";
    let config = Config::from_bytes(text.as_bytes()).unwrap();
    assert_eq!(
        config.unknown_fields["x-a"],
        serde_json::json!(2049638230412172300_u64)
    );
    assert_eq!(config.unknown_fields["x-b"], serde_json::json!(1));
    for saved in [config.to_yaml().unwrap(), config.to_json().unwrap()] {
        assert_eq!(Config::from_bytes(saved.as_bytes()).unwrap(), config, "{saved}");
    }
}
