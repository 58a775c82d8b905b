//! `tessera.federation.v1.FederationService` end to end (docs/federation.md):
//! adding, listing, updating and removing a machine user's federated
//! credentials; their bounds, permissions and audit events; and that two
//! concurrent adds cannot pass the per-user bound.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{ADMINS, USERS, call, default_org, items, ok, snap};
use common::TestApp;
use serde_json::{Value, json};

const FEDERATION: &str = "tessera.federation.v1.FederationService";
const GITHUB: &str = "https://token.actions.githubusercontent.com";

async fn machine(app: &TestApp, org: &str, username: &str) -> String {
    let body = json!({"organizationId": org, "username": username, "machine": {"name": username}});
    ok(app, &app.admin_pat(), USERS, "CreateUser", body).await["id"].as_str().unwrap().to_owned()
}

/// A credential for GitHub Actions' production environment of `acme/deploy`.
fn github(user: &str) -> Value {
    json!({
        "userId": user,
        "name": "deploy from GitHub Actions",
        "description": "the production workflow",
        "issuer": GITHUB,
        "subject": "repo:acme/deploy:environment:production",
        "conditions": [{"claim": "repository_owner", "pattern": "acme"}, {"claim": "ref", "pattern": "refs/heads/*"}],
    })
}

/// A Kubernetes cluster's credential with an inline key set.
fn kubernetes(user: &str) -> Value {
    json!({
        "userId": user,
        "name": "ci cluster",
        "issuer": "https://kubernetes.default.svc.cluster.local",
        "jwks": r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
        "subject": "system:serviceaccount:ci:deployer",
        "audience": "tessera",
        "conditions": [{"claim": "kubernetes.io.namespace", "pattern": "ci"}],
    })
}

fn invalid(res: &(u16, Value)) -> &str {
    assert_eq!((res.0, res.1["code"].as_str().unwrap_or_default()), (400, "invalid_argument"), "{}", res.1);
    res.1["message"].as_str().unwrap()
}

#[tokio::test]
async fn federated_credentials_are_added_listed_updated_and_removed_with_audit_events() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "deployer").await;

    let added = ok(&app, &admin, FEDERATION, "AddFederatedCredential", github(&user)).await;
    // Without an audience, Tessera's own issuer URL.
    let issuer = format!("http://localhost:{}", app.address.rsplit(':').next().unwrap());
    assert_eq!(added["audience"].as_str().unwrap(), issuer);
    let k8s = ok(&app, &admin, FEDERATION, "AddFederatedCredential", kubernetes(&user)).await;
    let listed = ok(&app, &admin, FEDERATION, "ListFederatedCredentials", json!({"userId": user})).await;
    let mut shown = listed.clone();
    shown["result"][0]["audience"] = json!("[issuer]");
    snap!("listed", shown);
    assert_eq!(items(&listed, "result").len(), 2);
    assert_eq!(listed["result"][0]["id"], added["id"]);
    assert_eq!(listed["result"][1]["jwks"], kubernetes(&user)["jwks"]);

    // An update sets what it names and keeps the rest; `conditions: {}` clears them.
    let change = json!({"userId": user, "id": added["id"], "subject": "repo:acme/deploy:ref:refs/heads/main",
                        "jwksUrl": "https://token.actions.githubusercontent.com/.well-known/jwks", "conditions": {}});
    ok(&app, &admin, FEDERATION, "UpdateFederatedCredential", change).await;
    let listed = ok(&app, &admin, FEDERATION, "ListFederatedCredentials", json!({"userId": user})).await;
    let first = &listed["result"][0];
    assert_eq!(first["subject"], "repo:acme/deploy:ref:refs/heads/main");
    assert_eq!(first["jwksUrl"], "https://token.actions.githubusercontent.com/.well-known/jwks");
    assert_eq!((first["name"].as_str(), first.get("conditions")), (Some("deploy from GitHub Actions"), None));

    ok(&app, &admin, FEDERATION, "RemoveFederatedCredential", json!({"userId": user, "id": k8s["id"]})).await;
    let listed = ok(&app, &admin, FEDERATION, "ListFederatedCredentials", json!({"userId": user})).await;
    assert_eq!(items(&listed, "result").len(), 1);
    let again =
        call(&app, &admin, FEDERATION, "RemoveFederatedCredential", json!({"userId": user, "id": k8s["id"]})).await;
    assert_eq!((again.0, again.1["code"].as_str().unwrap()), (404, "not_found"), "{}", again.1);

    let events = app.audit_actions().await;
    for action in ["federated_credential.added", "federated_credential.changed", "federated_credential.removed"] {
        assert!(events.iter().any(|a| a == action), "{action} in {events:?}");
    }
}

