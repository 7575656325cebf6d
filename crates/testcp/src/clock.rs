//! The control plane's time, which tests move forward instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// Wall-clock time plus an offset the tests advance; shared by the store (timestamps) and the
/// controllers (token expiry, certificate validity, garbage collection).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_millis: Arc<AtomicU64>,
}

impl Clock {
    /// Now, as the control plane sees it.
    pub fn now(&self) -> SystemTime {
        SystemTime::now() + Duration::from_millis(self.offset_millis.load(Ordering::Relaxed))
    }

    /// Moves the control plane's time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let millis = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_millis.fetch_add(millis, Ordering::Relaxed);
    }
}
