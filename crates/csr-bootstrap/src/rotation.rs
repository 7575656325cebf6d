//! Renewing a certificate before it expires, as client-go's certificate manager does for the
//! kubelet (spec §6.2–§6.4): a deadline at a jittered 70–90 % of the lifetime, a fresh key and a
//! `generateName: csr-` request per attempt, exponential backoff, and the old pair kept in use
//! until the new one is stored. Time and the request itself come in through traits ([`Clock`],
//! [`Renew`]) so tests run a year of rotation in milliseconds; the network implementation of
//! [`Renew`] is `renew::KubeRenewer` (feature `kube`).

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use kubetrust_pki::{AltNames, Certificate, KeyAlgorithm, PrivateKey, Subject};

use crate::Error;
use crate::store::{CertStore, Current, Invalidity};

/// Where time comes from: the system's in production, a test's in tests.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
    /// Resolves after `duration` has passed on this clock.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// One renewal request: a certificate chain for `key`, already checked like
/// [`verify_issued`](crate::verify::verify_issued) does.
pub trait Renew: Send + Sync {
    /// Requests and waits for a certificate for `key`; the error is for the log (a failed
    /// attempt is retried with a new key).
    fn renew(&self, key: &PrivateKey) -> impl Future<Output = Result<Vec<Certificate>, Error>> + Send;
}

/// The rotation deadline: NotBefore + (70 % + 20 % × `fraction`) of the lifetime, `fraction`
/// being a uniform draw in [0, 1) (clamped into it).
pub fn rotation_deadline(not_before: SystemTime, not_after: SystemTime, fraction: f64) -> SystemTime {
    let total = not_after.duration_since(not_before).unwrap_or_default();
    let share = 0.7 + 0.2 * fraction.clamp(0.0, 1.0);
    not_before + total.mul_f64(share)
}

/// The share of a backoff step added as jitter at most (client-go's `Jitter: 0.1`).
pub const BACKOFF_JITTER: f64 = 0.1;

/// The wait after failed attempt number `attempt` (0-based), as client-go's certificate manager
/// waits: `wait.Backoff{Duration: 2s, Factor: 2, Jitter: 0.1, Steps: 5}` gives 2, 4, 8, 16 s,
/// each stretched by up to 10 % (`fraction` × [`BACKOFF_JITTER`], `fraction` a uniform draw in
/// [0, 1), clamped into it), so a fleet that failed together does not retry together; after the
/// fifth attempt it polls every 32 s (`wait.PollInfinite(32s)`, without jitter).
pub fn backoff_delay(attempt: u32, fraction: f64) -> Duration {
    if attempt >= 4 {
        return Duration::from_secs(32);
    }
    let step = Duration::from_secs(2_u64 << attempt);
    step.mul_f64(1.0 + BACKOFF_JITTER * fraction.clamp(0.0, 1.0))
}

/// What the current certificate must still carry (client-go's template check, spec §6.2): the
/// CN, every O, every DNS name and IP (extras in the certificate are fine). A certificate that
/// no longer satisfies it — the node was renamed, its addresses changed — is rotated at once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Template {
    /// The subject requested.
    pub subject: Subject,
    /// The SANs requested (none for a client certificate).
    pub alt_names: AltNames,
}

impl Template {
    /// A template of `subject` and `alt_names`.
    pub fn new(subject: Subject, alt_names: AltNames) -> Self {
        Self { subject, alt_names }
    }

    /// Whether `leaf` still carries everything the template asks for.
    pub fn is_satisfied_by(&self, leaf: &Certificate) -> bool {
        let subject = leaf.subject();
        let (dns, ips) = (leaf.dns_names(), leaf.ip_addresses());
        subject.common_name == self.subject.common_name
            && self
                .subject
                .organizations
                .iter()
                .all(|o| subject.organizations.contains(o))
            && self.alt_names.dns_names().iter().all(|d| dns.contains(d))
            && self.alt_names.ip_addresses().iter().all(|ip| ips.contains(ip))
    }
}

