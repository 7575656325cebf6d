//! A fast path for the YAML that kubeconfig writers actually produce.
//!
//! client-go, kubeadm and kubetrust write block-style YAML: mappings, sequences, plain and
//! double-quoted scalars, `{}` and `[]`. Parsing that with a general YAML parser costs ~10×
//! more than the rest of loading. This parser accepts only that subset and answers `None` for
//! anything else (anchors, flow collections, block scalars, multi-line scalars, ambiguous
//! plain scalars such as `yes` or `1.5`...), in which case the caller uses the general parser.
//! It must therefore never produce a *different* value than the general parser would: when
//! in doubt, it gives up. The tests check both parsers against each other.

use serde_json::{Map, Number, Value};

/// One non-empty, non-comment line: its indentation and the text after it.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// Parses `text` if it is in the block subset; `None` means "use the general parser".
pub(crate) fn parse(text: &str) -> Option<Value> {
    if crate::serde_util::contains_any(text, b'\t', b'\r') || text.starts_with('\u{feff}') {
        return None;
    }
    let mut lines = Vec::with_capacity(64);
    for (number, raw) in text.lines().enumerate() {
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') || (number == 0 && content == "---") {
            continue;
        }
        if content.starts_with("---") || content.starts_with("...") || content.starts_with('%') {
            return None;
        }
        lines.push(Line {
            indent: raw.len() - content.len(),
            text: content.trim_end_matches(' '),
        });
    }
    let mut parser = Parser { lines, next: 0 };
    let Some(first) = parser.peek() else {
        return Some(Value::Null);
    };
    let value = parser.node(first.indent)?;
    (parser.next == parser.lines.len()).then_some(value)
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    next: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.next).copied()
    }

    /// A block node whose first line is the next line, at exactly `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.peek()?;
        if line.indent != indent {
            return None;
        }
        if is_sequence_item(line.text) {
            self.sequence(indent)
        } else {
            self.mapping(indent)
        }
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent || !is_sequence_item(line.text) {
                break;
            }
            let rest = line.text.get(1..)?.trim_start_matches(' ');
            if rest.is_empty() {
                return None; // "-" alone: the item is on the next lines; rare, leave it
            }
            let item_indent = indent + (line.text.len() - rest.len());
            // Re-read the item's content as if it started its own line, one level deeper.
            if let Some(slot) = self.lines.get_mut(self.next) {
                *slot = Line {
                    indent: item_indent,
                    text: rest,
                };
            }
            if is_sequence_item(rest) || split_key(rest).is_some() {
                items.push(self.node(item_indent)?);
            } else {
                items.push(inline_value(rest)?);
                self.next += 1;
            }
        }
        Some(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize) -> Option<Value> {
        let mut map = Map::new();
        while let Some(line) = self.peek() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || is_sequence_item(line.text) {
                return None;
            }
            let (key, rest) = split_key(line.text)?;
            let key = scalar_key(key)?;
            self.next += 1;
            let value = if rest.is_empty() {
                match self.peek() {
                    Some(next) if next.indent > indent => self.node(next.indent)?,
                    // go-yaml writes a sequence under a key at the key's own indentation.
                    Some(next) if next.indent == indent && is_sequence_item(next.text) => {
                        self.sequence(indent)?
                    }
                    _ => Value::Null,
                }
            } else {
                inline_value(rest)?
            };
            if map.insert(key, value).is_some() {
                return None; // duplicate key: let the general parser report it
            }
        }
        Some(Value::Object(map))
    }
}

fn is_sequence_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: value` / `key:` at the first mapping colon, honouring a double-quoted key.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let end = if text.starts_with('"') {
        closing_quote(text)? + 1
    } else {
        text.find(": ")
            .or_else(|| text.ends_with(':').then(|| text.len() - 1))?
    };
    let (key, rest) = text.split_at(end);
    if key.ends_with(' ') {
        return None;
    }
    let rest = rest.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((key, rest.trim_start_matches(' ')))
}

fn scalar_key(text: &str) -> Option<String> {
    match inline_value(text)? {
        Value::String(key) => Some(key),
        _ => None,
    }
}

/// A value on the same line as its key or dash.
fn inline_value(text: &str) -> Option<Value> {
    match text {
        "{}" => Some(Value::Object(Map::new())),
        "[]" => Some(Value::Array(Vec::new())),
        _ if text.starts_with('"') => {
            (closing_quote(text)? + 1 == text.len()).then_some(())?;
            double_quoted(text.get(1..text.len() - 1)?).map(Value::String)
        }
        _ => plain(text),
    }
}

/// Byte index of the quote closing a double-quoted scalar that starts at index 0.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '"') => return Some(i),
            _ => {}
        }
    }
    None
}

fn double_quoted(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            if c.is_control() {
                return None;
            }
            out.push(c);
            continue;
        }
        let decoded = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\u{8}',
            'f' => '\u{c}',
            '0' => '\0',
            'u' => hex_char(&mut chars, 4)?,
            'U' => hex_char(&mut chars, 8)?,
            'x' => hex_char(&mut chars, 2)?,
            _ => return None,
        };
        out.push(decoded);
    }
    Some(out)
}

fn hex_char(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<char> {
    let hex: String = chars.by_ref().take(digits).collect();
    if hex.len() != digits {
        return None;
    }
    // Surrogate halves (JSON-style pairs) are not single chars: leave them to the general parser.
    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
}

/// A plain scalar, resolved as YAML 1.2's core schema does, or `None` when any YAML schema
/// might read it differently or it is not a simple one-line plain scalar.
fn plain(text: &str) -> Option<Value> {
    match text {
        "null" | "~" => return Some(Value::Null),
        "true" => return Some(Value::Bool(true)),
        "false" => return Some(Value::Bool(false)),
        _ => {}
    }
    let first = text.chars().next()?;
    if "?:,[]{}#&*!|>'\"%@`".contains(first)
        || text.ends_with(':')
        || text == "-"
        || text == "<<"
        || !plain_body_ok(text)
    {
        return None;
    }
    if crate::yaml::looks_numeric(text) {
        return integer(text);
    }
    const AMBIGUOUS: [&str; 10] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"];
    if AMBIGUOUS.iter().any(|w| w.eq_ignore_ascii_case(text)) {
        return None;
    }
    Some(Value::String(text.to_owned()))
}

