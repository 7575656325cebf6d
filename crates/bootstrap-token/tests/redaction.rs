//! No secret appears in the `Debug` output (or `Display`, where there is one) of any public
//! type that holds one, nor in any error.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kubetrust_bootstrap_token::{
    BootstrapToken, Error, JoinCommand, TokenId, TokenSecret, TokenSpec, Usage, authenticate, extend_secret,
    sign_cluster_info, signing_token, user_groups, validate_group,
};

const SECRET: &str = "x2m5p8r1t4w7z0c3";
const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const CERT_KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} leaks the token secret: {text}");
    assert!(
        !text.contains(CERT_KEY),
        "{what} leaks the certificate key: {text}"
    );
    // Not even a good part of it.
    for window in SECRET.as_bytes().windows(8) {
        let part = std::str::from_utf8(window).unwrap();
        assert!(
            !text.contains(part),
            "{what} leaks part of the secret {part:?}: {text}"
        );
    }
}

#[test]
fn debug_output_holds_no_secret() {
    let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let secret: TokenSecret = SECRET.parse().unwrap();
    let spec = TokenSpec::new(token.clone()).with_description("d");
    let stored = spec.to_secret(now).unwrap();
    let signing = signing_token(&stored, now).unwrap();
    let join = JoinCommand::new("10.0.0.10:6443", token.clone())
        .with_ca_cert_hash("sha256:00")
        .with_certificate_key(CERT_KEY);

    assert_clean("TokenSecret", &format!("{secret:?} {secret:#?}"));
    assert_clean("BootstrapToken", &format!("{token:?} {token:#?}"));
    assert_clean("TokenSpec", &format!("{spec:?} {spec:#?}"));
    assert_clean("SigningToken", &format!("{signing:?} {signing:#?}"));
    assert_clean("JoinCommand", &format!("{join:?} {join:#?}"));
    assert_clean("JoinCommand::withheld", &join.withheld());
    assert_clean("JoinCommand::withheld_multiline", &join.withheld_multiline());
    assert_clean("TokenId", &format!("{:?} {}", token.id(), token.id()));
    assert_clean(
        "AuthenticatedUser",
        &format!("{:?}", authenticate(&token, &stored, now).unwrap()),
    );
    let cm = ConfigMap {
        data: Some([("kubeconfig".to_owned(), "x".to_owned())].into()),
        ..Default::default()
    };
    assert_clean(
        "ClusterInfoSignatures",
        &format!(
            "{:?}",
            sign_cluster_info(&cm, std::slice::from_ref(&stored), now).unwrap()
        ),
    );

    // The explicit calls do show it.
    assert_eq!(secret.expose_secret(), SECRET);
    assert_eq!(&*token.expose_secret(), TOKEN);
    assert!(join.expose_secret().contains(TOKEN));
}

