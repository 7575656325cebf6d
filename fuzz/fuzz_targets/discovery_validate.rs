//! `discovery::validate()` on arbitrary ConfigMap data never panics, and never trusts data that
//! is not signed with the token: only a kubeconfig with the token's genuine signature may pass.
//!
//! Input: one flag byte, then NUL-separated fields: the `kubeconfig` value, then key, value,
//! key, value, ... of further entries (so `jws-kubeconfig-*` keys and values are fuzzed too).
//! Flag bit 0 signs the kubeconfig with the token, so the checks behind the JWS (YAML, one
//! cluster, CA, pins) are reached; bit 1 trusts without pins; bit 2 leaves `kubeconfig` out.
//! `seeds/discovery_validate` holds the team's cluster-info vector in this form.

#![no_main]

use std::collections::BTreeMap;

use kubetrust_bootstrap_token::{BootstrapToken, KUBECONFIG_KEY};
use kubetrust_discovery::{PinSet, Trust, validate};
use libfuzzer_sys::fuzz_target;

const SIGN: u8 = 1;
const UNSAFE_SKIP: u8 = 2;
const NO_KUBECONFIG: u8 = 4;

fuzz_target!(|input: &[u8]| {
    let Some((&flags, rest)) = input.split_first() else {
        return;
    };
    let token: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse().expect("fixed token");
    let mut fields = rest
        .split(|b| *b == 0)
        .map(|field| String::from_utf8_lossy(field).into_owned());
    let kubeconfig = fields.next().unwrap_or_default();
    let mut data = BTreeMap::new();
    while let (Some(key), Some(value)) = (fields.next(), fields.next()) {
        data.insert(key, value);
    }
    if flags & NO_KUBECONFIG == 0 {
        data.insert(KUBECONFIG_KEY.to_owned(), kubeconfig);
    }
    if flags & SIGN != 0
        && let Some(kubeconfig) = data.get(KUBECONFIG_KEY)
    {
        let jws = token.sign_jws(kubeconfig.as_bytes());
        data.insert(token.id().jws_key(), jws);
    }
    let trust = if flags & UNSAFE_SKIP != 0 {
        Trust::UnsafeSkipCaVerification
    } else {
        // The pin of testdata/discovery/ca-rsa.pem, the CA in the seeds' kubeconfig.
        let pin = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
        Trust::Pinned(PinSet::parse([pin]).expect("fixed pin"))
    };
    if let Ok(info) = validate(&data, &token, &trust) {
        let kubeconfig = data.get("kubeconfig").expect("validated data has a kubeconfig");
        assert_eq!(info.kubeconfig(), kubeconfig);
        let jws = data
            .get("jws-kubeconfig-7h3k9q")
            .expect("validated data has a signature");
        token
            .verify_jws(jws, kubeconfig.as_bytes())
            .expect("only signed data passes");
    }
});
