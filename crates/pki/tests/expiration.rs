//! Behaviour tests for the `kubeadm certs check-expiration` rendering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kubetrust_pki::expiration::{
    DurationStyle, ExpirationEntry, ExpirationReport, Problem, human_duration, short_human_duration,
};
use serde_json::json;

/// Test-vector directory, relative to `CARGO_MANIFEST_DIR`.
const TESTDATA_DIR: &str = "../../testdata/pki";
const EXPECTED_FILE: &str = "check-expiration-expected.txt";

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;

// ---------------------------------------------------------------------------------------------
// Residual-time formatting: the spec §7 table, then the boundaries of every branch.

#[test]
fn spec_table_both_styles() {
    // (residual seconds, ShortHumanDuration, HumanDuration)
    let table: &[(i64, &str, &str)] = &[
        (-2, "<invalid>", "<invalid>"),
        (-1, "0s", "0s"),
        (59, "59s", "59s"),
        (119, "1m", "119s"),
        (5 * MIN + 30, "5m", "5m30s"),
        (2 * HOUR + 59 * MIN, "2h", "179m"),
        (5 * HOUR + 30 * MIN, "5h", "5h30m"),
        (47 * HOUR, "1d", "47h"),
        (3 * DAY + 4 * HOUR, "3d", "3d4h"),
        (8759 * HOUR + 55 * MIN, "364d", "364d"),
        (729 * DAY, "1y", "729d"),
        (2 * YEAR + 10 * DAY, "2y", "2y10d"),
        (87599 * HOUR + 55 * MIN, "9y", "9y"),
    ];
    for &(secs, short, human) in table {
        assert_eq!(short_human_duration(secs), short, "short({secs})");
        assert_eq!(human_duration(secs), human, "human({secs})");
        assert_eq!(DurationStyle::ShortHuman.format(secs), short);
        assert_eq!(DurationStyle::Human.format(secs), human);
    }
}

#[test]
fn human_boundaries() {
    let cases: &[(i64, &str)] = &[
        (i64::MIN, "<invalid>"),
        (-3, "<invalid>"),
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (1, "1s"),
        (60, "60s"),
        (119, "119s"),
        (120, "2m"),
        (121, "2m1s"),
        (599, "9m59s"),
        (600, "10m"),
        (601, "10m"),
        (3 * HOUR - 1, "179m"),
        (3 * HOUR, "3h"),
        (3 * HOUR + 59, "3h"),
        (3 * HOUR + MIN, "3h1m"),
        (8 * HOUR - 1, "7h59m"),
        (8 * HOUR, "8h"),
        (48 * HOUR - 1, "47h"),
        (48 * HOUR, "2d"),
        (49 * HOUR, "2d1h"),
        (8 * DAY - 1, "7d23h"),
        (8 * DAY, "8d"),
        (730 * DAY - 1, "729d"),
        (730 * DAY, "2y"),
        (731 * DAY, "2y1d"),
        (8 * YEAR - 1, "7y364d"),
        (8 * YEAR, "8y"),
        (9 * YEAR + 200 * DAY, "9y"),
        (9_223_372_036, "292y"),
        (i64::MAX, "292471208677y"),
    ];
    for &(secs, want) in cases {
        assert_eq!(human_duration(secs), want, "human({secs})");
    }
}

