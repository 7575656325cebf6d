//! JSON as client-go writes it: Go's `encoding/json` escaping and number format, indented
//! with four spaces as `kubectl -o json` does.
//!
//! serde_json and Go differ in two places that show in kubeconfigs: Go escapes `<`, `>`, `&`,
//! U+2028 and U+2029 inside strings (`\u003c` …), and Go prints floats in their shortest form
//! without a forced `.0` (`1`, not `1.0`) and with an exponent outside [1e-6, 1e21).

use std::io::{self, Write};

use serde_json::ser::{Formatter, PrettyFormatter};

/// Serialises `value` as `kubectl -o json` prints it (no trailing newline).
pub(crate) fn to_string<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(4096);
    let formatter = GoFormatter(PrettyFormatter::with_indent(b"    "));
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value.serialize(&mut serializer)?;
    // The serializer writes only the UTF-8 it was given and ASCII escapes.
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// How Go's `encoding/json` writes a float64: shortest digits, `%f` style for magnitudes in
/// [1e-6, 1e21), else `%e` with a two-digit-minimum exponent trimmed to one digit when
/// negative (`1e-7`, `1e+21`).
pub(crate) fn go_float(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-6..1e21).contains(&magnitude) {
        // Rust's Display is the shortest round-trip text without exponent, like Go's 'f', -1.
        let text = value.to_string();
        return if value == 0.0 && value.is_sign_negative() {
            "-0".to_owned()
        } else {
            text
        };
    }
    let (digits, exponent) = shortest_digits(value);
    let text = exponent_form(value.is_sign_negative(), &digits, exponent);
    match text.split_once("e-0") {
        Some((mantissa, last)) if last.len() == 1 => format!("{mantissa}e-{last}"),
        _ => text,
    }
}

/// Go's `strconv.FormatFloat(value, 'g', -1, 64)`, which go-yaml uses: `%e` when the decimal
/// exponent is below -4 or at least the precision (6, or the digit count when larger and the
/// number is whole), else `%f`.
pub(crate) fn go_float_g(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let (digits, exponent) = shortest_digits(value);
    let count = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let point = exponent + 1;
    let mut precision = 6;
    if precision > count && count >= point {
        precision = count;
    }
    if exponent < -4 || exponent >= precision {
        exponent_form(value.is_sign_negative(), &digits, exponent)
    } else {
        value.to_string()
    }
}

/// The shortest decimal digits of `value` (no sign, no point) and its decimal exponent:
/// 1234.5 is ("12345", 3).
fn shortest_digits(value: f64) -> (String, i64) {
    let text = format!("{:e}", value.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse().unwrap_or(0))
}

/// `d.ddde±XX`, Go's `%e` with the shortest digits.
fn exponent_form(negative: bool, digits: &str, exponent: i64) -> String {
    let sign = if negative { "-" } else { "" };
    let (first, rest) = digits.split_at(digits.len().min(1));
    let point = if rest.is_empty() { "" } else { "." };
    let exponent_sign = if exponent < 0 { '-' } else { '+' };
    format!(
        "{sign}{first}{point}{rest}e{exponent_sign}{:02}",
        exponent.unsigned_abs()
    )
}

/// serde_json's pretty printer with Go's string escapes and float format.
struct GoFormatter<'a>(PrettyFormatter<'a>);

impl Formatter for GoFormatter<'_> {
    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(go_float(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(['<', '>', '&', '\u{2028}', '\u{2029}']) {
            let (plain, tail) = rest.split_at(at);
            writer.write_all(plain.as_bytes())?;
            let mut chars = tail.chars();
            if let Some(c) = chars.next() {
                write!(writer, "\\u{:04x}", u32::from(c))?;
            }
            rest = chars.as_str();
        }
        writer.write_all(rest.as_bytes())
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.0.end_object_value(writer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        // (value, encoding/json, strconv 'g' -1) — checked against Go's output in kubectl.
        for (value, json, g) in [
            (1.0, "1", "1"),
            (1.5, "1.5", "1.5"),
            (-0.0, "-0", "-0"),
            (1e21, "1e+21", "1e+21"),
            (1e-7, "1e-7", "1e-07"),
            (0.000001, "0.000001", "1e-06"),
            (1234567.5, "1234567.5", "1.2345675e+06"),
            (123456.7, "123456.7", "123456.7"),
            (1e6, "1000000", "1e+06"),
            (0.1, "0.1", "0.1"),
            (1.5e300, "1.5e+300", "1.5e+300"),
        ] {
            assert_eq!(go_float(value), json, "json {value}");
            assert_eq!(go_float_g(value), g, "g {value}");
        }
    }

    #[test]
    fn html_characters_and_line_separators_are_escaped() {
        let text = to_string(&serde_json::json!({"k": "x<y>&z\u{2028}"})).unwrap();
        assert_eq!(text, "{\n    \"k\": \"x\\u003cy\\u003e\\u0026z\\u2028\"\n}");
    }
}
