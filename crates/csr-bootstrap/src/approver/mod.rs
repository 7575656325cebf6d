//! The approval policy as a controller in a real cluster: the API server is the engine, this
//! module brings the [`policy`](crate::policy).
//!
//! [`run`] watches CertificateSigningRequests with kube-runtime's `Controller` and decides each
//! pending one of signer `kubernetes.io/kubelet-serving` with
//! [`policy::serving`](crate::policy::serving) against the requester's Node (and, when asked,
//! each kubelet client CSR with [`policy::client`](crate::policy::client), whose
//! SubjectAccessReviews it posts). Every decision is written as the CSR's `Approved` or `Denied`
//! condition through `/approval`, carrying the resourceVersion it was made on (a decision about
//! a CSR that changed meanwhile is not written), and reported as an `events.k8s.io` Event.
//! CSRs of other signers are never written. A CSR whose requester's Node does not exist yet
//! waits for the Node.
//!
//! Replicas elect a leader through a Lease ([`LeaseConfig`]); only the leader decides, and a
//! leader that cannot renew stops ([`Error::LeadershipLost`]) so its process restarts as a
//! candidate, as kube-controller-manager does.

mod lease;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};

pub use lease::LeaseConfig;

use crate::Error;
use crate::policy::{Decision, NODE_USER_PREFIX, client, serving};

/// What the approver decides and how its replicas coordinate.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApproverConfig {
    /// Also approve kubelet *client* CSRs (`kubernetes.io/kube-apiserver-client-kubelet`), as
    /// kube-controller-manager's `csrapproving` does; off by default, since it already runs
    /// in most clusters.
    pub client_csrs: bool,
    /// Elect a leader among replicas through this Lease; `None` decides without one (a single
    /// replica).
    pub leader_election: Option<LeaseConfig>,
    /// How often a CSR whose Node does not exist is looked at again (a new Node triggers it
    /// at once).
    pub node_retry: Duration,
    /// `reportingController` of the Events, and their `reportingInstance` when no Lease names one.
    pub controller_name: String,
}

impl Default for ApproverConfig {
    fn default() -> Self {
        Self {
            client_csrs: false,
            leader_election: None,
            node_retry: Duration::from_secs(30),
            controller_name: "kubetrust-approver".into(),
        }
    }
}

impl ApproverConfig {
    /// Also decides kubelet client CSRs.
    pub fn with_client_csrs(mut self, enabled: bool) -> Self {
        self.client_csrs = enabled;
        self
    }

    /// Decides only while holding `lease`.
    pub fn with_leader_election(mut self, lease: LeaseConfig) -> Self {
        self.leader_election = Some(lease);
        self
    }

    /// Sets how often a CSR waiting for its Node is looked at again.
    pub fn with_node_retry(mut self, retry: Duration) -> Self {
        self.node_retry = retry;
        self
    }

    /// Sets the Events' `reportingController`.
    pub fn with_controller_name(mut self, name: impl Into<String>) -> Self {
        self.controller_name = name.into();
        self
    }
}

/// Runs the approver until `shutdown` completes (then it finishes the decisions in flight and,
/// when leading, releases the Lease) or, with leader election, until leadership is lost.
///
/// # Errors
/// [`Error::InvalidLeaseConfig`] for inconsistent Lease timing; [`Error::LeadershipLost`] when
/// the Lease could not be renewed in time or another replica took it.
pub async fn run(
    client: kube::Client,
    config: ApproverConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let shutdown = shutdown.shared();
    let Some(lease) = config.leader_election.clone() else {
        decide_until(client, config, shutdown).await;
        return Ok(());
    };
    lease.check()?;
    let mut elector = lease::LeaderElector::new(client.clone(), lease);
    tokio::select! {
        () = shutdown.clone() => return Ok(()),
        () = elector.acquire() => {}
    }
    let result = tokio::select! {
        lost = elector.hold() => Err(lost),
        () = decide_until(client, config, shutdown) => Ok(()),
    };
    if result.is_ok() {
        elector.release().await;
    }
    result
}

/// What every reconcile needs.
struct Context {
    client: kube::Client,
    config: ApproverConfig,
    /// `reportingInstance` of the Events: the Lease identity, else the controller name.
    instance: String,
}

/// The controller: CSRs (only the serving signer's, unless client CSRs are decided too), and
/// Nodes, each of which triggers the pending CSRs its kubelet asked for.
async fn decide_until(
    client: kube::Client,
    config: ApproverConfig,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let csrs = Api::<CertificateSigningRequest>::all(client.clone());
    let selector = if config.client_csrs {
        watcher::Config::default()
    } else {
        watcher::Config::default().fields(&format!("spec.signerName={}", serving::SIGNER))
    };
    let instance = config
        .leader_election
        .as_ref()
        .map_or_else(|| config.controller_name.clone(), |lease| lease.identity.clone());
    let context = Arc::new(Context {
        client: client.clone(),
        config,
        instance,
    });
    let controller = Controller::new(csrs, selector);
    let pending = controller.store();
    controller
        .watches(
            Api::<Node>::all(client),
            watcher::Config::default(),
            move |node| {
                let requester = format!("{NODE_USER_PREFIX}{}", node.name_any());
                pending
                    .state()
                    .into_iter()
                    .filter(|csr| {
                        csr.spec.username.as_deref() == Some(requester.as_str()) && !is_decided(csr)
                    })
                    .map(|csr| ObjectRef::from_obj(&*csr))
                    .collect::<Vec<_>>()
            },
        )
        .graceful_shutdown_on(shutdown)
        .run(reconcile, retry_later, context)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "approver: reconcile");
            }
        })
        .await;
}

