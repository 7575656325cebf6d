//! Every case of the independently computed vectors in `testdata/discovery/`.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kubetrust_bootstrap_token::{
    BootstrapToken, Error, Expiration, JoinCommand, Lifetime, TokenId, TokenSpec, Usage, authenticate,
    cluster_info_config_map, cluster_info_kubeconfig, is_valid_group, jws, sign_cluster_info, user_groups,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

const JWS_VECTORS: &str = include_str!("../../../testdata/discovery/jws-vectors.json");
const TOKEN_VECTORS: &str = include_str!("../../../testdata/discovery/token-vectors.json");
const EXPIRATION_VECTORS: &str = include_str!("../../../testdata/discovery/expiration-vectors.json");
const SECRET_VECTOR: &str = include_str!("../../../testdata/discovery/bootstrap-token-secret.json");
const CONFIGMAP_VECTOR: &str = include_str!("../../../testdata/discovery/cluster-info-configmap.json");
const JOIN_COMMANDS: &str = include_str!("../../../testdata/discovery/join-command.txt");
const KUBECONFIG: &str = include_str!("../../../testdata/discovery/cluster-info-kubeconfig.txt");
const KUBECONFIG_TAMPERED: &str =
    include_str!("../../../testdata/discovery/cluster-info-kubeconfig-tampered.txt");
const DRYRUN_KUBECONFIG: &str = include_str!("../../../testdata/discovery/upstream-dryrun-kubeconfig.txt");

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses an RFC 3339 instant with whole seconds (test helper, via the crate's own parser
/// checked elsewhere against Go's behaviour).
fn instant(s: &str) -> SystemTime {
    match Expiration::parse(s.as_bytes()) {
        Expiration::At(t) => t,
        other => panic!("{s}: {other:?}"),
    }
}

fn payload_of(case: &Value) -> Vec<u8> {
    if let Some(p) = case["payload"].as_str() {
        return p.as_bytes().to_vec();
    }
    match str_of(case, "payload_file") {
        "cluster-info-kubeconfig.txt" => KUBECONFIG.as_bytes().to_vec(),
        "cluster-info-kubeconfig-tampered.txt" => KUBECONFIG_TAMPERED.as_bytes().to_vec(),
        "upstream-dryrun-kubeconfig.txt" => DRYRUN_KUBECONFIG.as_bytes().to_vec(),
        other => panic!("unknown payload file {other}"),
    }
}

#[test]
fn jws_vectors() {
    let v = json(JWS_VECTORS);
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 18);
    for case in cases {
        let name = str_of(case, "name");
        let payload = payload_of(case);
        assert_eq!(
            hex(&Sha256::digest(&payload)),
            str_of(case, "payload_sha256"),
            "{name}: payload bytes"
        );
        let id: TokenId = str_of(case, "token_id").parse().unwrap();
        let key = str_of(case, "token_secret").as_bytes();
        let detached = str_of(case, "detached_jws");
        let valid = case["kubeadm_valid"].as_bool().unwrap();

        let got = jws::verify_detached(detached, &payload, &id, key);
        assert_eq!(got.is_ok(), valid, "{name}: {got:?}");
        if valid {
            assert_eq!(jws::sign_detached(&payload, &id, key), detached, "{name}");
            continue;
        }
        let err = got.unwrap_err();
        let expected_kind = match name {
            "b5-header-without-kid" | "b6-header-reordered" | "b7-header-kid-mismatch" | "b11-alg-none" => {
                "header"
            }
            "b10-attached-payload-form" => "not-detached",
            _ => "signature",
        };
        let kind = match err {
            Error::JwsHeaderMismatch { .. } => "header",
            Error::JwsNotDetached { .. } => "not-detached",
            Error::JwsSignatureMismatch { .. } => "signature",
            ref other => panic!("{name}: unexpected {other:?}"),
        };
        assert_eq!(kind, expected_kind, "{name}");
        assert!(
            err.to_string()
                .starts_with("failed to verify JWS signature of received cluster info object"),
            "{err}"
        );
    }

    // Vector a as the mac/sha figures in the file header.
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let a = token.sign_jws(KUBECONFIG.as_bytes());
    assert_eq!(
        a,
        "eyJhbGciOiJIUzI1NiIsImtpZCI6IjdoM2s5cSJ9..xGKwvtXvqaMgsOOvrYmFlsJYsEX3DQWRmSUS-Ylvq4w"
    );
    assert_eq!(str_of(&v, "header_b64_example"), jws::header_b64(token.id()));
    assert_eq!(str_of(&v, "header_json_example"), jws::header_json(token.id()));
    let input = format!(
        "{}.{}",
        jws::header_b64(token.id()),
        base64_url(KUBECONFIG.as_bytes())
    );
    assert_eq!(
        hex(&Sha256::digest(input.as_bytes())),
        str_of(&v, "a_signing_input_sha256")
    );

    // b3 was signed with the full token as key: it verifies only with that (wrong) key.
    let b3 = cases
        .iter()
        .find(|c| c["name"] == "b3-key-is-full-token")
        .unwrap();
    jws::verify_detached(
        str_of(b3, "detached_jws"),
        KUBECONFIG.as_bytes(),
        token.id(),
        TOKEN.as_bytes(),
    )
    .unwrap();
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `IsValidBootstrapToken`, written independently: split on '.', exactly 2 parts, id by the
/// id rule, secret 16 bytes of [0-9a-z].
fn is_valid_bootstrap_token(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    let ok =
        |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase());
    parts.len() == 2 && ok(parts[0], 6) && ok(parts[1], 16)
}

