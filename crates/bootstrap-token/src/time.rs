//! RFC 3339 exactly as Go's `time.Parse(time.RFC3339, s)` reads it, and as
//! `t.UTC().Format(time.RFC3339)` writes it. No clock access here.
//!
//! Go's general layout parser is what the apiserver, the signer and the token cleaner use, and
//! it is slightly more lenient than RFC 3339: the hour may have one digit, the fraction may
//! follow a `,`, and offsets up to `±24:60` are accepted. It is stricter elsewhere: `T` and `Z`
//! must be upper case, there is no space separator, and day, hour, minute and second ranges
//! are checked (no leap second `60`). Matching it exactly means a token is expired here exactly
//! when it is expired for the cluster.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECS_PER_DAY: i64 = 86_400;

fn digit(b: Option<&u8>) -> Option<u32> {
    b.filter(|b| b.is_ascii_digit()).map(|b| u32::from(b - b'0'))
}

/// Go's `getnum`: one or two digits; `fixed` demands two.
fn getnum(s: &[u8], fixed: bool) -> Option<(u32, &[u8])> {
    let d0 = digit(s.first())?;
    match digit(s.get(1)) {
        Some(d1) => Some((d0 * 10 + d1, s.get(2..)?)),
        None if fixed => None,
        None => Some((d0, s.get(1..)?)),
    }
}

fn expect(s: &[u8], c: u8) -> Option<&[u8]> {
    match s.split_first() {
        Some((&b, rest)) if b == c => Some(rest),
        _ => None,
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds (floored) and nanoseconds since the epoch.
pub(crate) fn to_unix(t: SystemTime) -> (i64, u32) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()).unwrap_or(i64::MAX), d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => (-secs, 0),
                n => (-secs - 1, 1_000_000_000 - n),
            }
        }
    }
}

pub(crate) fn from_unix(secs: i64, nanos: u32) -> Option<SystemTime> {
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(u64::from(nanos)))
    }
}

/// Parses like Go's `time.Parse(time.RFC3339, s)`; `None` where Go returns an error.
pub(crate) fn parse_rfc3339(s: &[u8]) -> Option<SystemTime> {
    // Year: exactly four digits.
    let (year_digits, rest) = (s.get(..4)?, s.get(4..)?);
    if !year_digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let year = year_digits
        .iter()
        .fold(0i64, |acc, b| acc * 10 + i64::from(b - b'0'));
    let rest = expect(rest, b'-')?;
    let (month, rest) = getnum(rest, true)?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let rest = expect(rest, b'-')?;
    let (day, rest) = getnum(rest, true)?;
    let rest = expect(rest, b'T')?;
    let (hour, rest) = getnum(rest, false)?;
    if hour >= 24 {
        return None;
    }
    let rest = expect(rest, b':')?;
    let (minute, rest) = getnum(rest, true)?;
    if minute >= 60 {
        return None;
    }
    let rest = expect(rest, b':')?;
    let (second, mut rest) = getnum(rest, true)?;
    if second >= 60 {
        return None;
    }

    // Optional fraction: '.' or ',' followed by at least one digit; digits past the ninth are
    // read and ignored.
    let mut nanos = 0u32;
    if let (Some(b'.' | b','), Some(true)) = (rest.first(), rest.get(1).map(u8::is_ascii_digit)) {
        let digits = rest.get(1..)?;
        let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut scale = 100_000_000u32;
        for b in digits.iter().take(n.min(9)) {
            nanos += u32::from(b - b'0') * scale;
            scale /= 10;
        }
        rest = digits.get(n..)?;
    }

    // Zone: 'Z' or ±hh:mm (Go accepts hh <= 24 and mm <= 60).
    let offset_secs: i64 = match rest.split_first() {
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
            let offset = i64::from(hh * 3600 + mm * 60);
            rest = tail;
            match sign {
                b'+' => offset,
                b'-' => -offset,
                _ => return None,
            }
        }
    };
    if !rest.is_empty() {
        return None;
    }
    if day < 1 || day > days_in(month, year) {
        return None;
    }
    let secs = days_from_civil(year, month, day) * SECS_PER_DAY
        + i64::from(hour * 3600 + minute * 60 + second)
        - offset_secs;
    from_unix(secs, nanos)
}

/// Formats like Go's `t.UTC().Format(time.RFC3339)`: `YYYY-MM-DDTHH:MM:SSZ`, fraction
/// truncated. `None` if the year is outside 0000–9999 (Go would write something that no RFC 3339
/// parser, including its own, reads back).
pub(crate) fn format_rfc3339(t: SystemTime) -> Option<String> {
    let (secs, _) = to_unix(t);
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: u32) -> SystemTime {
        from_unix(secs, nanos).unwrap()
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
            ("1969-12-31T23:59:59Z", -1, 0),
            ("0000-01-01T00:00:00Z", -62_167_219_200, 0),
            ("9999-12-31T23:59:59Z", 253_402_300_799, 0),
            ("2025-01-02T00:00:00+24:00", 1_735_776_000 - 86_400, 0),
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
            "2025-13-01T00:00:00Z",
            "2025-00-01T00:00:00Z",
            "2025-01-00T00:00:00Z",
            "2025-1-02T00:00:00Z",
            "2025-01-2T00:00:00Z",
            "2025-01-02T00:0:00Z",
            "25-01-02T00:00:00Z",
            "+2025-01-02T00:00:00Z",
            "2025-01-02T00:00:00.Z",
            "2025-01-02T00:00:00+0100",
            "2025-01-02T00:00:00+01",
            "2025-01-02T00:00:00+25:00",
            "2025-01-02T00:00:00+01:61",
            "2025-01-02T00:00:00Z ",
            " 2025-01-02T00:00:00Z",
            "2025-01-02T00:00:00Zjunk",
            "tomorrow",
        ] {
            assert_eq!(parse_rfc3339(s.as_bytes()), None, "{s:?}");
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(
            format_rfc3339(at(1_735_776_000, 999_999_999)).as_deref(),
            Some("2025-01-02T00:00:00Z")
        );
        assert_eq!(
            format_rfc3339(at(-1, 500)).as_deref(),
            Some("1969-12-31T23:59:59Z")
        );
        assert_eq!(format_rfc3339(at(253_402_300_800, 0)), None);
        assert_eq!(format_rfc3339(at(-62_167_219_201, 0)), None);
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..3_000_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            let (m, d) = (u32::try_from(m).unwrap(), u32::try_from(d).unwrap());
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in(m, y));
        }
    }
}
