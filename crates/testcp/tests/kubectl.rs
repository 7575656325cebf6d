//! The real kubectl against testcp, through its admin kubeconfig: the commands a kubeadm
//! cluster's operator runs around a node join.
// Helpers outside #[test] functions fail the test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Duration;

use kubetrust_testcp::TestControlPlane;
use kubetrust_testcp::store::{ObjectKey, Resource};
use serde_json::{Value, json};
use support::kubectl::Kubectl;

const CSRS: (&str, &str) = ("certificates.k8s.io", "certificatesigningrequests");

/// A pending kubelet client CSR named `name`, created in the store.
fn pending_csr(plane: &TestControlPlane, name: &str) {
    let csr = json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": {"request": "LS0tLQ==", "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
                 "usages": ["digital signature", "client auth"], "username": "system:bootstrap:abcdef",
                 "groups": ["system:bootstrappers", "system:authenticated"], "expirationSeconds": 86400},
        "status": {},
    });
    plane
        .store()
        .create(&Resource::new(CSRS.0, CSRS.1), "", csr)
        .unwrap();
}

fn csr(plane: &TestControlPlane, name: &str) -> Value {
    let key = ObjectKey {
        resource: Resource::new(CSRS.0, CSRS.1),
        namespace: String::new(),
        name: name.into(),
    };
    (*plane.store().get(&key).unwrap()).clone()
}

