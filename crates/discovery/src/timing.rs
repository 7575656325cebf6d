//! How long discovery waits and how often it asks: kubeadm's timing, shared by token and file
//! discovery.

use std::time::Duration;

/// kubeadm's discovery timeout (`timeouts.discovery`), applied to each polling phase.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// kubeadm's `DiscoveryRetryInterval`.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// kubeadm's per-request timeout for the cluster-info GET.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Polling faster than this would hammer the API server.
const MIN_RETRY_INTERVAL: Duration = Duration::from_millis(1);

/// The timeouts and retry interval of a discovery; `Default` is kubeadm's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    timeout: Duration,
    retry_interval: Duration,
    request_timeout: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            retry_interval: DEFAULT_RETRY_INTERVAL,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl Timing {
    /// How long each polling phase may take (default 5 min).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The pause between attempts (default 5 s).
    pub fn with_retry_interval(mut self, interval: Duration) -> Self {
        self.retry_interval = interval;
        self
    }

    /// The timeout of each request (default 10 s).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The timeout of each polling phase.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The pause actually used: the configured one, clamped to the timeout (as kubeadm does)
    /// and to at least 1 ms.
    pub fn retry_interval(&self) -> Duration {
        self.retry_interval.min(self.timeout).max(MIN_RETRY_INTERVAL)
    }

    /// The timeout of each request.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Sets the request timeout as kube's connect, read and write timeouts.
    pub(crate) fn apply(&self, config: &mut kube::Config) {
        config.connect_timeout = Some(self.request_timeout);
        config.read_timeout = Some(self.request_timeout);
        config.write_timeout = Some(self.request_timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_clamping() {
        let timing = Timing::default();
        assert_eq!(
            (
                timing.timeout(),
                timing.retry_interval(),
                timing.request_timeout()
            ),
            (DEFAULT_TIMEOUT, DEFAULT_RETRY_INTERVAL, DEFAULT_REQUEST_TIMEOUT)
        );
        let short = timing.with_timeout(Duration::from_secs(2));
        assert_eq!(
            short.retry_interval(),
            Duration::from_secs(2),
            "clamped to the timeout"
        );
        assert_eq!(
            short.with_retry_interval(Duration::ZERO).retry_interval(),
            MIN_RETRY_INTERVAL
        );
    }
}
