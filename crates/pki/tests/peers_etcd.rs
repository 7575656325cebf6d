//! The kubeadm etcd certificates in a real etcd (Debian's `etcd-server` and `etcd-client`):
//! etcd serves `etcd/server` and `etcd/peer` with client-certificate authentication against
//! `etcd/ca`; `etcdctl` connects as `etcd/healthcheck-client` and `apiserver-etcd-client`;
//! another cluster's certificates and a client without one are refused; two members, the second
//! with its own tree signed by the shared etcd CA (what `kubeadm join --control-plane` makes),
//! replicate over peer mutual TLS.
//!
//! The etcd harness (members killed on drop, every wait with a deadline) is `common/etcd.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::etcd::{RUN_TIMEOUT, assert_replicates, etcd_available, spawn, start_cluster};

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use kubetrust_pki::KeyAlgorithm;
use kubetrust_pki::tree::{self, TreeConfig};

const KEY: &str = "/kubetrust/peers-etcd";
const VALUE: &str = "written-with-the-kubeadm-apiserver-etcd-client";

// --- trees ----------------------------------------------------------------------------------

/// A fresh kubeadm tree for `node` at 127.0.0.1 in `dir/name`.
fn tree(dir: &Path, name: &str, node: &str, algorithm: KeyAlgorithm) -> PathBuf {
    let pki = dir.join(name);
    let config = TreeConfig::new(node, "127.0.0.1".parse().unwrap()).with_encryption_algorithm(algorithm);
    tree::create(&pki, &config, SystemTime::now()).unwrap();
    pki
}

// --- tests ----------------------------------------------------------------------------------

#[test]
fn etcd_serves_the_kubeadm_tree_under_mutual_tls() {
    if !etcd_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // kubeadm's default algorithm, for both clusters: the refusals below are about trust only.
    let (pki, other) = std::thread::scope(|s| {
        let other = s.spawn(|| tree(work.path(), "other", "cp-1", KeyAlgorithm::Rsa2048));
        let pki = tree(work.path(), "cluster", "cp-1", KeyAlgorithm::Rsa2048);
        (pki, other.join().unwrap())
    });
    let members = start_cluster(work.path(), &[("cp-1", &pki)]);
    let etcd = &members[0];

    // The healthcheck client (kubeadm's liveness probe identity).
    let out = etcd.health();
    assert!(out.status.success(), "{out}");
    assert!(
        out.text().contains(&format!(
            "{} is healthy: successfully committed proposal",
            etcd.client_url
        )),
        "{out}"
    );

    // The apiserver's etcd client writes and reads.
    let apiserver = Some((pki.as_path(), "apiserver-etcd-client"));
    let out = spawn(&mut etcd.etcdctl(apiserver, &["put", KEY, VALUE]), b"").finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout, "OK\n", "{out}");
    let out = spawn(&mut etcd.etcdctl(apiserver, &["get", KEY]), b"").finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout, format!("{KEY}\n{VALUE}\n"), "{out}");

    // Refusals, run side by side (each waits out etcdctl's command timeout).
    let refused = [
        (
            "client certificate from another cluster's etcd CA",
            spawn(
                &mut etcd.etcdctl(Some((other.as_path(), "apiserver-etcd-client")), &["get", KEY]),
                b"",
            ),
        ),
        (
            "healthcheck client from another cluster's etcd CA",
            spawn(
                &mut etcd.etcdctl(
                    Some((other.as_path(), "etcd/healthcheck-client")),
                    &["endpoint", "health"],
                ),
                b"",
            ),
        ),
        (
            "no client certificate",
            spawn(&mut etcd.etcdctl(None, &["get", KEY]), b""),
        ),
        (
            "client trusting another cluster's etcd CA",
            spawn(
                etcd.etcdctl(apiserver, &["get", KEY])
                    .arg(format!("--cacert={}", other.join("etcd/ca.crt").display())),
                b"",
            ),
        ),
    ];
    for (what, running) in refused {
        let out = running.finish(RUN_TIMEOUT);
        assert!(!out.status.success(), "{what}: {out}");
        assert!(!out.stdout.contains(VALUE), "{what}: {out}");
        assert!(out.stderr.contains("context deadline exceeded"), "{what}: {out}");
    }
    // etcd says why, in Go's words.
    etcd.log_with("certificate signed by unknown authority");
    etcd.log_with("tls: client didn't provide a certificate");
    etcd.log_with("remote error: tls: bad certificate");

    // The peer listener: it serves etcd/peer (checked by openssl against the SANs) and accepts
    // a peer's certificate from its etcd CA only.
    if common::openssl(&["version"]).is_none() {
        return;
    }
    let members_json = format!(
        "\"peerURLs\":[\"{}\"],\"name\":\"cp-1\",\"clientURLs\":[\"{}\"]}}]",
        etcd.peer_url, etcd.client_url
    );
    let peer_get = |client_pki: &Path| {
        let mut cmd = Command::new("openssl");
        cmd.arg("s_client")
            .arg("-connect")
            .arg(etcd.peer_url.trim_start_matches("https://"))
            .arg("-CAfile")
            .arg(pki.join("etcd/ca.crt"))
            .arg("-cert")
            .arg(client_pki.join("etcd/peer.crt"))
            .arg("-key")
            .arg(client_pki.join("etcd/peer.key"))
            .args(["-no-CApath", "-no-CAstore", "-verify_return_error", "-ign_eof"])
            .args(["-verify_hostname", "cp-1", "-verify_ip", "127.0.0.1"]);
        // etcd's peer listener often keeps the connection open after the response until its
        // 5 s read timeout, so s_client is stopped once the member list has arrived.
        spawn(&mut cmd, b"GET /members HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .finish_when(RUN_TIMEOUT, |stdout| stdout.contains(&members_json))
    };
    let out = peer_get(&pki);
    assert!(out.stdout.contains("Verify return code: 0 (ok)"), "{out}");
    assert!(out.stdout.contains("HTTP/1.0 200 OK"), "{out}");
    assert!(out.stdout.contains(&members_json), "{out}");
    let out = peer_get(&other);
    assert!(!out.status.success(), "{out}");
    assert!(out.stderr.contains("alert bad certificate"), "{out}");
    assert!(!out.stdout.contains("200 OK"), "{out}");
}

