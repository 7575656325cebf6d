//! Behaviour of the token spec, the authenticator and the signer, check by check.

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
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kubetrust_bootstrap_token::{
    BootstrapToken, Error, Expiration, Lifetime, TokenSpec, Usage, authenticate, extend_secret,
    sign_cluster_info, signing_token,
};

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const HOUR: Duration = Duration::from_secs(3600);

/// 2025-01-01T00:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

fn token() -> BootstrapToken {
    TOKEN.parse().unwrap()
}

fn secret() -> Secret {
    TokenSpec::new(token()).to_secret(t0()).unwrap()
}

fn set(secret: &mut Secret, key: &str, value: &str) {
    secret
        .data
        .as_mut()
        .unwrap()
        .insert(key.to_owned(), ByteString(value.as_bytes().to_vec()));
}

fn unset(secret: &mut Secret, key: &str) {
    secret.data.as_mut().unwrap().remove(key);
}

fn data_str(secret: &Secret, key: &str) -> Option<String> {
    secret
        .data
        .as_ref()
        .unwrap()
        .get(key)
        .map(|v| String::from_utf8(v.0.clone()).unwrap())
}

// ---------- spec and Secret ----------

#[test]
fn kubeadm_defaults() {
    let spec = TokenSpec::new(token());
    assert_eq!(spec.lifetime, Lifetime::Ttl(Duration::from_secs(86_400)));
    assert_eq!(spec.usages, [Usage::Signing, Usage::Authentication]);
    assert_eq!(spec.groups, ["system:bootstrappers:kubeadm:default-node-token"]);
    let s = spec.to_secret(t0()).unwrap();
    assert_eq!(s.metadata.namespace.as_deref(), Some("kube-system"));
    assert_eq!(s.type_.as_deref(), Some("bootstrap.kubernetes.io/token"));
    let keys: Vec<&str> = s.data.as_ref().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "auth-extra-groups",
            "expiration",
            "token-id",
            "token-secret",
            "usage-bootstrap-authentication",
            "usage-bootstrap-signing"
        ]
    );
}

#[test]
fn zero_ttl_and_never_write_no_expiration() {
    for spec in [
        TokenSpec::new(token()).with_ttl(Duration::ZERO),
        TokenSpec::new(token()).with_lifetime(Lifetime::Never),
    ] {
        let s = spec.to_secret(t0()).unwrap();
        assert_eq!(data_str(&s, "expiration"), None);
        assert_eq!(Expiration::of_secret(&s), Expiration::Never);
        assert!(!spec.is_expired(t0() + HOUR * 1_000_000));
        assert_eq!(spec.time_left(t0()), None);
    }
}

#[test]
fn absolute_expiration_takes_priority_and_truncates_fractions() {
    let at = t0() + Duration::from_millis(1500);
    let s = TokenSpec::new(token())
        .with_expiration(at)
        .to_secret(t0())
        .unwrap();
    assert_eq!(
        data_str(&s, "expiration").as_deref(),
        Some("2025-01-01T00:00:01Z")
    );
}

#[test]
fn expiration_out_of_range_is_an_error_not_an_expired_token() {
    let err = TokenSpec::new(token())
        .with_ttl(Duration::from_secs(9000 * 366 * 86_400))
        .to_secret(t0())
        .unwrap_err();
    assert!(matches!(err, Error::ExpirationOutOfRange { .. }), "{err:?}");
    let err = TokenSpec::new(token())
        .with_ttl(Duration::MAX)
        .to_secret(t0())
        .unwrap_err();
    assert!(matches!(err, Error::ExpirationOutOfRange { .. }), "{err:?}");
}

#[test]
fn validation_of_usages_and_groups() {
    let err = TokenSpec::new(token())
        .with_usages([Usage::Signing, Usage::Other("cleaning".into())])
        .validate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid bootstrap token usage string: cleaning, valid usage options: signing,authentication"
    );
    assert!(matches!(
        "Signing".parse::<Usage>(),
        Err(Error::InvalidUsage { .. })
    ));
    assert_eq!("signing".parse::<Usage>().unwrap(), Usage::Signing);

    let err = TokenSpec::new(token())
        .with_usages([Usage::Signing])
        .validate()
        .unwrap_err();
    assert!(matches!(err, Error::GroupsWithoutAuthentication));
    TokenSpec::new(token())
        .with_usages([Usage::Signing])
        .with_groups(Vec::<String>::new())
        .validate()
        .unwrap();

    // One bad group rejects the token.
    let err = TokenSpec::new(token())
        .with_groups(["system:bootstrappers:ok", "system:masters"])
        .to_secret(t0())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bootstrap group \"system:masters\" is invalid (must match \
         \\Asystem:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]\\z)"
    );
}

