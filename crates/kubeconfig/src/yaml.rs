//! A small YAML emitter that writes what client-go writes.
//!
//! client-go turns JSON into YAML with go-yaml: keys sorted, two-space indentation, sequences
//! not indented below their key, long strings on one line, `{}`/`[]` for empty collections.
//! General YAML emitters fold long base64 lines or quote differently; this one produces the
//! bytes kubeadm's files have. Strings are quoted whenever a YAML 1.1 reader (kubectl's) or a
//! YAML 1.2 reader could take them for something else, so every reader gets the same data.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Renders a JSON value as a YAML document.
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(4096);
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        other => {
            write_inline(&mut out, other);
            out.push('\n');
        }
    }
    out
}

/// Writes `map` at `indent`; if `continues_line`, the first key follows text already written
/// on the current line (a sequence item's `- `).
fn write_map(out: &mut String, map: &Map<String, Value>, indent: usize, continues_line: bool) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 || !continues_line {
            pad(out, indent);
        }
        write_scalar_str(out, key);
        out.push(':');
        match map.get(key) {
            Some(Value::Object(inner)) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, indent + 2, false);
            }
            Some(Value::Array(items)) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, indent, false);
            }
            Some(other) => {
                out.push(' ');
                write_inline(out, other);
                out.push('\n');
            }
            None => out.push_str(" null\n"),
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize, continues_line: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !continues_line {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => write_map(out, inner, indent + 2, true),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, indent + 2, true),
            other => {
                write_inline(out, other);
                out.push('\n');
            }
        }
    }
}

/// Scalars and empty collections.
fn write_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_scalar_str(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_scalar_str(out: &mut String, s: &str) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else {
        write_double_quoted(out, s);
    }
}

/// A double-quoted scalar; everything YAML does not count as printable, and the characters
/// YAML 1.1 treats as line breaks, are escaped.
fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ if needs_escape(c) => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            _ => out.push(c),
        }
    }
    out.push('"');
}

pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Whether `s` reads back as the same string when written unquoted, under YAML 1.1 (go-yaml
/// v2, used by kubectl) and YAML 1.2 alike.
fn is_plain_safe(s: &str) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false; // the empty string must be written as ""
    };
    if first.is_whitespace() || last.is_whitespace() || last == ':' {
        return false;
    }
    if "?:,[]{}#&*!|>'\"%@`=~".contains(first) || s.starts_with("- ") || s == "-" {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") || looks_numeric(s) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.chars().any(needs_escape) {
        return false;
    }
    !is_reserved_word(s)
}

/// Numbers, special floats, dates, times and versions like `1.2`: quoted rather than guessed.
pub(crate) fn looks_numeric(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut chars = unsigned.chars();
    match (chars.next(), chars.next()) {
        (Some(c), _) if c.is_ascii_digit() => true,
        (Some('.'), Some(c)) if c.is_ascii_digit() => true,
        _ => unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan"),
    }
}

/// Words YAML 1.1 or 1.2 resolve to booleans, null or special floats.
fn is_reserved_word(s: &str) -> bool {
    const WORDS: [&str; 13] = [
        "y", "n", "yes", "no", "true", "false", "on", "off", "null", "inf", "nan", "<<", "~",
    ];
    s.len() <= 5 && WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_go_yaml_layout() {
        let value = json!({
            "kind": "Config",
            "apiVersion": "v1",
            "clusters": [{"name": "kubernetes", "cluster": {"server": "https://10.0.0.1:6443"}}],
            "preferences": {},
            "users": null,
            "current-context": "",
            "nested": [[1, 2], []],
        });
        assert_eq!(
            to_string(&value),
            "apiVersion: v1\n\
             clusters:\n\
             - cluster:\n    server: https://10.0.0.1:6443\n  name: kubernetes\n\
             current-context: \"\"\n\
             kind: Config\n\
             nested:\n- - 1\n  - 2\n- []\n\
             preferences: {}\n\
             users: null\n"
        );
    }

    #[test]
    fn quotes_what_a_yaml_reader_would_misread() {
        for s in [
            "", "true", "Yes", "y", "N", "off", "null", "~", "123", "1.2.3", ": x", "a: b", "a #b", "x:",
            " x", "\u{7}", ".5", "<<", "=", "*ref",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
        for s in ["-5", "+1", "-.5", ".inf", "-.Inf", "---", "- x", "-"] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
        }
        for s in [
            "--x",
            "./bin/helper",
            "-v",
            ".kube",
            "system:node:cp-1",
            "https://k8s:6443",
            "LS0tLS1CRUdJTi==",
            "kubernetes-admin@kubernetes",
            "default",
            "a-b",
            "naïve",
            "x.y",
        ] {
            assert!(is_plain_safe(s), "{s:?} can be plain");
        }
    }
}