#[test]
fn short_boundaries() {
    let cases: &[(i64, &str)] = &[
        (i64::MIN, "<invalid>"),
        (-2, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (59, "59s"),
        (60, "1m"),
        (119, "1m"),
        (120, "2m"),
        (HOUR - 1, "59m"),
        (HOUR, "1h"),
        (DAY - 1, "23h"),
        (DAY, "1d"),
        (47 * HOUR, "1d"),
        (YEAR - 1, "364d"),
        (YEAR, "1y"),
        (730 * DAY - 1, "1y"),
        (730 * DAY, "2y"),
        (8 * YEAR, "8y"),
        (9_223_372_036, "292y"),
    ];
    for &(secs, want) in cases {
        assert_eq!(short_human_duration(secs), want, "short({secs})");
    }
}

// ---------------------------------------------------------------------------------------------
// The expected rendering of the vector set, byte for byte, in both styles.

fn testdata(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(TESTDATA_DIR)
        .join(file)
}

/// Days since 1970-01-01 of a proleptic-Gregorian date (independent of the library's code).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses `YYYY-MM-DDTHH:MM:SS+00:00` (the vector's `# now =` line) to a `SystemTime`.
fn parse_utc(s: &str) -> SystemTime {
    let s = s
        .strip_suffix("+00:00")
        .or_else(|| s.strip_suffix('Z'))
        .expect("UTC offset");
    let (date, time) = s.split_once('T').expect("T");
    let d: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let t: Vec<i64> = time.split(':').map(|p| p.parse().unwrap()).collect();
    let secs = days_from_civil(d[0], d[1], d[2]) * DAY + t[0] * HOUR + t[1] * MIN + t[2];
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

/// The vector file split into `now`, the HumanDuration section and the ShortHumanDuration one.
fn expected_vector() -> (SystemTime, String, String) {
    let text = std::fs::read_to_string(testdata(EXPECTED_FILE)).expect("read vector");
    let (first, rest) = text.split_once('\n').unwrap();
    let now = parse_utc(first.strip_prefix("# now = ").expect("now line"));
    let rest = rest
        .strip_prefix("# --- v1.31+ (HumanDuration) ---\n")
        .expect("human marker");
    let (human, short) = rest
        .split_once("# --- <= v1.30 (ShortHumanDuration) ---\n")
        .expect("short marker");
    (now, human.to_owned(), short.to_owned())
}

/// The inventory the vector was rendered from: `now` is the CA's NotBefore + 6 min, certificates
/// start at NotBefore + 5 min (= now − 1 min) and last 8760 h (leaves, kubeconfigs) or 87600 h
/// (CAs); four leaves exist, the other seven rows are missing. Given in a scrambled order so
/// that `sort()` is exercised too.
fn vector_report(now: SystemTime) -> ExpirationReport {
    let start = now - Duration::from_secs(60);
    let leaf = start + Duration::from_secs(8760 * 3600);
    let ca = start + Duration::from_secs(87600 * 3600);
    let certificates = vec![
        ExpirationEntry::present("etcd-server", leaf).with_ca("etcd-ca"),
        ExpirationEntry::missing("super-admin.conf").with_ca("ca"),
        ExpirationEntry::present("apiserver", leaf).with_ca("ca"),
        ExpirationEntry::missing("apiserver-kubelet-client").with_ca("ca"),
        ExpirationEntry::missing("etcd-peer").with_ca("etcd-ca"),
        ExpirationEntry::present("front-proxy-client", leaf).with_ca("front-proxy-ca"),
        ExpirationEntry::missing("scheduler.conf").with_ca("ca"),
        ExpirationEntry::missing("apiserver-etcd-client").with_ca("etcd-ca"),
        ExpirationEntry::present("admin.conf", leaf).with_ca("ca"),
        ExpirationEntry::missing("etcd-healthcheck-client").with_ca("etcd-ca"),
        ExpirationEntry::missing("controller-manager.conf").with_ca("ca"),
    ];
    let certificate_authorities = vec![
        ExpirationEntry::present("front-proxy-ca", ca),
        ExpirationEntry::present("ca", ca),
        ExpirationEntry::present("etcd-ca", ca),
    ];
    let mut report = ExpirationReport {
        certificates,
        certificate_authorities,
    };
    report.sort();
    report
}

#[test]
fn vector_now_line_is_the_documented_instant() {
    let (now, _, _) = expected_vector();
    assert_eq!(now, UNIX_EPOCH + Duration::from_secs(1_795_629_764)); // 2026-11-25T18:02:44Z
}

#[test]
fn vector_rendering_human_is_byte_exact() {
    let (now, human, _) = expected_vector();
    let got = vector_report(now).render_text(now, DurationStyle::Human);
    assert_eq!(got, human);
}

#[test]
fn vector_rendering_short_is_byte_exact() {
    let (now, _, short) = expected_vector();
    let got = vector_report(now).render_text(now, DurationStyle::ShortHuman);
    assert_eq!(got, short);
}

#[test]
fn sort_is_byte_order() {
    let mut report = ExpirationReport {
        certificates: ["b", "B", "a-b", "a.b", "a"]
            .into_iter()
            .map(ExpirationEntry::missing)
            .collect(),
        certificate_authorities: ["z", "etcd-ca", "ca"]
            .into_iter()
            .map(ExpirationEntry::missing)
            .collect(),
    };
    report.sort();
    let names: Vec<&str> = report.certificates.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["B", "a", "a-b", "a.b", "b"]);
    let cas: Vec<&str> = report
        .certificate_authorities
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(cas, ["ca", "etcd-ca", "z"]);
}

// ---------------------------------------------------------------------------------------------
// Table layout details.

fn fixed_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_629_764)
}

