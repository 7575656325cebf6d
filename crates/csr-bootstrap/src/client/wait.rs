//! Waiting for one CSR to be approved and issued (spec §1.8): list-then-watch on its name,
//! resumed from the last resourceVersion, re-listed on `410 Gone`, polled when watches keep
//! failing. Every object seen is judged by [`judge`].

use std::fmt;
use std::time::Duration;

use futures_util::StreamExt as _;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Api;
use kube::api::{ListParams, WatchEvent, WatchParams};

use super::retry::{is_transient, transient};
use super::{Error, Options};

/// How far a CSR had got, for the timeout error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CsrState {
    /// The create never succeeded.
    NotCreated,
    /// Created, not approved.
    Pending,
    /// Approved, no certificate yet.
    Approved,
}

impl fmt::Display for CsrState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotCreated => "not created",
            Self::Pending => "pending approval",
            Self::Approved => "approved, waiting to be issued",
        })
    }
}

/// A watch that ends this soon without an event is counted as a failure.
const QUICK_END: Duration = Duration::from_secs(1);

/// Judges one observed object: the certificate when it is approved and issued, else the state
/// to keep waiting in; an error for a changed UID, a `Denied` or a `Failed` condition.
fn judge(csr: &CertificateSigningRequest, name: &str, uid: &str) -> Result<Result<Vec<u8>, CsrState>, Error> {
    let actual = csr.metadata.uid.as_deref().unwrap_or_default();
    if actual != uid {
        return Err(Error::UidChanged {
            name: name.to_owned(),
            expected: uid.to_owned(),
            actual: actual.to_owned(),
        });
    }
    let status = csr.status.as_ref();
    let mut approved = false;
    for condition in status.and_then(|s| s.conditions.as_ref()).into_iter().flatten() {
        if condition.status != "True" {
            continue;
        }
        let reason = || condition.reason.clone().unwrap_or_default();
        let message = || condition.message.clone().unwrap_or_default();
        match condition.type_.as_str() {
            "Denied" => {
                return Err(Error::Denied {
                    name: name.to_owned(),
                    reason: reason(),
                    message: message(),
                });
            }
            "Failed" => {
                return Err(Error::Failed {
                    name: name.to_owned(),
                    reason: reason(),
                    message: message(),
                });
            }
            "Approved" => approved = true,
            _ => {}
        }
    }
    let certificate = status
        .and_then(|s| s.certificate.as_ref())
        .filter(|c| !c.0.is_empty());
    Ok(match (approved, certificate) {
        (true, Some(certificate)) => Ok(certificate.0.clone()),
        (true, None) => Err(CsrState::Approved),
        (false, _) => Err(CsrState::Pending),
    })
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
                match judge(object, name, uid)? {
                    Ok(certificate) => return Ok(certificate),
                    Err(seen) => *state = seen,
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
            match event {
                Ok(WatchEvent::Added(object) | WatchEvent::Modified(object)) => {
                    events += 1;
                    if let Some(version) = &object.metadata.resource_version {
                        last.clone_from(version);
                    }
                    match judge(&object, name, uid)? {
                        Ok(certificate) => return Ok(certificate),
                        Err(seen) => *state = seen,
                    }
                }
                Ok(WatchEvent::Deleted(_)) => {
                    return Err(Error::Deleted {
                        name: name.to_owned(),
                    });
                }
                Ok(WatchEvent::Bookmark(bookmark)) => {
                    events += 1;
                    last = bookmark.metadata.resource_version;
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
        match judge(&object, name, uid)? {
            Ok(certificate) => return Ok(certificate),
            Err(seen) => *state = seen,
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}
