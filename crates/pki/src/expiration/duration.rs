//! Residual-time formatting: the two apimachinery duration algorithms kubeadm uses for the
//! RESIDUAL TIME column, and the Go-compatible residual computation (`NotAfter - now`).

use std::time::SystemTime;

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
const YEAR: i64 = 365 * DAY;

/// Largest residual kubeadm can report, in seconds.
///
/// kubeadm computes `NotAfter.Sub(now)` as a Go `time.Duration` (int64 nanoseconds), which
/// saturates at about ±292 years, and then truncates it to whole seconds.
pub(crate) const GO_MAX_DURATION_SECS: i64 = i64::MAX / 1_000_000_000;

/// `not_after - now` in whole seconds, truncated toward zero and saturated like Go's
/// `Time.Sub` (so a `NotAfter` of year 9999 reports 9223372036 s, shown as `292y`).
pub(crate) fn residual_seconds(not_after: SystemTime, now: SystemTime) -> i64 {
    let clamp = |secs: u64| i64::try_from(secs).unwrap_or(i64::MAX).min(GO_MAX_DURATION_SECS);
    match not_after.duration_since(now) {
        Ok(ahead) => clamp(ahead.as_secs()),
        Err(behind) => -clamp(behind.duration().as_secs()),
    }
}

/// Formats a residual time the way kubeadm v1.31+ does (apimachinery `HumanDuration`).
///
/// `seconds` is the residual in whole seconds (already truncated). Values below −1 s are
/// `<invalid>`; −1 s and 0 s are `0s`. Then: `Ns` below 120 s, `NmMs` below 10 min, `Nm`
/// below 3 h, `NhMm` below 8 h, `Nh` below 48 h, `NdHh` below 8 days, `Nd` below 730 days,
/// `NyDd` below 8 years (365-day years), `Ny` after that. Zero sub-units are left out
/// (`5m`, not `5m0s`).
///
/// ```
/// use kubetrust_pki::expiration::human_duration;
/// assert_eq!(human_duration(119), "119s");
/// assert_eq!(human_duration(5 * 3600 + 30 * 60), "5h30m");
/// assert_eq!(human_duration(8759 * 3600 + 55 * 60), "364d");
/// assert_eq!(human_duration(-2), "<invalid>");
/// ```
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 2 * MINUTE {
        return format!("{seconds}s");
    }
    let minutes = seconds / MINUTE;
    if minutes < 10 {
        return with_rest(minutes, "m", seconds % MINUTE, "s");
    }
    if minutes < 3 * 60 {
        return format!("{minutes}m");
    }
    let hours = seconds / HOUR;
    if hours < 8 {
        return with_rest(hours, "h", minutes % 60, "m");
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    let days = hours / 24;
    if hours < 8 * 24 {
        return with_rest(days, "d", hours % 24, "h");
    }
    if hours < 2 * 365 * 24 {
        return format!("{days}d");
    }
    let years = days / 365;
    if hours < 8 * 365 * 24 {
        return with_rest(years, "y", days % 365, "d");
    }
    format!("{years}y")
}

/// Formats a residual time the way kubeadm up to v1.30 does (apimachinery
/// `ShortHumanDuration`).
///
/// Values below −1 s are `<invalid>`; −1 s and 0 s are `0s`. Then a single unit, floored:
/// `Ns` below 1 min, `Nm` below 1 h, `Nh` below 24 h, `Nd` below 365 days, else `Ny`
/// (365-day years).
///
/// ```
/// use kubetrust_pki::expiration::short_human_duration;
/// assert_eq!(short_human_duration(119), "1m");
/// assert_eq!(short_human_duration(729 * 86400), "1y");
/// ```
pub fn short_human_duration(seconds: i64) -> String {
    if seconds < -1 {
        "<invalid>".to_owned()
    } else if seconds < 0 {
        "0s".to_owned()
    } else if seconds < MINUTE {
        format!("{seconds}s")
    } else if seconds < HOUR {
        format!("{}m", seconds / MINUTE)
    } else if seconds < DAY {
        format!("{}h", seconds / HOUR)
    } else if seconds < YEAR {
        format!("{}d", seconds / DAY)
    } else {
        format!("{}y", seconds / YEAR)
    }
}

/// `N<unit>` or `N<unit>R<rest_unit>` when the remainder `rest` is not zero.
fn with_rest(n: i64, unit: &str, rest: i64, rest_unit: &str) -> String {
    if rest == 0 {
        format!("{n}{unit}")
    } else {
        format!("{n}{unit}{rest}{rest_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn residual_truncates_toward_zero() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000) + Duration::from_millis(700);
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
        // 119.3 s ahead -> 119
        assert_eq!(residual_seconds(at(1_000_120), now), 119);
        // 0.7 s behind -> 0 (Go truncates toward zero)
        assert_eq!(residual_seconds(at(1_000_000), now), 0);
        // 1.7 s behind -> -1
        assert_eq!(residual_seconds(at(999_999), now), -1);
        // 2.7 s behind -> -2
        assert_eq!(residual_seconds(at(999_998), now), -2);
    }

    #[test]
    fn residual_saturates_like_go_duration() {
        let now = UNIX_EPOCH;
        let far = UNIX_EPOCH + Duration::from_secs(253_402_300_799); // 9999-12-31T23:59:59Z
        assert_eq!(residual_seconds(far, now), 9_223_372_036);
        assert_eq!(residual_seconds(now, far), -9_223_372_036);
        assert_eq!(human_duration(residual_seconds(far, now)), "292y");
        assert_eq!(short_human_duration(residual_seconds(far, now)), "292y");
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        assert_eq!(human_duration(i64::MIN), "<invalid>");
        assert_eq!(short_human_duration(i64::MIN), "<invalid>");
        assert_eq!(human_duration(i64::MAX), "292471208677y");
        assert_eq!(short_human_duration(i64::MAX), "292471208677y");
    }
}