#[test]
fn two_members_with_a_shared_etcd_ca_replicate_over_peer_tls() {
    if !etcd_available() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let cp1 = tree(work.path(), "cp-1", "cp-1", KeyAlgorithm::EcdsaP256);
    // The second control-plane node: the etcd CA copied over, as `kubeadm join
    // --control-plane` has it, then its own leaves.
    let cp2 = work.path().join("cp-2");
    std::fs::create_dir_all(cp2.join("etcd")).unwrap();
    for file in ["etcd/ca.crt", "etcd/ca.key"] {
        std::fs::copy(cp1.join(file), cp2.join(file)).unwrap();
    }
    let config = TreeConfig::new("cp-2", "127.0.0.1".parse().unwrap())
        .with_encryption_algorithm(KeyAlgorithm::EcdsaP256);
    tree::create(&cp2, &config, SystemTime::now()).unwrap();
    assert_eq!(
        std::fs::read(cp1.join("etcd/ca.crt")).unwrap(),
        std::fs::read(cp2.join("etcd/ca.crt")).unwrap(),
        "the etcd CA was reused"
    );
    assert_ne!(
        std::fs::read(cp1.join("etcd/peer.crt")).unwrap(),
        std::fs::read(cp2.join("etcd/peer.crt")).unwrap()
    );

    let members = start_cluster(work.path(), &[("cp-1", &cp1), ("cp-2", &cp2)]);
    let (m1, m2) = (&members[0], &members[1]);

    let out = spawn(
        &mut m2.etcdctl(Some((&cp2, "apiserver-etcd-client")), &["member", "list"]),
        b"",
    )
    .finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    assert_eq!(out.stdout.lines().count(), 2, "{out}");
    for m in &members {
        assert!(
            out.stdout.contains(&format!(
                "started, {}, {}, {}, false",
                m.name, m.peer_url, m.client_url
            )),
            "{out}"
        );
    }

    let client = Some((cp1.as_path(), "etcd/healthcheck-client"));
    let out = spawn(&mut m1.etcdctl(client, &["endpoint", "health", "--cluster"]), b"").finish(RUN_TIMEOUT);
    assert!(out.status.success(), "{out}");
    for m in &members {
        assert!(
            out.text().contains(&format!("{} is healthy", m.client_url)),
            "{out}"
        );
    }

    assert_replicates(m1, &cp1, m2, &cp2);
}