/// The words of each output line (kubectl pads columns with spaces).
fn rows(output: &str) -> Vec<Vec<String>> {
    output
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn version_and_get_csr_table() {
    let plane = support::start().await;
    let Some(kubectl) = Kubectl::new(&plane) else {
        return;
    };
    let version: Value = serde_json::from_str(&kubectl.ok(&["get", "--raw", "/version"]).await).unwrap();
    assert_eq!(version["gitVersion"], "v1.33.0-kubetrust-testcp");
    pending_csr(&plane, "csr-abc12");
    let table = rows(&kubectl.ok(&["get", "csr"]).await);
    assert_eq!(
        table[0],
        [
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION"
        ]
    );
    assert_eq!(table[1][0], "csr-abc12");
    assert_eq!(
        table[1][2..],
        [
            "kubernetes.io/kube-apiserver-client-kubelet",
            "system:bootstrap:abcdef",
            "24h",
            "Pending"
        ]
    );
    let object: Value =
        serde_json::from_str(&kubectl.ok(&["get", "csr", "csr-abc12", "-o", "json"]).await).unwrap();
    assert_eq!(object["spec"]["username"], "system:bootstrap:abcdef");
    let missing = kubectl.run(&["get", "csr", "csr-nope"]).await;
    assert!(!missing.status.success());
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr).trim(),
        "Error from server (NotFound): certificatesigningrequests.certificates.k8s.io \"csr-nope\" not found"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn certificate_approve_and_deny_send_protobuf_approvals() {
    let plane = support::start().await;
    let Some(kubectl) = Kubectl::new(&plane) else {
        return;
    };
    pending_csr(&plane, "csr-yes");
    pending_csr(&plane, "csr-no");
    let out = kubectl.ok(&["certificate", "approve", "csr-yes"]).await;
    assert_eq!(
        out.trim(),
        "certificatesigningrequest.certificates.k8s.io/csr-yes approved"
    );
    let out = kubectl.ok(&["certificate", "deny", "csr-no"]).await;
    assert_eq!(
        out.trim(),
        "certificatesigningrequest.certificates.k8s.io/csr-no denied"
    );
    let approved = &csr(&plane, "csr-yes")["status"]["conditions"][0];
    assert_eq!(
        (&approved["type"], &approved["reason"]),
        (&json!("Approved"), &json!("KubectlApprove"))
    );
    let denied = &csr(&plane, "csr-no")["status"]["conditions"][0];
    assert_eq!(
        (&denied["type"], &denied["status"]),
        (&json!("Denied"), &json!("True"))
    );
    let table = rows(&kubectl.ok(&["get", "csr"]).await);
    let conditions: Vec<&str> = table[1..]
        .iter()
        .filter_map(|r| r.last().map(String::as_str))
        .collect();
    assert_eq!(conditions, ["Denied", "Approved"]);
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn rbac_and_cluster_info() {
    let plane = support::start().await;
    let Some(kubectl) = Kubectl::new(&plane) else {
        return;
    };
    let bindings = rows(&kubectl.ok(&["get", "clusterrolebindings"]).await);
    assert_eq!(bindings[0], ["NAME", "ROLE", "AGE"]);
    let autoapprove = bindings
        .iter()
        .find(|r| r[0] == "kubeadm:node-autoapprove-bootstrap")
        .expect("the kubeadm binding is listed");
    assert_eq!(
        autoapprove[1],
        "ClusterRole/system:certificates.k8s.io:certificatesigningrequests:nodeclient"
    );
    let info: Value = serde_json::from_str(
        &kubectl
            .ok(&["-n", "kube-public", "get", "cm", "cluster-info", "-o", "json"])
            .await,
    )
    .unwrap();
    assert!(
        info["data"]["kubeconfig"]
            .as_str()
            .unwrap()
            .contains(&plane.url())
    );
    let out = kubectl
        .ok(&[
            "-n",
            "kube-public",
            "create",
            "rolebinding",
            "kubeadm:test",
            "--role=kubeadm:bootstrap-signer-clusterinfo",
            "--user=system:anonymous",
        ])
        .await;
    assert_eq!(
        out.trim(),
        "rolebinding.rbac.authorization.k8s.io/kubeadm:test created"
    );
    let out = kubectl
        .ok(&["-n", "kube-public", "delete", "rolebinding", "kubeadm:test"])
        .await;
    assert_eq!(
        out.trim(),
        "rolebinding.rbac.authorization.k8s.io \"kubeadm:test\" deleted"
    );
    let out = kubectl
        .ok(&[
            "delete",
            "clusterrolebinding",
            "kubeadm:node-autoapprove-bootstrap",
        ])
        .await;
    assert!(out.contains("deleted"), "{out}");
    let out = kubectl
        .ok(&["auth", "can-i", "create", "certificatesigningrequests"])
        .await;
    assert_eq!(out.trim(), "yes");
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn bootstrap_token_secret_create_and_delete() {
    let plane = support::start().await;
    let Some(kubectl) = Kubectl::new(&plane) else {
        return;
    };
    let out = kubectl
        .ok(&[
            "-n",
            "kube-system",
            "create",
            "secret",
            "generic",
            "bootstrap-token-abcdef",
            "--type",
            "bootstrap.kubernetes.io/token",
            "--from-literal=token-id=abcdef",
            "--from-literal=token-secret=0123456789abcdef",
            "--from-literal=usage-bootstrap-authentication=true",
        ])
        .await;
    assert_eq!(out.trim(), "secret/bootstrap-token-abcdef created");
    let again = kubectl
        .run(&[
            "-n",
            "kube-system",
            "create",
            "secret",
            "generic",
            "bootstrap-token-abcdef",
            "--from-literal=a=b",
        ])
        .await;
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("secrets \"bootstrap-token-abcdef\" already exists")
    );
    let table = rows(&kubectl.ok(&["-n", "kube-system", "get", "secrets"]).await);
    assert_eq!(table[0], ["NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(
        table[1][..3],
        ["bootstrap-token-abcdef", "bootstrap.kubernetes.io/token", "3"]
    );
    let out = kubectl
        .ok(&["-n", "kube-system", "delete", "secret", "bootstrap-token-abcdef"])
        .await;
    assert_eq!(out.trim(), "secret \"bootstrap-token-abcdef\" deleted");
    plane.shutdown().await.unwrap();
}

async fn next_line(seen: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> Option<String> {
    tokio::time::timeout(Duration::from_secs(20), seen.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn get_csr_watch_prints_new_requests() {
    let plane = support::start().await;
    let Some(kubectl) = Kubectl::new(&plane) else {
        return;
    };
    pending_csr(&plane, "csr-old");
    let mut child = kubectl
        .command(&["get", "csr", "-w"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, mut seen) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    assert!(next_line(&mut seen).await.is_some_and(|l| l.starts_with("NAME")));
    assert!(
        next_line(&mut seen)
            .await
            .is_some_and(|l| l.starts_with("csr-old"))
    );
    pending_csr(&plane, "csr-new");
    let line = next_line(&mut seen).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let line = line.expect("kubectl printed the new CSR");
    assert_eq!(
        rows(&line)[0].first().map(String::as_str),
        Some("csr-new"),
        "{line}"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn apply_validates_on_the_server_and_patches() {
    let plane = support::start().await;
    let Some(kubectl) = Kubectl::new(&plane) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("secret.yaml");
    let write = |secret: &str| {
        let text = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: applied\n  namespace: kube-system\ndata:\n  token-secret: {secret}\n"
        );
        std::fs::write(&manifest, text).unwrap();
    };
    let file = manifest.to_str().unwrap();
    write("MDEyMw==");
    assert_eq!(
        kubectl.ok(&["apply", "-f", file]).await.trim(),
        "secret/applied created"
    );
    assert_eq!(
        kubectl.ok(&["apply", "-f", file]).await.trim(),
        "secret/applied unchanged"
    );
    write("OTg3Ng==");
    assert_eq!(
        kubectl.ok(&["apply", "-f", file]).await.trim(),
        "secret/applied configured"
    );
    let key = ObjectKey {
        resource: Resource::new("", "secrets"),
        namespace: "kube-system".into(),
        name: "applied".into(),
    };
    assert_eq!(
        plane.store().get(&key).unwrap()["data"]["token-secret"],
        "OTg3Ng=="
    );
    plane.shutdown().await.unwrap();
}
