//! Certificate times in the two layouts kubeadm prints, in UTC. jiff does the calendar; this
//! module only floors to the second and names the layouts.

use std::time::{SystemTime, UNIX_EPOCH};

use jiff::SignedDuration;
use jiff::civil::DateTime;

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds.
const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

/// Whole seconds since the Unix epoch, floored (sub-second parts are dropped toward the past,
/// as Go's layouts without fractional seconds do). Saturates far outside any certificate range.
fn unix_seconds(t: SystemTime) -> i64 {
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

/// `t` as a UTC civil time, floored to the second. Times outside years -9999..=9999 (which
/// X.509 cannot express) are clamped to those ends.
fn utc(t: SystemTime) -> DateTime {
    let secs = unix_seconds(t);
    DateTime::constant(1970, 1, 1, 0, 0, 0, 0)
        .checked_add(SignedDuration::from_secs(secs))
        .unwrap_or(if secs < 0 { DateTime::MIN } else { DateTime::MAX })
}

/// Go layout `Jan 02, 2006 15:04 MST` for UTC (e.g. `Nov 25, 2027 18:01 UTC`).
pub(crate) fn kubeadm_expires(t: SystemTime) -> String {
    utc(t).strftime("%b %d, %Y %H:%M UTC").to_string()
}

/// Go layout `time.RFC3339` for UTC without fractional seconds (e.g. `2027-11-25T18:01:44Z`),
/// as `metav1.Time` serialises.
pub fn rfc3339(t: SystemTime) -> String {
    utc(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: i64) -> SystemTime {
        let magnitude = Duration::from_secs(secs.unsigned_abs());
        if secs < 0 {
            UNIX_EPOCH - magnitude
        } else {
            UNIX_EPOCH + magnitude
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(1_827_165_704)), "2027-11-25T18:01:44Z");
        assert_eq!(kubeadm_expires(at(1_827_165_704)), "Nov 25, 2027 18:01 UTC");
        assert_eq!(kubeadm_expires(at(2_110_989_704)), "Nov 22, 2036 18:01 UTC");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(-1)), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(at(GO_ZERO_TIME_SECS)), "0001-01-01T00:00:00Z");
        assert_eq!(kubeadm_expires(at(GO_ZERO_TIME_SECS)), "Jan 01, 0001 00:00 UTC");
        // X.509's "no well-defined expiration" (RFC 5280 §4.1.2.5).
        assert_eq!(kubeadm_expires(at(253_402_300_799)), "Dec 31, 9999 23:59 UTC");
        assert_eq!(rfc3339(at(253_402_300_799)), "9999-12-31T23:59:59Z");
        assert_eq!(rfc3339(at(GO_ZERO_TIME_SECS - 86_400)), "0000-12-31T00:00:00Z");
    }

    #[test]
    fn sub_seconds_floor_toward_the_past() {
        assert_eq!(
            rfc3339(UNIX_EPOCH - Duration::from_millis(1)),
            "1969-12-31T23:59:59Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(1_999)),
            "1970-01-01T00:00:01Z"
        );
    }

    #[test]
    fn extremes_clamp_without_panic() {
        assert_eq!(rfc3339(at(1 << 50)), "9999-12-31T23:59:59Z");
        assert!(kubeadm_expires(at(-(1 << 50))).starts_with("Jan 01, -9999"));
    }

    #[test]
    fn go_zero_time() {
        let zero = at(GO_ZERO_TIME_SECS);
        assert!(is_go_zero_time(zero));
        assert!(!is_go_zero_time(zero + Duration::from_nanos(1)));
        assert!(!is_go_zero_time(UNIX_EPOCH));
    }
}