#[tokio::test]
async fn bad_parts_are_refused_by_name() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "deployer").await;
    let with = |key: &str, value: Value| {
        let mut body = github(&user);
        body[key] = value;
        body
    };
    let cases = [
        (with("issuer", json!("token.actions.githubusercontent.com")), "issuer"),
        (with("issuer", json!("https://user:pass@example.com")), "issuer"),
        (with("issuer", json!(format!("https://example.com/{}", "a".repeat(600)))), "issuer"),
        (with("subject", json!("")), "subject"),
        (with("subject", json!("a\u{0}b")), "subject"),
        (with("jwksUrl", json!("ftp://example.com/jwks")), "jwksUrl"),
        (with("jwks", json!(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#)), "jwks"),
        (with("jwks", json!(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}"#)), "jwks"),
        (with("conditions", json!([{"claim": "a b", "pattern": "x"}])), "conditions.claim"),
        (with("conditions", json!([{"claim": "ref", "pattern": ""}])), "conditions.pattern"),
        (with("conditions", json!(vec![json!({"claim": "ref", "pattern": "x"}); 11])), "conditions"),
        (with("userId", json!("")), "userId"),
    ];
    for (body, field) in cases {
        let res = call(&app, &admin, FEDERATION, "AddFederatedCredential", body).await;
        let message = invalid(&res);
        assert!(message.contains(field), "{field}: {message}");
        assert!(!message.contains("pass@") && !message.contains("c2VjcmV0"), "no input echoed: {message}");
    }
    let listed = ok(&app, &admin, FEDERATION, "ListFederatedCredentials", json!({"userId": user})).await;
    assert!(items(&listed, "result").is_empty());
}

#[tokio::test]
async fn each_user_holds_a_bounded_number_even_when_adds_race() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "deployer").await;
    for n in 0..18 {
        let mut body = github(&user);
        body["subject"] = json!(format!("repo:acme/r{n}:ref:refs/heads/main"));
        ok(&app, &admin, FEDERATION, "AddFederatedCredential", body).await;
    }
    // Eight concurrent adds for the last two places.
    let adds = (0..8).map(|n| {
        let mut body = github(&user);
        body["subject"] = json!(format!("repo:acme/race{n}:ref:refs/heads/main"));
        call(&app, &admin, FEDERATION, "AddFederatedCredential", body)
    });
    let results = futures_util::future::join_all(adds).await;
    let added = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(added, 2, "{results:?}");
    for (status, res) in results.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, res["code"].as_str().unwrap()), (400, "failed_precondition"), "{res}");
    }
    let listed = ok(&app, &admin, FEDERATION, "ListFederatedCredentials", json!({"userId": user})).await;
    assert_eq!(items(&listed, "result").len(), 20);
}

#[tokio::test]
async fn federated_credentials_need_permission_and_a_machine_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let target = machine(&app, &org, "target").await;
    let outsider = machine(&app, &org, "outsider").await;
    let pat = |user: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            ok(app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": user})).await["token"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let outsider_pat = pat(outsider.clone()).await;
    let existing = ok(&app, &admin, FEDERATION, "AddFederatedCredential", github(&target)).await;

    // No role: writes are refused, and another user's list is not found.
    let update = json!({"userId": target, "id": existing["id"], "name": "mine now"});
    let remove = json!({"userId": target, "id": existing["id"]});
    for (method, body) in [
        ("AddFederatedCredential", github(&target)),
        ("UpdateFederatedCredential", update.clone()),
        ("RemoveFederatedCredential", remove.clone()),
    ] {
        let (status, res) = call(&app, &outsider_pat, FEDERATION, method, body).await;
        assert_eq!((status, res["code"].as_str().unwrap()), (403, "permission_denied"), "{method}: {res}");
    }
    let (status, res) =
        call(&app, &outsider_pat, FEDERATION, "ListFederatedCredentials", json!({"userId": target})).await;
    assert_eq!((status, res["code"].as_str().unwrap()), (404, "not_found"), "{res}");
    // A machine user manages its own, as its keys.
    ok(&app, &outsider_pat, FEDERATION, "AddFederatedCredential", github(&outsider)).await;

    // ORG_USER_MANAGER reads but may not write credentials; ORG_OWNER may.
    let grant = |role: &str| json!({"userId": outsider, "resource": {"organizationId": org}, "roles": [role]});
    ok(&app, &admin, ADMINS, "CreateAdministrator", grant("ORG_USER_MANAGER")).await;
    ok(&app, &outsider_pat, FEDERATION, "ListFederatedCredentials", json!({"userId": target})).await;
    let (status, _) = call(&app, &outsider_pat, FEDERATION, "UpdateFederatedCredential", update.clone()).await;
    assert_eq!(status, 403);
    ok(&app, &admin, ADMINS, "UpdateAdministrator", grant("ORG_OWNER")).await;
    ok(&app, &outsider_pat, FEDERATION, "UpdateFederatedCredential", update).await;

    // A credential of another user is not found through this one.
    let other = json!({"userId": outsider, "id": existing["id"]});
    let (status, res) = call(&app, &admin, FEDERATION, "RemoveFederatedCredential", other).await;
    assert_eq!((status, res["code"].as_str().unwrap()), (404, "not_found"), "{res}");

    // Human users have none.
    let human =
        ok(&app, &admin, USERS, "ListUsers", json!({"queries": [{"userNameQuery": {"userName": "admin"}}]})).await;
    let human_id = human["result"][0]["userId"].as_str().unwrap();
    let (status, res) = call(&app, &admin, FEDERATION, "AddFederatedCredential", github(human_id)).await;
    assert_eq!((status, res["code"].as_str().unwrap()), (400, "failed_precondition"), "{res}");
}