/// A failed decision is tried again after a pause.
fn retry_later(_csr: Arc<CertificateSigningRequest>, error: &Error, _context: Arc<Context>) -> Action {
    tracing::warn!(%error, "approver: will retry");
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile(csr: Arc<CertificateSigningRequest>, context: Arc<Context>) -> Result<Action, Error> {
    if is_decided(&csr) {
        return Ok(Action::await_change());
    }
    let decision = match csr.spec.signer_name.as_str() {
        serving::SIGNER => match requester_node(&context.client, &csr).await? {
            Some(node) => serving::evaluate(&csr, &node)?,
            None => return Ok(Action::requeue(context.config.node_retry)),
        },
        client::SIGNER if context.config.client_csrs => client_decision(&context.client, &csr).await?,
        _ => return Ok(Action::await_change()),
    };
    let Some(condition) = decision.condition() else {
        return Ok(Action::await_change());
    };
    let name = csr.name_any();
    let mut decided = (*csr).clone();
    decided
        .status
        .get_or_insert_with(Default::default)
        .conditions
        .get_or_insert_with(Vec::new)
        .push(condition.clone());
    let csrs = Api::<CertificateSigningRequest>::all(context.client.clone());
    match csrs
        .replace_subresource("approval", &name, &PostParams::default(), &decided)
        .await
    {
        Ok(_) => {}
        // The CSR changed since this decision was made: the watch brings the new version.
        Err(kube::Error::Api(status)) if status.code == 409 => return Ok(Action::await_change()),
        Err(source) => {
            return Err(Error::Api {
                action: "update approval of",
                name,
                source,
            });
        }
    }
    let approved = matches!(decision, Decision::Approve(_));
    tracing::info!(
        csr = %name,
        decision = if approved { "approved" } else { "denied" },
        reason = condition.reason.as_deref().unwrap_or_default(),
        message = condition.message.as_deref().unwrap_or_default(),
        "approver: decided"
    );
    let event = decision_event(&context, &csr, approved, condition.reason, condition.message);
    let events = Api::<Event>::namespaced(context.client.clone(), EVENT_NAMESPACE);
    if let Err(error) = events.create(&PostParams::default(), &event).await {
        tracing::warn!(%error, csr = %name, "approver: cannot record the decision as an Event");
    }
    Ok(Action::await_change())
}

/// Where Events about cluster-scoped objects go, as kube-controller-manager puts them.
const EVENT_NAMESPACE: &str = "default";

/// An `events.k8s.io/v1` Event about the decision on `csr`. Its name is generated by the server
/// from the CSR's (a kubelet's CSR name, with capitals and `_`, is no valid Event name itself).
fn decision_event(
    context: &Context,
    csr: &CertificateSigningRequest,
    approved: bool,
    reason: Option<String>,
    note: Option<String>,
) -> Event {
    let prefix: String = csr
        .name_any()
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .take(200)
        .collect();
    Event {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}.", prefix.trim_matches('-'))),
            namespace: Some(EVENT_NAMESPACE.into()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(Timestamp::now())),
        type_: Some(if approved { "Normal" } else { "Warning" }.into()),
        reason,
        note,
        action: Some(if approved { "Approve" } else { "Deny" }.into()),
        regarding: Some(csr.object_ref(&())),
        reporting_controller: Some(context.config.controller_name.clone()),
        reporting_instance: Some(context.instance.clone()),
        ..Event::default()
    }
}

/// Approved or Denied (by anyone): nothing left to decide.
fn is_decided(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .and_then(|status| status.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| matches!(c.type_.as_str(), "Approved" | "Denied") && c.status == "True")
        })
}

/// The Node a `system:node:<name>` requester names; a stand-in without addresses for any other
/// requester (the policy denies it for who asked); `None` while the Node does not exist.
async fn requester_node(
    client: &kube::Client,
    csr: &CertificateSigningRequest,
) -> Result<Option<Node>, Error> {
    let requester = csr.spec.username.as_deref().unwrap_or_default();
    let Some(name) = requester
        .strip_prefix(NODE_USER_PREFIX)
        .filter(|name| !name.is_empty())
    else {
        return Ok(Some(Node::default()));
    };
    Api::<Node>::all(client.clone())
        .get_opt(name)
        .await
        .map_err(|source| Error::Api {
            action: "read the Node of",
            name: csr.name_any(),
            source,
        })
}

/// The client policy's questions, each answered by a SubjectAccessReview, until it decides.
async fn client_decision(client: &kube::Client, csr: &CertificateSigningRequest) -> Result<Decision, Error> {
    let reviews = Api::<SubjectAccessReview>::all(client.clone());
    let mut decision = client::evaluate(csr)?;
    while let Decision::AskAccessReview(review) = &decision {
        let answer = reviews
            .create(&PostParams::default(), &review.to_subject_access_review())
            .await
            .map_err(|source| Error::Api {
                action: "review the requester of",
                name: csr.name_any(),
                source,
            })?;
        let allowed = answer.status.is_some_and(|status| status.allowed);
        decision = client::decide(csr, review, allowed)?;
    }
    Ok(decision)
}
