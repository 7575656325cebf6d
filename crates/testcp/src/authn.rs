//! Who a request comes from, as kube-apiserver's authenticator chain decides: a client
//! certificate signed by the client CA, else a bootstrap-token bearer token, else anonymous.

use std::time::SystemTime;

use k8s_openapi::api::core::v1::Secret;
use kubetrust_bootstrap_token::{BootstrapToken, SECRET_NAMESPACE};
use kubetrust_pki::{Certificate, ExtKeyUsage, verify_chain};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::identity::{AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP, UserInfo};
use crate::status::ApiError;
use crate::store::{ObjectKey, Resource, Store};

/// The extra key under which the apiserver records which credential authenticated a user.
pub const CREDENTIAL_ID_KEY: &str = "authentication.kubernetes.io/credential-id";

/// What a request presented.
pub struct Credentials<'a> {
    /// The value after `Authorization: Bearer `, if any.
    pub bearer_token: Option<&'a str>,
    /// The TLS client certificate chain (DER, leaf first); empty without one.
    pub client_chain: &'a [Vec<u8>],
}

/// Authenticates a request as the apiserver does. A client certificate is tried first: it must
/// chain to `client_ca` (the rest of the chain serving as intermediates), be valid at `now`
/// and allow client authentication; its CN is the user, its O values the groups, and the extra
/// `authentication.kubernetes.io/credential-id` is `X509SHA256=<hex of the leaf>`. A certificate
/// that fails leaves the bearer token to decide. A bearer token must be a bootstrap token that
/// `kubetrust_bootstrap_token::authenticate` accepts against its Secret — no other token
/// authenticator is configured. Authenticated users are in `system:authenticated`. Nothing
/// presented: `system:anonymous`. Anything presented and not accepted: 401.
pub fn authenticate(
    store: &Store,
    client_ca: &[Certificate],
    credentials: &Credentials<'_>,
    now: SystemTime,
) -> Result<UserInfo, ApiError> {
    let certificate_user = match credentials.client_chain.split_first() {
        Some((leaf, intermediates)) => certificate_user(client_ca, leaf, intermediates, now),
        None => Ok(None),
    };
    match (certificate_user, credentials.bearer_token) {
        (Ok(Some(user)), _) => Ok(user),
        (_, Some(token)) => token_user(store, token, now).ok_or_else(ApiError::unauthorized),
        (Ok(None), None) => Ok(UserInfo::anonymous()),
        (Err(err), None) => Err(err),
    }
}

/// The user of a client certificate; `None` for a valid certificate without a CN (the
/// apiserver's x509 authenticator then has no opinion).
fn certificate_user(
    client_ca: &[Certificate],
    leaf: &[u8],
    intermediates: &[Vec<u8>],
    now: SystemTime,
) -> Result<Option<UserInfo>, ApiError> {
    let rejected = |why: &str| {
        tracing::debug!(why, "client certificate rejected");
        ApiError::unauthorized()
    };
    let cert = Certificate::from_der(leaf).map_err(|_| rejected("leaf is not X.509"))?;
    let intermediates: Vec<Certificate> = intermediates
        .iter()
        .filter_map(|der| Certificate::from_der(der).ok())
        .collect();
    if !verify_chain(&cert, &intermediates, client_ca) {
        return Err(rejected("not signed by the client CA"));
    }
    if !cert.is_valid_at(now) {
        return Err(rejected("outside its validity period"));
    }
    let usages = cert.ext_key_usages();
    if !usages.is_empty() && !usages.contains(&ExtKeyUsage::ClientAuth) {
        return Err(rejected("no client authentication usage"));
    }
    let subject = cert.subject();
    if subject.common_name.is_empty() {
        return Ok(None);
    }
    let fingerprint: String = Sha256::digest(leaf).iter().map(|b| format!("{b:02x}")).collect();
    let mut user = UserInfo {
        name: subject.common_name,
        groups: subject.organizations,
        ..UserInfo::default()
    };
    user.extra.insert(
        CREDENTIAL_ID_KEY.into(),
        vec![format!("X509SHA256={fingerprint}")],
    );
    Ok(Some(authenticated(user)))
}

/// The user of a bootstrap token, or `None` when it is not one or is not accepted.
fn token_user(store: &Store, presented: &str, now: SystemTime) -> Option<UserInfo> {
    let token: BootstrapToken = presented.parse().ok()?;
    let key = ObjectKey {
        resource: Resource::new("", "secrets"),
        namespace: SECRET_NAMESPACE.into(),
        name: token.id().secret_name(),
    };
    let stored = store.get(&key).ok()?;
    let secret = Secret::deserialize(stored.as_ref()).ok()?;
    match kubetrust_bootstrap_token::authenticate(&token, &secret, now) {
        Ok(user) => Some(authenticated(UserInfo {
            name: user.name,
            groups: user.groups,
            ..UserInfo::default()
        })),
        Err(error) => {
            // The library's errors never contain the presented secret.
            tracing::debug!(token_id = %token.id(), %error, "bootstrap token rejected");
            None
        }
    }
}

