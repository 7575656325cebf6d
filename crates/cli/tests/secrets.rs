//! No secret on stderr: every command that reads a kubeadm `--config` file fails on a broken
//! file without printing the token or key that sits on or next to the failing line.
// A test fails by panicking.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assert_cmd::Command;

const TOKEN: &str = "abcdef.0123456789abcdef";
const CERTIFICATE_KEY: &str = "e6a2eb8581237ab72a4f494f30285ec12a9694d750b9785706a83bfcbbbd2204";

fn broken_files() -> Vec<String> {
    let join = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\n";
    let init = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n";
    vec![
        // The example: an unclosed flow sequence next to the token.
        format!(
            "{join}discovery:\n  bootstrapToken:\n    caCertHashes: [sha256:0000\n    token: {TOKEN}\n    apiServerEndpoint: 10.0.0.1:6443\n"
        ),
        format!("{init}bootstrapTokens:\n- token: {TOKEN}\n  ttl: [24h\ncertificateKey: {CERTIFICATE_KEY}\n"),
        format!(
            "{join}controlPlane:\n  certificateKey: {CERTIFICATE_KEY}\n  localAPIEndpoint: {{advertiseAddress: {TOKEN}}}\n"
        ),
        format!("{join}discovery:\n  tlsBootstrapToken: {TOKEN}\n\tfile: x\n"),
    ]
}

#[test]
fn commands_with_config_keep_secrets_off_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let cert_dir = dir.path().join("pki");
    let cert_dir = cert_dir.to_str().unwrap();
    let commands: [&[&str]; 5] = [
        &["certs", "init", "--cert-dir", cert_dir],
        &["certs", "check-expiration", "--cert-dir", cert_dir],
        &["certs", "generate-csr", "--cert-dir", cert_dir],
        &["kubeconfig", "init", "--cert-dir", cert_dir],
        &["kubeconfig", "user", "--client-name", "u", "--cert-dir", cert_dir],
    ];
    for (index, text) in broken_files().into_iter().enumerate() {
        let file = dir.path().join(format!("config-{index}.yaml"));
        std::fs::write(&file, &text).unwrap();
        for command in commands {
            let out = Command::cargo_bin("kubetrust")
                .unwrap()
                .args(command)
                .arg("--config")
                .arg(&file)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{command:?} on\n{text}\nstderr: {stderr}"
            );
            assert!(stderr.contains("config-"), "the error names the file: {stderr}");
            for secret in [TOKEN, "0123456789abcdef", CERTIFICATE_KEY] {
                assert!(!stderr.contains(secret), "{command:?} printed {secret}: {stderr}");
                assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
            }
        }
    }
}