/// Each failing input below carries the token secret in it or around it (a whole token pasted
/// into the wrong field, the secret as a group or usage, an expiration followed by the token).
#[test]
fn errors_hold_no_secret() {
    let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let stored = TokenSpec::new(token.clone()).to_secret(now).unwrap();
    let mut errors: Vec<(String, Error)> = Vec::new();
    let mut push = |what: &str, err: Error| errors.push((what.to_owned(), err));

    // Token parsing: near-miss tokens, and the token where only an id or a secret belongs.
    for bad in [
        format!("{TOKEN}\n"),
        format!(" {TOKEN}"),
        format!("Bearer {TOKEN}"),
        TOKEN.to_uppercase(),
        TOKEN.replace('.', ":"),
        format!("{TOKEN}x"),
        TOKEN.replace('z', "_"),
        TOKEN.replace('z', "é"),
    ] {
        push(
            &format!("parse {bad:?}"),
            bad.parse::<BootstrapToken>().unwrap_err(),
        );
        if let Some(Err(e)) = bad.split_once('.').map(|(_, s)| s.parse::<TokenSecret>()) {
            push("TokenSecret parse", e);
        }
    }
    push("TokenId parse", TOKEN.parse::<TokenId>().unwrap_err());
    push("TokenSecret parse", TOKEN.parse::<TokenSecret>().unwrap_err());

    // Authentication with a wrong secret, and a stored secret that differs.
    let wrong: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c4".parse().unwrap();
    push(
        "authenticate wrong",
        authenticate(&wrong, &stored, now).unwrap_err(),
    );
    let odd = with_data(&stored, "token-secret", format!("{SECRET}X").as_bytes());
    push("authenticate odd", authenticate(&token, &odd, now).unwrap_err());

    // Secret data decoding: the secret malformed in every way, or pasted into other keys.
    for value in [
        format!("{SECRET}X").into_bytes(),
        SECRET.to_uppercase().into_bytes(),
        format!("{SECRET}\n").into_bytes(),
        TOKEN.as_bytes().to_vec(),
        [SECRET.as_bytes(), b"\xff"].concat(),
    ] {
        let secret = with_data(&stored, "token-secret", &value);
        push(
            "from_secret token-secret",
            TokenSpec::from_secret(&secret).unwrap_err(),
        );
    }
    let pasted_id = with_data(&stored, "token-id", TOKEN.as_bytes());
    push(
        "from_secret token-id",
        TokenSpec::from_secret(&pasted_id).unwrap_err(),
    );
    push(
        "authenticate token-id",
        authenticate(&token, &pasted_id, now).unwrap_err(),
    );
    push(
        "signing_token token-id",
        signing_token(&pasted_id, now).unwrap_err(),
    );
    let mut typed = stored.clone();
    typed.type_ = Some(TOKEN.to_owned());
    push("from_secret type", TokenSpec::from_secret(&typed).unwrap_err());
    // stringData is write-only sugar: a Secret that has only it has no data to read.
    let mut string_data = stored.clone();
    string_data.string_data = Some(BTreeMap::from([
        ("token-id".to_owned(), "7h3k9q".to_owned()),
        ("token-secret".to_owned(), SECRET.to_owned()),
        ("expiration".to_owned(), TOKEN.to_owned()),
    ]));
    string_data.data = None;
    push(
        "from_secret stringData",
        TokenSpec::from_secret(&string_data).unwrap_err(),
    );
    push(
        "authenticate stringData",
        authenticate(&token, &string_data, now).unwrap_err(),
    );

    // Expiration: the token instead of a time, or after one.
    for value in [TOKEN.to_owned(), format!("2025-01-02T00:00:00Z {TOKEN}")] {
        let secret = with_data(&stored, "expiration", value.as_bytes());
        push(
            "from_secret expiration",
            TokenSpec::from_secret(&secret).unwrap_err(),
        );
        push(
            "authenticate expiration",
            authenticate(&token, &secret, now).unwrap_err(),
        );
        push(
            "signing_token expiration",
            signing_token(&secret, now).unwrap_err(),
        );
    }
    let far = with_data(&pasted_id, "expiration", b"2025-01-02T00:00:00Z");
    let mut far = far;
    push(
        "extend_secret out of range",
        extend_secret(&mut far, Duration::MAX, now).unwrap_err(),
    );
    push(
        "to_secret out of range",
        TokenSpec::new(token.clone())
            .with_expiration(SystemTime::UNIX_EPOCH + Duration::from_secs(300_000_000_000))
            .to_secret(now)
            .unwrap_err(),
    );

    // Usages: the secret as a usage, given or read from a Secret's keys.
    push("Usage parse", SECRET.parse::<Usage>().unwrap_err());
    push(
        "Usage parse",
        format!("signing,{TOKEN}").parse::<Usage>().unwrap_err(),
    );
    let usage_key = format!("usage-bootstrap-{SECRET}");
    let odd_usage = TokenSpec::from_secret(&with_data(&stored, &usage_key, b"true")).unwrap();
    push("validate usage", odd_usage.validate().unwrap_err());

    // Groups: the secret as a group, on its own or among good ones.
    push("validate_group", validate_group(SECRET).unwrap_err());
    push("validate_group", validate_group(TOKEN).unwrap_err());
    let groups = format!("system:bootstrappers:a,{TOKEN},system:bootstrappers:b");
    let grouped = with_data(&stored, "auth-extra-groups", groups.as_bytes());
    push("user_groups", user_groups(&grouped).unwrap_err());
    push(
        "authenticate groups",
        authenticate(&token, &grouped, now).unwrap_err(),
    );
    push(
        "validate groups",
        TokenSpec::new(token.clone())
            .with_groups([format!("system:bootstrappers:{SECRET}_")])
            .to_secret(now)
            .unwrap_err(),
    );

    // JWS: a wrong signature, a malformed one, the token where the signature belongs.
    let sig = token.sign_jws(b"payload");
    push(
        "verify other payload",
        token.verify_jws(&sig, b"other").unwrap_err(),
    );
    push("verify x.y.z", token.verify_jws("x.y.z", b"payload").unwrap_err());
    push(
        "verify token as JWS",
        token
            .verify_jws(&format!("{TOKEN}..{SECRET}"), b"payload")
            .unwrap_err(),
    );

    // cluster-info: no kubeconfig; a pass that skips Secrets holding the secret in odd places.
    push(
        "sign_cluster_info without kubeconfig",
        sign_cluster_info(&ConfigMap::default(), std::slice::from_ref(&stored), now).unwrap_err(),
    );
    let cm = ConfigMap {
        data: Some([("kubeconfig".to_owned(), TOKEN.to_owned())].into()),
        ..Default::default()
    };
    let odd_secrets = [
        pasted_id.clone(),
        with_data(&stored, "expiration", TOKEN.as_bytes()),
    ];
    let (_, skipped) = sign_cluster_info(&cm, &odd_secrets, now).unwrap();
    assert_eq!(skipped.len(), odd_secrets.len());
    for skip in skipped {
        assert_clean("SkippedSecret", &format!("{skip:?}"));
        push("sign_cluster_info skipped", skip.reason);
    }

    for (what, err) in &errors {
        let mut text = format!("{err} {err:?}");
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            text.push_str(&format!(" {s} {s:?}"));
            source = s.source();
        }
        assert_clean(what, &text);
    }
}

/// `secret` with `key` set to `value` in its data.
fn with_data(secret: &Secret, key: &str, value: &[u8]) -> Secret {
    let mut secret = secret.clone();
    secret
        .data
        .get_or_insert_with(BTreeMap::new)
        .insert(key.to_owned(), ByteString(value.to_vec()));
    secret
}
