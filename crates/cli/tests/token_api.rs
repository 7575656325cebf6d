//! `kubetrust token create|list|delete` against `kubetrust testcp serve`.
// A test fails by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod support;

use kubetrust::bootstrap_token::BootstrapToken;
use support::{Server, fails, ok};

const TOKEN: &str = "abcdef.0123456789abcdef";

#[test]
fn create_list_delete_round_trip() {
    let server = Server::start();
    let (dir, kc) = (server.path(), server.kubeconfig());

    let (created, _) = ok(&["token", "create", "--kubeconfig", kc], dir);
    let line = created.strip_suffix('\n').expect("one line");
    let token: BootstrapToken = line.parse().expect("the token alone on stdout");
    let id = token.id().as_str().to_owned();

    ok(
        &[
            "token",
            "create",
            TOKEN,
            "--kubeconfig",
            kc,
            "--ttl",
            "0",
            "--usages",
            "signing",
            "--groups",
            "",
            "--description",
            "for ci",
        ],
        dir,
    );

    let (table, _) = ok(&["token", "list", "--kubeconfig", kc], dir);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    let header: Vec<&str> = lines[0]
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION", "EXTRA GROUPS"]
    );
    // Sorted by id: abcdef first unless the random id sorts before it.
    let fixed = lines.iter().find(|l| l.starts_with(TOKEN)).unwrap();
    // kubeadm pads TTL, USAGES and DESCRIPTION to 9, 22 and 56, then its tabwriter adds 3.
    assert_eq!(
        *fixed,
        format!(
            "{TOKEN}   <forever>   <never>   {:<25}{:<59}<none>",
            "signing", "for ci"
        )
    );
    let random = lines.iter().find(|l| l.starts_with(line)).unwrap();
    let cells: Vec<&str> = random.split_whitespace().collect();
    assert_eq!(cells[1], "23h");
    assert_eq!(cells[3], "authentication,signing");
    assert_eq!(cells[4], "<none>");
    assert_eq!(cells[5], "system:bootstrappers:kubeadm:default-node-token");
    // Columns line up as Go's tabwriter does: every row has its TTL at the header's offset.
    let ttl_at = lines[0].find("TTL").unwrap();
    assert!(lines[1..].iter().all(|l| l[..ttl_at].ends_with("   ")));

    let (json, _) = ok(&["token", "list", "--kubeconfig", kc, "-o", "json"], dir);
    let objects: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&json)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(objects.len(), 2);
    let fixed = objects.iter().find(|o| o["token"] == TOKEN).unwrap();
    assert_eq!(fixed["kind"], "BootstrapToken");
    assert_eq!(fixed["apiVersion"], "output.kubeadm.k8s.io/v1alpha3");
    assert_eq!(fixed["description"], "for ci");
    assert_eq!(fixed["usages"], serde_json::json!(["signing"]));
    assert!(fixed.get("expires").is_none() && fixed.get("groups").is_none());
    let random = objects.iter().find(|o| o["token"] == line).unwrap();
    assert!(random["expires"].as_str().unwrap().ends_with('Z'));
    // Byte for byte as Go's JSON printer: four-space indent, kubeadm's field order.
    assert!(
        json.contains(&format!(
            "{{\n    \"kind\": \"BootstrapToken\",\n    \"apiVersion\": \"output.kubeadm.k8s.io/v1alpha3\",\n    \"token\": \"{TOKEN}\",\n    \"description\": \"for ci\",\n    \"usages\": [\n        \"signing\"\n    ]\n}}\n"
        )),
        "{json}"
    );

    // By full token and by id.
    let (out, _) = ok(&["token", "delete", TOKEN, &id, "--kubeconfig", kc], dir);
    assert_eq!(
        out,
        format!("bootstrap token \"abcdef\" deleted\nbootstrap token \"{id}\" deleted\n")
    );
    // No tokens: kubeadm prints nothing, not even the header.
    let (table, _) = ok(&["token", "list", "--kubeconfig", kc], dir);
    assert_eq!(table, "");
}

