//! Retrying what the API server may answer differently a moment later.

use std::future::Future;

use super::Options;

/// Whether `error` is worth retrying: a 5xx or 429 Status, or no response at all.
pub(crate) fn is_transient(error: &kube::Error) -> bool {
    match error {
        kube::Error::Api(status) => status.code >= 500 || status.code == 429,
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => true,
        _ => false,
    }
}

/// Runs `call` until it succeeds or fails with a non-transient error, sleeping between
/// attempts from [`Options::retry_initial`], doubling up to [`Options::retry_max`]. The caller's
/// overall timeout bounds the loop.
pub(crate) async fn transient<T, F, Fut>(options: &Options, mut call: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = options.retry_initial;
    loop {
        match call().await {
            Err(e) if is_transient(&e) => {
                tracing::debug!(error = %e, retry_in = ?delay, "transient API error");
                tokio::time::sleep(delay).await;
                delay = delay.saturating_mul(2).min(options.retry_max);
            }
            other => return other,
        }
    }
}
