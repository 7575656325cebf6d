//! Leader election through a `coordination.k8s.io/v1` Lease, with client-go's semantics: the
//! holder renews every retry period; a candidate takes the Lease over only when the record it
//! observed has not changed for a whole lease duration, timed on its own clock (so clock skew
//! between replicas does not matter); every write carries the resourceVersion it read, so of
//! two candidates racing for the same record only one wins.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use tokio::time::Instant;

use crate::Error;

/// Where and how replicas elect their leader.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseConfig {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// This replica's identity (`spec.holderIdentity`), unique among the replicas.
    pub identity: String,
    /// How long a candidate waits, after the record last changed, before it takes over (15 s).
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leading (10 s).
    pub renew_deadline: Duration,
    /// How often the leader renews and candidates retry (2 s).
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// client-go's defaults (those of kube-controller-manager) for the Lease `namespace`/`name`,
    /// held as `identity`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>, identity: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// Sets the lease duration, renew deadline and retry period together (they must satisfy
    /// `retry_period < renew_deadline < lease_duration`, as client-go requires; checked by
    /// [`run`](super::run)).
    pub fn with_timing(
        mut self,
        lease_duration: Duration,
        renew_deadline: Duration,
        retry_period: Duration,
    ) -> Self {
        self.lease_duration = lease_duration;
        self.renew_deadline = renew_deadline;
        self.retry_period = retry_period;
        self
    }

    pub(super) fn check(&self) -> Result<(), Error> {
        let ordered = Duration::ZERO < self.retry_period
            && self.retry_period < self.renew_deadline
            && self.renew_deadline < self.lease_duration
            && self.lease_duration.as_secs() >= 1;
        if !ordered || self.identity.is_empty() {
            return Err(Error::InvalidLeaseConfig {
                reason: "needs an identity and 0 < retry period < renew deadline < lease duration (at least 1 s)",
            });
        }
        Ok(())
    }
}

/// What a candidate knows about the Lease.
pub(super) struct LeaderElector {
    api: Api<Lease>,
    config: LeaseConfig,
    /// The last record seen and when (on this replica's clock) it was first seen.
    observed: Option<(LeaseSpec, Instant)>,
}

impl LeaderElector {
    pub(super) fn new(client: kube::Client, config: LeaseConfig) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
            observed: None,
        }
    }

    /// Returns once this replica holds the Lease, retrying every retry period (API errors
    /// included: a candidate outlives an unreachable API server).
    pub(super) async fn acquire(&mut self) {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(true) => {
                    tracing::info!(lease = %self.config.name, identity = %self.config.identity, "successfully acquired lease");
                    return;
                }
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "error retrieving resource lock"),
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// Renews every retry period while leading; returns the error that ends leadership: another
    /// holder, or no successful renewal for the renew deadline.
    pub(super) async fn hold(&mut self) -> Error {
        let mut last_renewal = Instant::now();
        loop {
            tokio::time::sleep(self.config.retry_period).await;
            match self.try_acquire_or_renew().await {
                Ok(true) => last_renewal = Instant::now(),
                Ok(false) => return self.lost("another replica holds it"),
                Err(error) => tracing::warn!(%error, "failed to renew lease"),
            }
            if last_renewal.elapsed() >= self.config.renew_deadline {
                return self.lost("no renewal within the renew deadline");
            }
        }
    }

    /// Gives the Lease up (on a clean shutdown), so another replica need not wait it out.
    pub(super) async fn release(&mut self) {
        let Ok(Some(lease)) = self.api.get_opt(&self.config.name).await else {
            return;
        };
        let spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        let released = Lease {
            spec: Some(LeaseSpec {
                holder_identity: None,
                lease_duration_seconds: Some(1),
                renew_time: Some(MicroTime(Timestamp::now())),
                ..spec
            }),
            ..lease
        };
        if let Err(error) = self
            .api
            .replace(&self.config.name, &PostParams::default(), &released)
            .await
        {
            tracing::warn!(%error, "failed to release lease");
        }
    }

    fn lost(&self, why: &'static str) -> Error {
        Error::LeadershipLost {
            lease: format!("{}/{}", self.config.namespace, self.config.name),
            identity: self.config.identity.clone(),
            why,
        }
    }

    /// One round of client-go's `tryAcquireOrRenew`: `Ok(true)` when this replica holds the
    /// Lease afterwards, `Ok(false)` when another does or won a race.
    async fn try_acquire_or_renew(&mut self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let Some(current) = self.api.get_opt(&self.config.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.name.clone()),
                    namespace: Some(self.config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.record(now, None)),
            };
            return self.write(self.api.create(&PostParams::default(), &lease).await);
        };
        let record = current.spec.clone().unwrap_or_default();
        if self.observed.as_ref().is_none_or(|(seen, _)| *seen != record) {
            self.observed = Some((record.clone(), Instant::now()));
        }
        let ours = record.holder_identity.as_deref() == Some(self.config.identity.as_str());
        let held = record
            .holder_identity
            .as_deref()
            .is_some_and(|holder| !holder.is_empty());
        if held && !ours && !self.expired(&record) {
            return Ok(false);
        }
        let lease = Lease {
            spec: Some(self.record(now, ours.then_some(&record))),
            ..current
        };
        self.write(
            self.api
                .replace(&self.config.name, &PostParams::default(), &lease)
                .await,
        )
    }

    /// Whether `record` has been unchanged (on our clock) for its whole lease duration.
    fn expired(&self, record: &LeaseSpec) -> bool {
        let duration = record
            .lease_duration_seconds
            .and_then(|seconds| u64::try_from(seconds).ok())
            .map_or(self.config.lease_duration, Duration::from_secs);
        self.observed
            .as_ref()
            .is_some_and(|(_, seen_at)| seen_at.elapsed() >= duration)
    }

    /// The record to write: renewed when `ours` is the record we hold, taken over otherwise.
    fn record(&self, now: Timestamp, ours: Option<&LeaseSpec>) -> LeaseSpec {
        let previous = self.observed.as_ref().map(|(record, _)| record);
        let transitions = previous.and_then(|record| record.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: i32::try_from(self.config.lease_duration.as_secs()).ok(),
            acquire_time: ours.map_or(Some(MicroTime(now)), |record| record.acquire_time.clone()),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(match ours {
                Some(_) => transitions,
                None if previous.is_some() => transitions.saturating_add(1),
                None => 0,
            }),
            ..LeaseSpec::default()
        }
    }

    /// Remembers a successful write; a conflict (another candidate wrote first) is a lost race.
    fn write(&mut self, result: Result<Lease, kube::Error>) -> Result<bool, kube::Error> {
        match result {
            Ok(lease) => {
                self.observed = Some((lease.spec.unwrap_or_default(), Instant::now()));
                Ok(true)
            }
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(false),
            Err(error) => Err(error),
        }
    }
}
