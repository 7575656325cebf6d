//! Loading: bytes (YAML or JSON) → [`Config`], with client-go's lenient rules and precise errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Number, Value};

use crate::error::{Error, Source};
use crate::model::{Config, Origin};

impl Config {
    /// Parses a kubeconfig from bytes, YAML or JSON. Pure: no file is read.
    ///
    /// Like client-go, it accepts an empty document, a missing `apiVersion`/`kind`, and unknown
    /// fields (which, unlike client-go, are kept). It rejects what client-go rejects: invalid
    /// YAML, wrong types, bad base64 in `-data` fields, duplicate names, another `apiVersion`.
    ///
    /// ```
    /// let config = kubetrust_kubeconfig::Config::from_bytes(b"
    /// clusters:
    /// - name: kubernetes
    ///   cluster: {server: 'https://10.0.0.10:6443'}
    /// current-context: ''
    /// ").unwrap();
    /// assert_eq!(config.clusters[0].cluster.server, "https://10.0.0.10:6443");
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        parse(bytes, &Source::Bytes)
    }

    /// Reads and parses a kubeconfig file. Relative paths inside it will resolve against the
    /// file's directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        if path.is_dir() {
            return Err(Error::IsADirectory {
                path: path.to_path_buf(),
            });
        }
        let bytes = kubetrust_fs::read(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = parse(&bytes, &Source::File(path.to_path_buf()))?;
        config.set_origin(path);
        Ok(config)
    }

    /// Loads several files the way `KUBECONFIG=a:b:c` does: for clusters, users and contexts
    /// the first file defining a name wins whole (no field merge); for `current-context` and
    /// `preferences` the first file setting them wins. Missing files are skipped.
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<Self, Error> {
        let mut merged = Config::default();
        let mut seen: Vec<PathBuf> = Vec::new();
        for path in paths.iter().map(AsRef::as_ref) {
            if seen.iter().any(|p| p == path) || !path.exists() {
                continue;
            }
            seen.push(path.to_path_buf());
            merged.merge_from(Config::from_file(path)?);
        }
        Ok(merged)
    }

    /// Records `path` as the origin of every cluster and user (see [`crate::Cluster::origin`]).
    pub fn set_origin(&mut self, path: &Path) {
        let origin = Origin(Some(Arc::from(path)));
        for named in &mut self.clusters {
            named.cluster.origin = origin.clone();
        }
        for named in &mut self.users {
            named.user.origin = origin.clone();
        }
    }

    /// Adds what `other` has and `self` lacks (first definition wins).
    fn merge_from(&mut self, other: Config) {
        if self.current_context.is_empty() {
            self.current_context = other.current_context;
        }
        if self.preferences.is_none() {
            self.preferences = other.preferences;
        }
        for item in other.clusters {
            if self.cluster(&item.name).is_none() {
                self.clusters.push(item);
            }
        }
        for item in other.users {
            if self.user(&item.name).is_none() {
                self.users.push(item);
            }
        }
        for item in other.contexts {
            if self.context(&item.name).is_none() {
                self.contexts.push(item);
            }
        }
        for item in other.extensions {
            if !self.extensions.iter().any(|e| e.name == item.name) {
                self.extensions.push(item);
            }
        }
        for (key, value) in other.unknown_fields {
            self.unknown_fields.entry(key).or_insert(value);
        }
    }
}

fn parse(bytes: &[u8], source: &Source) -> Result<Config, Error> {
    let text = std::str::from_utf8(bytes).map_err(|e| Error::NotUtf8 {
        source_name: source.clone(),
        offset: e.valid_up_to(),
    })?;
    if let Some((offset, c)) = text.char_indices().find(|&(_, c)| !allowed_in_yaml(c)) {
        let before = text.get(..offset).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
        return Err(Error::Syntax {
            source_name: source.clone(),
            message: format!(
                "control character U+{:04X} at line {line}, column {column}: YAML allows only tab, line breaks and printable characters",
                u32::from(c)
            ),
        });
    }
    let value = if looks_like_json(text) {
        serde_json::from_str::<Value>(text).map_err(|e| Error::Syntax {
            source_name: source.clone(),
            message: e.to_string(),
        })?
    } else if let Some(value) = crate::fast_yaml::parse(text) {
        value
    } else {
        crate::general_yaml::parse(text).map_err(|e| Error::Syntax {
            source_name: source.clone(),
            message: e.to_string(),
        })?
    };
    let mut value = value;
    whole_floats_as_integers(&mut value);
    let value = match value {
        Value::Null => return Ok(Config::default()),
        Value::Object(_) => value,
        other => {
            return Err(Error::NotAMapping {
                source_name: source.clone(),
                found: json_type(&other),
            });
        }
    };
    check_unique_names(&value, source)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner().to_string();
        if field.ends_with("-data") && inner.starts_with(crate::serde_util::base64::ERROR_PREFIX) {
            return Error::InvalidBase64 {
                source_name: source.clone(),
                field,
                reason: inner,
            };
        }
        Error::Field {
            source_name: source.clone(),
            field,
            message: without_value(inner),
        }
    })
}