#[test]
fn groups_are_joined_in_order() {
    let s = TokenSpec::new(token())
        .with_groups(["system:bootstrappers:b", "system:bootstrappers:a"])
        .to_secret(t0())
        .unwrap();
    assert_eq!(
        data_str(&s, "auth-extra-groups").as_deref(),
        Some("system:bootstrappers:b,system:bootstrappers:a")
    );
}

#[test]
fn from_secret_checks() {
    let mut s = secret();
    unset(&mut s, "token-id");
    assert!(matches!(
        TokenSpec::from_secret(&s),
        Err(Error::SecretMissingTokenId { .. })
    ));

    let mut s = secret();
    set(&mut s, "token-id", "abcdef");
    let err = TokenSpec::from_secret(&s).unwrap_err();
    assert_eq!(
        err.to_string(),
        "bootstrap token name is not of the form 'bootstrap-token-(token-id)'. Actual: \
         \"bootstrap-token-7h3k9q\". Expected: \"bootstrap-token-abcdef\""
    );

    let mut s = secret();
    unset(&mut s, "token-secret");
    assert!(matches!(
        TokenSpec::from_secret(&s),
        Err(Error::SecretMissingTokenSecret { .. })
    ));

    let mut s = secret();
    set(&mut s, "token-secret", "x2m5p8r1t4w7z0c3X");
    let err = TokenSpec::from_secret(&s).unwrap_err();
    assert!(matches!(err, Error::SecretMalformedToken { .. }), "{err:?}");
    assert!(!err.to_string().contains("x2m5p8r1"), "{err}");

    let mut s = secret();
    s.data
        .as_mut()
        .unwrap()
        .insert("token-secret".into(), ByteString(b"x2m5p8r1t4w7\xffc3".to_vec()));
    let err = TokenSpec::from_secret(&s).unwrap_err();
    assert!(err.to_string().contains("character 13"), "{err}");

    let mut s = secret();
    set(&mut s, "expiration", "soon");
    let err = TokenSpec::from_secret(&s).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("can't parse expiration time of bootstrap token \"7h3k9q\""),
        "{err}"
    );

    let mut s = secret();
    s.type_ = Some("Opaque".into());
    assert!(matches!(
        TokenSpec::from_secret(&s),
        Err(Error::WrongSecretType { .. })
    ));
}

#[test]
fn from_secret_keeps_unknown_usages_sorted_and_ignores_false_ones() {
    let mut s = secret();
    set(&mut s, "usage-bootstrap-cleaning", "true");
    set(&mut s, "usage-bootstrap-signing", "True");
    unset(&mut s, "auth-extra-groups");
    let spec = TokenSpec::from_secret(&s).unwrap();
    assert_eq!(
        spec.usages,
        [Usage::Authentication, Usage::Other("cleaning".into())]
    );
    assert!(spec.groups.is_empty());
    // Round trip of a valid spec.
    let spec = TokenSpec::from_secret(&secret()).unwrap();
    assert_eq!(spec.to_secret(t0()).unwrap(), secret());
}

#[test]
fn extend_never_shortens() {
    let mut spec = TokenSpec::new(token()).with_expiration(t0() + HOUR);
    spec.extend(HOUR * 2, t0());
    assert_eq!(spec.lifetime, Lifetime::ExpiresAt(t0() + HOUR * 2));
    spec.extend(HOUR, t0());
    assert_eq!(spec.lifetime, Lifetime::ExpiresAt(t0() + HOUR * 2));
    // An expired token is revived from now.
    spec.extend(HOUR, t0() + HOUR * 5);
    assert_eq!(spec.lifetime, Lifetime::ExpiresAt(t0() + HOUR * 6));
    assert_eq!(spec.time_left(t0() + HOUR * 5), Some(HOUR));
    spec.extend(Duration::ZERO, t0());
    assert_eq!(spec.lifetime, Lifetime::Never);
    spec.extend(HOUR, t0());
    assert_eq!(spec.lifetime, Lifetime::Never);
}

