//! ZITADEL's WebKeyService (`zitadel.webkey.v2`, docs/operator/key-rotation.md):
//! created keys are published at once and sign only once activated; the
//! previously active key stays published until deleted or until every token it
//! signed has expired; the active key cannot be deleted; an unknown key's
//! deletion succeeds; the automatic rotation continues with the activated
//! key's kind; permissions are `iam.web_key.*`, held by `IAM_OWNER`. In
//! process, on the mock clock.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, reason = "this file takes no snapshots")]
mod api;
mod common;

use api::{KeyedMachine, add_pat, call, create_machine, default_org, grant, ok, rest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use common::TestApp;
use serde_json::{Value, json};
use tessera_domain::Clock as _;

const WEB_KEYS: &str = "zitadel.webkey.v2.WebKeyService";

async fn machine(app: &TestApp) -> KeyedMachine {
    api::jwt_machine(app, &app.admin_pat(), "signed").await
}

/// A jwt-bearer grant's JWT access token, asserted at the server's time.
async fn token(app: &TestApp, m: &KeyedMachine) -> String {
    m.grant(app, app.clock().now().timestamp()).await["access_token"].as_str().unwrap().to_owned()
}

fn header(token: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
}

async fn jwks(app: &TestApp) -> Vec<Value> {
    let doc: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
    doc["keys"].as_array().unwrap().clone()
}

fn published(keys: &[Value], kid: &str) -> Option<Value> {
    keys.iter().find(|k| k["kid"] == kid).cloned()
}

async fn web_keys(app: &TestApp, token: &str) -> Vec<Value> {
    let body = ok(app, token, WEB_KEYS, "ListWebKeys", json!({})).await;
    body.get("webKeys").and_then(Value::as_array).cloned().unwrap_or_default()
}

fn state_of(keys: &[Value], id: &str) -> String {
    let key = keys.iter().find(|k| k["id"] == id).unwrap_or_else(|| panic!("{id} is listed: {keys:?}"));
    key["state"].as_str().unwrap().to_owned()
}

/// Whether the server still accepts `token` (userinfo).
async fn accepted(app: &TestApp, token: &str) -> bool {
    let res = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth(token).send().await.unwrap();
    res.status().as_u16() == 200
}

async fn create(app: &TestApp, admin: &str, body: Value) -> String {
    ok(app, admin, WEB_KEYS, "CreateWebKey", body).await["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn keys_are_created_activated_rotated_and_deleted_as_in_zitadel() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let m = machine(&app).await;

    // The instance starts with one RSA key, active.
    let listed = web_keys(&app, &admin).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["state"], "STATE_ACTIVE");
    assert_eq!(listed[0]["rsa"], json!({"bits": "RSA_BITS_2048", "hasher": "RSA_HASHER_SHA256"}));
    let rsa = listed[0]["id"].as_str().unwrap().to_owned();
    let rs_token = token(&app, &m).await;
    assert_eq!(header(&rs_token)["alg"], "RS256");

    // Created: published at once, not signing.
    let created = ok(&app, &admin, WEB_KEYS, "CreateWebKey", json!({"ecdsa": {"curve": "ECDSA_CURVE_P256"}})).await;
    let es = created["id"].as_str().unwrap().to_owned();
    assert!(created["creationDate"].is_string(), "{created}");
    let jwk = published(&jwks(&app).await, &es).expect("a created key is in the JWKS at once");
    assert_eq!(
        (jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert_eq!(state_of(&web_keys(&app, &admin).await, &es), "STATE_INITIAL");
    assert_eq!(header(&token(&app, &m).await)["kid"], rsa, "a created key does not sign");

    // Activated: signs from now on; the RSA key's token still verifies.
    app.clock().advance(Duration::minutes(10));
    let activated = ok(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": es})).await;
    assert!(activated["changeDate"].is_string(), "{activated}");
    let es_token = token(&app, &m).await;
    assert_eq!(
        (header(&es_token)["alg"].as_str(), header(&es_token)["kid"].as_str()),
        (Some("ES256"), Some(es.as_str()))
    );
    assert!(accepted(&app, &rs_token).await, "the old key's token verifies while its key is published");
    assert!(accepted(&app, &es_token).await);
    let listed = web_keys(&app, &admin).await;
    assert_eq!((state_of(&listed, &es), state_of(&listed, &rsa)), ("STATE_ACTIVE".into(), "STATE_INACTIVE".into()));
    assert_eq!(listed.iter().find(|k| k["id"] == es).unwrap()["ecdsa"], json!({"curve": "ECDSA_CURVE_P256"}));
    // Activating the active key again changes nothing.
    ok(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": es})).await;
    assert_eq!(header(&token(&app, &m).await)["kid"], es);

    // The active key cannot be deleted; an unknown key's deletion succeeds.
    let (status, body) = call(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({"id": es})).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("failed_precondition")), "{body}");
    assert!(published(&jwks(&app).await, &es).is_some());
    for unknown in [uuid::Uuid::now_v7().to_string(), "312909075212468632".to_owned()] {
        let body = ok(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({"id": unknown})).await;
        assert!(body.get("deletionDate").is_none(), "nothing was deleted: {body}");
    }
    let (status, body) = call(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": "312909075212468632"})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")), "{body}");
    let (status, _) = call(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({})).await;
    assert_eq!(status, 400, "an id is required");

    // Rotate to Ed25519 and repeat.
    let ed = create(&app, &admin, json!({"ed25519": {}})).await;
    app.clock().advance(Duration::minutes(10));
    ok(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": ed})).await;
    let ed_token = token(&app, &m).await;
    assert_eq!(
        (header(&ed_token)["alg"].as_str(), header(&ed_token)["kid"].as_str()),
        (Some("EdDSA"), Some(ed.as_str()))
    );
    assert!(accepted(&app, &es_token).await && accepted(&app, &rs_token).await);
    let (status, _) = call(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({"id": ed})).await;
    assert_eq!(status, 400, "the new active key cannot be deleted");
    let discovery: Value =
        app.client.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    let algs = discovery["id_token_signing_alg_values_supported"].as_array().unwrap();
    for alg in ["RS256", "ES256", "EdDSA"] {
        assert!(algs.contains(&json!(alg)), "{alg} is announced while published: {algs:?}");
    }

    // Deleting an inactive key withdraws it at once: its tokens stop verifying.
    let deleted = ok(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({"id": es})).await;
    assert!(deleted["deletionDate"].is_string(), "{deleted}");
    assert!(published(&jwks(&app).await, &es).is_none());
    assert!(!accepted(&app, &es_token).await, "a deleted key's tokens no longer verify");
    assert!(accepted(&app, &ed_token).await && accepted(&app, &rs_token).await);
    assert!(web_keys(&app, &admin).await.iter().all(|k| k["id"] != es));

    let actions = app.audit_actions().await;
    for action in ["signing_key.created", "signing_key.activated", "signing_key.deleted"] {
        assert!(actions.iter().any(|a| a == action), "{action} is audited: {actions:?}");
    }
}

#[tokio::test]
async fn the_rotation_keeps_the_activated_kind_and_never_activates_a_created_key() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let m = machine(&app).await;
    let rsa = web_keys(&app, &admin).await[0]["id"].as_str().unwrap().to_owned();
    let ed = create(&app, &admin, json!({"ed25519": {}})).await;
    let waiting = create(&app, &admin, json!({"ecdsa": {"curve": "ECDSA_CURVE_P384"}})).await;
    app.clock().advance(Duration::minutes(10));
    ok(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": ed})).await;

    // Past the RSA key's schedule and near the end of the Ed25519 key's
    // signing period (30 days): the plan publishes a successor of its kind.
    app.clock().advance(Duration::days(24));
    app.refresh_keys().await;
    let listed = web_keys(&app, &admin).await;
    let successor = listed
        .iter()
        .find(|k| k["id"] != ed && k["id"] != waiting && k["id"] != rsa)
        .unwrap_or_else(|| panic!("a successor is published ahead: {listed:?}"));
    assert_eq!(successor["state"], "STATE_INITIAL");
    assert!(successor.get("ed25519").is_some(), "the successor keeps the activated kind: {successor}");
    assert_eq!(state_of(&listed, &rsa), "STATE_INACTIVE", "the RSA key stays published on its schedule");

    app.clock().advance(Duration::days(7));
    app.refresh_keys().await;
    let listed = web_keys(&app, &admin).await;
    let successor = successor["id"].as_str().unwrap();
    assert_eq!(state_of(&listed, successor), "STATE_ACTIVE");
    assert_eq!(header(&token(&app, &m).await)["kid"], successor);
    assert_eq!(state_of(&listed, &waiting), "STATE_INITIAL", "a created key signs only once activated");
    assert!(published(&jwks(&app).await, &waiting).is_some(), "and stays published until deleted");
    assert!(listed.iter().all(|k| k["id"] != rsa), "the RSA key is gone once every token it signed expired");

    // Activating a key cancels a successor published ahead, so that the
    // activated key is not replaced at the successor's planned time.
    app.clock().advance(Duration::days(24));
    app.refresh_keys().await;
    let planned: Vec<String> = web_keys(&app, &admin)
        .await
        .iter()
        .filter(|k| k["state"] == "STATE_INITIAL" && k["id"] != waiting)
        .map(|k| k["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(planned.len(), 1, "a successor is planned");
    ok(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": waiting})).await;
    let listed = web_keys(&app, &admin).await;
    assert!(listed.iter().all(|k| k["id"] != planned[0]), "the planned successor is cancelled: {listed:?}");
    app.clock().advance(Duration::days(7));
    app.refresh_keys().await;
    assert_eq!(header(&token(&app, &m).await)["kid"], waiting, "the activated key still signs");
}

#[tokio::test]
async fn only_instance_owners_manage_web_keys() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let org_owner = create_machine(&app, &admin, &org, "org-owner").await;
    grant(&app, &admin, &org_owner, json!({"organizationId": org}), &["ORG_OWNER"]).await;
    let org_owner = add_pat(&app, &admin, &org_owner, None).await;
    let viewer = create_machine(&app, &admin, &org, "iam-viewer").await;
    grant(&app, &admin, &viewer, json!({"instance": true}), &["IAM_OWNER_VIEWER"]).await;
    let viewer = add_pat(&app, &admin, &viewer, None).await;
    let rsa = web_keys(&app, &admin).await[0]["id"].as_str().unwrap().to_owned();
    let created = create(&app, &admin, json!({"ed25519": {}})).await;

    for (method, body) in [
        ("CreateWebKey", json!({"ed25519": {}})),
        ("ActivateWebKey", json!({"id": created})),
        ("DeleteWebKey", json!({"id": created})),
        ("ListWebKeys", json!({})),
    ] {
        let (status, body) = call(&app, &org_owner, WEB_KEYS, method, body).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("permission_denied")), "{method}: {body}");
    }
    // IAM_OWNER_VIEWER reads (iam.web_key.read), nothing more.
    assert_eq!(web_keys(&app, &viewer).await.len(), 2);
    for (method, body) in [
        ("CreateWebKey", json!({})),
        ("ActivateWebKey", json!({"id": created})),
        ("DeleteWebKey", json!({"id": created})),
        ("DeleteWebKey", json!({"id": uuid::Uuid::now_v7().to_string()})),
    ] {
        let (status, _) = call(&app, &viewer, WEB_KEYS, method, body).await;
        assert_eq!(status, 403, "{method}");
    }
    let listed = web_keys(&app, &admin).await;
    assert_eq!((state_of(&listed, &rsa), state_of(&listed, &created)), ("STATE_ACTIVE".into(), "STATE_INITIAL".into()));
}

#[tokio::test]
async fn bad_key_kinds_are_refused_and_the_key_count_is_capped() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    for body in [
        json!({"ecdsa": {"curve": "ECDSA_CURVE_P512"}}),
        json!({"ecdsa": {"curve": 7}}),
        json!({"rsa": {"bits": 9}}),
        json!({"rsa": {"hasher": 9}}),
    ] {
        let (status, answer) = call(&app, &admin, WEB_KEYS, "CreateWebKey", body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (400, Some("invalid_argument")), "{body}: {answer}");
    }
    // No kind: RSA 2048 with SHA-256, as in ZITADEL; RSA sizes and hashers.
    let default = create(&app, &admin, json!({})).await;
    let rs384 = create(&app, &admin, json!({"rsa": {"bits": "RSA_BITS_3072", "hasher": "RSA_HASHER_SHA384"}})).await;
    let listed = web_keys(&app, &admin).await;
    let kind = |id: &str| listed.iter().find(|k| k["id"] == id).unwrap()["rsa"].clone();
    assert_eq!(kind(&default), json!({"bits": "RSA_BITS_2048", "hasher": "RSA_HASHER_SHA256"}));
    assert_eq!(kind(&rs384), json!({"bits": "RSA_BITS_3072", "hasher": "RSA_HASHER_SHA384"}));
    assert_eq!(published(&jwks(&app).await, &rs384).unwrap()["alg"], "RS384");

    // At most 20 keys: each one is in every resource server's JWKS download.
    let stored = web_keys(&app, &admin).await.len();
    for _ in stored..20 {
        create(&app, &admin, json!({"ed25519": {}})).await;
    }
    let (status, answer) = call(&app, &admin, WEB_KEYS, "CreateWebKey", json!({"ed25519": {}})).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("failed_precondition")), "{answer}");
    assert_eq!(jwks(&app).await.len(), 20);
}