#[test]
fn print_join_command_is_kubeadms_line_with_the_ca_pin() {
    let server = Server::start();
    let (dir, kc) = (server.path(), server.kubeconfig());
    let (line, _) = ok(
        &[
            "token",
            "create",
            TOKEN,
            "--kubeconfig",
            kc,
            "--print-join-command",
        ],
        dir,
    );
    let (pin, _) = ok(&["certs", "ca-cert-hash", "--ca-cert", "pki/ca.crt"], dir);
    assert_eq!(
        line,
        format!(
            "kubeadm join {} --token {TOKEN} --discovery-token-ca-cert-hash {} \n",
            server.endpoint(),
            pin.trim_end()
        )
    );
    // --server names another endpoint (here: the same server by another name).
    let url = server.url.replace("127.0.0.1", "localhost");
    let (line, _) = ok(
        &[
            "token",
            "create",
            "--kubeconfig",
            kc,
            "--server",
            &url,
            "--print-join-command",
        ],
        dir,
    );
    let port = server.endpoint().rsplit(':').next().unwrap();
    assert!(
        line.starts_with(&format!("kubeadm join localhost:{port} --token ")),
        "{line}"
    );
}

#[test]
fn create_refuses_bad_input_and_a_duplicate() {
    let server = Server::start();
    let (dir, kc) = (server.path(), server.kubeconfig());
    ok(&["token", "create", TOKEN, "--kubeconfig", kc], dir);
    let err = fails(&["token", "create", TOKEN, "--kubeconfig", kc], dir, 1);
    assert!(err.contains("abcdef") && err.contains("exists"), "{err}");
    assert!(!err.contains("0123456789abcdef"), "the secret leaked: {err}");

    let err = fails(
        &["token", "create", "abcdef.0123456789ABCDEF", "--kubeconfig", kc],
        dir,
        1,
    );
    assert!(!err.contains("0123456789ABCDEF"), "the secret leaked: {err}");
    let err = fails(
        &["token", "create", "--kubeconfig", kc, "--usages", "signing,bogus"],
        dir,
        1,
    );
    assert!(err.contains("bogus"), "{err}");
    let err = fails(
        &[
            "token",
            "create",
            "--kubeconfig",
            kc,
            "--groups",
            "system:masters",
        ],
        dir,
        1,
    );
    assert!(err.contains("system:masters"), "{err}");
    let err = fails(&["token", "create", "--kubeconfig", kc, "--ttl", "1day"], dir, 1);
    assert!(err.contains("--ttl"), "{err}");
    // Groups need the authentication usage.
    fails(
        &["token", "create", "--kubeconfig", kc, "--usages", "signing"],
        dir,
        1,
    );
    let err = fails(&["token", "create", "--kubeconfig", "missing.conf"], dir, 1);
    assert!(err.contains("missing.conf"), "{err}");
    let err = fails(
        &["token", "create", "--kubeconfig", kc, "--server", "not a url"],
        dir,
        1,
    );
    assert!(err.contains("not a url"), "{err}");
    fails(&["token", "create", "--kubeconfig", kc, "--bogus"], dir, 2);
    // Only the one good token was created.
    let (table, _) = ok(&["token", "list", "--kubeconfig", kc], dir);
    assert_eq!(table.lines().count(), 2, "{table}");
}

#[test]
fn delete_and_list_fail_clearly() {
    let mut server = Server::start();
    let dir = server.path().to_owned();
    let kc = server.kubeconfig();
    let err = fails(&["token", "delete", "abcdef", "--kubeconfig", kc], &dir, 1);
    assert!(err.contains("bootstrap token \"abcdef\" not found"), "{err}");
    let err = fails(&["token", "delete", "abc.def", "--kubeconfig", kc], &dir, 1);
    assert!(err.contains("neither a token id"), "{err}");
    fails(&["token", "delete", "--kubeconfig", kc], &dir, 2);
    fails(&["token", "list", "--kubeconfig", kc, "-o", "yaml"], &dir, 2);

    assert!(server.stop("TERM").success());
    let err = fails(&["token", "list", "--kubeconfig", kc], &dir, 1);
    assert!(err.contains("error:"), "{err}");
    fails(&["token", "create", "--kubeconfig", kc], &dir, 1);
    fails(&["token", "delete", "abcdef", "--kubeconfig", kc], &dir, 1);
}
