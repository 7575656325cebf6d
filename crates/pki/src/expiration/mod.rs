//! Rendering of the certificate expiry inventory as `kubeadm certs check-expiration` prints it.
//!
//! The inventory itself (which files exist, their `NotAfter`, the issuing CA, external-CA
//! detection) is gathered elsewhere; this module turns an [`ExpirationReport`] into
//!
//! * the two text tables kubeadm prints ([`ExpirationReport::render_text`]), byte for byte,
//!   with either residual-time style ([`DurationStyle`]), followed by our own warning lines for
//!   entries that carry [`problems`](ExpirationEntry::problems);
//! * the structured `output.kubeadm.k8s.io/v1alpha3` `CertificateExpirationInfo` object
//!   ([`ExpirationReport::to_output`], [`ExpirationReport::to_json`],
//!   [`ExpirationReport::render_json`]).
//!
//! Time never comes from the clock: every rendering takes `now`.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use kubetrust_pki::expiration::{DurationStyle, ExpirationEntry, ExpirationReport};
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_795_629_764); // 2026-11-25T18:02:44Z
//! let mut report = ExpirationReport {
//!     certificates: vec![
//!         ExpirationEntry::present("apiserver", now + Duration::from_secs(8760 * 3600 - 60)).with_ca("ca"),
//!         ExpirationEntry::missing("admin.conf").with_ca("ca"),
//!     ],
//!     certificate_authorities: vec![ExpirationEntry::present("ca", now + Duration::from_secs(87600 * 3600 - 60))],
//! };
//! report.sort();
//! let text = report.render_text(now, DurationStyle::Human);
//! let expected = [
//!     "CERTIFICATE            EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED",
//!     "!MISSING! admin.conf                                                                    ",
//!     "apiserver              Nov 25, 2027 18:01 UTC   364d            ca                      no      ",
//!     "",
//!     "CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED",
//!     "ca                      Nov 22, 2036 18:01 UTC   9y              no      ",
//! ];
//! assert_eq!(text, expected.join("\n") + "\n");
//! assert_eq!(report.to_json(now)["certificates"][0]["expirationDate"], serde_json::Value::Null);
//! ```

mod date;
mod duration;
mod problem;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use date::rfc3339;
use duration::residual_seconds;
pub use duration::{human_duration, short_human_duration};
pub use problem::Problem;

/// `kind` of the structured output object.
pub const OUTPUT_KIND: &str = "CertificateExpirationInfo";
/// `apiVersion` of the structured output object (kubeadm 1.30+).
pub const OUTPUT_API_VERSION: &str = "output.kubeadm.k8s.io/v1alpha3";

/// Go tabwriter settings kubeadm uses: minwidth 10, padding 3 (tabwidth 4 is unused with spaces).
const TAB_MIN_WIDTH: usize = 10;
const TAB_PADDING: usize = 3;

const CERT_HEADER: &str = "CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED\n";
const CA_HEADER: &str = "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED\n";
const WARNING_PREFIX: &str = "[check-expiration] WARNING: ";

/// One row: a certificate (or CA) the inventory looked at.
#[derive(Debug)]
pub struct ExpirationEntry {
    /// Row name as kubeadm shows it: `apiserver`, `admin.conf`, `ca`, `etcd-ca`, …
    pub name: String,
    /// `NotAfter` of the first certificate in the file; `None` when the file is missing.
    pub not_after: Option<SystemTime>,
    /// Name of the issuing CA (`ca`, `etcd-ca`, `front-proxy-ca`); `None` for CA rows.
    pub ca_name: Option<String>,
    /// Whether the issuing CA (for CA rows: this CA) is externally managed (no key on disk).
    pub externally_managed: bool,
    /// Problems found with this entry, e.g. [`Problem::Expired`] (not in kubeadm; shown as
    /// warning lines after the tables and as `problems` in the structured output).
    pub problems: Vec<Problem>,
}

impl ExpirationEntry {
    /// A row for a file that exists, with the given `NotAfter`.
    pub fn present(name: impl Into<String>, not_after: SystemTime) -> Self {
        ExpirationEntry {
            name: name.into(),
            not_after: Some(not_after),
            ca_name: None,
            externally_managed: false,
            problems: Vec::new(),
        }
    }

