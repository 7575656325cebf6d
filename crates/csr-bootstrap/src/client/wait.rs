//! Waiting for one CSR to be approved and issued (spec §1.8): list-then-watch on its name,
//! resumed from the last resourceVersion, re-listed on `410 Gone`, polled when watches keep
//! failing. Every object seen is judged by [`crate::outcome`].

use std::time::Duration;

use futures_util::StreamExt as _;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};

use super::Options;
use super::retry::{is_transient, transient};
use crate::Error;
use crate::outcome::{CsrState, EventType, Outcome, observe, on_event};

/// A watch that ends this soon without an event is counted as a failure.
const QUICK_END: Duration = Duration::from_secs(1);

/// Acts on what an object means: the certificate when issued, `None` to keep waiting (noting
/// the state for the timeout error), else the error that ends the wait.
fn settle(outcome: Outcome, name: &str, state: &mut CsrState) -> Result<Option<Vec<u8>>, Error> {
    let name = name.to_owned();
    match outcome {
        Outcome::Waiting(seen) => {
            *state = seen;
            Ok(None)
        }
        Outcome::Issued(certificate) => Ok(Some(certificate)),
        Outcome::Denied { reason, message } => Err(Error::Denied {
            name,
            reason,
            message,
        }),
        Outcome::Failed { reason, message } => Err(Error::Failed {
            name,
            reason,
            message,
        }),
        Outcome::Deleted => Err(Error::Deleted { name }),
        Outcome::Replaced { expected, actual } => Err(Error::UidChanged {
            name,
            expected,
            actual,
        }),
    }
}

fn api_error(action: &'static str, name: &str) -> impl FnOnce(kube::Error) -> Error {
    let name = name.to_owned();
    move |source| Error::Api { action, name, source }
}

fn is_gone(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 410)
}

/// Waits until the CSR `name` (UID `uid`) is approved and issued; returns `status.certificate`.
/// `state` tracks the last state seen (the caller's timeout reports it).
pub(crate) async fn wait_for_certificate(
    api: &Api<CertificateSigningRequest>,
    name: &str,
    uid: &str,
    options: &Options,
    state: &mut CsrState,
) -> Result<Vec<u8>, Error> {
    let selector = format!("metadata.name={name}");
    let mut resume: Option<String> = None;
    let mut failures = 0_u32;
    while failures < options.watch_failures_before_polling {
        let version = match resume.take() {
            Some(version) => version,
            None => {
                let params = ListParams::default().fields(&selector);
                let list = transient(options, || api.list(&params))
                    .await
                    .map_err(api_error("list", name))?;
                let object = list.items.first().ok_or_else(|| Error::Deleted {
                    name: name.to_owned(),
                })?;
                if let Some(certificate) = settle(observe(object, uid), name, state)? {
                    return Ok(certificate);
                }
                list.metadata.resource_version.unwrap_or_default()
            }
        };
        let params = WatchParams::default()
            .fields(&selector)
            .timeout(options.watch_timeout_seconds);
        let started = tokio::time::Instant::now();
        let stream = match api.watch(&params, &version).await {
            Ok(stream) => stream,
            Err(e) if is_gone(&e) => continue,
            Err(e) if is_transient(&e) => {
                tracing::debug!(csr = name, error = %e, "watch failed");
                failures += 1;
                resume = Some(version);
                tokio::time::sleep(options.retry_initial).await;
                continue;
            }
            Err(e) => return Err(api_error("watch", name)(e)),
        };
        let mut stream = std::pin::pin!(stream);
        let (mut last, mut events, mut failed, mut gone) = (version, 0_u32, false, false);
        while let Some(event) = stream.next().await {
            let (kind, object) = match event {
                Ok(WatchEvent::Added(object)) => (EventType::Added, object),
                Ok(WatchEvent::Modified(object)) => (EventType::Modified, object),
                Ok(WatchEvent::Deleted(object)) => (EventType::Deleted, object),
                Ok(WatchEvent::Bookmark(bookmark)) => {
                    events += 1;
                    last = bookmark.metadata.resource_version;
                    continue;
                }
                Ok(WatchEvent::Error(status)) => {
                    tracing::debug!(csr = name, code = status.code, message = %status.message, "watch error event");
                    gone = status.code == 410;
                    failed = !gone;
                    break;
                }
                Err(e) => {
                    tracing::debug!(csr = name, error = %e, "watch stream failed");
                    failed = true;
                    break;
                }
            };
            events += 1;
            if let Some(version) = &object.metadata.resource_version {
                last.clone_from(version);
            }
            if let Some(certificate) = settle(on_event(kind, &object, uid), name, state)? {
                return Ok(certificate);
            }
        }
        if failed || (events == 0 && started.elapsed() < QUICK_END) {
            failures += 1;
            tokio::time::sleep(options.retry_initial).await;
        } else {
            failures = 0;
        }
        resume = (!gone).then_some(last);
    }
    tracing::info!(csr = name, "watches keep failing; polling");
    poll(api, name, uid, options, state).await
}

/// The fallback: `GET` every [`Options::poll_interval`].
async fn poll(
    api: &Api<CertificateSigningRequest>,
    name: &str,
    uid: &str,
    options: &Options,
    state: &mut CsrState,
) -> Result<Vec<u8>, Error> {
    loop {
        let object = match transient(options, || api.get(name)).await {
            Ok(object) => object,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(Error::Deleted {
                    name: name.to_owned(),
                });
            }
            Err(e) => return Err(api_error("get", name)(e)),
        };
        if let Some(certificate) = settle(observe(&object, uid), name, state)? {
            return Ok(certificate);
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}
