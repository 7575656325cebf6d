//! The node's CSR client (feature `kube`): create the `CertificateSigningRequest`, prove a
//! pre-existing one is ours, wait for it to be approved and issued, and check what was issued
//! before the caller writes anything (spec §1.7, §1.8).
//!
//! The wait is a list-then-watch of the one object (`fieldSelector=metadata.name=<name>`),
//! resumed from the last resourceVersion when a watch ends, re-listed on `410 Gone`, and
//! degraded to polling `GET` when watches keep failing. Transient API errors (5xx, 429,
//! connection errors) are retried with backoff inside the overall timeout.

mod request;
mod retry;
mod wait;

use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Api;
use kube::api::PostParams;
use kubetrust_pki::Certificate;

pub use request::Request;

use crate::Error;
use crate::outcome::{CsrState, check_ours};

/// How [`request_certificate`] waits and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The whole request, create to issued certificate (the kubelet's bootstrap: 1 h).
    pub timeout: Duration,
    /// The first delay before retrying a transient error; doubled per retry.
    pub retry_initial: Duration,
    /// The longest delay between retries.
    pub retry_max: Duration,
    /// Consecutive failed watches after which the wait polls with `GET` instead.
    pub watch_failures_before_polling: u32,
    /// The period of that polling.
    pub poll_interval: Duration,
    /// `timeoutSeconds` asked of each watch (the server ends it then; the wait resumes).
    pub watch_timeout_seconds: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3600),
            retry_initial: Duration::from_millis(500),
            retry_max: Duration::from_secs(16),
            watch_failures_before_polling: 3,
            poll_interval: Duration::from_secs(2),
            watch_timeout_seconds: 290,
        }
    }
}

impl Options {
    /// Sets [`Options::timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`Options::retry_initial`] and [`Options::retry_max`].
    pub fn with_retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.retry_initial = initial;
        self.retry_max = max;
        self
    }

    /// Sets [`Options::watch_failures_before_polling`].
    pub fn with_watch_failures_before_polling(mut self, failures: u32) -> Self {
        self.watch_failures_before_polling = failures;
        self
    }

    /// Sets [`Options::poll_interval`].
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Sets [`Options::watch_timeout_seconds`] (kube accepts at most 294).
    pub fn with_watch_timeout_seconds(mut self, seconds: u32) -> Self {
        self.watch_timeout_seconds = seconds;
        self
    }
}

/// An issued certificate that passed the [`verify`](crate::verify) check.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Issued {
    /// The CSR object's name.
    pub name: String,
    /// The CSR object's UID.
    pub uid: String,
    /// The certificate, leaf first, then intermediates.
    pub chain: Vec<Certificate>,
}

/// Creates (or adopts) the CSR of `request`, waits for its certificate and checks it: the
/// certificate comes back only when an `Approved` condition and `status.certificate` are both
/// present and the certificate matches the key, chains to the CA, has the requested subject and
/// usage, and is valid now.
pub async fn request_certificate(
    client: &kube::Client,
    request: &Request<'_>,
    options: &Options,
) -> Result<Issued, Error> {
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    let started = tokio::time::Instant::now();
    let mut state = CsrState::NotCreated;
    let mut name = request.display_name();
    let outcome = tokio::time::timeout(options.timeout, async {
        let (csr_name, uid) = create_or_adopt(&api, request, options).await?;
        name.clone_from(&csr_name);
        state = CsrState::Pending;
        wait::wait_for_certificate(&api, &csr_name, &uid, options, &mut state)
            .await
            .map(|pem| (csr_name, uid, pem))
    })
    .await;
    let (name, uid, pem) = match outcome {
        Ok(result) => result?,
        Err(_) => {
            return Err(Error::Timeout {
                name,
                waited: started.elapsed(),
                state,
            });
        }
    };
    let chain = crate::verify::verify_issued(&pem, &request.expected(), std::time::SystemTime::now())
        .map_err(|source| Error::Refused {
            name: name.clone(),
            source: Box::new(source),
        })?;
    Ok(Issued { name, uid, chain })
}

/// POSTs the CSR; on `409 AlreadyExists` for a fixed name, GETs it and proves it is ours.
async fn create_or_adopt(
    api: &Api<CertificateSigningRequest>,
    request: &Request<'_>,
    options: &Options,
) -> Result<(String, String), Error> {
    let wanted = request.display_name();
    let params = PostParams::default();
    let created = retry::transient(options, || api.create(&params, request.csr())).await;
    let object = match created {
        Ok(object) => object,
        Err(kube::Error::Api(status)) if status.code == 409 && status.reason == "AlreadyExists" => {
            let name = request.csr().metadata.name.clone().unwrap_or_default();
            let existing = retry::transient(options, || api.get(&name))
                .await
                .map_err(|source| Error::Api {
                    action: "get",
                    name: name.clone(),
                    source,
                })?;
            check_ours(
                &existing,
                request.csr(),
                &request.expected(),
                std::time::SystemTime::now(),
            )
            .map_err(|reason| Error::NotOurs { name, reason })?;
            tracing::info!(csr = %wanted, "csr for this node already exists, reusing");
            existing
        }
        Err(source) => return Err(Error::Create { name: wanted, source }),
    };
    let name = object.metadata.name.ok_or_else(|| Error::IncompleteObject {
        name: wanted.clone(),
        field: "metadata.name",
    })?;
    let uid = object.metadata.uid.ok_or(Error::IncompleteObject {
        name: wanted,
        field: "metadata.uid",
    })?;
    Ok((name, uid))
}
