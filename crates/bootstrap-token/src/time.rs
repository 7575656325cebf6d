//! RFC 3339 exactly as Go's `time.Parse(time.RFC3339, s)` reads it, and as
//! `t.UTC().Format(time.RFC3339)` writes it. No clock access here.
//!
//! Go's general layout parser is what the apiserver, the signer and the token cleaner use, and
//! it is slightly more lenient than RFC 3339: the hour may have one digit, the fraction may
//! follow a `,`, and offsets up to `±24:60` are accepted. It is stricter elsewhere: `T` and `Z`
//! must be upper case, there is no space separator, and day, hour, minute and second ranges
//! are checked (no leap second `60`). Matching it exactly means a token is expired here exactly
//! when it is expired for the cluster.
//!
//! So this module only reads the fields with Go's lexical rules (jiff's parsers accept other
//! forms: a space or `t` separator, `+0100`); `jiff` checks the calendar (month, day of month,
//! leap years, time ranges) and does every conversion and the formatting.

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::SignedDuration;
use jiff::civil::DateTime;

/// The UNIX epoch as a UTC wall-clock time. Instants go through UTC civil date-times rather
/// than `jiff::Timestamp`, whose range ends on 9999-12-30 (it leaves room for any offset):
/// Go reads `9999-12-31T23:59:59Z`, and so must we.
const EPOCH: DateTime = DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

/// The fields of a Go RFC 3339 time, as written (not yet range-checked).
struct Fields {
    year: i16,
    month: i8,
    day: i8,
    hour: i8,
    minute: i8,
    second: i8,
    nanos: i32,
    offset_secs: i32,
}

fn digit(b: Option<&u8>) -> Option<u8> {
    b.filter(|b| b.is_ascii_digit()).map(|b| b - b'0')
}

/// Go's `getnum`: one or two digits; `fixed` demands two.
fn getnum(s: &[u8], fixed: bool) -> Option<(i8, &[u8])> {
    let d0 = digit(s.first())?;
    let (n, rest) = match digit(s.get(1)) {
        Some(d1) => (d0 * 10 + d1, s.get(2..)?),
        None if fixed => return None,
        None => (d0, s.get(1..)?),
    };
    Some((i8::try_from(n).ok()?, rest))
}

fn expect(s: &[u8], c: u8) -> Option<&[u8]> {
    match s.split_first() {
        Some((&b, rest)) if b == c => Some(rest),
        _ => None,
    }
}

/// Reads the fields of `YYYY-MM-DDTh[h]:MM:SS[(.|,)fraction](Z|±hh:mm)`.
fn lex(s: &[u8]) -> Option<Fields> {
    // Year: exactly four digits.
    let (year_digits, rest) = (s.get(..4)?, s.get(4..)?);
    if !year_digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = year_digits
        .iter()
        .fold(0i16, |acc, b| acc * 10 + i16::from(b - b'0'));
    let (month, rest) = getnum(expect(rest, b'-')?, true)?;
    let (day, rest) = getnum(expect(rest, b'-')?, true)?;
    let (hour, rest) = getnum(expect(rest, b'T')?, false)?;
    let (minute, rest) = getnum(expect(rest, b':')?, true)?;
    let (second, mut rest) = getnum(expect(rest, b':')?, true)?;

    // Optional fraction: '.' or ',' followed by at least one digit; digits past the ninth are
    // read and ignored.
    let mut nanos = 0i32;
    if let (Some(b'.' | b','), Some(true)) = (rest.first(), rest.get(1).map(u8::is_ascii_digit)) {
        let digits = rest.get(1..)?;
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut scale = 100_000_000i32;
        for b in digits.iter().take(n.min(9)) {
            nanos += i32::from(b - b'0') * scale;
            scale /= 10;
        }
        rest = digits.get(n..)?;
    }

    // Zone: 'Z' or ±hh:mm (Go accepts hh <= 24 and mm <= 60).
    let offset_secs = match rest.split_first() {
        Some((b'Z', tail)) => {
            rest = tail;
            0
        }
        _ => {
            let (sign, hh, colon, mm, tail) = (
                rest.first()?,
                rest.get(1..3)?,
                rest.get(3)?,
                rest.get(4..6)?,
                rest.get(6..)?,
            );
            if *colon != b':' {
                return None;
            }
            let (hh, _) = getnum(hh, true)?;
            let (mm, _) = getnum(mm, true)?;
            if hh > 24 || mm > 60 {
                return None;
            }
            let offset = i32::from(hh) * 3600 + i32::from(mm) * 60;
            rest = tail;
            match sign {
                b'+' => offset,
                b'-' => -offset,
                _ => return None,
            }
        }
    };
    rest.is_empty().then_some(Fields {
        year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
        offset_secs,
    })
}

/// Parses like Go's `time.Parse(time.RFC3339, s)`; `None` where Go returns an error.
pub(crate) fn parse_rfc3339(s: &[u8]) -> Option<SystemTime> {
    let f = lex(s)?;
    let civil = DateTime::new(f.year, f.month, f.day, f.hour, f.minute, f.second, f.nanos).ok()?;
    let since_epoch = civil
        .duration_since(EPOCH)
        .checked_sub(SignedDuration::from_secs(i64::from(f.offset_secs)))?;
    if since_epoch.is_negative() {
        UNIX_EPOCH.checked_sub(since_epoch.unsigned_abs())
    } else {
        UNIX_EPOCH.checked_add(since_epoch.unsigned_abs())
    }
}