#[test]
fn token_vectors() {
    let v = json(TOKEN_VECTORS);
    for case in v["tokens"].as_array().unwrap() {
        let input = str_of(case, "token");
        let valid = case["valid"].as_bool().unwrap();
        let parsed = input.parse::<BootstrapToken>();
        assert_eq!(parsed.is_ok(), valid, "{input:?}: {parsed:?}");
        assert_eq!(
            is_valid_bootstrap_token(input),
            case["is_valid_bootstrap_token"].as_bool().unwrap(),
            "{input:?}"
        );
        match parsed {
            Ok(token) => {
                assert_eq!(token.id().as_str(), str_of(case, "id"));
                assert_eq!(token.secret().expose_secret(), str_of(case, "secret"));
                assert_eq!(&*token.expose_secret(), input);
            }
            Err(err) => {
                // The error never repeats the input's secret part.
                if let Some((_, secret)) = input.split_once('.')
                    && secret.len() >= 8
                {
                    let text = format!("{err} {err:?}");
                    assert!(!text.contains(secret.trim()), "{text}");
                }
            }
        }
    }
    for case in v["token_ids"].as_array().unwrap() {
        let input = str_of(case, "id");
        assert_eq!(
            input.parse::<TokenId>().is_ok(),
            case["valid"].as_bool().unwrap(),
            "{input:?}"
        );
    }
    for case in v["groups"].as_array().unwrap() {
        let group = str_of(case, "group");
        assert_eq!(group.len() as u64, case["len"].as_u64().unwrap());
        assert_eq!(
            is_valid_group(group),
            case["valid"].as_bool().unwrap(),
            "{group:?}"
        );
    }

    let now = instant("2025-01-01T12:00:00Z");
    let token: BootstrapToken = TOKEN.parse().unwrap();
    for case in v["auth_extra_groups_to_user_groups"].as_array().unwrap() {
        let extra = str_of(case, "auth-extra-groups");
        let mut secret = vector_secret();
        secret
            .data
            .as_mut()
            .unwrap()
            .insert("auth-extra-groups".into(), k8s_openapi::ByteString(extra.into()));
        let groups = user_groups(&secret);
        let auth = authenticate(&token, &secret, now);
        if case["token_rejected"].as_bool().unwrap() {
            let err = groups.unwrap_err();
            assert_eq!(err.to_string(), str_of(case, "error"), "{extra:?}");
            assert!(matches!(auth, Err(Error::InvalidGroup { .. })), "{auth:?}");
        } else {
            let want: Vec<String> = serde_json::from_value(case["authenticated_groups"].clone()).unwrap();
            assert_eq!(groups.unwrap(), want, "{extra:?}");
            assert_eq!(auth.unwrap().groups, want, "{extra:?}");
        }
    }
}