#[test]
fn extend_secret_updates_the_expiration_key() {
    let mut s = secret(); // expires 2025-01-02T00:00:00Z
    assert!(!extend_secret(&mut s, HOUR, t0()).unwrap());
    assert!(extend_secret(&mut s, HOUR * 48, t0()).unwrap());
    assert_eq!(
        data_str(&s, "expiration").as_deref(),
        Some("2025-01-03T00:00:00Z")
    );
    set(&mut s, "expiration", "garbage");
    assert!(extend_secret(&mut s, HOUR, t0()).unwrap());
    assert_eq!(
        data_str(&s, "expiration").as_deref(),
        Some("2025-01-01T01:00:00Z")
    );
    assert!(extend_secret(&mut s, Duration::ZERO, t0()).unwrap());
    assert_eq!(data_str(&s, "expiration"), None);
    assert!(!extend_secret(&mut s, HOUR, t0()).unwrap());
}

// ---------- authenticator ----------

fn auth(secret: &Secret) -> Result<kubetrust_bootstrap_token::AuthenticatedUser, Error> {
    authenticate(&token(), secret, t0() + HOUR)
}

#[test]
fn authenticator_accepts_a_good_token() {
    let user = auth(&secret()).unwrap();
    assert_eq!(user.name, "system:bootstrap:7h3k9q");
    assert_eq!(
        user.groups,
        [
            "system:bootstrappers",
            "system:bootstrappers:kubeadm:default-node-token"
        ]
    );
}

