//! No secret appears in the `Debug` output (or `Display`, where there is one) of any public
//! type that holds one, nor in any error.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, UNIX_EPOCH};

use kubetrust_bootstrap_token::{
    BootstrapToken, Error, JoinCommand, TokenSecret, TokenSpec, authenticate, sign_cluster_info,
    signing_token,
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
    let cm = k8s_openapi::api::core::v1::ConfigMap {
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

#[test]
fn errors_hold_no_secret() {
    let now = UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let token: BootstrapToken = TOKEN.parse().unwrap();
    let stored = TokenSpec::new(token.clone()).to_secret(now).unwrap();
    let mut errors: Vec<Error> = Vec::new();

    // Authentication with a wrong secret, and a stored secret that differs.
    let wrong: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c4".parse().unwrap();
    errors.push(authenticate(&wrong, &stored, now).unwrap_err());
    let mut odd = stored.clone();
    odd.data.as_mut().unwrap().insert(
        "token-secret".into(),
        k8s_openapi::ByteString(format!("{SECRET}X").into_bytes()),
    );
    errors.push(authenticate(&token, &odd, now).unwrap_err());
    errors.push(TokenSpec::from_secret(&odd).unwrap_err());

    // Format errors on near-miss tokens.
    for bad in [
        format!("{TOKEN}\n"),
        format!(" {TOKEN}"),
        TOKEN.to_uppercase(),
        TOKEN.replace('.', ":"),
        format!("{TOKEN}x"),
        TOKEN.replace('z', "_"),
        TOKEN.replace('z', "é"),
    ] {
        errors.push(bad.parse::<BootstrapToken>().unwrap_err());
        if let Some(Err(e)) = bad.split_once('.').map(|(_, s)| s.parse::<TokenSecret>()) {
            errors.push(e);
        }
    }

    // JWS failures.
    let sig = token.sign_jws(b"payload");
    errors.push(token.verify_jws(&sig, b"other").unwrap_err());
    errors.push(token.verify_jws("x.y.z", b"payload").unwrap_err());

    for err in &errors {
        let mut text = format!("{err} {err:?}");
        let mut source = std::error::Error::source(err);
        while let Some(s) = source {
            text.push_str(&format!(" {s} {s:?}"));
            source = s.source();
        }
        assert_clean("Error", &text);
    }
}