/// Formats like Go's `t.UTC().Format(time.RFC3339)`: `YYYY-MM-DDTHH:MM:SSZ`, fraction
/// truncated. `None` if the year is outside 0000–9999 (Go would write something that no RFC 3339
/// parser, including its own, reads back).
pub(crate) fn format_rfc3339(t: SystemTime) -> Option<String> {
    let civil = EPOCH
        .checked_add(SignedDuration::system_until(UNIX_EPOCH, t).ok()?)
        .ok()?;
    if !(0..=9999).contains(&civil.year()) {
        return None;
    }
    jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%SZ", civil).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64, nanos: u32) -> SystemTime {
        let whole = Duration::from_secs(secs.unsigned_abs());
        let base = if secs < 0 {
            UNIX_EPOCH - whole
        } else {
            UNIX_EPOCH + whole
        };
        base + Duration::from_nanos(u64::from(nanos))
    }

    #[test]
    fn parses_go_rfc3339() {
        let ok: &[(&str, i64, u32)] = &[
            ("1970-01-01T00:00:00Z", 0, 0),
            ("2025-01-02T00:00:00Z", 1_735_776_000, 0),
            ("2025-01-02T01:00:00+01:00", 1_735_776_000, 0),
            ("2025-01-01T19:00:00-05:00", 1_735_776_000, 0),
            ("2025-01-02T00:00:00.5Z", 1_735_776_000, 500_000_000),
            ("2025-01-02T00:00:00,25Z", 1_735_776_000, 250_000_000),
            ("2025-01-02T00:00:00.123456789999Z", 1_735_776_000, 123_456_789),
            ("2025-01-02T0:00:00Z", 1_735_776_000, 0),
            ("2024-02-29T00:00:00Z", 1_709_164_800, 0),
            ("2000-02-29T00:00:00Z", 951_782_400, 0),
            ("1969-12-31T23:59:59Z", -1, 0),
            ("1969-12-31T23:59:59.25Z", -1, 250_000_000),
            ("0000-01-01T00:00:00Z", -62_167_219_200, 0),
            ("9999-12-31T23:59:59Z", 253_402_300_799, 0),
            ("2025-01-02T00:00:00+24:00", 1_735_776_000 - 86_400, 0),
            ("2025-01-02T00:00:00-24:60", 1_735_776_000 + 90_000, 0),
            ("0000-01-01T00:00:00+24:60", -62_167_219_200 - 90_000, 0),
        ];
        for &(s, secs, nanos) in ok {
            assert_eq!(parse_rfc3339(s.as_bytes()), Some(at(secs, nanos)), "{s}");
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        for s in [
            "",
            "2025-01-02",
            "2025-01-02T00:00:00",
            "2025-01-02 00:00:00Z",
            "2025-01-02t00:00:00Z",
            "2025-01-02T00:00:00z",
            "2025-01-02T24:00:00Z",
            "2025-01-02T00:60:00Z",
            "2025-01-02T00:00:60Z",
            "2025-02-30T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2025-04-31T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-01-00T00:00:00Z",
            "2025-1-02T00:00:00Z",
            "2025-01-2T00:00:00Z",
            "2025-01-02T00:0:00Z",
            "2025-01-02T000:00:00Z",
            "25-01-02T00:00:00Z",
            "+2025-01-02T00:00:00Z",
            "+002025-01-02T00:00:00Z",
            "2025-01-02T00:00:00.Z",
            "2025-01-02T00:00:00+0100",
            "2025-01-02T00:00:00+01",
            "2025-01-02T00:00:00+25:00",
            "2025-01-02T00:00:00+01:61",
            "2025-01-02T00:00:00*01:00",
            "2025-01-02T00:00:00Z[UTC]",
            "2025-01-02T00:00:00Z ",
            " 2025-01-02T00:00:00Z",
            "2025-01-02T00:00:00Zjunk",
            "2025-01-02T00:00:00−01:00",
            "tomorrow",
        ] {
            assert_eq!(parse_rfc3339(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn formats_like_go() {
        let cases: &[(i64, u32, &str)] = &[
            (1_735_776_000, 999_999_999, "2025-01-02T00:00:00Z"),
            (-1, 500, "1969-12-31T23:59:59Z"),
            (0, 0, "1970-01-01T00:00:00Z"),
            (951_782_400, 0, "2000-02-29T00:00:00Z"),
            (-62_167_219_200, 0, "0000-01-01T00:00:00Z"),
            (253_402_300_799, 999_999_999, "9999-12-31T23:59:59Z"),
        ];
        for &(secs, nanos, want) in cases {
            let t = at(secs, nanos);
            assert_eq!(format_rfc3339(t).as_deref(), Some(want), "{secs}");
            // What is written reads back (to the second).
            assert_eq!(parse_rfc3339(want.as_bytes()), Some(at(secs, 0)), "{want}");
        }
        assert_eq!(format_rfc3339(at(253_402_300_800, 0)), None);
        assert_eq!(format_rfc3339(at(-62_167_219_201, 0)), None);
        // Beyond jiff's range altogether.
        assert_eq!(format_rfc3339(at(i64::from(i32::MAX) * 1_000, 0)), None);
    }
}
