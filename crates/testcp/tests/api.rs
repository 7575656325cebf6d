//! The HTTP API through `kube::Client`: start-up state, CRUD, conflicts, watches, Tables and
//! the error answers for bad input.
// Helpers outside #[test] functions fail the test the same way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine as _;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use http::{Method, StatusCode};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::certificates::v1::{CertificateSigningRequest, CertificateSigningRequestCondition};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use support::{get, raw};

fn config_map(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}, "data": {"k": "v"}})).unwrap()
}

#[tokio::test]
async fn starts_with_kubeadm_state_and_reports_its_version() {
    let started = std::time::Instant::now();
    let plane = support::start().await;
    eprintln!("testcp start took {:?}", started.elapsed());
    let client = plane.client().await.unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert_eq!((version.major.as_str(), version.minor.as_str()), ("1", "33"));
    assert_eq!(version.git_version, "v1.33.0-kubetrust-testcp");
    let cluster_info = Api::<ConfigMap>::namespaced(client.clone(), "kube-public")
        .get("cluster-info")
        .await
        .unwrap();
    let kubeconfig = cluster_info.data.unwrap()["kubeconfig"].clone();
    assert!(kubeconfig.contains(&plane.url()), "{kubeconfig}");
    let namespaces = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap();
    let names: Vec<_> = namespaces
        .items
        .iter()
        .filter_map(|n| n.metadata.name.clone())
        .collect();
    for wanted in ["default", "kube-node-lease", "kube-public", "kube-system"] {
        assert!(names.iter().any(|n| n == wanted), "{wanted} in {names:?}");
    }
    let (status, binding) = get(
        &client,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:node-autoapprove-bootstrap",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{binding}");
    let (status, binding) = get(
        &client,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins",
    )
    .await;
    assert_eq!(
        (status, &binding["roleRef"]["name"]),
        (StatusCode::OK, &json!("cluster-admin"))
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn crud_with_conflicts_and_not_found() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let created = maps
        .create(&PostParams::default(), &config_map("one"))
        .await
        .unwrap();
    assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
    let mut stale = created.clone();
    let mut fresh = created.clone();
    fresh.data = Some([("k".to_owned(), "w".to_owned())].into());
    let updated = maps.replace("one", &PostParams::default(), &fresh).await.unwrap();
    assert_ne!(
        updated.metadata.resource_version,
        created.metadata.resource_version
    );
    stale.data = None;
    let conflict = maps
        .replace("one", &PostParams::default(), &stale)
        .await
        .unwrap_err();
    let kube::Error::Api(status) = conflict else {
        panic!("{conflict}")
    };
    assert_eq!((status.code, status.reason.as_str()), (409, "Conflict"));
    let exists = maps
        .create(&PostParams::default(), &config_map("one"))
        .await
        .unwrap_err();
    assert!(
        exists.to_string().contains("configmaps \"one\" already exists"),
        "{exists}"
    );
    maps.delete("one", &DeleteParams::default()).await.unwrap();
    let gone = maps.get("one").await.unwrap_err();
    let kube::Error::Api(status) = gone else {
        panic!("{gone}")
    };
    assert_eq!(
        (status.code, status.message.as_str()),
        (404, "configmaps \"one\" not found")
    );
    let elsewhere = Api::<ConfigMap>::namespaced(client.clone(), "nope");
    let missing = elsewhere
        .create(&PostParams::default(), &config_map("x"))
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("namespaces \"nope\" not found"),
        "{missing}"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn watch_from_a_list_sees_changes_and_resumes() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    let list = maps.list(&ListParams::default()).await.unwrap();
    let version = list.metadata.resource_version.unwrap();
    let stream = maps
        .watch(&WatchParams::default().timeout(10), &version)
        .await
        .unwrap();
    let mut stream = Box::pin(stream);
    maps.create(&PostParams::default(), &config_map("watched"))
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
        .await
        .unwrap()
        .unwrap();
    match event {
        Some(WatchEvent::Added(object)) => assert_eq!(object.metadata.name.as_deref(), Some("watched")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    // Resuming from the list's version replays the creation.
    let replay = maps
        .watch(&WatchParams::default().timeout(2), &version)
        .await
        .unwrap();
    let events: Vec<_> = replay.take(1).collect().await;
    assert!(
        matches!(events.first(), Some(Ok(WatchEvent::Added(_)))),
        "{events:?}"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_watch_from_a_compacted_version_gets_410_as_an_error_event() {
    let plane = support::start().await;
    let store = plane.store();
    let resource = kubetrust_testcp::store::Resource::new("", "configmaps");
    for i in 0..16_400 {
        store
            .create(
                &resource,
                "default",
                json!({"metadata": {"name": format!("c{i}")}}),
            )
            .unwrap();
    }
    let client = plane.client().await.unwrap();
    let (status, body) = get(
        &client,
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let Value::Object(event) = body else {
        panic!("{body}")
    };
    assert_eq!(event["type"], "ERROR");
    assert_eq!(
        (&event["object"]["code"], &event["object"]["reason"]),
        (&json!(410), &json!("Expired"))
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn watch_with_name_selector_and_bookmarks() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    maps.create(&PostParams::default(), &config_map("a"))
        .await
        .unwrap();
    maps.create(&PostParams::default(), &config_map("b"))
        .await
        .unwrap();
    let params = WatchParams::default().fields("metadata.name=b").timeout(3);
    let events: Vec<_> = maps.watch(&params, "0").await.unwrap().take(2).collect().await;
    match events.as_slice() {
        [Ok(WatchEvent::Added(b)), Ok(WatchEvent::Bookmark(_))] => {
            assert_eq!(b.metadata.name.as_deref(), Some("b"))
        }
        other => panic!("expected ADDED b then BOOKMARK: {other:?}"),
    }
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn csr_approval_and_tables() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let csrs = Api::<CertificateSigningRequest>::all(client.clone());
    // A signer no controller here serves: the request stays as the test leaves it.
    let key = kubetrust_pki::PrivateKey::generate(kubetrust_pki::KeyAlgorithm::EcdsaP256).unwrap();
    let request = kubetrust_pki::CertificateRequest::new(
        &kubetrust_pki::Subject::new("jane"),
        &kubetrust_pki::AltNames::default(),
        &key,
    )
    .unwrap();
    let csr: CertificateSigningRequest = serde_json::from_value(json!({
        "metadata": {"generateName": "csr-"},
        "spec": {"request": base64::engine::general_purpose::STANDARD.encode(request.to_pem()),
                 "signerName": "example.com/test",
                 "usages": ["digital signature", "client auth"], "username": "forged", "expirationSeconds": 600},
    }))
    .unwrap();
    let created = csrs.create(&PostParams::default(), &csr).await.unwrap();
    let name = created.metadata.name.clone().unwrap();
    assert!(name.starts_with("csr-") && name.len() == 9, "{name}");
    let mut approved = created.clone();
    approved.status.get_or_insert_default().conditions = Some(vec![CertificateSigningRequestCondition {
        type_: "Approved".into(),
        status: "True".into(),
        reason: Some("Test".into()),
        ..Default::default()
    }]);
    csrs.replace_subresource("approval", &name, &PostParams::default(), &approved)
        .await
        .unwrap();
    let table_accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let (status, table) = raw(
        &client,
        Method::GET,
        "/apis/certificates.k8s.io/v1/certificatesigningrequests",
        None,
        Some(table_accept),
        Vec::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        columns,
        [
            "Name",
            "Age",
            "SignerName",
            "Requestor",
            "RequestedDuration",
            "Condition"
        ]
    );
    let cells = &table["rows"][0]["cells"];
    assert_eq!(cells[0], json!(name));
    assert_eq!(
        &cells.as_array().unwrap()[2..],
        [
            json!("example.com/test"),
            json!("kubernetes-admin"),
            json!("10m"),
            json!("Approved")
        ]
    );
    assert!(
        table["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    let (_, list) = get(
        &client,
        "/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=spec.signerName%3Dnope",
    )
    .await;
    assert_eq!(list["items"], json!([]));
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn self_subject_access_review_is_answered_not_stored() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let reviews = Api::<SelfSubjectAccessReview>::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some("create".into()),
                group: Some("certificates.k8s.io".into()),
                resource: Some("certificatesigningrequests".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answered = reviews.create(&PostParams::default(), &review).await.unwrap();
    assert!(answered.status.unwrap().allowed);
    let (status, _) = get(&client, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    plane.shutdown().await.unwrap();
}

/// Method, path, Content-Type, body, expected code and reason.
type Case = (Method, String, Option<&'static str>, Vec<u8>, u16, &'static str);

#[tokio::test]
async fn bad_input_gets_status_answers() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let secrets = "/api/v1/namespaces/default/secrets";
    let cases: Vec<Case> = vec![
        (
            Method::POST,
            secrets.into(),
            Some("application/json"),
            b"{not json".to_vec(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("application/json"),
            b"[1]".to_vec(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("application/json"),
            br#"{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}"#.to_vec(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("application/json"),
            br#"{"metadata":{"name":"Bad_Name"}}"#.to_vec(),
            422,
            "Invalid",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("application/json"),
            br#"{"metadata":{}}"#.to_vec(),
            422,
            "Invalid",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("text/plain"),
            b"x".to_vec(),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("application/vnd.kubernetes.protobuf"),
            b"garbage".to_vec(),
            400,
            "BadRequest",
        ),
        (
            Method::POST,
            secrets.into(),
            Some("application/json"),
            vec![b' '; 4 * 1024 * 1024],
            413,
            "RequestEntityTooLarge",
        ),
        (
            Method::GET,
            "/api/v1/pods".into(),
            None,
            Vec::new(),
            404,
            "NotFound",
        ),
        (
            Method::GET,
            "/apis/nope.io/v1/things".into(),
            None,
            Vec::new(),
            404,
            "NotFound",
        ),
        (Method::GET, "/nope".into(), None, Vec::new(), 404, "NotFound"),
        (
            Method::PUT,
            secrets.into(),
            Some("application/json"),
            b"{}".to_vec(),
            405,
            "MethodNotAllowed",
        ),
        (
            Method::POST,
            format!("{secrets}/x"),
            Some("application/json"),
            b"{}".to_vec(),
            405,
            "MethodNotAllowed",
        ),
        (
            Method::DELETE,
            secrets.into(),
            None,
            Vec::new(),
            405,
            "MethodNotAllowed",
        ),
        (
            Method::GET,
            format!("{secrets}?labelSelector=a%20b%3Dc"),
            None,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{secrets}?fieldSelector=spec.nope%3Dx"),
            None,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            Method::GET,
            format!("{secrets}?watch=true&resourceVersion=abc"),
            None,
            Vec::new(),
            400,
            "BadRequest",
        ),
        (
            Method::PATCH,
            format!("{secrets}/x"),
            Some("application/json-patch+json"),
            b"[]".to_vec(),
            415,
            "UnsupportedMediaType",
        ),
        (
            Method::PUT,
            "/apis/certificates.k8s.io/v1/certificatesigningrequests/none/approval".into(),
            Some("application/json"),
            br#"{"metadata":{"name":"none"}}"#.to_vec(),
            404,
            "NotFound",
        ),
    ];
    for (method, path, content_type, body, code, reason) in cases {
        let (status, answer) = raw(&client, method.clone(), &path, content_type, None, body).await;
        assert_eq!(
            (status.as_u16(), answer["reason"].as_str()),
            (code, Some(reason)),
            "{method} {path}: {answer}"
        );
        assert_eq!(answer["kind"], "Status");
    }
    let (status, answer) = get(
        &client,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:cluster-admins",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn merge_and_apply_patches() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let path = "/api/v1/namespaces/default/configmaps/patched";
    let apply =
        br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"patched"},"data":{"a":"1","b":"2"}}"#;
    let (status, _) = raw(
        &client,
        Method::PATCH,
        path,
        Some("application/apply-patch+yaml"),
        None,
        apply.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let patch = br#"{"data":{"a":null,"c":"3"}}"#;
    let (status, object) = raw(
        &client,
        Method::PATCH,
        path,
        Some("application/strategic-merge-patch+json"),
        None,
        patch.to_vec(),
    )
    .await;
    assert_eq!(
        (status, &object["data"]),
        (StatusCode::OK, &json!({"b": "2", "c": "3"}))
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_certificate_from_another_ca_gets_401() {
    let plane = support::start().await;
    let other = kubetrust_pki::CertificateAuthority::generate(
        "other",
        kubetrust_pki::KeyAlgorithm::EcdsaP256,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let subject = kubetrust_pki::Subject::new("kubernetes-admin").with_organization("kubeadm:cluster-admins");
    let profile = kubetrust_pki::CertProfile::client(subject, std::time::SystemTime::now());
    let (cert, key) = other
        .issue_with_new_key(&profile, kubetrust_pki::KeyAlgorithm::EcdsaP256)
        .unwrap();
    let endpoint = kubetrust_kubeconfig::ClusterEndpoint::new(plane.url(), plane.ca_pem().into_bytes());
    let credentials = kubetrust_kubeconfig::ClientCredentials::EmbeddedCertificate {
        certificate_pem: cert.to_pem().into_bytes(),
        key_pem: kubetrust_kubeconfig::SecretBytes::new(key.to_pem().as_bytes().to_vec()),
    };
    let kubeconfig = kubetrust_kubeconfig::Config::for_user(&endpoint, "intruder", credentials)
        .to_kube()
        .unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .unwrap();
    let intruder = kube::Client::try_from(config).unwrap();
    let (status, answer) = get(&intruder, "/api/v1/namespaces").await;
    assert_eq!(
        (status, &answer["reason"]),
        (StatusCode::UNAUTHORIZED, &json!("Unauthorized"))
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn streaming_lists_end_their_initial_events_with_a_bookmark() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let path = "/api/v1/namespaces?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1";
    let (status, body) = get(&client, path).await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<Value> = body
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let added = events.iter().take_while(|e| e["type"] == "ADDED").count();
    assert_eq!(added, 4, "the four namespaces: {events:?}");
    let end = &events[added];
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn anonymous_requests_reach_the_public_endpoints() {
    let plane = support::start().await;
    let mut config = kube::Config::new(plane.url().parse().unwrap());
    let ca = kubetrust_pki::Certificate::from_pem(plane.ca_pem().as_bytes()).unwrap();
    config.root_cert = Some(vec![ca.der().to_vec()]);
    let anonymous = kube::Client::try_from(config).unwrap();
    for path in ["/healthz", "/readyz", "/livez"] {
        assert_eq!(
            get(&anonymous, path).await,
            (StatusCode::OK, json!("ok")),
            "{path}"
        );
    }
    assert_eq!(get(&anonymous, "/version").await.1["major"], "1");
    // OpenAPI is for authenticated users (`system:discovery`), as in kube-apiserver.
    assert_eq!(get(&anonymous, "/openapi/v3").await.0, StatusCode::FORBIDDEN);
    let admin = plane.client().await.unwrap();
    assert_eq!(get(&admin, "/openapi/v2").await.0, StatusCode::NOT_FOUND);
    let (status, index) = get(&admin, "/openapi/v3").await;
    assert_eq!(status, StatusCode::OK);
    let url = index["paths"]["api/v1"]["serverRelativeURL"].as_str().unwrap();
    let (status, document) = get(&admin, url).await;
    assert_eq!(status, StatusCode::OK);
    let secret = &document["paths"]["/api/v1/namespaces/{namespace}/secrets/{name}"]["patch"];
    assert_eq!(secret["x-kubernetes-group-version-kind"]["kind"], "Secret");
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn secrets_store_string_data_as_data() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let body =
        br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"token-id":"abcdef"}}"#;
    let (status, secret) = raw(
        &client,
        Method::POST,
        "/api/v1/namespaces/kube-system/secrets",
        Some("application/json"),
        None,
        body.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(secret["data"], json!({"token-id": "YWJjZGVm"}));
    assert!(secret.get("stringData").is_none());
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn label_selectors_and_delete_preconditions() {
    let plane = support::start().await;
    let client = plane.client().await.unwrap();
    let maps = Api::<ConfigMap>::namespaced(client.clone(), "default");
    for (name, tier) in [("web", "front"), ("db", "back"), ("plain", "")] {
        let mut map = config_map(name);
        if !tier.is_empty() {
            map.metadata.labels = Some([("tier".to_owned(), tier.to_owned())].into());
        }
        maps.create(&PostParams::default(), &map).await.unwrap();
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items.into_iter().filter_map(|m| m.metadata.name).collect()
    };
    let selected = |selector: &'static str| {
        let maps = maps.clone();
        async move { names(maps.list(&ListParams::default().labels(selector)).await.unwrap()) }
    };
    assert_eq!(selected("tier=front").await, ["web"]);
    assert_eq!(selected("tier in (front,back)").await, ["db", "web"]);
    assert_eq!(selected("!tier").await, ["plain"]);
    assert_eq!(selected("tier,tier!=back").await, ["web"]);
    let wrong_uid = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let conflict = maps.delete("web", &wrong_uid).await.unwrap_err();
    assert!(
        matches!(conflict, kube::Error::Api(ref s) if s.code == 409),
        "{conflict}"
    );
    plane.shutdown().await.unwrap();
}

#[tokio::test]
async fn starts_bare_or_with_a_given_ca() {
    let ca = kubetrust_pki::CertificateAuthority::generate(
        "given",
        kubetrust_pki::KeyAlgorithm::EcdsaP256,
        std::time::SystemTime::now(),
    )
    .unwrap();
    let ca_pem = ca.bundle_pem();
    let config = kubetrust_testcp::Config::default()
        .with_ca(ca)
        .with_kubeadm_state(false);
    let plane = kubetrust_testcp::TestControlPlane::start(config).await.unwrap();
    assert_eq!(plane.ca_pem(), ca_pem);
    let client = plane.client().await.unwrap();
    let (status, _) = get(&client, "/api/v1/namespaces/kube-public/configmaps/cluster-info").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // What the apiserver itself creates is there; kubeadm's objects are not.
    let (_, namespaces) = get(&client, "/api/v1/namespaces").await;
    let names: Vec<&str> = namespaces["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let (status, _) = get(
        &client,
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kubeadm:kubelet-bootstrap",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    plane.shutdown().await.unwrap();
}
