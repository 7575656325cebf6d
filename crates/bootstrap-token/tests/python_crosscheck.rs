//! Cross-check with code nobody here wrote: python3's stdlib `hmac`, `hashlib` and `base64`
//! verify our detached JWS signatures, and we verify theirs, on random payloads.
//!
//! Without python3 the test prints why and passes, except under `CI=true`, where it fails.

// Test code: a panic is a failed test (clippy.toml only covers `#[test]` fns, not helpers).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kubetrust_bootstrap_token::BootstrapToken;
use serde_json::{Value, json};

/// Reads a JSON request on stdin: `verify` items (ours, to check) and `sign` items (theirs to
/// make). Implements the bootstrap signer's procedure from its description, independently.
const PYTHON: &str = r#"
import base64, hashlib, hmac, json, sys

def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")

def detached(payload, token_id, secret):
    header = b64url(json.dumps({"alg": "HS256", "kid": token_id}, separators=(",", ":")).encode())
    signing_input = (header + "." + b64url(payload)).encode("ascii")
    mac = hmac.new(secret.encode("ascii"), signing_input, hashlib.sha256).digest()
    return header + ".." + b64url(mac)

req = json.load(sys.stdin)
out = {"verified": [], "signed": []}
for item in req["verify"]:
    payload = base64.b64decode(item["payload"])
    ok = hmac.compare_digest(detached(payload, item["id"], item["secret"]), item["jws"])
    out["verified"].append(ok)
for item in req["sign"]:
    out["signed"].append(detached(base64.b64decode(item["payload"]), item["id"], item["secret"]))
json.dump(out, sys.stdout)
"#;

/// A small deterministic generator (xorshift64*) so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = (self.next() % (max_len as u64 + 1)) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn python3_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_stdlib_agrees_with_our_jws() {
    if !python3_available() {
        let msg = "python3 not found on PATH: skipping the independent JWS cross-check";
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg} (CI=true: python3 is required)");
        }
        eprintln!("{msg}");
        return;
    }

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut tokens = Vec::new();
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for i in 0..64 {
        let token = BootstrapToken::generate().unwrap();
        // Include the edge sizes: empty, not a multiple of 3, and across our 768-byte chunks.
        let payload = match i {
            0 => Vec::new(),
            1 => vec![b'a'],
            2 => vec![0xff; 768],
            3 => vec![0x00; 769],
            _ => rng.bytes(6000),
        };
        let item = json!({
            "id": token.id().as_str(),
            "secret": token.secret().expose_secret(),
            "payload": STANDARD.encode(&payload),
            "jws": token.sign_jws(&payload),
        });
        ours.push(item);
        let payload2 = rng.bytes(3000);
        theirs.push(json!({
            "id": token.id().as_str(),
            "secret": token.secret().expose_secret(),
            "payload": STANDARD.encode(&payload2),
        }));
        tokens.push((token, payload2));
    }
    let request = json!({ "verify": ours, "sign": theirs }).to_string();

    let mut child = Command::new("python3")
        .args(["-c", PYTHON])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(request.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let response: Value = serde_json::from_slice(&output.stdout).unwrap();

    let verified = response["verified"].as_array().unwrap();
    assert_eq!(verified.len(), 64);
    for (i, ok) in verified.iter().enumerate() {
        assert_eq!(ok, &Value::Bool(true), "python rejected our signature #{i}");
    }
    let signed = response["signed"].as_array().unwrap();
    assert_eq!(signed.len(), 64);
    for ((token, payload), jws) in tokens.iter().zip(signed) {
        let jws = jws.as_str().unwrap();
        token.verify_jws(jws, payload).unwrap();
        assert_eq!(token.sign_jws(payload), jws);
        // And python's signature does not verify for a changed payload.
        let mut changed = payload.clone();
        changed.push(b'\n');
        assert!(token.verify_jws(jws, &changed).is_err());
    }
}
