//! `discovery::validate()` on arbitrary ConfigMap data never panics, and never trusts data that
//! is not signed with the token: only the vector's own signed kubeconfig may pass.

#![no_main]

use std::collections::BTreeMap;

use kubetrust_bootstrap_token::BootstrapToken;
use kubetrust_discovery::{PinSet, Trust, validate};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    entries: Vec<(String, String)>,
    sign_kubeconfig: bool,
    unsafe_skip: bool,
}

fuzz_target!(|input: Input| {
    let token: BootstrapToken = "7h3k9q.x2m5p8r1t4w7z0c3".parse().expect("fixed token");
    let mut data: BTreeMap<String, String> = input.entries.into_iter().collect();
    // Half the time the fuzzer's kubeconfig carries a genuine signature, so the parsing and
    // CA checks behind the JWS are reached too.
    if input.sign_kubeconfig {
        if let Some(kubeconfig) = data.get("kubeconfig") {
            let jws = token.sign_jws(kubeconfig.as_bytes());
            data.insert("jws-kubeconfig-7h3k9q".to_owned(), jws);
        }
    }
    let trust = if input.unsafe_skip {
        Trust::UnsafeSkipCaVerification
    } else {
        let pin = "sha256:820bf43893ad3f35e9ce07bb1ae51c8872fe92e3319b530e67ceabb6ed10ca3e";
        Trust::Pinned(PinSet::parse([pin]).expect("fixed pin"))
    };
    if let Ok(info) = validate(&data, &token, &trust) {
        let kubeconfig = data.get("kubeconfig").expect("validated data has a kubeconfig");
        assert_eq!(info.kubeconfig(), kubeconfig);
        token
            .verify_jws(&data["jws-kubeconfig-7h3k9q"], kubeconfig.as_bytes())
            .expect("only signed data passes");
    }
});