/// Adds `system:authenticated` unless the user already names either all-users group, as the
/// apiserver's group adder does.
fn authenticated(mut user: UserInfo) -> UserInfo {
    if !user.in_group(AUTHENTICATED_GROUP) && !user.in_group(UNAUTHENTICATED_GROUP) {
        user.groups.push(AUTHENTICATED_GROUP.into());
    }
    user
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use kubetrust_bootstrap_token::TokenSpec;
    use kubetrust_pki::{CertProfile, CertificateAuthority, KeyAlgorithm, Subject, Validity};

    use super::*;
    use crate::clock::Clock;

    fn ca(name: &str) -> CertificateAuthority {
        CertificateAuthority::generate(name, KeyAlgorithm::EcdsaP256, SystemTime::now()).unwrap()
    }

    fn client(ca: &CertificateAuthority, profile: CertProfile) -> Vec<u8> {
        ca.issue_with_new_key(&profile, KeyAlgorithm::EcdsaP256)
            .unwrap()
            .0
            .der()
            .to_vec()
    }

    fn node_profile() -> CertProfile {
        CertProfile::client(
            Subject::new("system:node:worker-1").with_organization("system:nodes"),
            SystemTime::now(),
        )
    }

    fn with_token(store: &Store) -> BootstrapToken {
        let token = BootstrapToken::generate().unwrap();
        let secret = TokenSpec::new(token.clone())
            .with_ttl(Duration::from_secs(3600))
            .to_secret(store.clock().now())
            .unwrap();
        let secrets = Resource::new("", "secrets");
        store
            .create(&secrets, SECRET_NAMESPACE, serde_json::to_value(secret).unwrap())
            .unwrap();
        token
    }

    fn login(
        store: &Store,
        ca: &CertificateAuthority,
        token: Option<&str>,
        chain: &[Vec<u8>],
    ) -> Result<UserInfo, ApiError> {
        let credentials = Credentials {
            bearer_token: token,
            client_chain: chain,
        };
        authenticate(store, ca.bundle(), &credentials, store.clock().now())
    }

    #[test]
    fn a_client_certificate_names_user_groups_and_credential() {
        let store = Store::new(Clock::default());
        let ca = ca("kubernetes");
        let leaf = client(&ca, node_profile());
        let user = login(&store, &ca, None, std::slice::from_ref(&leaf)).unwrap();
        assert_eq!(user.name, "system:node:worker-1");
        assert_eq!(user.groups, ["system:nodes", "system:authenticated"]);
        assert_eq!(user.uid, "");
        let id = &user.extra[CREDENTIAL_ID_KEY];
        let hex: String = Sha256::digest(&leaf).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(id, &[format!("X509SHA256={hex}")]);
        assert_eq!(id[0].len(), "X509SHA256=".len() + 64);
    }

    #[test]
    fn certificates_from_another_ca_expired_or_for_servers_are_401() {
        let store = Store::new(Clock::default());
        let ours = ca("kubernetes");
        let theirs = ca("kubernetes");
        let foreign = client(&theirs, node_profile());
        let now = SystemTime::now();
        let expired = client(
            &ours,
            node_profile().with_validity(Validity {
                not_before: now - Duration::from_secs(7200),
                not_after: now - Duration::from_secs(3600),
            }),
        );
        let server = client(&ours, node_profile().with_usages([ExtKeyUsage::ServerAuth]));
        for chain in [
            vec![foreign],
            vec![expired],
            vec![server],
            vec![b"not a certificate".to_vec()],
        ] {
            let error = login(&store, &ours, None, &chain).unwrap_err();
            assert_eq!((error.code, error.reason), (401, "Unauthorized"));
        }
    }

    #[test]
    fn a_bootstrap_token_authenticates_through_its_secret() {
        let store = Store::new(Clock::default());
        let ca = ca("kubernetes");
        let token = with_token(&store);
        let user = login(&store, &ca, Some(&token.expose_secret()), &[]).unwrap();
        assert_eq!(user.name, format!("system:bootstrap:{}", token.id()));
        assert_eq!(
            user.groups,
            [
                "system:bootstrappers",
                "system:bootstrappers:kubeadm:default-node-token",
                "system:authenticated"
            ]
        );
        assert!(user.extra.is_empty());

        let wrong_secret = format!("{}.0000000000000000", token.id());
        let unknown = "zzzzzz.0123456789abcdef";
        for presented in [wrong_secret.as_str(), unknown, "not-a-bootstrap-token", ""] {
            assert_eq!(
                login(&store, &ca, Some(presented), &[]).unwrap_err().code,
                401,
                "{presented}"
            );
        }
        store.clock().advance(Duration::from_secs(3601));
        assert_eq!(
            login(&store, &ca, Some(&token.expose_secret()), &[])
                .unwrap_err()
                .code,
            401
        );
    }

    #[test]
    fn the_certificate_is_tried_first_then_the_token() {
        let store = Store::new(Clock::default());
        let ours = ca("kubernetes");
        let token = with_token(&store);
        let leaf = client(&ours, node_profile());
        let both = login(
            &store,
            &ours,
            Some(&token.expose_secret()),
            std::slice::from_ref(&leaf),
        )
        .unwrap();
        assert_eq!(both.name, "system:node:worker-1");
        let foreign = client(&ca("other"), node_profile());
        let fallback = login(&store, &ours, Some(&token.expose_secret()), &[foreign]).unwrap();
        assert_eq!(fallback.name, format!("system:bootstrap:{}", token.id()));
    }

    #[test]
    fn no_credentials_is_anonymous() {
        let store = Store::new(Clock::default());
        assert_eq!(
            login(&store, &ca("kubernetes"), None, &[]).unwrap(),
            UserInfo::anonymous()
        );
    }
}
