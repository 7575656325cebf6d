//! One-string join tokens against independent vectors, and k3s tokens read as k3s reads them:
//! CA hashes computed with Python's hashlib over certificates made by the openssl CLI
//! (`testdata/discovery/k3s/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use kubetrust_discovery::{Error, JoinToken, K3sCredentials, K3sToken, PinSet, Trust};

const TOKEN: &str = "7h3k9q.x2m5p8r1t4w7z0c3";
const SECRET: &str = "x2m5p8r1t4w7z0c3";

fn vectors() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/discovery"))
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(vectors().join(name)).unwrap()
}

fn hashes() -> serde_json::Value {
    serde_json::from_slice(&read("k3s/hashes.json")).unwrap()
}

fn hash(key_start: &str) -> String {
    let hashes = hashes();
    let (_, value) = hashes
        .as_object()
        .unwrap()
        .iter()
        .find(|(key, _)| key.starts_with(key_start))
        .unwrap();
    value.as_str().unwrap().to_owned()
}

#[test]
fn the_pins_are_the_vectors_spki_pins_in_base64url() {
    // pins.json: the vector CAs' pins computed with Python; the token's pins field must be
    // exactly their 32 bytes each, base64url without padding.
    let pins = [
        "sha256:3bde94802604dbbc010577681bc8aa9a80b2ce45f6685a3492765807ae02bf4f",
        "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e",
    ];
    let join = JoinToken::new(TOKEN.parse().unwrap(), PinSet::parse(pins).unwrap())
        .with_endpoint("10.0.0.10:6443")
        .unwrap();
    let text = join.expose_secret();
    let fields: Vec<&str> = text.splitn(5, '.').collect();
    assert_eq!(fields[..3], ["kjt1", "7h3k9q", SECRET]);
    let hex: String = pins.iter().map(|p| p.trim_start_matches("sha256:")).collect();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let python = std::process::Command::new("python3")
        .args([
            "-c",
            "import base64,sys; print(base64.urlsafe_b64encode(bytes.fromhex(sys.argv[1])).decode().rstrip('='))",
        ])
        .arg(&hex)
        .output();
    match python {
        Ok(out) if out.status.success() => {
            assert_eq!(fields[3], String::from_utf8(out.stdout).unwrap().trim());
        }
        _ if std::env::var_os("CI").is_some() => panic!("python3 is required under CI"),
        _ => eprintln!("skipped the python3 cross-check: python3 not found"),
    }
    assert_eq!(bytes.len(), 64);
    assert_eq!(fields[4], "10.0.0.10:6443");
    let parsed: JoinToken = text.parse().unwrap();
    assert_eq!(parsed, join);
    assert!(matches!(parsed.trust(), Trust::Pinned(set) if set == PinSet::parse(pins).unwrap()));
}

#[test]
fn debug_of_tokens_hides_the_secrets() {
    let join: JoinToken = JoinToken::new(
        TOKEN.parse().unwrap(),
        PinSet::parse(["sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e"]).unwrap(),
    )
    .expose_secret()
    .parse()
    .unwrap();
    assert!(!format!("{join:?}").contains(SECRET));
    let k3s: K3sToken = format!("K10{}::{TOKEN}", "a".repeat(64)).parse().unwrap();
    assert!(!format!("{k3s:?}").contains(SECRET));
    let k3s: K3sToken = "K10::server:hunter2hunter2".parse().unwrap();
    let shown = format!("{k3s:?}");
    assert!(!shown.contains("hunter2") && shown.contains("server"), "{shown}");
}