    /// A row for a file that does not exist (`!MISSING! <name>`).
    pub fn missing(name: impl Into<String>) -> Self {
        ExpirationEntry {
            name: name.into(),
            not_after: None,
            ca_name: None,
            externally_managed: false,
            problems: Vec::new(),
        }
    }

    /// Sets the issuing CA's name.
    #[must_use]
    pub fn with_ca(mut self, ca_name: impl Into<String>) -> Self {
        self.ca_name = Some(ca_name.into());
        self
    }

    /// Sets whether the (issuing) CA is externally managed.
    #[must_use]
    pub fn with_externally_managed(mut self, externally_managed: bool) -> Self {
        self.externally_managed = externally_managed;
        self
    }

    /// Adds a problem.
    #[must_use]
    pub fn with_problem(mut self, problem: Problem) -> Self {
        self.problems.push(problem);
        self
    }

    /// Whether the file was missing.
    pub fn is_missing(&self) -> bool {
        self.not_after.is_none()
    }

    /// Residual time in whole seconds at `now`, as kubeadm computes it (truncated toward zero,
    /// saturated at Go's ±292-year `time.Duration` range); `None` for a missing file.
    pub fn residual_seconds(&self, now: SystemTime) -> Option<i64> {
        self.not_after.map(|t| residual_seconds(t, now))
    }

    /// The table row, tab-separated, with its newline (kubeadm's `Fprintf` formats).
    fn text_row(&self, now: SystemTime, style: DurationStyle, with_ca_column: bool) -> String {
        let Some(not_after) = self.not_after else {
            let empty_cells = if with_ca_column { "\t\t\t\t" } else { "\t\t\t" };
            return format!("!MISSING! {}{empty_cells}\n", self.name);
        };
        let expires = date::kubeadm_expires(not_after);
        let residual = style.format(residual_seconds(not_after, now));
        let managed = if self.externally_managed { "yes" } else { "no" };
        if with_ca_column {
            let ca = self.ca_name.as_deref().unwrap_or("");
            format!("{}\t{expires}\t{residual}\t{ca}\t{managed:<8}\n", self.name)
        } else {
            format!("{}\t{expires}\t{residual}\t{managed:<8}\n", self.name)
        }
    }

    /// The structured-output item; `is_ca` drops `caName` as kubeadm does for CA rows.
    fn output(&self, now: SystemTime, is_ca: bool) -> CertificateInfo {
        let problems = self.problems.iter().map(ToString::to_string).collect();
        let Some(not_after) = self.not_after else {
            // kubeadm fills in only the name and `missing` for an absent file.
            return CertificateInfo {
                name: self.name.clone(),
                expiration_date: None,
                residual_time: 0,
                externally_managed: false,
                ca_name: None,
                missing: true,
                problems,
            };
        };
        CertificateInfo {
            name: self.name.clone(),
            // metav1.Time: the zero time is `null`, anything else RFC 3339 in UTC.
            expiration_date: (!date::is_go_zero_time(not_after)).then(|| rfc3339(not_after)),
            residual_time: residual_seconds(not_after, now),
            externally_managed: self.externally_managed,
            ca_name: if is_ca {
                None
            } else {
                self.ca_name.clone().filter(|n| !n.is_empty())
            },
            missing: false,
            problems,
        }
    }
}

/// The whole inventory: the certificates table and the CA table, each in display order.
#[derive(Debug, Default)]
pub struct ExpirationReport {
    /// Leaf certificates and kubeconfig client certificates.
    pub certificates: Vec<ExpirationEntry>,
    /// Certificate authorities.
    pub certificate_authorities: Vec<ExpirationEntry>,
}

/// How the RESIDUAL TIME column is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DurationStyle {
    /// kubeadm 1.31+ (`HumanDuration`, e.g. `5h30m`, `729d`, `2y10d`). The default.
    #[default]
    Human,
    /// kubeadm up to 1.30 (`ShortHumanDuration`, e.g. `5h`, `1y`, `2y`).
    ShortHuman,
}