#[test]
fn expiration_vectors() {
    let v = json(EXPIRATION_VECTORS);
    let token: BootstrapToken = TOKEN.parse().unwrap();
    for case in v["cases"].as_array().unwrap() {
        let value = str_of(case, "expiration");
        let now = instant(str_of(case, "now"));
        let expired = case["expired"].as_bool().unwrap();
        let exp = Expiration::parse(value.as_bytes());
        assert_eq!(exp.is_expired(now), expired, "{value:?}");
        match case["remaining_seconds"].as_f64() {
            Some(secs) => assert_eq!(
                exp.time_left(now),
                Some(Duration::from_secs_f64(secs)),
                "{value:?}"
            ),
            None if value.is_empty() => assert_eq!(exp.time_left(now), None),
            None => {
                assert_eq!(exp, Expiration::Unparseable, "{value:?}");
                assert_eq!(exp.time_left(now), Some(Duration::ZERO));
            }
        }

        // The same through the authenticator and a Secret.
        let mut secret = vector_secret();
        let data = secret.data.as_mut().unwrap();
        if value.is_empty() {
            data.remove("expiration");
        } else {
            data.insert("expiration".into(), k8s_openapi::ByteString(value.into()));
        }
        assert_eq!(Expiration::of_secret(&secret), exp);
        match (authenticate(&token, &secret, now), exp) {
            (Ok(_), _) => assert!(!expired, "{value:?}"),
            (Err(Error::TokenExpired { .. }), Expiration::At(_)) => assert!(expired),
            (Err(Error::UnparseableExpiration { .. }), Expiration::Unparseable) => {
                assert!(expired);
            }
            (other, _) => panic!("{value:?}: {other:?}"),
        }
    }
}

fn vector_secret() -> Secret {
    serde_json::from_value(json(SECRET_VECTOR)["secret"].clone()).unwrap()
}

#[test]
fn bootstrap_token_secret_vector() {
    let v = json(SECRET_VECTOR);
    let created = instant("2025-01-01T00:00:00+00:00");
    let spec = TokenSpec::new(TOKEN.parse().unwrap())
        .with_description("example token created by the vector generator");
    let built = spec.to_secret(created).unwrap();
    assert_eq!(serde_json::to_value(&built).unwrap(), v["secret"]);

    // Decoded values as in stringData_equivalent.
    let data = built.data.as_ref().unwrap();
    let decoded: BTreeMap<&str, &str> = data
        .iter()
        .map(|(k, val)| (k.as_str(), std::str::from_utf8(&val.0).unwrap()))
        .collect();
    let want: BTreeMap<&str, &str> = v["stringData_equivalent"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, val)| (k.as_str(), val.as_str().unwrap()))
        .collect();
    assert_eq!(decoded, want);

    // Read back.
    let secret = vector_secret();
    let read = TokenSpec::from_secret(&secret).unwrap();
    assert_eq!(&*read.token.expose_secret(), TOKEN);
    assert_eq!(read.description, "example token created by the vector generator");
    assert_eq!(
        read.lifetime,
        Lifetime::ExpiresAt(instant("2025-01-02T00:00:00Z"))
    );
    assert_eq!(read.usages, [Usage::Authentication, Usage::Signing]);
    assert_eq!(read.groups, ["system:bootstrappers:kubeadm:default-node-token"]);

    // Authenticated user.
    let user = authenticate(&TOKEN.parse().unwrap(), &secret, instant("2025-01-01T12:00:00Z")).unwrap();
    assert_eq!(user.name, str_of(&v["expected_authenticated_user"], "name"));
    let groups: Vec<String> =
        serde_json::from_value(v["expected_authenticated_user"]["groups"].clone()).unwrap();
    assert_eq!(user.groups, groups);
}

#[test]
fn cluster_info_configmap_vector() {
    let cm: ConfigMap = serde_json::from_str(CONFIGMAP_VECTOR).unwrap();
    let data = cm.data.as_ref().unwrap();
    assert_eq!(data["kubeconfig"], KUBECONFIG);
    let token: BootstrapToken = TOKEN.parse().unwrap();
    token
        .verify_jws(&data[&token.id().jws_key()], data["kubeconfig"].as_bytes())
        .unwrap();

    // The signer, given the vector's Secret while it is valid, keeps exactly this ConfigMap.
    let now = instant("2025-01-01T12:00:00Z");
    let (plan, skipped) = sign_cluster_info(&cm, &[vector_secret()], now).unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert!(!plan.changed);
    assert!(plan.stale.is_empty());
    assert_eq!(
        plan.signatures,
        BTreeMap::from([(
            "jws-kubeconfig-7h3k9q".to_owned(),
            data["jws-kubeconfig-7h3k9q"].clone()
        )])
    );

    // Once the token has expired, its signature is stale.
    let later = instant("2025-01-02T00:00:00Z");
    let (plan, skipped) = sign_cluster_info(&cm, &[vector_secret()], later).unwrap();
    assert!(plan.changed);
    assert!(plan.signatures.is_empty());
    assert_eq!(plan.stale, ["jws-kubeconfig-7h3k9q"]);
    assert!(matches!(skipped[0].reason, Error::TokenExpired { .. }));
    let mut updated = cm.clone();
    plan.apply(&mut updated);
    assert_eq!(updated.data.unwrap().keys().collect::<Vec<_>>(), ["kubeconfig"]);
}