#[test]
fn k3s_tokens_parse_as_k3s_parses_them() {
    let hash = "914d7dde5f2e34de47ec8f6c2052acd5ecf41a36e8b95018e105e2e1313a488f";
    let token: K3sToken = format!("K10{hash}::{TOKEN}").parse().unwrap();
    assert_eq!(token.ca_hash(), Some(hash));
    assert!(matches!(token.credentials(), K3sCredentials::BootstrapToken(t) if *t.expose_secret() == TOKEN));

    let token: K3sToken = format!("K10{}::node:secret", hash.to_uppercase())
        .parse()
        .unwrap();
    assert_eq!(
        token.ca_hash(),
        Some(hash),
        "hex is read in either case, kept lower-case"
    );
    assert!(matches!(token.credentials(), K3sCredentials::Password { user, .. } if user == "node"));

    // Bare credentials: a bootstrap token, or else all of it is the password (empty user).
    let token: K3sToken = TOKEN.parse().unwrap();
    assert_eq!(token.ca_hash(), None);
    assert!(matches!(token.credentials(), K3sCredentials::BootstrapToken(_)));
    let token: K3sToken = "user:pass".parse().unwrap();
    assert!(matches!(token.credentials(),
        K3sCredentials::Password { user, password } if user.is_empty() && password.as_str() == "user:pass"));
    // K10 without "::": all of it after the prefix is the credentials, no hash.
    let token: K3sToken = "K10node:secret".parse().unwrap();
    assert_eq!(token.ca_hash(), None);

    for (input, reason) in [
        ("", "empty"),
        ("K10abc::node:secret", "64 hexadecimal"),
        (&format!("K10{}::node:secret", "g".repeat(64)), "64 hexadecimal"),
        (&format!("K10{hash}::node:"), "neither"),
        (&format!("K10{hash}::secretonly"), "neither"),
        ("K10secretonly", "neither"),
    ] {
        let err = input.parse::<K3sToken>().unwrap_err();
        assert!(
            matches!(&err, Error::K3sToken { reason: r } if r.contains(reason)),
            "{input:?}: {err}"
        );
        assert!(!err.to_string().contains("secretonly"), "{err}");
    }
}

#[test]
fn k3s_ca_hashes_match_the_independent_vectors() {
    assert_eq!(
        K3sToken::hash_ca(&read("k3s/root.pem")).unwrap(),
        hash("root.pem")
    );
    assert_eq!(
        K3sToken::hash_ca(&read("k3s/chain.pem")).unwrap(),
        hash("chain.pem")
    );
    assert_eq!(
        K3sToken::hash_ca(&read("ca-bundle.pem")).unwrap(),
        hash("../ca-bundle.pem")
    );
    assert!(matches!(
        K3sToken::hash_ca(b"not a certificate"),
        Err(Error::K3sCaBundle(_))
    ));
}

#[test]
fn a_k3s_token_becomes_a_join_token_only_with_its_ca_and_a_bootstrap_token() {
    let chain = read("k3s/chain.pem");
    let token: K3sToken = format!("K10{}::{TOKEN}", hash("chain.pem")).parse().unwrap();
    let join = token.to_join_token(&chain).unwrap();
    let expected: Vec<String> = hashes()["pins of chain.pem, in order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pin| pin.as_str().unwrap().to_owned())
        .collect();
    let pins: Vec<String> = join.pins().pins().iter().map(ToString::to_string).collect();
    assert_eq!(pins, expected);
    assert_eq!(*join.token().expose_secret(), TOKEN);
    assert_eq!(join.endpoint(), None);

    // The same certificate with other bytes (CRLF line ends) is another k3s hash: refused,
    // although its key, and so its pin, is the same.
    let root = read("k3s/root.pem");
    let crlf: Vec<u8> = String::from_utf8(root.clone())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let token: K3sToken = format!("K10{}::{TOKEN}", hash("root.pem")).parse().unwrap();
    assert!(token.to_join_token(&root).is_ok());
    let err = token.to_join_token(&crlf).unwrap_err();
    assert!(
        matches!(&err, Error::K3sCaHashMismatch { expected, .. } if *expected == hash("root.pem")),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("token CA hash does not match the Cluster CA certificate hash: ")
    );

    let no_hash: K3sToken = TOKEN.parse().unwrap();
    assert!(matches!(no_hash.to_join_token(&root), Err(Error::K3sNoCaHash)));
    let password: K3sToken = format!("K10{}::node:secret", hash("root.pem")).parse().unwrap();
    assert!(matches!(
        password.to_join_token(&root),
        Err(Error::K3sPasswordCredentials)
    ));
}
