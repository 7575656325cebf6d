//! `meta.k8s.io/v1` Tables, the server-side printing `kubectl get` asks for, with the columns
//! kube-apiserver's printers use.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::resources::{Columns, ServedResource};

/// Whether the `Accept` header asks for a Table.
pub fn wanted(accept: &str) -> bool {
    accept.split(',').any(|media| {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io") && params.contains(&"v=v1")
    })
}

/// Column definitions: (name, type, priority).
fn definitions(columns: Columns) -> &'static [(&'static str, &'static str, u8)] {
    match columns {
        Columns::Plain => &[("Name", "string", 0), ("Age", "date", 0)],
        Columns::Namespace => &[("Name", "string", 0), ("Status", "string", 0), ("Age", "date", 0)],
        Columns::Secret => &[
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "string", 0),
            ("Age", "string", 0),
        ],
        Columns::ConfigMap => &[("Name", "string", 0), ("Data", "string", 0), ("Age", "string", 0)],
        Columns::Binding => &[
            ("Name", "string", 0),
            ("Role", "string", 0),
            ("Age", "string", 0),
            ("Users", "string", 1),
            ("Groups", "string", 1),
            ("ServiceAccounts", "string", 1),
        ],
        Columns::Role => &[("Name", "string", 0), ("Created At", "date", 0)],
        Columns::CertificateSigningRequest => &[
            ("Name", "string", 0),
            ("Age", "date", 0),
            ("SignerName", "string", 0),
            ("Requestor", "string", 0),
            ("RequestedDuration", "string", 0),
            ("Condition", "string", 0),
        ],
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn count(object: &Value, field: &str) -> usize {
    object
        .get(field)
        .and_then(Value::as_object)
        .map_or(0, serde_json::Map::len)
}

/// The cells of one object's row.
fn cells(columns: Columns, object: &Value, now: SystemTime) -> Vec<Value> {
    let name = json!(text(object, "/metadata/name"));
    let age = json!(age(object, now));
    match columns {
        Columns::Plain => vec![name, age],
        Columns::Namespace => vec![name, json!(text(object, "/status/phase")), age],
        Columns::Secret => {
            let data = count(object, "data") + count(object, "stringData");
            vec![name, json!(text(object, "/type")), json!(data), age]
        }
        Columns::ConfigMap => vec![
            name,
            json!(count(object, "data") + count(object, "binaryData")),
            age,
        ],
        Columns::Binding => {
            let role = format!(
                "{}/{}",
                text(object, "/roleRef/kind"),
                text(object, "/roleRef/name")
            );
            let subjects = |kind: &str| {
                let names: Vec<String> = object
                    .get("subjects")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|s| text(s, "/kind") == kind)
                    .map(|s| match (kind, text(s, "/namespace")) {
                        ("ServiceAccount", ns) => format!("{ns}/{}", text(s, "/name")),
                        _ => text(s, "/name").to_owned(),
                    })
                    .collect();
                json!(names.join(", "))
            };
            vec![
                name,
                json!(role),
                age,
                subjects("User"),
                subjects("Group"),
                subjects("ServiceAccount"),
            ]
        }
        Columns::Role => vec![name, json!(text(object, "/metadata/creationTimestamp"))],
        Columns::CertificateSigningRequest => {
            let signer = match text(object, "/spec/signerName") {
                "" => "<none>",
                signer => signer,
            };
            let duration = object
                .pointer("/spec/expirationSeconds")
                .and_then(Value::as_u64)
                .map_or_else(|| "<none>".to_owned(), |s| human_duration(Duration::from_secs(s)));
            vec![
                name,
                age,
                json!(signer),
                json!(text(object, "/spec/username")),
                json!(duration),
                json!(csr_condition(object)),
            ]
        }
    }
}

/// `Pending`, `Approved`, `Denied`, plus `,Failed` and `,Issued` (kubectl's CONDITION).
fn csr_condition(object: &Value) -> String {
    let types: Vec<&str> = object
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| text(c, "/type"))
        .collect();
    let mut condition = if types.contains(&"Denied") {
        "Denied"
    } else if types.contains(&"Approved") {
        "Approved"
    } else {
        "Pending"
    }
    .to_owned();
    if types.contains(&"Failed") {
        condition.push_str(",Failed");
    }
    if !text(object, "/status/certificate").is_empty() {
        condition.push_str(",Issued");
    }
    condition
}

fn age(object: &Value, now: SystemTime) -> String {
    let created = text(object, "/metadata/creationTimestamp");
    let Ok(created) = created.parse::<jiff::Timestamp>() else {
        return "<unknown>".into();
    };
    let created = SystemTime::from(created);
    match now.duration_since(created) {
        Ok(elapsed) => human_duration(elapsed),
        Err(early) if early.duration() > Duration::from_secs(1) => "<invalid>".into(),
        Err(_) => "0s".into(),
    }
}

/// Go's `duration.HumanDuration`: `45s`, `5m30s`, `24h`, `3d4h`, `2y10d`.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let with = |big: u64, unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{unit}")
        } else {
            format!("{big}{unit}{small}{small_unit}")
        }
    };
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        with(minutes, "m", seconds % 60, "s")
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        with(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        with(days, "d", hours % 24, "h")
    } else if days < 365 * 2 {
        format!("{days}d")
    } else if days < 365 * 8 {
        with(days / 365, "y", days % 365, "d")
    } else {
        format!("{}y", days / 365)
    }
}

/// One Table row: the cells and the object's metadata as a `PartialObjectMetadata`.
fn row(resource: &ServedResource, object: &Value, now: SystemTime) -> Value {
    let mut metadata = object.get("metadata").cloned().unwrap_or_else(|| json!({}));
    if let Some(map) = metadata.as_object_mut() {
        map.remove("managedFields");
    }
    json!({
        "cells": cells(resource.columns, object, now),
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata},
    })
}

/// A Table of `objects` at store revision `revision`.
pub fn table<'a>(
    resource: &ServedResource,
    objects: impl IntoIterator<Item = &'a Value>,
    revision: u64,
    now: SystemTime,
) -> Value {
    let definitions: Vec<Value> = definitions(resource.columns)
        .iter()
        .map(|(name, kind, priority)| {
            let format = if *name == "Name" { "name" } else { "" };
            json!({"name": name, "type": kind, "format": format, "description": "", "priority": priority})
        })
        .collect();
    let rows: Vec<Value> = objects.into_iter().map(|o| row(resource, o, now)).collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": revision.to_string()},
        "columnDefinitions": definitions,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_as_go() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (86400, "24h"),
            (3 * 86400, "3d"),
            (800 * 86400, "2y70d"),
        ];
        for (seconds, text) in cases {
            assert_eq!(human_duration(Duration::from_secs(seconds)), text, "{seconds}");
        }
    }

    #[test]
    fn csr_conditions() {
        let csr = json!({"status": {"conditions": [{"type": "Approved"}, {"type": "Failed"}]}});
        assert_eq!(csr_condition(&csr), "Approved,Failed");
        let csr = json!({"status": {"conditions": [{"type": "Approved"}], "certificate": "LS0t"}});
        assert_eq!(csr_condition(&csr), "Approved,Issued");
        assert_eq!(csr_condition(&json!({})), "Pending");
    }

    #[test]
    fn accept_header() {
        assert!(wanted(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wanted("application/json"));
    }
}
