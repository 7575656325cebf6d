//! Label and field selectors of list and watch requests, parsed and matched as the apiserver
//! does for the forms clients send; anything else is a 400.

use crate::status::ApiError;

/// How one requirement compares.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

/// One requirement: a key and what its value must be.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::In(values), Some(v)) => values.iter().any(|x| x == v),
            (Op::NotIn(values), Some(v)) => !values.iter().any(|x| x == v),
            (Op::NotIn(_) | Op::DoesNotExist, None) | (Op::Exists, Some(_)) => true,
            _ => false,
        }
    }
}

/// A parsed label or field selector; empty matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// Most requirements a selector may have (bounds the work per request).
const MAX_REQUIREMENTS: usize = 100;

impl Selector {
    /// Parses a `labelSelector`: `k=v`, `k==v`, `k!=v`, `k`, `!k`, `k in (a,b)`, `k notin (a,b)`.
    pub fn labels(text: &str) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_top_level(text)? {
            let part = part.trim();
            let requirement = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: label_key(text, key.trim())?,
                    op: Op::DoesNotExist,
                }
            } else if let Some((key, values)) = split_set(part, "notin") {
                Requirement {
                    key: label_key(text, key)?,
                    op: Op::NotIn(set_values(text, values)?),
                }
            } else if let Some((key, values)) = split_set(part, "in") {
                Requirement {
                    key: label_key(text, key)?,
                    op: Op::In(set_values(text, values)?),
                }
            } else if let Some((key, value, negated)) = split_equality(part) {
                let value = label_value(text, value)?;
                Requirement {
                    key: label_key(text, key)?,
                    op: if negated {
                        Op::NotIn(vec![value])
                    } else {
                        Op::In(vec![value])
                    },
                }
            } else {
                Requirement {
                    key: label_key(text, part)?,
                    op: Op::Exists,
                }
            };
            requirements.push(requirement);
        }
        Ok(Self { requirements })
    }

    /// Parses a `fieldSelector` (`k=v`, `k==v`, `k!=v`, comma-separated) whose keys must be
    /// among `supported`.
    pub fn fields(text: &str, supported: &[&str]) -> Result<Self, ApiError> {
        let mut requirements = Vec::new();
        for part in split_top_level(text)? {
            let Some((key, value, negated)) = split_equality(part.trim()) else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: invalid selector: '{text}'; can't understand '{part}'"
                )));
            };
            if !supported.contains(&key) {
                return Err(ApiError::bad_request(format!("field label not supported: {key}")));
            }
            let value = value.to_owned();
            requirements.push(Requirement {
                key: key.to_owned(),
                op: if negated {
                    Op::NotIn(vec![value])
                } else {
                    Op::In(vec![value])
                },
            });
        }
        Ok(Self { requirements })
    }

    /// Whether the object with these values (looked up by key) is selected.
    pub fn matches<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| r.matches(lookup(&r.key)))
    }

    /// The value an `=` requirement on `key` asks for (`metadata.name=x` narrows the store
    /// query).
    pub fn exact(&self, key: &str) -> Option<&str> {
        self.requirements.iter().find_map(|r| match &r.op {
            Op::In(values) if r.key == key && values.len() == 1 => values.first().map(String::as_str),
            _ => None,
        })
    }
}

/// Splits on commas outside parentheses; at most [`MAX_REQUIREMENTS`] parts; none for "".
fn split_top_level(text: &str) -> Result<Vec<&str>, ApiError> {
    let mut parts = Vec::new();
    if text.trim().is_empty() {
        return Ok(parts);
    }
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(text.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text.get(start..).unwrap_or_default());
    if parts.len() > MAX_REQUIREMENTS {
        return Err(ApiError::bad_request(format!(
            "too many requirements in selector (limit {MAX_REQUIREMENTS})"
        )));
    }
    Ok(parts)
}

/// `key op (a,b)` for `op` `in`/`notin`.
fn split_set<'a>(part: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let open = part.find('(')?;
    let head = part.get(..open)?.trim_end();
    let key = head.strip_suffix(op)?;
    if !key.ends_with(char::is_whitespace) {
        return None;
    }
    let values = part.get(open + 1..)?.trim_end().strip_suffix(')')?;
    Some((key.trim(), values))
}

/// `key=value`, `key==value`, `key!=value` → (key, value, negated).
fn split_equality(part: &str) -> Option<(&str, &str, bool)> {
    if let Some((key, value)) = part.split_once("!=") {
        return Some((key.trim(), value.trim(), true));
    }
    let (key, value) = part.split_once('=')?;
    let value = value.strip_prefix('=').unwrap_or(value);
    Some((key.trim(), value.trim(), false))
}

fn set_values(text: &str, values: &str) -> Result<Vec<String>, ApiError> {
    values.split(',').map(|v| label_value(text, v.trim())).collect()
}

fn label_error(text: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!(
        "unable to parse requirement: {why} (in selector {text:?})"
    ))
}

/// A label key: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
fn label_key(text: &str, key: &str) -> Result<String, ApiError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| super::names::dns_subdomain(p).is_ok());
    if !prefix_ok || !is_label_name(name) || name.is_empty() {
        return Err(label_error(text, &format!("invalid label key {key:?}")));
    }
    Ok(key.to_owned())
}

/// A label value: empty, or a name of at most 63 characters.
fn label_value(text: &str, value: &str) -> Result<String, ApiError> {
    if value.is_empty() || is_label_name(value) {
        Ok(value.to_owned())
    } else {
        Err(label_error(text, &format!("invalid label value: {value:?}")))
    }
}

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters.
fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
    name.len() <= 63
        && edge(bytes.first())
        && edge(bytes.last())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selects(selector: &str, labels: &[(&str, &str)]) -> bool {
        let selector = Selector::labels(selector).unwrap();
        selector.matches(|k| labels.iter().find(|(key, _)| *key == k).map(|(_, v)| *v))
    }

    #[test]
    fn label_selector_forms() {
        let labels = [("app", "web"), ("tier", "front")];
        assert!(selects("app=web", &labels));
        assert!(selects("app==web,tier", &labels));
        assert!(!selects("app!=web", &labels));
        assert!(selects("!missing", &labels));
        assert!(!selects("!app", &labels));
        assert!(selects("app in (api, web)", &labels));
        assert!(!selects("app notin (api,web)", &labels));
        assert!(selects("", &labels));
    }

    #[test]
    fn invalid_selectors_are_bad_requests() {
        for bad in ["a b=c", "app=we b", "app in (a", "=x", "k=-x-"] {
            assert_eq!(Selector::labels(bad).map_err(|e| e.code), Err(400), "{bad}");
        }
        assert_eq!(
            Selector::fields("spec.nope=x", &["metadata.name"]).map_err(|e| e.code),
            Err(400)
        );
        assert_eq!(
            Selector::fields("metadata.name", &["metadata.name"]).map_err(|e| e.code),
            Err(400)
        );
        let f = Selector::fields("metadata.name=csr-1", &["metadata.name"]).unwrap();
        assert_eq!(f.exact("metadata.name"), Some("csr-1"));
    }
}
