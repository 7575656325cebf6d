//! The general YAML reader (serde-saphyr), with plain scalars resolved as go-yaml v2 resolves
//! them.
//!
//! serde-saphyr reads YAML 1.1 booleans in any letter case (`nO` is false) and a few numbers
//! go-yaml v2 does not; kubectl's reader takes those as strings, and so both writers print such
//! strings unquoted; the other way round, go-yaml reads `0O17`, `0X1F` and `1_0` as numbers
//! where serde-saphyr sees strings. Every scalar therefore keeps where it was written, and a
//! plain one is typed by the writer's own rules ([`crate::yaml::resolves_to_string`] and
//! [`crate::yaml::go_number`]), so what kubectl reads, we read.

use serde::de::{Deserialize, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

/// Parses `text` (one YAML document) into JSON values, as kubectl would see them.
pub(crate) fn parse(text: &str) -> Result<Value, serde_saphyr::Error> {
    let node: Option<SpannedNode> = serde_saphyr::from_str_with_options(text, options())?;
    Ok(node.map_or(Value::Null, |node| node.into_value(text)))
}

/// No source snippets in errors: the offending line may hold a token or a key. A repeated
/// mapping key is no error: go-yaml (kubectl's) keeps the last value, and `017` is octal to it.
fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::LastWins;
    options.legacy_octal_numbers = true;
    options
}

/// A node and where its value was defined (for an alias, the anchored node).
struct SpannedNode(Spanned<Node>);

enum Node {
    /// A boolean or number: its source text may say go-yaml reads it as a string.
    Typed(Value),
    /// Null or a string.
    Untyped(Value),
    Sequence(Vec<SpannedNode>),
    Mapping(Vec<(String, SpannedNode)>),
}

impl SpannedNode {
    fn into_value(self, text: &str) -> Value {
        let span = self.0.defined.span();
        let source = || {
            let start = usize::try_from(span.byte_offset()?).ok()?;
            let end = start.checked_add(usize::try_from(span.byte_len()?).ok()?)?;
            Some((text.get(..start)?, text.get(start..end)?))
        };
        match self.0.value {
            Node::Untyped(Value::String(string)) => match source() {
                Some((before, source)) if source == string && !tagged(before) => {
                    crate::yaml::go_number(source).map_or(Value::String(string), Value::Number)
                }
                _ => Value::String(string),
            },
            Node::Untyped(value) => value,
            Node::Typed(value) => match source() {
                Some((_, source))
                    if written_as_plain(&value, source) && crate::yaml::resolves_to_string(source) =>
                {
                    Value::String(source.to_owned())
                }
                _ => value,
            },
            Node::Sequence(items) => {
                Value::Array(items.into_iter().map(|item| item.into_value(text)).collect())
            }
            // Inserting in order keeps the last of repeated keys, as go-yaml does.
            Node::Mapping(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, value.into_value(text)))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// Whether the scalar after `before` carries a tag (`!!str 017`), which go-yaml obeys: the
/// properties between it and the line's indicators are tags and anchors.
fn tagged(before: &str) -> bool {
    before
        .rsplit(|c: char| c.is_ascii_whitespace() || ",:-[{?".contains(c))
        .filter(|token| !token.is_empty())
        .take_while(|token| token.starts_with(['!', '&']))
        .any(|token| token.starts_with('!'))
}

/// Whether `source` is the plain scalar `value` was read from: a span can also cover a quoted
/// or tagged scalar, or a whole collection.
fn written_as_plain(value: &Value, source: &str) -> bool {
    const BOOLEANS: [&str; 8] = ["y", "n", "yes", "no", "on", "off", "true", "false"];
    match value {
        Value::Bool(_) => BOOLEANS.iter().any(|word| word.eq_ignore_ascii_case(source)),
        Value::Number(_) => source.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)),
        _ => false,
    }
}

impl<'de> Deserialize<'de> for SpannedNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Spanned::<Node>::deserialize(deserializer).map(SpannedNode)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

/// Scalars become exactly the values `serde_json::Value` makes of them.
fn typed<'de, T: IntoDeserializer<'de, E>, E: serde::de::Error>(scalar: T) -> Result<Node, E> {
    Value::deserialize(scalar.into_deserializer()).map(Node::Typed)
}

fn untyped<'de, T: IntoDeserializer<'de, E>, E: serde::de::Error>(scalar: T) -> Result<Node, E> {
    Value::deserialize(scalar.into_deserializer()).map(Node::Untyped)
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        typed(v)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        typed(v)
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Node, E> {
        typed(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        typed(v)
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Node, E> {
        typed(v)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        typed(v)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        untyped(v)
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Node, E> {
        untyped(v)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::Untyped(Value::Null))
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::Untyped(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}
