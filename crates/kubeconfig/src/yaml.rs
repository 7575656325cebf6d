//! A YAML emitter that writes what client-go writes.
//!
//! client-go turns its JSON into YAML with sigs.k8s.io/yaml, that is go-yaml v2: block style,
//! two-space indentation, sequences not indented below their key, `{}`/`[]` for empty
//! collections. This module follows go-yaml v2's choices byte for byte, so that
//! `kubectl config view` and the files kubeadm writes can be compared with ours:
//!
//! - keys sorted as go-yaml sorts them (digit runs by value, letters after other characters);
//! - a string is quoted `"…"` when a plain scalar would read back as something else under
//!   YAML 1.1 (`yes`, `1e3`, `0x1F`, `2024-01-01`, `1:20`); otherwise it is plain when its
//!   characters allow, else single-quoted, else double-quoted with Go's escapes;
//! - strings with a line break are literal blocks (`|-`) where YAML allows;
//! - long plain and quoted values are folded at spaces past column 80;
//! - keys longer than 128 bytes or with line breaks use the `? key` form;
//! - numbers print as Go prints them after a trip through JSON (`1`, `1e+06`).
//!
//! Two deliberate differences: a `<<` key is quoted, because unquoted it reads back as a YAML
//! merge key (go-yaml then fails to read its own output); and a string holding U+0085, U+2028
//! or U+2029 is double-quoted with escapes (`\N`, `\L`, `\P`), because YAML 1.1 (go-yaml)
//! reads those characters as line breaks and YAML 1.2 (our loader) as text, so go-yaml's raw
//! form would read back differently here and there.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

/// go-yaml's preferred line width: plain and quoted scalars are folded at a space past it.
const BEST_WIDTH: usize = 80;
/// The longest key go-yaml writes as `key: value`; longer ones use `? key`.
const MAX_SIMPLE_KEY: usize = 128;

/// Renders a JSON value as a YAML document.
pub(crate) fn to_string(value: &Value) -> String {
    let mut emitter = Emitter {
        out: String::with_capacity(4096),
        column: 0,
        indention: true,
    };
    emitter.node(value, 0, Context::Root);
    emitter.line_end();
    emitter.out
}

/// Where a node sits, which decides how it starts and how a sequence is indented.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Root,
    /// The value of `key:`.
    MappingValue,
    /// The value after a `? key` line's `:`.
    ComplexValue,
    /// An item of a sequence, after `- `.
    SequenceItem,
}

/// The output and the little state go-yaml's emitter keeps about it.
struct Emitter {
    out: String,
    /// Characters (not bytes) since the last line break.
    column: usize,
    /// Whether only indentation has been written on this line.
    indention: bool,
}

impl Emitter {
    /// Whether the last thing written was white space (or nothing on this line).
    fn whitespace(&self) -> bool {
        matches!(self.out.chars().next_back(), None | Some(' ' | '\n'))
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        if c == '\n' {
            self.column = 0;
            self.indention = true;
        } else {
            self.column += 1;
        }
    }

    fn put_str(&mut self, s: &str) {
        s.chars().for_each(|c| self.put(c));
    }

    /// Text that is not indentation.
    fn write(&mut self, s: &str) {
        self.put_str(s);
        self.indention = false;
    }

    /// An indicator such as `-`, `?` or `:`, after a space if needed.
    fn indicator(&mut self, s: &str, need_whitespace: bool, is_indention: bool) {
        if need_whitespace && !self.whitespace() {
            self.put(' ');
        }
        self.put_str(s);
        self.indention = self.indention && is_indention;
    }

