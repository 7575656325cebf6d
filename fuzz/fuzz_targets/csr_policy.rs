//! The CSR policies of `kubetrust_csr_bootstrap::policy` (client approver, serving approver,
//! signer, cleaner) on arbitrary CSRs, requesters and Nodes never panic, and approve or issue
//! only when their own preconditions hold, as this target re-reads them from the CSR object:
//!
//! - client approver: never denies; approves only after an access review it asked was allowed
//!   (a forged review never approves), for its signer, a pending CSR, a verified request with
//!   O = `system:nodes`, no DNS/IP SANs, CN `system:node:*`, an allowed usage set, and for
//!   `selfnodeclient` a requester equal to the CN;
//! - serving approver: approves only its signer's pending CSRs from `system:node:<node>` in
//!   `system:nodes`, with CN = requester, O = `system:nodes`, at least one SAN, every DNS SAN a
//!   DNS address (Hostname, InternalDNS, ExternalDNS) and every IP SAN an IP address (Hostname,
//!   InternalIP, ExternalIP) of that Node, an allowed usage set, and no CA or odd key;
//! - signer: issues only approved, not denied/failed/issued CSRs of its three signers, a
//!   certificate for the request's key and subject, CA:FALSE, signed by the CA, within its life;
//! - cleaner: a pending expiry only without conditions.
//!
//! Input: either JSON (starting with `{`): a `CertificateSigningRequest`, optionally a NUL and a
//! `Node` (else `worker-1` without addresses), both access reviews allowed; or (`arbitrary`) a
//! structured CSR whose `spec.request` is a real PEM request (key type, subject, SANs chosen by
//! the input; or one of `fixtures/csr_policy/*.pem`, made by openssl with an email SAN, a URI
//! SAN, CA:TRUE, a P-521 key; or raw bytes), plus signer, usages, requester, groups, status,
//! `expirationSeconds`, the Node's name and addresses, the access-review answers and the clock.