#[test]
fn long_missing_name_widens_first_column() {
    let now = fixed_now();
    let name = "a-certificate-with-a-rather-long-name";
    let report = ExpirationReport {
        certificates: vec![
            ExpirationEntry::present("apiserver", now + Duration::from_secs(DAY as u64)).with_ca("ca"),
            ExpirationEntry::missing(name).with_ca("ca"),
        ],
        certificate_authorities: vec![ExpirationEntry::missing("ca")],
    };
    let text = report.render_text(now, DurationStyle::Human);
    let lines: Vec<&str> = text.lines().collect();
    let col1 = "!MISSING! ".len() + name.len() + 3;
    assert_eq!(
        lines[0],
        format!(
            "{:<col1$}EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED",
            "CERTIFICATE"
        )
    );
    assert_eq!(
        lines[1],
        format!(
            "{:<col1$}Nov 26, 2026 18:02 UTC   24h             ca                      no      ",
            "apiserver"
        )
    );
    // The missing row: name cell padded to the column, then three empty padded cells
    // (EXPIRES 25, RESIDUAL TIME 16, CERTIFICATE AUTHORITY 24), and an empty trailing cell.
    assert_eq!(
        lines[2],
        format!(
            "{:<col1$}{}",
            format!("!MISSING! {name}"),
            " ".repeat(25 + 16 + 24)
        )
    );
    assert_eq!(lines[3], "");
    // The CA table is a separate block: not widened, min width 10 where cells are short.
    assert_eq!(
        lines[4],
        "CERTIFICATE AUTHORITY   EXPIRES   RESIDUAL TIME   EXTERNALLY MANAGED"
    );
    assert_eq!(lines[5], format!("!MISSING! ca{}", " ".repeat(12 + 10 + 16)));
    assert_eq!(lines.len(), 6);
    assert!(text.ends_with('\n'));
}

#[test]
fn externally_managed_expired_and_nearly_expired() {
    let now = fixed_now() + Duration::from_millis(500);
    let report = ExpirationReport {
        certificates: vec![
            ExpirationEntry::present("expired", fixed_now() - Duration::from_secs(2)).with_ca("ca"),
            ExpirationEntry::present("just-now", fixed_now() - Duration::from_secs(1)).with_ca("ca"),
            ExpirationEntry::present("soon", fixed_now() + Duration::from_secs(5 * 3600 + 30 * 60))
                .with_ca("ca")
                .with_externally_managed(true),
        ],
        certificate_authorities: vec![
            ExpirationEntry::present("ca", fixed_now()).with_externally_managed(true),
        ],
    };
    let human = report.render_text(now, DurationStyle::Human);
    let short = report.render_text(now, DurationStyle::ShortHuman);
    // 2.5 s ago -> -2 -> <invalid>; 1.5 s ago -> -1 -> 0s; 5h29m59.5s -> 5h29m (truncated).
    // First column: "CERTIFICATE" (11) + 3 = 14.
    let row = |name: &str, rest: &str| format!("\n{name:<14}{rest}\n");
    let ca_col = "ca                      ";
    for (name, rest) in [
        (
            "expired",
            format!("Nov 25, 2026 18:02 UTC   <invalid>       {ca_col}no      "),
        ),
        (
            "just-now",
            format!("Nov 25, 2026 18:02 UTC   0s              {ca_col}no      "),
        ),
        (
            "soon",
            format!("Nov 25, 2026 23:32 UTC   5h29m           {ca_col}yes     "),
        ),
    ] {
        assert!(human.contains(&row(name, &rest)), "{name}:\n{human}");
    }
    let soon_short = row(
        "soon",
        &format!("Nov 25, 2026 23:32 UTC   5h              {ca_col}yes     "),
    );
    assert!(short.contains(&soon_short), "{short}");
    // 0.5 s ago -> 0 -> 0s
    assert!(
        human.ends_with("\nca                      Nov 25, 2026 18:02 UTC   0s              yes     \n"),
        "{human}"
    );
}

#[test]
fn far_future_not_after_saturates_like_kubeadm() {
    let now = fixed_now();
    let year_9999 = UNIX_EPOCH + Duration::from_secs(253_402_300_799);
    let report = ExpirationReport {
        certificates: vec![],
        certificate_authorities: vec![ExpirationEntry::present("ca", year_9999)],
    };
    let text = report.render_text(now, DurationStyle::Human);
    assert!(
        text.contains("\nca                      Dec 31, 9999 23:59 UTC   292y            no      \n"),
        "{text}"
    );
    assert_eq!(
        report.to_json(now)["certificateAuthorities"][0]["residualTime"],
        json!(9_223_372_036_i64)
    );
}

#[test]
fn empty_report_prints_both_headers() {
    let text = ExpirationReport::default().render_text(fixed_now(), DurationStyle::Human);
    assert_eq!(
        text,
        "CERTIFICATE   EXPIRES   RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\n\n\
         CERTIFICATE AUTHORITY   EXPIRES   RESIDUAL TIME   EXTERNALLY MANAGED\n"
    );
}