/// Activations and deletions of the same key race: whatever the order, a key
/// signs afterwards and it is published (the rows are read under a lock).
#[tokio::test]
async fn racing_activation_and_deletion_never_lose_the_signing_key() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let m = machine(&app).await;
    for round in 0..6 {
        let key = create(&app, &admin, json!({"ed25519": {}})).await;
        app.clock().advance(Duration::seconds(1));
        let activate = call(&app, &admin, WEB_KEYS, "ActivateWebKey", json!({"id": key}));
        let delete = call(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({"id": key}));
        let ((a, _), (d, _)) = tokio::join!(activate, delete);
        // Either the deletion came first (the activation finds nothing) or the
        // activation did (the deletion is refused).
        assert!(matches!((a, d), (200, 400) | (404, 200)), "round {round}: activate {a}, delete {d}");
        let listed = web_keys(&app, &admin).await;
        let active: Vec<&Value> = listed.iter().filter(|k| k["state"] == "STATE_ACTIVE").collect();
        assert_eq!(active.len(), 1, "round {round}: {listed:?}");
        let signer = header(&token(&app, &m).await)["kid"].as_str().unwrap().to_owned();
        assert_eq!(active[0]["id"], signer.as_str());
        assert!(published(&jwks(&app).await, &signer).is_some());
        // Keep under the cap.
        for k in listed.iter().filter(|k| k["state"] == "STATE_INACTIVE") {
            ok(&app, &admin, WEB_KEYS, "DeleteWebKey", json!({"id": k["id"]})).await;
        }
    }
}

/// ZITADEL's REST paths: `GET /v2/web_keys`, `DELETE /v2/web_keys/{id}`.
#[tokio::test]
async fn the_rest_paths_list_and_delete() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let created = create(&app, &admin, json!({"ed25519": {}})).await;
    let (status, body) = rest(&app, &admin, reqwest::Method::GET, "/v2/web_keys", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["webKeys"].as_array().unwrap().len(), 2, "{body}");
    let active = body["webKeys"].as_array().unwrap().iter().find(|k| k["state"] == "STATE_ACTIVE").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = rest(&app, &admin, reqwest::Method::DELETE, &format!("/v2/web_keys/{active}"), None).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("failed_precondition")), "{body}");
    let (status, body) = rest(&app, &admin, reqwest::Method::DELETE, &format!("/v2/web_keys/{created}"), None).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["deletionDate"].is_string(), "{body}");
    assert!(published(&jwks(&app).await, &created).is_none());
}
