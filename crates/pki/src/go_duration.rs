//! Go duration strings (`8760h`, `168h`, `1h30m`, `90s`): the form of kubeadm's
//! `certificateValidityPeriod` and `--validity-period`.

use std::time::Duration;

use crate::Error;

/// Parses a non-negative Go duration with units `h`, `m`, `s`, `ms` (fractions allowed,
/// e.g. `1.5h`). Negative values and bare numbers other than `0` are errors.
pub fn parse_duration(s: &str) -> Result<Duration, Error> {
    let invalid = |reason: &str| Error::InvalidDuration {
        value: s.to_owned(),
        reason: reason.to_owned(),
    };
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid("empty"));
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number
            .parse()
            .map_err(|_| invalid("expected a number before each unit"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let seconds = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "" => return Err(invalid("missing unit (h, m, s or ms)")),
            _ => return Err(invalid("unknown unit; use h, m, s or ms")),
        };
        total += value * seconds;
        rest = next;
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid("out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_forms() {
        assert_eq!(parse_duration("8760h").unwrap(), Duration::from_secs(8760 * 3600));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "10", "-1h", "1d", "h", "1h2", "1..5h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
