//! Injected faults for reliability tests, set through the control plane's handle while it
//! serves: dropped connections, 500 and 429 answers, watches cut short, a signing delay.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::status::ApiError;

/// What the faults layer does with one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Serve it.
    Serve,
    /// Close the connection without an answer.
    Drop,
    /// Answer with this error.
    Fail(ApiError),
}

#[derive(Debug, Default)]
struct State {
    drop_next: u32,
    error_next: u32,
    error: Option<ApiError>,
    path_prefix: Option<String>,
    close_watches_after: Option<u64>,
    signing_delay: Duration,
}

/// The fault switches. Cheap to clone; all clones share them.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Closes the connection of the next `n` requests (matching the path prefix, if set)
    /// without answering.
    pub fn drop_next(&self, n: u32) {
        self.lock().drop_next = n;
    }

    /// Answers the next `n` requests with 500 `InternalError`.
    pub fn fail_next(&self, n: u32) {
        let mut state = self.lock();
        state.error_next = n;
        state.error = Some(ApiError::internal("injected fault"));
    }

    /// Answers the next `n` requests with 429 `TooManyRequests` and `Retry-After: retry_after`.
    pub fn throttle_next(&self, n: u32, retry_after: u32) {
        let mut state = self.lock();
        state.error_next = n;
        state.error = Some(ApiError::too_many_requests(retry_after));
    }

    /// Limits the drop/500/429 faults to paths starting with `prefix` (`None`: every path).
    pub fn only_paths(&self, prefix: Option<&str>) {
        self.lock().path_prefix = prefix.map(str::to_owned);
    }

    /// Ends every watch stream (cleanly) after it has sent `events` events (`None`: never).
    pub fn close_watches_after(&self, events: Option<u64>) {
        self.lock().close_watches_after = events;
    }

    /// How many events a watch may send before it is closed.
    pub fn watch_event_limit(&self) -> Option<u64> {
        self.lock().close_watches_after
    }

    /// Makes the CSR signer wait `delay` before it signs (read by the signer controller).
    pub fn set_signing_delay(&self, delay: Duration) {
        self.lock().signing_delay = delay;
    }

    /// The delay the CSR signer waits before it signs.
    pub fn signing_delay(&self) -> Duration {
        self.lock().signing_delay
    }

    /// Clears every fault.
    pub fn clear(&self) {
        *self.lock() = State::default();
    }

    /// What to do with a request for `path`; counts it against the pending faults.
    pub fn verdict(&self, path: &str) -> Verdict {
        let mut state = self.lock();
        if state
            .path_prefix
            .as_deref()
            .is_some_and(|prefix| !path.starts_with(prefix))
        {
            return Verdict::Serve;
        }
        if state.drop_next > 0 {
            state.drop_next -= 1;
            return Verdict::Drop;
        }
        if state.error_next > 0 {
            state.error_next -= 1;
            if let Some(error) = state.error.clone() {
                return Verdict::Fail(error);
            }
        }
        Verdict::Serve
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_count_down_and_respect_the_prefix() {
        let faults = Faults::default();
        faults.only_paths(Some("/apis/"));
        faults.drop_next(1);
        assert_eq!(faults.verdict("/version"), Verdict::Serve);
        assert_eq!(faults.verdict("/apis/x"), Verdict::Drop);
        assert_eq!(faults.verdict("/apis/x"), Verdict::Serve);
        faults.throttle_next(1, 3);
        assert!(
            matches!(faults.verdict("/apis/x"), Verdict::Fail(e) if e.code == 429 && e.retry_after == Some(3))
        );
        assert_eq!(faults.verdict("/apis/x"), Verdict::Serve);
    }

    #[test]
    fn the_signing_delay_is_shared_by_clones_until_cleared() {
        let faults = Faults::default();
        let signer_view = faults.clone();
        faults.set_signing_delay(Duration::from_millis(250));
        faults.close_watches_after(Some(3));
        assert_eq!(signer_view.signing_delay(), Duration::from_millis(250));
        assert_eq!(signer_view.watch_event_limit(), Some(3));
        faults.clear();
        assert_eq!(signer_view.signing_delay(), Duration::ZERO);
        assert_eq!(signer_view.watch_event_limit(), None);
    }
}