/// The exact outputs in join-command.txt: BEGIN/END blocks, then JSON-escaped raw templates.
fn join_vectors() -> (Vec<String>, Vec<String>) {
    let mut blocks = Vec::new();
    let mut raw = Vec::new();
    let mut lines = JOIN_COMMANDS.split('\n');
    while let Some(line) = lines.next() {
        if line == "BEGIN" {
            let body = lines.next().unwrap();
            assert_eq!(lines.next(), Some("END"));
            blocks.push(body.to_owned());
        } else if line.starts_with('"') {
            raw.push(serde_json::from_str::<String>(line).unwrap());
        }
    }
    (blocks, raw)
}

#[test]
fn join_command_vectors() {
    let (blocks, raw) = join_vectors();
    assert_eq!(blocks.len(), 3);
    assert_eq!(raw.len(), 2);
    let rsa = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
    let ec = "sha256:3bde94802604dbbc010577681bc8aa9a80b2ce45f6685a3492765807ae02bf4f";
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let worker = JoinCommand::for_server("https://10.0.0.10:6443", token.clone()).with_ca_cert_hash(rsa);

    // 1) worker, with kubeadm's trailing space.
    assert_eq!(*worker.expose_secret(), blocks[0]);
    assert!(blocks[0].ends_with(' '));
    // 2) control plane with a certificate key.
    let key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let cp = worker.clone().with_certificate_key(key);
    assert_eq!(*cp.expose_secret(), blocks[1]);
    // 3) CA bundle: one flag per certificate, bundle order.
    let bundle = JoinCommand::new("10.0.0.10:6443", token).with_ca_cert_hashes([ec, rsa]);
    assert_eq!(*bundle.expose_secret(), blocks[2]);
    // 4) raw template (kubeadm init).
    assert_eq!(*worker.expose_secret_multiline(), raw[0]);
    // 5) token withheld.
    assert_eq!(worker.withheld_multiline(), raw[1]);
    assert!(!worker.withheld().contains("x2m5p8r1t4w7z0c3"));
    assert!(!cp.withheld().contains(key));
    assert!(cp.withheld().ends_with("--certificate-key <value withheld>"));
}

#[test]
fn now_is_only_an_argument() {
    // The same inputs give the same answers whatever the wall clock says.
    let secret = vector_secret();
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let before = UNIX_EPOCH + Duration::from_secs(1_735_776_000 - 1);
    let at = UNIX_EPOCH + Duration::from_secs(1_735_776_000);
    assert!(authenticate(&token, &secret, before).is_ok());
    assert!(matches!(
        authenticate(&token, &secret, at),
        Err(Error::TokenExpired { .. })
    ));
}

#[test]
fn cluster_info_kubeconfig_is_byte_identical_to_kubeadms() {
    use base64::Engine as _;
    // The CA embedded in the vector (ca-rsa.pem, with its final newline).
    let b64 = KUBECONFIG
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority-data: "))
        .unwrap();
    let ca = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
    assert!(ca.starts_with(b"-----BEGIN CERTIFICATE-----\n") && ca.ends_with(b"-----\n"));
    assert_eq!(cluster_info_kubeconfig("https://10.0.0.10:6443", &ca), KUBECONFIG);
    assert_eq!(
        cluster_info_kubeconfig("https://10.0.0.66:6443", &ca),
        KUBECONFIG_TAMPERED
    );

    // And the vector ConfigMap is what the signer makes of it.
    let mut cm = cluster_info_config_map("https://10.0.0.10:6443", &ca);
    let secret = vector_secret();
    let (plan, _) = sign_cluster_info(&cm, &[secret], instant("2025-01-01T12:00:00Z")).unwrap();
    plan.apply(&mut cm);
    assert_eq!(serde_json::to_value(&cm).unwrap(), json(CONFIGMAP_VECTOR));

    // A server a plain YAML scalar cannot carry is quoted, never emitted raw.
    let odd = cluster_info_kubeconfig("https://h:6443/# x", b"");
    assert!(odd.contains("    server: \"https://h:6443/# x\"\n"), "{odd}");
}