// ---------------------------------------------------------------------------------------------
// Problems section (our addition).

#[test]
fn problems_section_follows_the_tables() {
    let (now, human, _) = expected_vector();
    let mut report = vector_report(now);
    let signer = || Problem::NotSignedBy { ca: "ca".into() };
    report.certificates[1].problems.push(signer()); // apiserver
    report.certificates[1].problems.push(Problem::Expired);
    report.certificate_authorities[1].problems.push(Problem::Expired); // etcd-ca
    let got = report.render_text(now, DurationStyle::Human);
    let want = format!(
        "{human}\n\
         [check-expiration] WARNING: apiserver: not signed by ca\n\
         [check-expiration] WARNING: apiserver: expired\n\
         [check-expiration] WARNING: etcd-ca: expired\n"
    );
    assert_eq!(got, want);
    assert!(report.has_problems());
}

#[test]
fn no_problems_no_section() {
    let (now, human, _) = expected_vector();
    let report = vector_report(now);
    assert!(!report.has_problems());
    assert!(
        !report
            .render_text(now, DurationStyle::Human)
            .contains("[check-expiration]")
    );
    assert_eq!(report.render_text(now, DurationStyle::Human), human);
}

// ---------------------------------------------------------------------------------------------
// Structured output.

#[test]
fn json_shape() {
    let (now, _, _) = expected_vector();
    let mut report = vector_report(now);
    report.certificates[1]
        .problems
        .push(Problem::NotSignedBy { ca: "ca".into() });
    let value = report.to_json(now);

    assert_eq!(value["kind"], "CertificateExpirationInfo");
    assert_eq!(value["apiVersion"], "output.kubeadm.k8s.io/v1alpha3");
    assert_eq!(value.as_object().unwrap().len(), 4);
    let certs = value["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 11);
    assert_eq!(value["certificateAuthorities"].as_array().unwrap().len(), 3);

    // Present leaf: RFC 3339 UTC, residual 8760 h − 1 min in seconds.
    assert_eq!(
        certs[0],
        json!({
            "name": "admin.conf",
            "expirationDate": "2027-11-25T18:01:44Z",
            "residualTime": 8760 * 3600 - 60,
            "externallyManaged": false,
            "caName": "ca",
            "missing": false
        })
    );
    assert_eq!(
        certs[1],
        json!({
            "name": "apiserver",
            "expirationDate": "2027-11-25T18:01:44Z",
            "residualTime": 8760 * 3600 - 60,
            "externallyManaged": false,
            "caName": "ca",
            "missing": false,
            "problems": ["not signed by ca"]
        })
    );
    // Missing file: kubeadm sets only name + missing, so the zero metav1.Time is `null`,
    // residualTime 0, externallyManaged false, no caName.
    assert_eq!(
        certs[2],
        json!({
            "name": "apiserver-etcd-client",
            "expirationDate": null,
            "residualTime": 0,
            "externallyManaged": false,
            "missing": true
        })
    );
    // CA: no caName.
    assert_eq!(
        value["certificateAuthorities"][0],
        json!({
            "name": "ca",
            "expirationDate": "2036-11-22T18:01:44Z",
            "residualTime": 87600 * 3600 - 60,
            "externallyManaged": false,
            "missing": false
        })
    );
}

#[test]
fn render_json_uses_kubeadm_key_order_and_indent() {
    let now = fixed_now();
    let report = ExpirationReport {
        certificates: vec![
            ExpirationEntry::present("apiserver", now + Duration::from_secs(100)).with_ca("ca"),
            ExpirationEntry::missing("admin.conf").with_ca("ca"),
        ],
        certificate_authorities: vec![ExpirationEntry::present("ca", now + Duration::from_secs(100))],
    };
    let got = report.render_json(now).unwrap();
    let want = r#"{
    "kind": "CertificateExpirationInfo",
    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
    "certificates": [
        {
            "name": "apiserver",
            "expirationDate": "2026-11-25T18:04:24Z",
            "residualTime": 100,
            "externallyManaged": false,
            "caName": "ca",
            "missing": false
        },
        {
            "name": "admin.conf",
            "expirationDate": null,
            "residualTime": 0,
            "externallyManaged": false,
            "missing": true
        }
    ],
    "certificateAuthorities": [
        {
            "name": "ca",
            "expirationDate": "2026-11-25T18:04:24Z",
            "residualTime": 100,
            "externallyManaged": false,
            "missing": false
        }
    ]
}
"#;
    assert_eq!(got, want);
    let reparsed: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(reparsed, report.to_json(now));
}