/// What the manager did.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RotationEvent {
    /// The next rotation is due at `deadline` (now, when there is no valid certificate).
    Scheduled {
        /// When.
        deadline: SystemTime,
    },
    /// An attempt failed; the next one follows after `retry_in`.
    AttemptFailed {
        /// 1-based attempt number.
        attempt: u32,
        /// Why.
        error: String,
        /// The backoff.
        retry_in: Duration,
    },
    /// The current certificate has expired and no new one is stored yet: the node's client
    /// cannot authenticate (the kubelet exits so a restart re-bootstraps).
    Expired {
        /// The expired certificate's NotAfter, RFC 3339.
        not_after: String,
    },
    /// A new pair is stored and `current` points at it.
    Rotated {
        /// The new timestamped file.
        path: PathBuf,
    },
}

/// Renews one store's certificate (see the module docs).
pub struct Manager<C, R> {
    store: CertStore,
    clock: C,
    renewer: R,
    algorithm: KeyAlgorithm,
    jitter: Box<dyn Fn() -> f64 + Send + Sync>,
    template: Option<Template>,
}

impl<C: Clock, R: Renew> Manager<C, R> {
    /// A manager of `store` renewing through `renewer`, with ECDSA P-256 keys (the kubelet's
    /// default) and a random jitter.
    pub fn new(store: CertStore, clock: C, renewer: R) -> Self {
        Self {
            store,
            clock,
            renewer,
            algorithm: KeyAlgorithm::EcdsaP256,
            jitter: Box::new(random_fraction),
            template: None,
        }
    }

    /// Rotate at once when the current certificate no longer satisfies `template`.
    pub fn with_template(mut self, template: Template) -> Self {
        self.template = Some(template);
        self
    }