impl DurationStyle {
    /// Formats a residual time (whole seconds) in this style.
    pub fn format(self, seconds: i64) -> String {
        match self {
            DurationStyle::Human => human_duration(seconds),
            DurationStyle::ShortHuman => short_human_duration(seconds),
        }
    }
}

impl ExpirationReport {
    /// Sorts both lists by name in byte order, as kubeadm lists them (stable).
    pub fn sort(&mut self) {
        self.certificates
            .sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        self.certificate_authorities
            .sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    }

    /// Whether any entry has a problem.
    pub fn has_problems(&self) -> bool {
        self.entries().any(|e| !e.problems.is_empty())
    }

    /// All entries, certificates first, then CAs.
    fn entries(&self) -> impl Iterator<Item = &ExpirationEntry> {
        self.certificates.iter().chain(&self.certificate_authorities)
    }

    /// The text kubeadm prints, byte for byte: the certificate table, an empty line, the CA
    /// table; rows in the order given (call [`sort`](Self::sort) first for kubeadm's order).
    ///
    /// When any entry has problems, an empty line and one
    /// `[check-expiration] WARNING: <name>: <problem>` line per problem follow (certificates
    /// first, then CAs, in row order). This section is not printed by kubeadm.
    pub fn render_text(&self, now: SystemTime, style: DurationStyle) -> String {
        let mut input = String::from(CERT_HEADER);
        for entry in &self.certificates {
            input.push_str(&entry.text_row(now, style, true));
        }
        input.push('\n');
        input.push_str(CA_HEADER);
        for entry in &self.certificate_authorities {
            input.push_str(&entry.text_row(now, style, false));
        }
        let mut out = crate::tabwriter::tabwrite(&input, TAB_MIN_WIDTH, TAB_PADDING);
        if self.has_problems() {
            out.push('\n');
            for entry in self.entries() {
                for problem in &entry.problems {
                    out.push_str(&format!("{WARNING_PREFIX}{}: {problem}\n", entry.name));
                }
            }
        }
        out
    }

    /// The structured output object (`kubeadm certs check-expiration -o json|yaml`).
    pub fn to_output(&self, now: SystemTime) -> CertificateExpirationInfo {
        CertificateExpirationInfo {
            kind: OUTPUT_KIND.to_owned(),
            api_version: OUTPUT_API_VERSION.to_owned(),
            certificates: self.certificates.iter().map(|e| e.output(now, false)).collect(),
            certificate_authorities: self
                .certificate_authorities
                .iter()
                .map(|e| e.output(now, true))
                .collect(),
        }
    }

    /// The structured output as a JSON value (same content as [`to_output`](Self::to_output)).
    pub fn to_json(&self, now: SystemTime) -> Value {
        self.to_output(now).to_value()
    }

    /// The structured output as kubeadm's `-o json` prints it: keys in kubeadm's order,
    /// four-space indentation, a final newline.
    ///
    /// # Errors
    ///
    /// Only if serialisation fails, which these plain types never do.
    pub fn render_json(&self, now: SystemTime) -> Result<String, serde_json::Error> {
        let mut buf = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
        self.to_output(now).serialize(&mut ser)?;
        buf.push(b'\n');
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

/// `CertificateExpirationInfo` of `output.kubeadm.k8s.io/v1alpha3`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateExpirationInfo {
    /// Always [`OUTPUT_KIND`].
    pub kind: String,
    /// Always [`OUTPUT_API_VERSION`].
    pub api_version: String,
    /// Certificate rows.
    pub certificates: Vec<CertificateInfo>,
    /// CA rows.
    pub certificate_authorities: Vec<CertificateInfo>,
}

/// One `Certificate` item of the structured output. Field order is kubeadm's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// Row name.
    pub name: String,
    /// `NotAfter` as RFC 3339 UTC (`2027-11-25T18:01:44Z`); `None` (JSON `null`) for a missing
    /// file, as kubeadm's zero `metav1.Time` serialises.
    pub expiration_date: Option<String>,
    /// Residual time in whole seconds; 0 for a missing file.
    pub residual_time: i64,
    /// Whether the (issuing) CA is externally managed; `false` for a missing file.
    pub externally_managed: bool,
    /// Issuing CA; omitted for CAs and missing files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_name: Option<String>,
    /// Whether the file was missing.
    pub missing: bool,
    /// Problems (not in kubeadm's schema); omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl CertificateExpirationInfo {
    /// Builds the JSON value without a fallible serialiser.
    fn to_value(&self) -> Value {
        let list =
            |items: &[CertificateInfo]| Value::Array(items.iter().map(CertificateInfo::to_value).collect());
        let mut map = Map::new();
        map.insert("kind".into(), Value::String(self.kind.clone()));
        map.insert("apiVersion".into(), Value::String(self.api_version.clone()));
        map.insert("certificates".into(), list(&self.certificates));
        map.insert(
            "certificateAuthorities".into(),
            list(&self.certificate_authorities),
        );
        Value::Object(map)
    }
}