/// One pass over a plain scalar (base64 blobs make this the hot loop): no comment (` #`), no
/// mapping indicator (`: `), nothing YAML does not print or treats as a line break.
fn plain_body_ok(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Printable ASCII without spaces is the common case (base64 blobs): a vectorised fold and
    // a memchr.
    let printable_ascii = bytes.iter().fold(true, |ok, b| ok & (0x20..0x7f).contains(b));
    let printable = printable_ascii || !text.chars().any(crate::yaml::needs_escape);
    let indicators = bytes.contains(&b' ') && bytes.windows(2).any(|pair| pair == b" #" || pair == b": ");
    printable && !indicators
}

/// Decimal integers without leading zeros; everything else numeric-looking is left alone.
fn integer(text: &str) -> Option<Value> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let leading_zero = digits.starts_with('0') && (digits.len() > 1 || text.starts_with('-'));
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || leading_zero {
        return None;
    }
    if text.starts_with('-') {
        text.parse::<i64>().ok().map(Number::from).map(Value::Number)
    } else {
        text.parse::<u64>().ok().map(Number::from).map(Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The reader the loader falls back to.
    fn general(text: &str) -> Value {
        crate::general_yaml::parse(text).unwrap()
    }

    #[test]
    fn parses_what_client_go_writes() {
        let text = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://x:6443\n  name: \"\"\n\
                    contexts: null\ncurrent-context: \"\"\nkind: Config\npreferences: {}\nusers: []\n\
                    nested:\n- - 1\n  - -2\n- []\nquoted: \"a\\tb\\u00e9\"\n# comment\nlast: true\n";
        let fast = parse(text).unwrap();
        assert_eq!(fast, general(text));
        assert_eq!(fast["clusters"][0]["name"], json!(""));
        assert_eq!(fast["nested"][0][1], json!(-2));
    }

    #[test]
    fn gives_up_on_anything_outside_the_subset() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: [1, 2]\n",
            "a: {b: 1}\n",
            "a: |\n  text\n",
            "a: yes\n",
            "a: 1.5\n",
            "a: 0777\n",
            "a: 'single'\n",
            "a: plain\n  continued\n",
            "a: 1\na: 2\n",
            "a:\n\t- x\n",
            "a: \"unterminated\n",
            "- a\nb: c\n",
            "a: b # comment\n",
            "? complex\n",
            "a: !!str 1\n",
            "a: -\n",
            "<<: {}\n",
            "a: -0\n",
            "a: \"\\ud800\"\n",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn agrees_with_the_general_parser_on_every_vector() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/kubeconfig");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            if let Some(fast) = parse(&text) {
                assert_eq!(fast, general(&text), "{}", path.display());
            }
        }
    }

    mod differential {
        use proptest::prelude::*;
        use serde_json::Value;

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<String>().prop_map(Value::String),
                "[a-z:@./ #-]{0,12}".prop_map(Value::String),
            ];
            leaf.prop_recursive(4, 32, 5, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map("[a-z.:/ -]{0,8}|\\PC{0,4}", inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// The general parser reads our writer's output back as the same value, and the
            /// fast parser either gives up or agrees (go-yaml's quoting, folding and literal
            /// blocks are outside its subset).
            #[test]
            fn reads_our_writer_like_the_general_parser(value in json_value()) {
                let mut document = serde_json::Map::new();
                document.insert("root".to_owned(), value);
                let document = Value::Object(document);
                let text = crate::yaml::to_string(&document);
                let general = super::general(&text);
                prop_assert_eq!(&general, &document, "{}", text);
                if let Some(fast) = super::parse(&text) {
                    prop_assert_eq!(fast, general, "{}", text);
                }
            }

            /// On arbitrary YAML-like text the fast parser either gives up or agrees.
            #[test]
            fn never_disagrees_on_arbitrary_text(text in "([a-z]{1,3}|[ ]{1,4}|[-:#&*!|>'\"{}\\[\\],?~%@`.0-9\\\\]|\n){0,40}") {
                if let Some(fast) = super::parse(&text) {
                    let general = crate::general_yaml::parse(&text);
                    prop_assert!(general.is_ok(), "fast accepted what the general parser rejects: {:?}", text);
                    prop_assert_eq!(fast, general.unwrap(), "{:?}", text);
                }
            }
        }
    }
}