#[test]
fn authenticator_checks_each_condition() {
    let mut s = secret();
    s.metadata.name = Some("bootstrap-token-abcdef".into());
    assert!(matches!(auth(&s), Err(Error::SecretNameMismatch { .. })));

    let mut s = secret();
    s.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
    assert!(matches!(auth(&s), Err(Error::SecretBeingDeleted { .. })));

    let mut s = secret();
    s.type_ = Some("Opaque".into());
    assert!(matches!(auth(&s), Err(Error::WrongSecretType { .. })));

    let mut s = secret();
    s.data = None;
    assert!(matches!(auth(&s), Err(Error::SecretNoData { .. })));

    let mut s = secret();
    set(&mut s, "token-secret", "x2m5p8r1t4w7z0c4");
    assert!(matches!(auth(&s), Err(Error::SecretMismatch { .. })));
    let mut s = secret();
    unset(&mut s, "token-secret");
    assert!(matches!(auth(&s), Err(Error::SecretMismatch { .. })));
    let mut s = secret();
    set(&mut s, "token-secret", "x2m5p8r1t4w7z0c3 ");
    assert!(matches!(auth(&s), Err(Error::SecretMismatch { .. })));

    let mut s = secret();
    set(&mut s, "token-id", "abcdef");
    assert!(matches!(auth(&s), Err(Error::TokenIdMismatch { .. })));

    let mut s = secret();
    set(&mut s, "expiration", "2025-01-01T01:00:00Z");
    let err = auth(&s).unwrap_err();
    assert!(matches!(err, Error::TokenExpired { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "token id \"7h3k9q\" is invalid for this cluster or it has expired (expiration \
         2025-01-01T01:00:00Z). Use \"kubeadm token create\" on the control-plane node to create \
         a new valid token"
    );

    let mut s = secret();
    set(&mut s, "expiration", "2025-01-01 01:00:01Z");
    assert!(matches!(auth(&s), Err(Error::UnparseableExpiration { .. })));

    let mut s = secret();
    set(&mut s, "usage-bootstrap-authentication", "TRUE");
    assert!(matches!(
        auth(&s),
        Err(Error::UsageNotEnabled {
            usage: Usage::Authentication,
            ..
        })
    ));
    let mut s = secret();
    unset(&mut s, "usage-bootstrap-authentication");
    assert!(matches!(auth(&s), Err(Error::UsageNotEnabled { .. })));

    let mut s = secret();
    set(&mut s, "auth-extra-groups", "system:bootstrappers:a,");
    assert!(matches!(auth(&s), Err(Error::InvalidGroup { .. })));

    // Signing-only tokens do not authenticate; deletion does not matter without the rest.
    let s = TokenSpec::new(token())
        .with_usages([Usage::Signing])
        .with_groups(Vec::<String>::new())
        .to_secret(t0())
        .unwrap();
    assert!(matches!(auth(&s), Err(Error::UsageNotEnabled { .. })));
}

#[test]
fn authenticator_checks_in_upstream_order() {
    // Everything is wrong: the first failing check in upstream's order is reported.
    let mut s = secret();
    s.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
    s.type_ = Some("Opaque".into());
    set(&mut s, "token-secret", "0000000000000000");
    set(&mut s, "token-id", "abcdef");
    set(&mut s, "expiration", "bad");
    unset(&mut s, "usage-bootstrap-authentication");
    set(&mut s, "auth-extra-groups", "bad");
    let order: [fn(&mut Secret); 6] = [
        |s| s.metadata.deletion_timestamp = None,
        |s| s.type_ = Some("bootstrap.kubernetes.io/token".into()),
        |s| set(s, "token-secret", "x2m5p8r1t4w7z0c3"),
        |s| set(s, "token-id", "7h3k9q"),
        |s| unset(s, "expiration"),
        |s| set(s, "usage-bootstrap-authentication", "true"),
    ];
    let expect = [
        "SecretBeingDeleted",
        "WrongSecretType",
        "SecretMismatch",
        "TokenIdMismatch",
        "UnparseableExpiration",
        "UsageNotEnabled",
    ];
    for (fix, want) in order.iter().zip(expect) {
        let err = auth(&s).unwrap_err();
        assert!(format!("{err:?}").starts_with(want), "{err:?} != {want}");
        fix(&mut s);
    }
    assert!(matches!(auth(&s), Err(Error::InvalidGroup { .. })));
    set(&mut s, "auth-extra-groups", "");
    assert_eq!(auth(&s).unwrap().groups, ["system:bootstrappers"]);
}

// ---------- signer ----------

fn cluster_info(extra: &[(&str, &str)]) -> ConfigMap {
    let mut data = BTreeMap::from([("kubeconfig".to_owned(), "apiVersion: v1\n".to_owned())]);
    for (k, v) in extra {
        data.insert((*k).to_owned(), (*v).to_owned());
    }
    ConfigMap {
        data: Some(data),
        ..ConfigMap::default()
    }
}

#[test]
fn signer_eligibility() {
    let now = t0() + HOUR;
    signing_token(&secret(), now).unwrap();

    let mut s = secret();
    s.metadata.name = Some("bootstrap-token-7h3k9q2".into());
    assert!(matches!(
        signing_token(&s, now),
        Err(Error::SecretNameInvalid { .. })
    ));
    let mut s = secret();
    unset(&mut s, "token-id");
    assert!(matches!(
        signing_token(&s, now),
        Err(Error::SecretMissingTokenId { .. })
    ));
    let mut s = secret();
    set(&mut s, "token-id", "abcdef");
    assert!(matches!(
        signing_token(&s, now),
        Err(Error::SecretNameMismatch { .. })
    ));
    let mut s = secret();
    set(&mut s, "token-secret", "");
    assert!(matches!(
        signing_token(&s, now),
        Err(Error::SecretMissingTokenSecret { .. })
    ));
    let mut s = secret();
    set(&mut s, "expiration", "2025-01-01T01:00:00Z");
    assert!(matches!(signing_token(&s, now), Err(Error::TokenExpired { .. })));
    let mut s = secret();
    set(&mut s, "expiration", "never");
    assert!(matches!(
        signing_token(&s, now),
        Err(Error::UnparseableExpiration { .. })
    ));
    let mut s = secret();
    set(&mut s, "usage-bootstrap-signing", "yes");
    assert!(matches!(
        signing_token(&s, now),
        Err(Error::UsageNotEnabled {
            usage: Usage::Signing,
            ..
        })
    ));

    // Not considered by the signer: deletion, authentication usage, secret format.
    let mut s = secret();
    s.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
    unset(&mut s, "usage-bootstrap-authentication");
    set(&mut s, "token-secret", "my voice is my passcode");
    let t = signing_token(&s, now).unwrap();
    let payload = b"Hello from the other side. I must have called a thousand times.";
    kubetrust_bootstrap_token::jws::verify_detached(
        &t.sign(payload),
        payload,
        &"7h3k9q".parse().unwrap(),
        b"my voice is my passcode",
    )
    .unwrap();
}

#[test]
fn signer_pass() {
    let now = t0() + HOUR;
    let other: BootstrapToken = "abcdef.0123456789abcdef".parse().unwrap();
    let other_secret = TokenSpec::new(other.clone()).to_secret(t0()).unwrap();
    let mut not_signing = TokenSpec::new("zzzzzz.0123456789abcdef".parse().unwrap())
        .with_usages([Usage::Authentication])
        .to_secret(t0())
        .unwrap();
    not_signing.metadata.namespace = Some("kube-system".into());
    let mut opaque = secret();
    opaque.type_ = Some("Opaque".into());
    opaque.metadata.name = Some("bootstrap-token-yyyyyy".into());
    let mut elsewhere = TokenSpec::new("xxxxxx.0123456789abcdef".parse().unwrap())
        .to_secret(t0())
        .unwrap();
    elsewhere.metadata.namespace = Some("default".into());

    let good_sig = token().sign_jws(b"apiVersion: v1\n");
    let cm = cluster_info(&[
        ("jws-kubeconfig-7h3k9q", good_sig.as_str()),
        ("jws-kubeconfig-zzzzzz", "old"),
        ("jws-kubeconfig-", "hand-added"),
        ("other", "kept"),
    ]);
    let mut dup = secret();
    set(&mut dup, "token-secret", "1111111111111111");
    let secrets = [secret(), other_secret, not_signing, opaque, elsewhere, dup];
    let (plan, skipped) = sign_cluster_info(&cm, &secrets, now).unwrap();
    assert!(plan.changed);
    assert_eq!(
        plan.signatures.keys().collect::<Vec<_>>(),
        ["jws-kubeconfig-7h3k9q", "jws-kubeconfig-abcdef"]
    );
    assert_eq!(plan.signatures["jws-kubeconfig-7h3k9q"], good_sig);
    assert_eq!(plan.stale, ["jws-kubeconfig-", "jws-kubeconfig-zzzzzz"]);
    let reasons: Vec<String> = skipped
        .iter()
        .map(|s| format!("{}: {:?}", s.name, s.reason))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].starts_with("bootstrap-token-zzzzzz: UsageNotEnabled"));
    assert!(reasons[1].starts_with("bootstrap-token-7h3k9q: DuplicateTokenId"));

    let mut updated = cm.clone();
    plan.apply(&mut updated);
    let data = updated.data.as_ref().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        [
            "jws-kubeconfig-7h3k9q",
            "jws-kubeconfig-abcdef",
            "kubeconfig",
            "other"
        ]
    );
    other
        .verify_jws(&data["jws-kubeconfig-abcdef"], b"apiVersion: v1\n")
        .unwrap();

    // A second pass over the result changes nothing.
    let (again, _) = sign_cluster_info(&updated, &secrets, now).unwrap();
    assert!(!again.changed);
    assert!(again.stale.is_empty());

    // A changed payload changes the signatures.
    let mut edited = updated.clone();
    edited
        .data
        .as_mut()
        .unwrap()
        .insert("kubeconfig".into(), "apiVersion: v1\n\n".into());
    let (edit, _) = sign_cluster_info(&edited, &secrets, now).unwrap();
    assert!(edit.changed);
    assert!(edit.stale.is_empty());
}

#[test]
fn signer_does_nothing_without_kubeconfig() {
    let err = sign_cluster_info(&ConfigMap::default(), &[secret()], t0()).unwrap_err();
    assert!(matches!(err, Error::ClusterInfoMissingKubeconfig));
    let mut cm = cluster_info(&[]);
    cm.data.as_mut().unwrap().remove("kubeconfig");
    assert!(sign_cluster_info(&cm, &[secret()], t0()).is_err());
}