impl CertificateInfo {
    /// Builds the JSON value without a fallible serialiser.
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("name".into(), Value::String(self.name.clone()));
        map.insert(
            "expirationDate".into(),
            self.expiration_date.clone().map_or(Value::Null, Value::String),
        );
        map.insert("residualTime".into(), Value::from(self.residual_time));
        map.insert("externallyManaged".into(), Value::Bool(self.externally_managed));
        if let Some(ca) = &self.ca_name {
            map.insert("caName".into(), Value::String(ca.clone()));
        }
        map.insert("missing".into(), Value::Bool(self.missing));
        if !self.problems.is_empty() {
            let problems = self.problems.iter().cloned().map(Value::String).collect();
            map.insert("problems".into(), Value::Array(problems));
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_795_629_764)
    }

    fn sample() -> ExpirationReport {
        ExpirationReport {
            certificates: vec![
                ExpirationEntry::present("apiserver", now() + Duration::from_secs(3600))
                    .with_ca("ca")
                    .with_problem(Problem::NotSignedBy { ca: "ca".into() }),
                ExpirationEntry::missing("admin.conf")
                    .with_ca("ca")
                    .with_externally_managed(true),
            ],
            certificate_authorities: vec![
                ExpirationEntry::present("ca", now() - Duration::from_secs(10))
                    .with_ca("ignored")
                    .with_problem(Problem::Expired),
            ],
        }
    }

    #[test]
    fn to_json_matches_serde_serialisation() {
        let report = sample();
        let via_serde = serde_json::to_value(report.to_output(now())).unwrap();
        assert_eq!(report.to_json(now()), via_serde);
    }

    #[test]
    fn output_round_trips() {
        let out = sample().to_output(now());
        let text = serde_json::to_string(&out).unwrap();
        let back: CertificateExpirationInfo = serde_json::from_str(&text).unwrap();
        assert_eq!(back, out);
    }

    #[test]
    fn ca_rows_never_carry_ca_name() {
        let out = sample().to_output(now());
        assert_eq!(out.certificate_authorities.first().unwrap().ca_name, None);
        assert_eq!(out.certificates.first().unwrap().ca_name.as_deref(), Some("ca"));
    }

    #[test]
    fn go_zero_not_after_is_null() {
        let zero = UNIX_EPOCH - Duration::from_secs(62_135_596_800);
        let report = ExpirationReport {
            certificates: vec![ExpirationEntry::present("odd", zero).with_ca("ca")],
            certificate_authorities: vec![],
        };
        let out = report.to_output(now());
        let item = out.certificates.first().unwrap();
        assert_eq!(item.expiration_date, None);
        assert!(!item.missing);
        assert!(
            report
                .render_text(now(), DurationStyle::Human)
                .contains("Jan 01, 0001 00:00 UTC")
        );
    }

    #[test]
    fn no_problem_section_without_problems() {
        let mut report = sample();
        for e in report
            .certificates
            .iter_mut()
            .chain(report.certificate_authorities.iter_mut())
        {
            e.problems.clear();
        }
        assert!(!report.has_problems());
        let text = report.render_text(now(), DurationStyle::Human);
        assert!(!text.contains("WARNING"));
        assert!(text.ends_with("no      \n"));
    }
}
