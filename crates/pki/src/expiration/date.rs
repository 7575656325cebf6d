//! UTC calendar formatting for the two date layouts kubeadm uses (no time-zone database needed:
//! certificate times are always shown in UTC).

use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds of Go's zero `time.Time` (0001-01-01T00:00:00Z) relative to the Unix epoch.
pub(crate) const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

/// A UTC civil time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: i64,
    minute: i64,
    second: i64,
}

/// Whole seconds since the Unix epoch, floored (sub-second parts are dropped toward the past,
/// as Go's layouts without fractional seconds do). Saturates far outside any certificate range.
pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            let carry = i64::from(d.subsec_nanos() > 0);
            secs.saturating_neg().saturating_sub(carry)
        }
    }
}

/// True when `t` is Go's zero time, which `metav1.Time` serialises as JSON `null`.
pub(crate) fn is_go_zero_time(t: SystemTime) -> bool {
    match UNIX_EPOCH.duration_since(t) {
        Ok(d) => d.subsec_nanos() == 0 && i64::try_from(d.as_secs()) == Ok(-GO_ZERO_TIME_SECS),
        Err(_) => false,
    }
}

impl Civil {
    /// Converts Unix seconds to a proleptic-Gregorian UTC date and time.
    pub(crate) fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let tod = secs.rem_euclid(86_400);
        // Days-to-civil on 400-year eras shifted to start on 0000-03-01.
        // |days| <= i64::MAX / 86400, so no step below can overflow.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097); // [0, 146096]
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
        let mp = (5 * doy + 2) / 153; // [0, 11], March-based
        let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
        let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
            hour: tod / 3_600,
            minute: tod % 3_600 / 60,
            second: tod % 60,
        }
    }

    /// The year as Go's `2006` layout element writes it: at least four digits, `-` for BCE.
    fn year_text(&self) -> String {
        if self.year < 0 {
            format!("-{:04}", self.year.unsigned_abs())
        } else {
            format!("{:04}", self.year)
        }
    }

    /// Go layout `Jan 02, 2006 15:04 MST` for a UTC time (e.g. `Nov 25, 2027 18:01 UTC`).
    pub(crate) fn kubeadm_expires(&self) -> String {
        let month = self
            .month
            .checked_sub(1)
            .and_then(|i| MONTHS.get(usize::try_from(i).ok()?))
            .copied()
            .unwrap_or("???");
        format!(
            "{month} {:02}, {} {:02}:{:02} UTC",
            self.day,
            self.year_text(),
            self.hour,
            self.minute
        )
    }

    /// Go layout `time.RFC3339` for a UTC time without fractional seconds
    /// (e.g. `2027-11-25T18:01:44Z`), as `metav1.Time` serialises.
    pub(crate) fn rfc3339(&self) -> String {
        format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year_text(),
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_instants() {
        assert_eq!(Civil::from_unix(0).rfc3339(), "1970-01-01T00:00:00Z");
        assert_eq!(Civil::from_unix(1_827_165_704).rfc3339(), "2027-11-25T18:01:44Z");
        assert_eq!(
            Civil::from_unix(1_827_165_704).kubeadm_expires(),
            "Nov 25, 2027 18:01 UTC"
        );
        assert_eq!(
            Civil::from_unix(2_110_989_704).kubeadm_expires(),
            "Nov 22, 2036 18:01 UTC"
        );
        assert_eq!(Civil::from_unix(951_782_400).rfc3339(), "2000-02-29T00:00:00Z");
        assert_eq!(Civil::from_unix(-1).rfc3339(), "1969-12-31T23:59:59Z");
        assert_eq!(
            Civil::from_unix(GO_ZERO_TIME_SECS).rfc3339(),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(
            Civil::from_unix(253_402_300_799).kubeadm_expires(),
            "Dec 31, 9999 23:59 UTC"
        );
        assert_eq!(
            Civil::from_unix(GO_ZERO_TIME_SECS - 86_400).rfc3339(),
            "0000-12-31T00:00:00Z"
        );
        assert_eq!(
            Civil::from_unix(GO_ZERO_TIME_SECS - 367 * 86_400).rfc3339(),
            "-0001-12-31T00:00:00Z"
        );
    }

    #[test]
    fn extremes_do_not_panic() {
        let _ = Civil::from_unix(i64::MAX).rfc3339();
        let _ = Civil::from_unix(i64::MIN).kubeadm_expires();
    }

    #[test]
    fn unix_seconds_floors_before_epoch() {
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(1)), -1);
        assert_eq!(unix_seconds(UNIX_EPOCH + Duration::from_millis(1_999)), 1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), -5);
    }

    #[test]
    fn go_zero_time() {
        let zero = UNIX_EPOCH - Duration::from_secs(62_135_596_800);
        assert!(is_go_zero_time(zero));
        assert!(!is_go_zero_time(zero + Duration::from_nanos(1)));
        assert!(!is_go_zero_time(UNIX_EPOCH));
    }
}