    /// Goes to column `indent`, on a new line unless only indentation precedes it.
    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace()) {
            self.put('\n');
        }
        while self.column < indent {
            self.put(' ');
        }
    }

    /// Ends the document's last line.
    fn line_end(&mut self) {
        if !self.out.ends_with('\n') {
            self.put('\n');
        }
    }

    /// A node whose parent collection is at `indent`.
    fn node(&mut self, value: &Value, indent: usize, context: Context) {
        match value {
            Value::Object(map) if !map.is_empty() => self.mapping(map, indent, context),
            Value::Array(items) if !items.is_empty() => self.sequence(items, indent, context),
            Value::Object(_) => self.indicator("{}", true, false),
            Value::Array(_) => self.indicator("[]", true, false),
            Value::String(s) => self.string(s, indent + 2, false),
            Value::Null => self.plain("null"),
            Value::Bool(b) => self.plain(if *b { "true" } else { "false" }),
            Value::Number(n) => self.plain(&number(n)),
        }
    }

    fn mapping(&mut self, map: &Map<String, Value>, indent: usize, context: Context) {
        let inner = if context == Context::Root { 0 } else { indent + 2 };
        let mut entries: Vec<(&String, &Value)> = map.iter().collect();
        insertion_sort(&mut entries, |a, b| key_less(a.0, b.0));
        for (key, value) in entries {
            self.write_indent(inner);
            if key.len() <= MAX_SIMPLE_KEY && !key.chars().any(is_break) {
                self.string(key, inner + 2, true);
                self.indicator(":", false, false);
                self.node(value, inner, Context::MappingValue);
            } else {
                self.indicator("?", true, true);
                self.string(key, inner + 2, false);
                self.write_indent(inner);
                self.indicator(":", true, true);
                self.node(value, inner, Context::ComplexValue);
            }
        }
    }

    fn sequence(&mut self, items: &[Value], indent: usize, context: Context) {
        // A sequence directly under `key:` is not indented (go-yaml's "indentless" sequence).
        let inner = match context {
            Context::Root => 0,
            Context::MappingValue => indent,
            Context::ComplexValue | Context::SequenceItem => indent + 2,
        };
        for item in items {
            self.write_indent(inner);
            self.indicator("-", true, true);
            self.node(item, inner, Context::SequenceItem);
        }
    }

    fn plain(&mut self, text: &str) {
        if !self.whitespace() {
            self.put(' ');
        }
        self.write(text);
    }

    /// A string scalar; `indent` is where continuation lines start; keys never fold.
    fn string(&mut self, s: &str, indent: usize, key: bool) {
        match style(s, key) {
            Style::Plain => self.plain_folded(s, indent, !key),
            Style::SingleQuoted => self.single_quoted(s, indent, !key),
            Style::DoubleQuoted => self.double_quoted(s, indent, !key),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain_folded(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        if !s.is_empty() && !self.whitespace() {
            self.put(' ');
        }
        let mut spaces = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && chars.peek() != Some(&' ') {
                    self.write_indent(indent);
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else {
                self.write(c.encode_utf8(&mut [0; 4]));
                spaces = false;
            }
        }
        self.indention = false;
    }

    fn single_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("'", true, false);
        let count = s.chars().count();
        let mut spaces = false;
        let mut breaks = false;
        let mut chars = s.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            if c == ' ' {
                let next_is_space = chars.peek().is_some_and(|&(_, next)| next == ' ');
                let inside = i > 0 && i + 1 < count;
                if allow_breaks && !spaces && self.column > BEST_WIDTH && inside && !next_is_space {
                    self.write_indent(indent);
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put('\n');
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.write(c.encode_utf8(&mut [0; 4]));
                spaces = false;
                breaks = false;
            }
        }
        self.indicator("'", false, false);
        self.indention = false;
    }

    /// A line break copied from a scalar: `\n` breaks the line, others are written and then
    /// counted as one (as go-yaml does).
    fn write_break(&mut self, c: char) {
        self.out.push(c);
        self.column = 0;
        self.indention = true;
    }

    fn double_quoted(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("\"", true, false);
        let count = s.chars().count();
        // go-yaml v2's BOM test looks at the start of the value, not at the character: after a
        // leading BOM, every character is escaped.
        let escape_all = s.starts_with('\u{feff}');
        let mut spaces = false;
        let mut chars = s.chars().enumerate().peekable();
        while let Some((i, c)) = chars.next() {
            if escape_all || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.put_str(&escape(c));
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i > 0 && i + 1 < count {
                    self.write_indent(indent);
                    if chars.peek().is_some_and(|&(_, next)| next == ' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false);
        self.indention = false;
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.indicator("|", true, false);
        if s.starts_with(' ') || s.starts_with(is_break) {
            self.indicator("2", false, false);
        }
        let mut tail = s.chars().rev();
        let chomp = match (tail.next(), tail.next()) {
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.indicator(chomp, false, false);
        }
        // go-yaml v2 ends the header line first, so a leading break is an empty line.
        self.put('\n');
        let mut breaks = true;
        for c in s.chars() {
            if is_break(c) {
                if c == '\n' {
                    self.put('\n');
                } else {
                    self.write_break(c);
                }
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                self.write(c.encode_utf8(&mut [0; 4]));
                breaks = false;
            }
        }
    }
}

/// go-yaml's scalar styles.
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

/// The style go-yaml picks for `s`: its encoder asks for literal (line breaks), plain (reads
/// back as a string) or double-quoted; its emitter then falls back to what the characters
/// allow.
fn style(s: &str, key: bool) -> Style {
    let facts = Facts::of(s);
    if s.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
        return Style::DoubleQuoted;
    }
    let wanted = if key && s == "<<" {
        // go-yaml writes this key plain, and then reads it back as a merge key (and fails);
        // the one place we quote where it does not.
        Style::DoubleQuoted
    } else if s.contains('\n') {
        Style::Literal
    } else if resolves_to_string(s) && !is_base60_float(s) {
        Style::Plain
    } else {
        Style::DoubleQuoted
    };
    match wanted {
        _ if key && facts.multiline => Style::DoubleQuoted,
        Style::Plain if facts.block_plain_allowed && !(s.is_empty() && key) => Style::Plain,
        Style::Plain if facts.single_quoted_allowed => Style::SingleQuoted,
        Style::Literal if facts.block_allowed && !key => Style::Literal,
        _ => Style::DoubleQuoted,
    }
}

/// What go-yaml's `yaml_emitter_analyze_scalar` finds out about a scalar (block context).
struct Facts {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

impl Facts {
    fn of(s: &str) -> Self {
        if s.is_empty() {
            return Facts {
                multiline: false,
                block_plain_allowed: true,
                single_quoted_allowed: true,
                block_allowed: false,
            };
        }
        let chars: Vec<char> = s.chars().collect();
        let mut block_indicators = s.starts_with("---") || s.starts_with("...");
        let (mut line_breaks, mut special) = (false, false);
        let (mut leading_space, mut leading_break) = (false, false);
        let (mut trailing_space, mut trailing_break) = (false, false);
        let (mut break_space, mut space_break) = (false, false);
        let (mut previous_space, mut previous_break) = (false, false);
        let mut preceded_by_whitespace = true;
        let last = chars.len() - 1;
        for (i, &c) in chars.iter().enumerate() {
            let followed_by_whitespace = chars.get(i + 1).is_none_or(|&n| n == ' ' || n == '\t');
            if i == 0 {
                match c {
                    '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
                    | '@' | '`' => block_indicators = true,
                    '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                    _ => {}
                }
            } else {
                match c {
                    ':' if followed_by_whitespace => block_indicators = true,
                    '#' if preceded_by_whitespace => block_indicators = true,
                    _ => {}
                }
            }
            if !is_printable(c) {
                special = true;
            }
            if c == ' ' {
                leading_space |= i == 0;
                trailing_space |= i == last;
                break_space |= previous_break;
                (previous_space, previous_break) = (true, false);
            } else if is_break(c) {
                line_breaks = true;
                leading_break |= i == 0;
                trailing_break |= i == last;
                space_break |= previous_space;
                (previous_space, previous_break) = (false, true);
            } else {
                (previous_space, previous_break) = (false, false);
            }
            preceded_by_whitespace = matches!(c, ' ' | '\t' | '\0') || is_break(c);
        }
        let edge = leading_space || leading_break || trailing_space || trailing_break;
        let no_quote = break_space || space_break || special;
        Facts {
            multiline: line_breaks,
            block_plain_allowed: !(edge || no_quote || line_breaks || block_indicators),
            single_quoted_allowed: !no_quote,
            block_allowed: !(trailing_space || space_break || special),
        }
    }
}

/// Characters go-yaml writes as they are (the rest it escapes in double quotes).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{a0}'..='\u{d7ff}')
        || (('\u{e000}'..='\u{fffd}').contains(&c) && c != '\u{feff}')
}

/// Line breaks as YAML 1.1 counts them.
fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// go-yaml's double-quoted escape for `c`.
fn escape(c: char) -> String {
    let short = match c {
        '\0' => '0',
        '\u{7}' => 'a',
        '\u{8}' => 'b',
        '\t' => 't',
        '\n' => 'n',
        '\u{b}' => 'v',
        '\u{c}' => 'f',
        '\r' => 'r',
        '\u{1b}' => 'e',
        '"' => '"',
        '\\' => '\\',
        '\u{85}' => 'N',
        '\u{a0}' => '_',
        '\u{2028}' => 'L',
        '\u{2029}' => 'P',
        _ => {
            let code = u32::from(c);
            return match code {
                0..=0xff => format!("\\x{code:02X}"),
                0x100..=0xffff => format!("\\u{code:04X}"),
                _ => format!("\\U{code:08X}"),
            };
        }
    };
    format!("\\{short}")
}

/// A number as client-go's YAML shows it: Go's JSON text, read back by go-yaml (so whole
/// floats become integers) and written again.
fn number(n: &Number) -> String {
    match n.as_f64().filter(|_| n.is_f64()) {
        Some(f) => match crate::json::go_float(f) {
            json if json.contains(['.', 'e']) => crate::json::go_float_g(f),
            // An integer literal for go-yaml, which reads `-0` as 0.
            json if json == "-0" => "0".to_owned(),
            json => json,
        },
        None => n.to_string(),
    }
}

/// Whether go-yaml v2 resolves `s`, written plain, to a string (not a bool, null, number,
/// timestamp or merge key).
pub(crate) fn resolves_to_string(s: &str) -> bool {
    const WORDS: [&str; 39] = [
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no", "No", "NO",
        "false", "False", "FALSE", "off", "Off", "OFF", "", "~", "null", "Null", "NULL", ".nan", ".NaN",
        ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
    ];
    let Some(first) = s.bytes().next() else {
        return false; // the empty string is null
    };
    let hinted = first.is_ascii_digit() || b"+-.yYnNtTfFoO~".contains(&first);
    if !hinted {
        return true;
    }
    if WORDS.contains(&s) {
        return false;
    }
    match first {
        b'.' => !is_go_float(s),
        b'0'..=b'9' | b'+' | b'-' => {
            if is_timestamp(s) {
                return false;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            !(is_go_integer(&plain) || is_go_float(&plain))
        }
        _ => true,
    }
}

/// Go's `strconv.ParseFloat` on decimal text: finite and well formed.
fn is_go_float(s: &str) -> bool {
    is_decimal_float(s) && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Go's `ParseFloat` on decimal text, which is go-yaml's `yamlStyleFloat`:
/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_decimal_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (body.get(..at).unwrap_or_default(), body.get(at + 1..)),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = (!whole.is_empty() || !fraction.is_empty()) && digits(whole) && digits(fraction);
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// An integer literal as go-yaml reads one: Go's `ParseInt(s, 0, 64)`, else `ParseUint`, else
/// (when that overflowed) `big.Int`. A signed literal must fit in an i64 (`ParseUint` takes no
/// sign); decimal-looking ones that do not are floats anyway.
fn is_go_integer(s: &str) -> bool {
    match go_integer_literal(s) {
        Some(literal) => literal.sign.is_none() || literal.to_i64().is_some(),
        None => false,
    }
}

/// The number go-yaml v2 reads from the plain scalar `s`, when it reads one that JSON holds.
pub(crate) fn go_number(s: &str) -> Option<Number> {
    if resolves_to_string(s) || is_timestamp(s) {
        return None;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if let Some(literal) = go_integer_literal(&plain) {
        return match literal.to_i64() {
            Some(int) => Some(int.into()),
            None if literal.sign.is_none() => u64::from_str_radix(&literal.digits, literal.radix)
                .ok()
                .map(Number::from),
            None => None,
        };
    }
    Number::from_f64(plain.parse().ok()?)
}

/// Optional sign, then `0x`/`0o`/`0b` and digits, `0` and octal digits, or decimal digits.
struct GoIntegerLiteral {
    sign: Option<char>,
    digits: String,
    radix: u32,
}

impl GoIntegerLiteral {
    fn to_i64(&self) -> Option<i64> {
        let minus = if self.sign == Some('-') { "-" } else { "" };
        i64::from_str_radix(&format!("{minus}{}", self.digits), self.radix).ok()
    }
}

fn go_integer_literal(s: &str) -> Option<GoIntegerLiteral> {
    let sign = s.chars().next().filter(|c| matches!(c, '+' | '-'));
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (lower.get(1..).unwrap_or_default(), 8)
    } else {
        (lower.as_str(), 10)
    };
    let well_formed = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    well_formed.then(|| GoIntegerLiteral {
        sign,
        digits: digits.to_owned(),
        radix,
    })
}

/// go-yaml's base-60 floats (`1:20`, `-3:25:45.5`), quoted for YAML 1.1 readers.
fn is_base60_float(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (sexagesimal, fraction) = body.split_once('.').unwrap_or((body, ""));
    let mut parts = sexagesimal.split(':');
    let head = parts.next().unwrap_or_default();
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let mut tails = 0;
    let tails_ok = parts.all(|p| {
        tails += 1;
        match p.as_bytes() {
            [d] => d.is_ascii_digit(),
            [a, b] => (b'0'..=b'5').contains(a) && b.is_ascii_digit(),
            _ => false,
        }
    });
    head_ok && tails > 0 && tails_ok && fraction.bytes().all(|b| b.is_ascii_digit() || b == b'_')
}

/// go-yaml's timestamps: `YYYY-M-D`, optionally followed by `T`/`t` and `h:m:s[.frac]` with
/// `Z` or `±hh:mm`, or by a space and `h:m:s[.frac]`; fields in range.
fn is_timestamp(s: &str) -> bool {
    let Some((date, time)) = split_date(s) else {
        return false;
    };
    let Some([year, month, day]) = numbers::<3>(date, '-', 4) else {
        return false;
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return false;
    }
    match time {
        None => true,
        Some((' ', rest)) => is_clock(rest),
        Some((_, rest)) => {
            let (clock, zone) = match rest.find(['Z', '+', '-']) {
                Some(at) => (
                    rest.get(..at).unwrap_or_default(),
                    rest.get(at..).unwrap_or_default(),
                ),
                None => return false,
            };
            is_clock(clock) && (zone == "Z" || is_zone_offset(zone))
        }
    }
}

/// `YYYY-M-D` and what follows it, split at `T`, `t` or a space.
fn split_date(s: &str) -> Option<(&str, Option<(char, &str)>)> {
    if s.len() < 5 || !s.bytes().take(4).all(|b| b.is_ascii_digit()) || s.as_bytes().get(4) != Some(&b'-') {
        return None;
    }
    Some(match s.find(['T', 't', ' ']) {
        Some(at) => {
            let separator = s.get(at..).and_then(|t| t.chars().next())?;
            (s.get(..at)?, Some((separator, s.get(at + 1..)?)))
        }
        None => (s, None),
    })
}

/// `h:m:s[.fraction]` with one- or two-digit fields in range.
fn is_clock(s: &str) -> bool {
    let (clock, fraction) = s.split_once('.').unwrap_or((s, "1"));
    let fraction_ok =
        !fraction.is_empty() && fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit());
    matches!(numbers::<3>(clock, ':', 2), Some([h, m, sec]) if h < 24 && m < 60 && sec < 60) && fraction_ok
}

/// `±hh:mm`.
fn is_zone_offset(s: &str) -> bool {
    let Some(rest) = s.strip_prefix(['+', '-']) else {
        return false;
    };
    rest.len() == 5 && matches!(numbers::<2>(rest, ':', 2), Some([h, m]) if h < 24 && m < 60)
}

/// `N` numbers separated by `separator`; the first may have up to `first_width` digits
/// (exactly 4 for a year), the others one or two.
fn numbers<const N: usize>(s: &str, separator: char, first_width: usize) -> Option<[u32; N]> {
    let mut out = [0; N];
    let mut parts = s.split(separator);
    for (i, slot) in out.iter_mut().enumerate() {
        let part = parts.next()?;
        let width_ok = if i == 0 && first_width == 4 {
            part.len() == 4
        } else {
            (1..=2).contains(&part.len())
        };
        if !width_ok || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `insertionSort`, which `sort.Sort` uses for up to 12 elements. go-yaml's key
/// comparison is not a total order for some odd keys, so Rust's sorts (which may panic then)
/// will not do; for a total order any sort gives the same result.
fn insertion_sort<T>(items: &mut [T], less: impl Fn(&T, &T) -> bool) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0
            && items
                .get(j)
                .zip(items.get(j - 1))
                .is_some_and(|(a, b)| less(a, b))
        {
            items.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// go-yaml's key order: runes compared one by one, but a letter sorts after a non-letter and
/// runs of digits compare by value (`a9` before `a10`).
fn key_less(a: &str, b: &str) -> bool {
    key_order(a, b) == Ordering::Less
}

/// [`key_less`] as an [`Ordering`].
fn key_order(a: &str, b: &str) -> Ordering {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for (i, (&x, &y)) in a.iter().zip(&b).enumerate() {
        if x == y {
            continue;
        }
        let (x_letter, y_letter) = (x.is_alphabetic(), y.is_alphabetic());
        if x_letter && y_letter {
            return x.cmp(&y);
        }
        if x_letter || y_letter {
            return if y_letter {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // A run of digits after a non-zero digit is not a leading-zero run.
        let after_nonzero = (x == '0' || y == '0')
            && a.get(..i)
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|&c| c != '0');
        let start = i64::from(after_nonzero);
        let (x_value, x_end) = digit_run(&a, i, start);
        let (y_value, y_end) = digit_run(&b, i, start);
        return x_value.cmp(&y_value).then(x_end.cmp(&y_end)).then(x.cmp(&y));
    }
    a.len().cmp(&b.len())
}

/// The value of the ASCII digits of `chars` from `from` (Go's wrapping arithmetic), seeded
/// with `start`, and where the run ends.
fn digit_run(chars: &[char], from: usize, start: i64) -> (i64, usize) {
    let mut value = start;
    let mut end = from;
    while let Some(d) = chars.get(end).and_then(|c| c.to_digit(10)) {
        value = value.wrapping_mul(10).wrapping_add(i64::from(d));
        end += 1;
    }
    (value, end)
}

/// Numbers, special floats, dates, times and versions like `1.2` (the fast parser leaves
/// them to the general one).
pub(crate) fn looks_numeric(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let mut chars = unsigned.chars();
    match (chars.next(), chars.next()) {
        (Some(c), _) if c.is_ascii_digit() => true,
        (Some('.'), Some(c)) if c.is_ascii_digit() => true,
        _ => unsigned.eq_ignore_ascii_case(".inf") || unsigned.eq_ignore_ascii_case(".nan"),
    }
}

/// Characters the fast parser leaves to the general one: controls and YAML 1.1 line breaks.
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
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

    fn shown(s: &str) -> String {
        to_string(&json!({ "k": s }))
    }

    #[test]
    fn quotes_only_what_go_yaml_quotes() {
        for (s, expected) in [
            ("", "\"\""),
            ("true", "\"true\""),
            ("Yes", "\"Yes\""),
            ("~", "\"~\""),
            ("123", "\"123\""),
            ("0x1F", "\"0x1F\""),
            ("1_000", "\"1_000\""),
            ("1e3", "\"1e3\""),
            (".5", "\".5\""),
            ("1:20", "\"1:20\""),
            ("2025-01-01", "\"2025-01-01\""),
            ("2025-01-01T00:00:00Z", "\"2025-01-01T00:00:00Z\""),
            ("2025-13-01", "2025-13-01"),
            ("1e400", "1e400"),
            ("07401b.f395", "07401b.f395"),
            ("Inf", "Inf"),
            ("<<", "<<"),
            ("-", "'-'"),
            ("- x", "'- x'"),
            ("-x", "-x"),
            (":x", ":x"),
            ("x:", "'x:'"),
            ("a: b", "'a: b'"),
            ("a #b", "'a #b'"),
            ("a#b", "a#b"),
            ("it's #1", "'it''s #1'"),
            (" x", "' x'"),
            ("a\tb", "\"a\\tb\""),
            ("a\rb", "\"a\\rb\""),
            ("a\u{1}b", "\"a\\x01b\""),
            ("\u{1F600}", "\"\\U0001F600\""),
            ("\u{feff}x y", "\"\\uFEFF\\x78\\x20\\x79\""),
            ("naïve", "naïve"),
            ("system:node:cp-1", "system:node:cp-1"),
            ("https://k8s:6443", "https://k8s:6443"),
        ] {
            assert_eq!(shown(s), format!("k: {expected}\n"), "{s:?}");
        }
    }

    #[test]
    fn line_breaks_make_literal_blocks() {
        assert_eq!(shown("a\nb"), "k: |-\n  a\n  b\n");
        assert_eq!(shown("a\n"), "k: |\n  a\n");
        assert_eq!(shown("a\n\n"), "k: |+\n  a\n\n");
        assert_eq!(shown(" a\nb"), "k: |2-\n   a\n  b\n");
        assert_eq!(shown("\na"), "k: |2-\n\n  a\n");
        assert_eq!(shown("a \nb"), "k: \"a \\nb\"\n");
        assert_eq!(to_string(&json!({"k": ["x\ny"]})), "k:\n- |-\n  x\n  y\n");
    }

    #[test]
    fn long_values_fold_past_column_80() {
        let words = "word ".repeat(20);
        let words = words.trim_end();
        assert_eq!(
            shown(words),
            format!(
                "k: {}\n  {}\n",
                "word ".repeat(16).trim_end(),
                "word ".repeat(4).trim_end()
            )
        );
        let long = format!("{} b", "a".repeat(90));
        assert_eq!(shown(&long), format!("k: {}\n  b\n", "a".repeat(90)));
    }

    #[test]
    fn long_and_multiline_keys_use_the_explicit_form() {
        let key = "k".repeat(129);
        assert_eq!(to_string(&json!({ key.clone(): "v" })), format!("? {key}\n: v\n"));
        assert_eq!(to_string(&json!({"a\nb": {"x": 1}})), "? |-\n  a\n  b\n: x: 1\n");
        assert_eq!(to_string(&json!({"<<": 1})), "\"<<\": 1\n", "not a merge key");
    }

    #[test]
    fn keys_sort_as_go_yaml_sorts_them() {
        let mut keys = vec![
            "a10", "a9", "a_b", "aB", "a-b", "a~", "A", "a", "b1", "_x", "a0", "a00", "a01",
        ];
        insertion_sort(&mut keys, |a, b| key_less(a, b));
        assert_eq!(
            keys,
            [
                "_x", "A", "a", "a-b", "a_b", "a~", "a0", "a00", "a01", "a9", "a10", "aB", "b1"
            ]
        );
    }

    #[test]
    fn numbers_go_through_json_first() {
        assert_eq!(
            to_string(&json!({"a": 1.0, "b": 1e6, "c": 1.5, "d": -7, "e": 1e-7})),
            "a: 1\nb: 1000000\nc: 1.5\nd: -7\ne: 1e-07\n"
        );
    }
}
