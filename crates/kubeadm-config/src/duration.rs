//! Go duration strings (`8760h`, `1h30m`, `90s`, `1.5h`): the form of kubeadm's
//! `certificateValidityPeriod`, `timeouts.discovery` and `--validity-period`.

use std::time::Duration;

/// Why a duration was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurationError {
    /// The text is empty.
    #[error("empty")]
    Empty,
    /// A `-` sign: kubeadm's periods and timeouts cannot be negative.
    #[error("must not be negative")]
    Negative,
    /// A component has no digits before its unit.
    #[error("expected a number before each unit")]
    MissingNumber,
    /// A number without a unit (other than a lone `0`).
    #[error("missing unit (h, m, s, ms, us or ns)")]
    MissingUnit,
    /// A unit Go does not know (`d`, `w`, ...).
    #[error("unknown unit; use h, m, s, ms, us or ns")]
    UnknownUnit,
    /// More than Go's `time.Duration` holds (about 292 years).
    #[error("out of range")]
    OutOfRange,
}

/// Go's `time.ParseDuration` for non-negative values: decimal numbers with optional fractions,
/// each with a unit (`h`, `m`, `s`, `ms`, `us`/`µs`, `ns`), a lone `0`, an optional `+`. Exact
/// to the nanosecond, limited to Go's range.
///
/// ```
/// use std::time::Duration;
/// use kubetrust_kubeadm_config::parse_duration;
/// assert_eq!(parse_duration("1h30m")?, Duration::from_secs(5400));
/// assert_eq!(parse_duration("1.5h")?, Duration::from_secs(5400));
/// assert!(parse_duration("1d").is_err());
/// # Ok::<(), kubetrust_kubeadm_config::DurationError>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    /// Go's limit: `math.MaxInt64` nanoseconds.
    const MAX_NANOS: u128 = i64::MAX as u128;
    let rest = text.strip_prefix('+').unwrap_or(text);
    if rest.starts_with('-') {
        return Err(DurationError::Negative);
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut rest = rest;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let (whole, after_whole) = split_digits(rest);
        let (fraction, after_number) = match after_whole.strip_prefix('.') {
            Some(after_dot) => split_digits(after_dot),
            None => ("", after_whole),
        };
        if whole.is_empty() && fraction.is_empty() {
            return Err(DurationError::MissingNumber);
        }
        let unit_len = after_number
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after_number.len());
        let (unit, next) = after_number.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(DurationError::MissingUnit),
            _ => return Err(DurationError::UnknownUnit),
        };
        total = total
            .checked_add(component_nanos(whole, fraction, unit_nanos)?)
            .filter(|n| *n <= MAX_NANOS)
            .ok_or(DurationError::OutOfRange)?;
        rest = next;
    }
    let seconds = u64::try_from(total / 1_000_000_000).map_err(|_| DurationError::OutOfRange)?;
    let nanos = u32::try_from(total % 1_000_000_000).map_err(|_| DurationError::OutOfRange)?;
    Ok(Duration::new(seconds, nanos))
}

fn split_digits(text: &str) -> (&str, &str) {
    text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()))
}

/// `whole.fraction` × `unit`, truncated to whole nanoseconds as Go does.
fn component_nanos(whole: &str, fraction: &str, unit_nanos: u128) -> Result<u128, DurationError> {
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DurationError::OutOfRange)?
    };
    let mut nanos = whole.checked_mul(unit_nanos).ok_or(DurationError::OutOfRange)?;
    // Digits beyond the unit's precision cannot add a whole nanosecond.
    let mut scale = unit_nanos;
    for digit in fraction.bytes().take(20) {
        scale /= 10;
        nanos = nanos
            .checked_add(u128::from(digit - b'0') * scale)
            .ok_or(DurationError::OutOfRange)?;
    }
    Ok(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms() {
        let ok = [
            ("8760h", Duration::from_secs(8760 * 3600)),
            ("1h30m", Duration::from_secs(5400)),
            ("1.5h", Duration::from_secs(5400)),
            (".5s", Duration::from_millis(500)),
            ("5.s", Duration::from_secs(5)),
            ("+90s", Duration::from_secs(90)),
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("1ms2us3ns", Duration::from_nanos(1_002_003)),
            ("1µs", Duration::from_micros(1)),
            ("2562047h47m16.854775807s", Duration::from_nanos(i64::MAX as u64)),
        ];
        for (text, want) in ok {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        let bad = [
            ("", DurationError::Empty),
            ("10", DurationError::MissingUnit),
            ("-1h", DurationError::Negative),
            ("1d", DurationError::UnknownUnit),
            ("h", DurationError::MissingNumber),
            (".h", DurationError::MissingNumber),
            ("1h2", DurationError::MissingUnit),
            ("1..5h", DurationError::MissingUnit),
            ("2562047h47m16.854775808s", DurationError::OutOfRange),
            (
                "99999999999999999999999999999999999999999h",
                DurationError::OutOfRange,
            ),
        ];
        for (text, want) in bad {
            assert_eq!(parse_duration(text), Err(want), "{text}");
        }
    }
}