    /// Keys of `algorithm` instead.
    pub fn with_key_algorithm(mut self, algorithm: KeyAlgorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// The source of the uniform draws in [0, 1) that jitter the deadline and every backoff
    /// step, instead of the OS's randomness (tests pin the schedule with it).
    pub fn with_jitter(mut self, jitter: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        self.jitter = Box::new(jitter);
        self
    }

    /// When the current certificate is due for rotation: its jittered deadline, or now when
    /// there is no valid one (with the reason) or it no longer satisfies the template.
    pub fn deadline(&self) -> Result<(SystemTime, Option<Invalidity>), Error> {
        let now = self.clock.now();
        Ok(match self.store.current(now)? {
            Current::Valid(pair) => match pair.leaf() {
                Some(leaf) if self.template.as_ref().is_none_or(|t| t.is_satisfied_by(leaf)) => (
                    rotation_deadline(leaf.not_before(), leaf.not_after(), (self.jitter)()),
                    None,
                ),
                _ => (now, None),
            },
            Current::Invalid(why) => (now, Some(why)),
        })
    }

    /// Waits for the deadline, then tries (fresh key each time, backing off) until a new pair
    /// is stored. The old pair stays current meanwhile; once it has expired, an
    /// [`RotationEvent::Expired`] is reported (once).
    pub async fn rotate_once(
        &self,
        events: &mut (dyn FnMut(RotationEvent) + Send),
    ) -> Result<PathBuf, Error> {
        let (deadline, invalid) = self.deadline()?;
        events(RotationEvent::Scheduled { deadline });
        let mut expired_reported = false;
        if let Some(Invalidity::Expired { not_after, .. }) = invalid {
            events(RotationEvent::Expired { not_after });
            expired_reported = true;
        }
        if let Ok(wait) = deadline.duration_since(self.clock.now()) {
            self.clock.sleep(wait).await;
        }
        let mut attempt = 0_u32;
        loop {
            let key = PrivateKey::generate(self.algorithm).map_err(|e| Error::KeyGeneration(Box::new(e)))?;
            let error = match self.renewer.renew(&key).await {
                Ok(chain) => {
                    let path = self.store.update(&chain, &key, self.clock.now())?;
                    events(RotationEvent::Rotated { path: path.clone() });
                    return Ok(path);
                }
                Err(error) => error,
            };
            let retry_in = backoff_delay(attempt, (self.jitter)());
            events(RotationEvent::AttemptFailed {
                attempt: attempt + 1,
                error: error.to_string(),
                retry_in,
            });
            if !expired_reported && let Some(not_after) = self.expired_current()? {
                events(RotationEvent::Expired { not_after });
                expired_reported = true;
            }
            self.clock.sleep(retry_in).await;
            attempt = attempt.saturating_add(1);
        }
    }

    /// The current pair's NotAfter when it has expired.
    fn expired_current(&self) -> Result<Option<String>, Error> {
        Ok(match self.store.current(self.clock.now())? {
            Current::Invalid(Invalidity::Expired { not_after, .. }) => Some(not_after),
            _ => None,
        })
    }

    /// Rotates forever: [`Manager::rotate_once`] in a loop; returns only on a store error.
    pub async fn run(&self, events: &mut (dyn FnMut(RotationEvent) + Send)) -> Error {
        loop {
            if let Err(error) = self.rotate_once(events).await {
                return error;
            }
        }
    }
}

/// A uniform draw in [0, 1) from the OS; 0.5 if the OS has no randomness to give.
fn random_fraction() -> f64 {
    getrandom::u64().map_or(0.5, |r| (r >> 11) as f64 / (1_u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    use kubetrust_pki::{CertProfile, CertificateAuthority, Validity};

    use super::*;
    use crate::csr::node_subject;

    const DAY: Duration = Duration::from_secs(86400);

    /// Virtual time: `sleep` advances it at once and is recorded.
    struct FakeClock {
        now: Mutex<SystemTime>,
        sleeps: Mutex<Vec<Duration>>,
    }

    impl Clock for Arc<FakeClock> {
        fn now(&self) -> SystemTime {
            *self.now.lock().unwrap()
        }
        async fn sleep(&self, duration: Duration) {
            *self.now.lock().unwrap() += duration;
            self.sleeps.lock().unwrap().push(duration);
        }
    }

    /// Issues `lifetime` certificates from the clock's now, failing while `failures` lasts;
    /// records the leaf that was current at each attempt.
    struct FakeRenewer {
        clock: Arc<FakeClock>,
        ca: CertificateAuthority,
        lifetime: Duration,
        failures: Mutex<VecDeque<&'static str>>,
        store: CertStore,
        current_during_attempts: Mutex<Vec<Option<Certificate>>>,
    }

    impl Renew for FakeRenewer {
        async fn renew(&self, key: &PrivateKey) -> Result<Vec<Certificate>, Error> {
            let current = match self.store.current(self.clock.now()).unwrap() {
                Current::Valid(pair) => pair.leaf().cloned(),
                Current::Invalid(_) => None,
            };
            self.current_during_attempts.lock().unwrap().push(current);
            if let Some(why) = self.failures.lock().unwrap().pop_front() {
                return Err(Error::Failed {
                    name: "csr-test".into(),
                    reason: why.into(),
                    message: String::new(),
                });
            }
            let now = self.clock.now();
            let profile = CertProfile::client(node_subject("worker-1"), now).with_validity(Validity {
                not_before: now,
                not_after: now + self.lifetime,
            });
            Ok(vec![self.ca.issue(&profile, key.public_key_der()).unwrap()])
        }
    }

    struct Setup {
        clock: Arc<FakeClock>,
        dir: tempfile::TempDir,
        ca: CertificateAuthority,
        t0: SystemTime,
    }

    fn setup() -> Setup {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let ca = CertificateAuthority::self_signed("kubernetes", ca_key, Validity::kubeadm(t0, 3650 * DAY))
            .unwrap();
        Setup {
            clock: Arc::new(FakeClock {
                now: Mutex::new(t0),
                sleeps: Mutex::new(Vec::new()),
            }),
            dir: tempfile::tempdir().unwrap(),
            ca,
            t0,
        }
    }

    impl Setup {
        fn store(&self) -> CertStore {
            CertStore::kubelet_client(self.dir.path())
        }
        fn seed_current(&self, lifetime: Duration) -> Certificate {
            let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
            let profile = CertProfile::client(node_subject("worker-1"), self.t0).with_validity(Validity {
                not_before: self.t0,
                not_after: self.t0 + lifetime,
            });
            let cert = self.ca.issue(&profile, key.public_key_der()).unwrap();
            self.store()
                .update(std::slice::from_ref(&cert), &key, self.t0)
                .unwrap();
            cert
        }
        fn manager(&self, failures: &[&'static str]) -> Manager<Arc<FakeClock>, FakeRenewer> {
            let renewer = FakeRenewer {
                clock: self.clock.clone(),
                ca: CertificateAuthority::new(
                    vec![self.ca.certificate().clone()],
                    PrivateKey::from_pem(self.ca.key().to_pem().as_bytes()).unwrap(),
                )
                .unwrap(),
                lifetime: 10 * DAY,
                failures: Mutex::new(failures.iter().copied().collect()),
                store: self.store(),
                current_during_attempts: Mutex::new(Vec::new()),
            };
            Manager::new(self.store(), self.clock.clone(), renewer).with_jitter(|| 0.5)
        }
    }

    #[test]
    fn deadline_is_70_to_90_percent_of_the_lifetime() {
        let nb = SystemTime::UNIX_EPOCH;
        let na = nb + Duration::from_secs(1000);
        assert_eq!(rotation_deadline(nb, na, 0.0), nb + Duration::from_secs(700));
        assert_eq!(rotation_deadline(nb, na, 0.5), nb + Duration::from_secs(800));
        assert_eq!(rotation_deadline(nb, na, 1.0), nb + Duration::from_secs(900));
        assert_eq!(rotation_deadline(nb, na, 7.0), nb + Duration::from_secs(900));
        for _ in 0..100 {
            let f = random_fraction();
            assert!((0.0..1.0).contains(&f), "{f}");
        }
    }

    #[test]
    fn backoff_doubles_from_2s_jittered_up_to_10_percent_then_polls_every_32s() {
        let secs = |fraction: f64| -> Vec<f64> {
            (0..8).map(|a| backoff_delay(a, fraction).as_secs_f64()).collect()
        };
        assert_eq!(secs(0.0), [2.0, 4.0, 8.0, 16.0, 32.0, 32.0, 32.0, 32.0]);
        assert_eq!(secs(0.5), [2.1, 4.2, 8.4, 16.8, 32.0, 32.0, 32.0, 32.0]);
        assert_eq!(secs(-3.0), secs(0.0));
        assert_eq!(secs(9.0), [2.2, 4.4, 8.8, 17.6, 32.0, 32.0, 32.0, 32.0]);
    }

    #[test]
    fn the_managers_deadline_is_a_jittered_70_to_90_percent() {
        let s = setup();
        s.seed_current(10 * DAY);
        let draws = Mutex::new(VecDeque::from([0.0, 0.25, 0.999_999]));
        let manager = s
            .manager(&[])
            .with_jitter(move || draws.lock().unwrap().pop_front().unwrap());
        let percent = |deadline: SystemTime| {
            let elapsed = deadline.duration_since(s.t0).unwrap();
            (elapsed.as_secs_f64() / (10 * DAY).as_secs_f64() * 100.0).round()
        };
        let deadlines: Vec<f64> = (0..3).map(|_| percent(manager.deadline().unwrap().0)).collect();
        assert_eq!(deadlines, [70.0, 75.0, 90.0]);
    }

    #[tokio::test]
    async fn rotates_at_the_deadline_backing_off_and_keeping_the_old_pair() {
        let s = setup();
        let old = s.seed_current(10 * DAY);
        let manager = s.manager(&["denied", "timed out", "500"]);
        let mut events = Vec::new();
        let path = manager.rotate_once(&mut |e| events.push(e)).await.unwrap();
        let sleeps = s.clock.sleeps.lock().unwrap().clone();
        let ms = Duration::from_millis;
        assert_eq!(sleeps, [8 * DAY, ms(2100), ms(4200), ms(8400)]);
        assert_eq!(
            events[0],
            RotationEvent::Scheduled {
                deadline: s.t0 + 8 * DAY
            }
        );
        let retries: Vec<Duration> = events
            .iter()
            .filter_map(|e| match e {
                RotationEvent::AttemptFailed { retry_in, .. } => Some(*retry_in),
                _ => None,
            })
            .collect();
        assert_eq!(retries, [ms(2100), ms(4200), ms(8400)]);
        assert_eq!(
            events.last(),
            Some(&RotationEvent::Rotated { path: path.clone() })
        );
        // Every attempt ran while the old certificate was still current.
        let during = manager.renewer.current_during_attempts.lock().unwrap().clone();
        assert_eq!(during, vec![Some(old.clone()); 4]);
        let Current::Valid(pair) = s.store().current(s.clock.now()).unwrap() else {
            panic!()
        };
        assert_ne!(pair.leaf(), Some(&old));
        assert!(!events.iter().any(|e| matches!(e, RotationEvent::Expired { .. })));
    }

    #[tokio::test]
    async fn reports_expiry_once_while_attempts_keep_failing() {
        let s = setup();
        s.seed_current(DAY);
        // 0.8 day until the deadline, then 2.1+4.2+8.4+16.8+32×n s: the cert expires after ~540 tries.
        let failures = vec!["apiserver down"; 700];
        let manager = s.manager(&failures);
        let mut events = Vec::new();
        manager.rotate_once(&mut |e| events.push(e)).await.unwrap();
        let expired = events
            .iter()
            .filter(|e| matches!(e, RotationEvent::Expired { .. }))
            .count();
        assert_eq!(expired, 1);
        let failed = events
            .iter()
            .filter(|e| matches!(e, RotationEvent::AttemptFailed { .. }))
            .count();
        assert_eq!(failed, 700);
    }

    #[test]
    fn a_certificate_off_template_is_due_now() {
        let s = setup();
        s.seed_current(10 * DAY);
        let on = Template::new(node_subject("worker-1"), AltNames::default());
        let manager = s.manager(&[]).with_template(on);
        assert_eq!(manager.deadline().unwrap().0, s.t0 + 8 * DAY);
        let renamed = Template::new(node_subject("worker-2"), AltNames::default());
        let manager = s.manager(&[]).with_template(renamed);
        assert_eq!(manager.deadline().unwrap().0, s.t0);
        let new_ip = Template::new(
            node_subject("worker-1"),
            AltNames::from_parts([], ["10.0.0.9".parse().unwrap()]),
        );
        let manager = s.manager(&[]).with_template(new_ip);
        assert_eq!(manager.deadline().unwrap().0, s.t0);
    }

    #[tokio::test]
    async fn without_a_current_certificate_rotates_now() {
        let s = setup();
        let manager = s.manager(&[]);
        let mut events = Vec::new();
        manager.rotate_once(&mut |e| events.push(e)).await.unwrap();
        assert_eq!(events[0], RotationEvent::Scheduled { deadline: s.t0 });
        assert!(s.clock.sleeps.lock().unwrap().iter().all(|d| d.is_zero()));
        assert!(matches!(
            s.store().current(s.clock.now()).unwrap(),
            Current::Valid(_)
        ));
    }
}