#![no_main]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use k8s_openapi::ByteString;
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestSpec,
    CertificateSigningRequestStatus,
};
use k8s_openapi::api::core::v1::{Node, NodeAddress, NodeStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kubetrust_csr_bootstrap::policy::signer::{self, Outcome, SignerConfig};
use kubetrust_csr_bootstrap::policy::{Decision, Subresource, cleaner, client, serving};
use kubetrust_pki::{
    AltNames, Certificate, CertificateAuthority, CertificateRequest, KeyAlgorithm, PrivateKey, Subject,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const NODES: &str = "system:nodes";
const NODE_PREFIX: &str = "system:node:";
/// Every usage string Kubernetes knows, and one it does not.
const USAGES: [&str; 22] = [
    "signing",
    "digital signature",
    "content commitment",
    "key encipherment",
    "key agreement",
    "data encipherment",
    "cert sign",
    "crl sign",
    "encipher only",
    "decipher only",
    "any",
    "server auth",
    "client auth",
    "code signing",
    "email protection",
    "s/mime",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "timestamping",
    "ocsp signing",
    "bogus",
];
/// Requests openssl made with what kubetrust-pki cannot encode (see the module docs).
const FIXTURES: [(&[u8], Special); 4] = [
    (
        include_bytes!("../fixtures/csr_policy/email.pem"),
        Special::ForeignSan,
    ),
    (
        include_bytes!("../fixtures/csr_policy/uri.pem"),
        Special::ForeignSan,
    ),
    (include_bytes!("../fixtures/csr_policy/ca.pem"), Special::Ca),
    (include_bytes!("../fixtures/csr_policy/p521.pem"), Special::OddKey),
];

/// What this target knows about a request beyond what the pki parser shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    /// Whatever JSON brought: any key type.
    Unknown,
    None,
    Rsa,
    ForeignSan,
    Ca,
    OddKey,
}

/// The Node, the access-review answers (selfnodeclient, nodeclient), the clock and the signer's
/// longest duration.
#[derive(Arbitrary, Debug)]
struct Env {
    node_name: Name,
    addresses: Vec<(AddressType, Address)>,
    allowed: [bool; 2],
    seconds_from_start: u32,
    max_duration_hours: Option<u16>,
}

#[derive(Arbitrary, Debug)]
struct Built {
    request: Request,
    signer: Signer,
    usages: Option<Vec<u8>>,
    username: Option<User>,
    groups: Option<Vec<Group>>,
    status: Status,
    expiration_seconds: Option<i32>,
}

#[derive(Arbitrary, Debug)]
enum Request {
    Made {
        key: u8,
        cn: User,
        orgs: Vec<Group>,
        dns: Vec<Host>,
        ips: Vec<Ip>,
    },
    Fixture(u8),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Name {
    Worker1,
    Worker2,
    Empty,
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum User {
    Node(Name),
    Bootstrap,
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Group {
    Nodes,
    Bootstrappers,
    Authenticated,
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Host {
    /// The value of the Node's address with this index (modulo), if any.
    NodeAddress(u8),
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Ip {
    NodeAddress(u8),
    V4([u8; 4]),
    V6([u8; 16]),
}

#[derive(Arbitrary, Debug)]
enum Signer {
    Client,
    Serving,
    ApiServerClient,
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum AddressType {
    Hostname,
    InternalIp,
    ExternalIp,
    InternalDns,
    ExternalDns,
    Any(String),
}

#[derive(Arbitrary, Debug)]
enum Address {
    Name(Name),
    V4([u8; 4]),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Status {
    Pending,
    Conditions(Vec<(u8, bool, Option<u32>)>),
    Issued(Vec<u8>),
}

struct Fixture {
    start: SystemTime,
    ca: CertificateAuthority,
    /// RSA-2048, P-256, P-384, Ed25519.
    keys: Vec<(PrivateKey, Special)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let start = SystemTime::now();
        let key = |algorithm, special| (PrivateKey::generate(algorithm).expect("a key"), special);
        Fixture {
            start,
            ca: CertificateAuthority::generate("kubernetes", KeyAlgorithm::EcdsaP256, start).expect("a CA"),
            keys: vec![
                key(KeyAlgorithm::Rsa2048, Special::Rsa),
                key(KeyAlgorithm::EcdsaP256, Special::None),
                key(KeyAlgorithm::EcdsaP384, Special::None),
                key(KeyAlgorithm::Ed25519, Special::OddKey),
            ],
        }
    })
}

fn name(name: &Name) -> String {
    match name {
        Name::Worker1 => "worker-1".into(),
        Name::Worker2 => "worker-2".into(),
        Name::Empty => String::new(),
        Name::Any(text) => text.clone(),
    }
}

fn user(user: &User) -> String {
    match user {
        User::Node(node) => format!("{NODE_PREFIX}{}", name(node)),
        User::Bootstrap => "system:bootstrap:abcdef".into(),
        User::Any(text) => text.clone(),
    }
}

fn group(group: &Group) -> String {
    match group {
        Group::Nodes => NODES.into(),
        Group::Bootstrappers => "system:bootstrappers:kubeadm:default-node-token".into(),
        Group::Authenticated => "system:authenticated".into(),
        Group::Any(text) => text.clone(),
    }
}

fn node(env: &Env) -> Node {
    let addresses = env
        .addresses
        .iter()
        .map(|(type_, address)| NodeAddress {
            type_: match type_ {
                AddressType::Hostname => "Hostname".into(),
                AddressType::InternalIp => "InternalIP".into(),
                AddressType::ExternalIp => "ExternalIP".into(),
                AddressType::InternalDns => "InternalDNS".into(),
                AddressType::ExternalDns => "ExternalDNS".into(),
                AddressType::Any(text) => text.clone(),
            },
            address: match address {
                Address::Name(n) => name(n),
                Address::V4(octets) => Ipv4Addr::from(*octets).to_string(),
                Address::Text(text) => text.clone(),
            },
        })
        .collect();
    Node {
        metadata: ObjectMeta {
            name: Some(name(&env.node_name)),
            ..Default::default()
        },
        status: Some(NodeStatus {
            addresses: Some(addresses),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The PEM request, and what is known about it beyond what parses.
fn request(request: &Request, node: &Node) -> Option<(Vec<u8>, Special)> {
    let fixture = fixture();
    let addresses: Vec<String> = node_addresses(node).into_iter().map(|(_, a)| a).collect();
    let pick = |i: u8| addresses.get(usize::from(i) % addresses.len().max(1)).cloned();
    match request {
        Request::Made {
            key,
            cn,
            orgs,
            dns,
            ips,
        } => {
            let (key, special) = fixture.keys.get(usize::from(*key) % fixture.keys.len())?;
            let subject = orgs
                .iter()
                .fold(Subject::new(user(cn)), |s, o| s.with_organization(group(o)));
            let dns = dns.iter().filter_map(|host| match host {
                Host::NodeAddress(i) => pick(*i),
                Host::Any(text) => Some(text.clone()),
            });
            let ips = ips.iter().filter_map(|ip| match ip {
                Ip::NodeAddress(i) => pick(*i)?.parse().ok(),
                Ip::V4(octets) => Some(IpAddr::V4(Ipv4Addr::from(*octets))),
                Ip::V6(octets) => Some(IpAddr::V6(Ipv6Addr::from(*octets))),
            });
            let sans = AltNames::from_parts(dns, ips);
            let request = CertificateRequest::new(&subject, &sans, key).ok()?;
            Some((request.to_pem().into_bytes(), *special))
        }
        Request::Fixture(i) => {
            let (pem, special) = FIXTURES.get(usize::from(*i) % FIXTURES.len())?;
            Some((pem.to_vec(), *special))
        }
        Request::Raw(bytes) => Some((bytes.clone(), Special::Unknown)),
    }
}

fn built_csr(built: &Built, node: &Node, start: SystemTime) -> Option<(CertificateSigningRequest, Special)> {
    let (pem, special) = request(&built.request, node)?;
    let at = |seconds: Option<u32>| -> Option<Time> {
        let then = start.checked_sub(Duration::from_secs(u64::from(seconds?)))?;
        Some(Time(then.try_into().ok()?))
    };
    let status = match &built.status {
        Status::Pending => None,
        Status::Conditions(conditions) => Some(CertificateSigningRequestStatus {
            conditions: Some(
                conditions
                    .iter()
                    .map(|(type_, true_, age)| CertificateSigningRequestCondition {
                        type_: ["Approved", "Denied", "Failed", "Other"][usize::from(type_ % 4)].into(),
                        status: if *true_ { "True" } else { "False" }.into(),
                        last_update_time: at(*age),
                        ..Default::default()
                    })
                    .collect(),
            ),
            certificate: None,
        }),
        Status::Issued(bytes) => Some(CertificateSigningRequestStatus {
            conditions: Some(vec![CertificateSigningRequestCondition {
                type_: "Approved".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            certificate: Some(ByteString(bytes.clone())),
        }),
    };
    let csr = CertificateSigningRequest {
        metadata: ObjectMeta {
            name: Some("csr-fuzz".into()),
            creation_timestamp: at(Some(90_000)),
            ..Default::default()
        },
        spec: CertificateSigningRequestSpec {
            request: ByteString(pem),
            signer_name: match &built.signer {
                Signer::Client => client::SIGNER.into(),
                Signer::Serving => serving::SIGNER.into(),
                Signer::ApiServerClient => signer::KUBE_APISERVER_CLIENT.into(),
                Signer::Any(text) => text.clone(),
            },
            usages: built.usages.as_ref().map(|u| {
                u.iter()
                    .map(|i| USAGES[usize::from(*i) % USAGES.len()].to_owned())
                    .collect()
            }),
            username: built.username.as_ref().map(user),
            groups: built.groups.as_ref().map(|g| g.iter().map(group).collect()),
            expiration_seconds: built.expiration_seconds,
            ..Default::default()
        },
        status,
    };
    Some((csr, special))
}

/// The Node's addresses as (is DNS, value), read as the module docs say.
fn node_addresses(node: &Node) -> Vec<(bool, String)> {
    let listed = node
        .status
        .as_ref()
        .and_then(|s| s.addresses.clone())
        .unwrap_or_default();
    listed
        .into_iter()
        .filter_map(|a| {
            let is_ip = a.address.parse::<IpAddr>().is_ok();
            let dns_type = matches!(a.type_.as_str(), "Hostname" | "InternalDNS" | "ExternalDNS");
            let ip_type = matches!(a.type_.as_str(), "Hostname" | "InternalIP" | "ExternalIP");
            ((is_ip && ip_type) || (!is_ip && dns_type)).then_some((!is_ip, a.address))
        })
        .collect()
}

/// The CSR as this target reads it, independently of the policies.
struct Facts {
    pending: bool,
    username: String,
    usages: BTreeSet<String>,
    request: Option<CertificateRequest>,
}

impl Facts {
    fn of(csr: &CertificateSigningRequest) -> Self {
        let status = csr.status.as_ref();
        let issued = status
            .and_then(|s| s.certificate.as_ref())
            .is_some_and(|c| !c.0.is_empty());
        let decided = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .any(|c| c.type_ == "Approved" || c.type_ == "Denied");
        let request = kubetrust_kubeconfig::pem::parse(&csr.spec.request.0)
            .ok()
            .and_then(|blocks| blocks.into_iter().next())
            .filter(|block| block.label == "CERTIFICATE REQUEST")
            .and_then(|block| CertificateRequest::from_der(&block.der).ok());
        Self {
            pending: !issued && !decided,
            username: csr.spec.username.clone().unwrap_or_default(),
            usages: csr.spec.usages.iter().flatten().cloned().collect(),
            request,
        }
    }

    fn usages_are(&self, allowed: &[&[&str]]) -> bool {
        allowed
            .iter()
            .any(|set| set.iter().map(|u| u.to_string()).collect::<BTreeSet<_>>() == self.usages)
    }
}

fn check_client(csr: &CertificateSigningRequest, allowed: [bool; 2]) {
    let Ok(mut decision) = client::evaluate(csr) else {
        return;
    };
    for _ in 0..3 {
        let review = match decision {
            Decision::AskAccessReview(review) => review,
            Decision::Ignore(_) => return,
            other => panic!("client::evaluate/decide: {other:?} without an allowed review"),
        };
        let _ = review.to_subject_access_review();
        let mut forged = review.clone();
        forged.user.push('x');
        assert!(
            !matches!(client::decide(csr, &forged, true), Ok(Decision::Approve(_))),
            "a review the policy did not ask approved"
        );
        let answer = match review.subresource {
            Subresource::SelfNodeClient => allowed[0],
            _ => allowed[1],
        };
        decision = client::decide(csr, &review, answer).expect("an asked review is decided");
        if let Decision::Approve(_) = decision {
            assert!(answer, "approved after a refused review");
            let facts = Facts::of(csr);
            let request = facts.request.as_ref().expect("approved: the request verifies");
            assert!(
                facts.pending && csr.spec.signer_name == client::SIGNER,
                "approved a CSR not pending for the client signer"
            );
            assert_eq!(request.subject().organizations, [NODES]);
            assert!(request.alt_names().is_empty(), "approved a client CSR with SANs");
            assert!(request.subject().common_name.starts_with(NODE_PREFIX));
            assert!(
                facts.usages_are(&client::ALLOWED_USAGES),
                "approved usages {:?}",
                facts.usages
            );
            if review.subresource == Subresource::SelfNodeClient {
                assert_eq!(facts.username, request.subject().common_name);
            }
            assert_eq!(decision.condition().expect("a condition").type_, "Approved");
            return;
        }
    }
    panic!("more access reviews than the two subresources");
}

fn check_serving(csr: &CertificateSigningRequest, node: &Node, special: Special) {
    let Ok(decision) = serving::evaluate(csr, node) else {
        return;
    };
    let facts = Facts::of(csr);
    match &decision {
        Decision::Approve(_) => {
            let request = facts.request.as_ref().expect("approved: the request verifies");
            let node_name = node.metadata.name.clone().unwrap_or_default();
            assert!(facts.pending && csr.spec.signer_name == serving::SIGNER);
            assert!(!node_name.is_empty() && facts.username == format!("{NODE_PREFIX}{node_name}"));
            assert!(
                csr.spec.groups.iter().flatten().any(|g| g == NODES),
                "approved outside system:nodes"
            );
            assert_eq!(request.subject().common_name, facts.username);
            assert_eq!(request.subject().organizations, [NODES]);
            assert!(!request.alt_names().is_empty(), "approved without a SAN");
            let addresses = node_addresses(node);
            for dns in request.alt_names().dns_names() {
                assert!(
                    addresses.contains(&(true, dns.clone())),
                    "DNS SAN {dns:?} is not the Node's"
                );
            }
            for ip in request.alt_names().ip_addresses() {
                assert!(
                    addresses
                        .iter()
                        .any(|(is_dns, a)| !is_dns && a.parse::<IpAddr>().ok() == Some(*ip)),
                    "IP SAN {ip} is not the Node's"
                );
            }
            let allowed: &[&[&str]] = match special {
                Special::Rsa | Special::Unknown => &serving::RSA_USAGES,
                _ => &serving::EC_USAGES,
            };
            assert!(facts.usages_are(allowed), "approved usages {:?}", facts.usages);
            assert!(
                matches!(special, Special::None | Special::Rsa | Special::Unknown),
                "approved a {special:?} request"
            );
        }
        Decision::Deny(reasons) => {
            assert!(!reasons.is_empty(), "a denial without a reason");
            assert_eq!(decision.condition().expect("a condition").type_, "Denied");
        }
        Decision::Ignore(_) => {
            assert!(
                !facts.pending || csr.spec.signer_name != serving::SIGNER,
                "ignored a pending serving CSR"
            );
        }
        other => panic!("serving::evaluate: {other:?}"),
    }
}

fn check_signer(csr: &CertificateSigningRequest, env: &Env, now: SystemTime) {
    let ca = &fixture().ca;
    let config = match env.max_duration_hours {
        Some(hours) => {
            SignerConfig::default().with_max_duration(Duration::from_secs(u64::from(hours) * 3600))
        }
        None => SignerConfig::default(),
    };
    let Ok(outcome) = signer::sign(csr, ca, &config, now) else {
        return;
    };
    let Outcome::Issue(pem) = outcome else {
        return;
    };
    let conditions = csr
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let has = |type_: &str| conditions.iter().any(|c| c.type_ == type_);
    assert!(has("Approved") && !has("Denied"), "issued without approval");
    assert!(
        !conditions
            .iter()
            .any(|c| c.type_ == "Failed" && c.status != "False")
    );
    assert!(signer::SIGNERS.contains(&csr.spec.signer_name.as_str()));
    let facts = Facts::of(csr);
    let request = facts.request.as_ref().expect("issued: the request verifies");
    let cert = Certificate::from_pem(pem.as_bytes()).expect("the issued PEM is a certificate");
    assert_eq!(
        cert.public_key_der(),
        request.public_key_der(),
        "issued for another key"
    );
    assert_eq!(cert.subject().common_name, request.subject().common_name);
    assert!(!cert.is_ca() && cert.is_signed_by(ca.certificate()));
    assert!(cert.not_before() <= now && cert.not_after() <= ca.certificate().not_after());
    let life = cert
        .not_after()
        .duration_since(cert.not_before())
        .unwrap_or_default();
    assert!(life <= config.max_duration.max(Duration::from_secs(600)) + Duration::from_secs(300));
    if csr.spec.signer_name == client::SIGNER {
        assert!(cert.dns_names().is_empty() && cert.ip_addresses().is_empty());
    }
}

fn check(csr: &CertificateSigningRequest, node: &Node, env: &Env, special: Special) {
    let now = fixture().start + Duration::from_secs(u64::from(env.seconds_from_start));
    check_client(csr, env.allowed);
    check_serving(csr, node, special);
    check_signer(csr, env, now);
    if cleaner::expiry(csr, now) == Some(cleaner::Expiry::Pending) {
        assert!(
            csr.status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_none_or(Vec::is_empty)
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let start = fixture().start;
    if data.first() == Some(&b'{') {
        let mut parts = data.splitn(2, |b| *b == 0);
        let Ok(csr) = serde_json::from_slice::<CertificateSigningRequest>(parts.next().unwrap_or_default())
        else {
            return;
        };
        let env = Env {
            node_name: Name::Worker1,
            addresses: Vec::new(),
            allowed: [true, true],
            seconds_from_start: 0,
            max_duration_hours: None,
        };
        let node = parts
            .next()
            .and_then(|json| serde_json::from_slice::<Node>(json).ok())
            .unwrap_or_else(|| node(&env));
        check(&csr, &node, &env, Special::Unknown);
    } else if let Ok((built, env)) = <(Built, Env)>::arbitrary_take_rest(Unstructured::new(data)) {
        let node = node(&env);
        if let Some((csr, special)) = built_csr(&built, &node, start) {
            check(&csr, &node, &env, special);
        }
    }
});