/// serde's type errors quote the offending value (`invalid type: string "…", expected …`).
/// That value may be a credential, or a whole user pasted at the wrong level, so the message
/// keeps what kind of value it was and what was expected, never the value itself.
fn without_value(message: String) -> String {
    let is_type_error = ["invalid type: ", "invalid value: "]
        .iter()
        .any(|prefix| message.starts_with(prefix));
    let Some(start) = message.find(['"', '`']).filter(|_| is_type_error) else {
        return message;
    };
    let kind = message.get(..start).unwrap_or_default().trim_end();
    let expected = message
        .rfind(", expected ")
        .filter(|&at| at > start)
        .and_then(|at| message.get(at..))
        .unwrap_or_default();
    format!("{kind}{expected}")
}

/// The characters a YAML stream may hold. go-yaml, kubectl's reader (for JSON too), refuses
/// the others: C0 controls but tab and line breaks, DEL, C1 controls but NEL, U+FFFE, U+FFFF.
fn allowed_in_yaml(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..
    )
}

/// JSON is valid YAML, but serde_json's errors are better for JSON input.
fn looks_like_json(text: &str) -> bool {
    text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .starts_with('{')
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Duplicate names in the named lists: client-go turns each into a map and refuses the file,
/// and serde cannot see them. That is `clusters`, `users`, `contexts` and every `extensions`
/// list (top level, `preferences`, and inside each cluster, user and context).
fn check_unique_names(root: &Value, source: &Source) -> Result<(), Error> {
    check_list(root, "extensions", "extensions", source)?;
    if let Some(preferences) = root.get("preferences") {
        check_list(preferences, "extensions", "preferences.extensions", source)?;
    }
    for (list, inner) in [
        ("clusters", "cluster"),
        ("users", "user"),
        ("contexts", "context"),
    ] {
        let items = check_list(root, list, list, source)?;
        for (i, item) in items.iter().enumerate() {
            if let Some(body) = item.get(inner) {
                check_list(
                    body,
                    "extensions",
                    &format!("{list}[{i}].{inner}.extensions"),
                    source,
                )?;
            }
        }
    }
    Ok(())
}

/// Checks the list `parent[key]` (shown as `path`) and returns its items; absent, null and
/// non-list values are left to typed decoding.
fn check_list<'v>(parent: &'v Value, key: &str, path: &str, source: &Source) -> Result<&'v [Value], Error> {
    let Some(Value::Array(items)) = parent.get(key) else {
        return Ok(&[]);
    };
    let mut names: Vec<&str> = Vec::with_capacity(items.len());
    // A missing or null name is the empty name, as in Go; other types fail typed decoding.
    let item_names = items.iter().filter_map(|item| match item.get("name") {
        None | Some(Value::Null) => Some(""),
        Some(name) => name.as_str(),
    });
    for name in item_names {
        if names.contains(&name) {
            return Err(Error::DuplicateName {
                source_name: source.clone(),
                list: path.to_owned(),
                name: name.to_owned(),
            });
        }
        names.push(name);
    }
    Ok(items)
}

/// client-go holds every number as a float64 and writes a whole one as an integer (`1.0` → `1`,
/// `2.0496382304121723e18` → `2049638230412172300`), so that is what our writers write too; the
/// loader reads such a float as that integer, so saving and loading again changes nothing.
fn whole_floats_as_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            let Some(f) = n.as_f64().filter(|_| n.is_f64()) else {
                return;
            };
            // -0 too: go-yaml reads it back as 0 and our YAML writer writes 0 (kubectl's JSON
            // would keep the sign; one text for both outputs keeps save → load an identity).
            let text = match crate::json::go_float(f) {
                negative_zero if negative_zero == "-0" => "0".to_owned(),
                text => text,
            };
            if text.contains(['.', 'e']) {
                return;
            }
            let integer = text
                .parse::<i64>()
                .map(Number::from)
                .or_else(|_| text.parse::<u64>().map(Number::from));
            if let Ok(integer) = integer {
                *n = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(whole_floats_as_integers),
        _ => {}
    }
}
