//! `UserService` machine credentials end to end: `AddKey` (generated key file or
//! registered public key), `ListKeys`, `RemoveKey`, `AddSecret`, `RemoveSecret`,
//! `hasSecret`, their REST paths, permissions, and that each credential works at
//! the token endpoint exactly as long as it exists.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{ADMINS, USERS, call, default_org, items, ok, rest, snap};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::TestApp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

async fn machine(app: &TestApp, org: &str, username: &str) -> String {
    let res = ok(
        app,
        &app.admin_pat(),
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": username, "machine": {"name": username}}),
    )
    .await;
    res["id"].as_str().unwrap().to_owned()
}

fn issuer(app: &TestApp) -> String {
    format!("http://localhost:{}", app.address.rsplit(':').next().unwrap())
}

/// Exchanges an assertion signed with `pem` (PKCS#1 or PKCS#8 private key) for
/// a token; returns the status.
async fn grant_with(app: &TestApp, user: &str, kid: &str, pem: &str) -> u16 {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": user, "sub": user, "aud": issuer(app), "iat": now, "exp": now + 60});
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let assertion =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap()).unwrap();
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion.as_str()), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

async fn client_credentials(app: &TestApp, username: &str, secret: &str) -> u16 {
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .basic_auth(username, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn a_generated_key_file_is_returned_once_and_works_until_removed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "keyed").await;

    let added = ok(&app, &admin, USERS, "AddKey", json!({"userId": user})).await;
    let content = added["keyContent"].as_str().unwrap();
    let file: Value = serde_json::from_slice(&STANDARD.decode(content).unwrap()).unwrap();
    snap!("add_key", added.clone());
    assert_eq!(file["type"], "serviceaccount");
    assert_eq!(file["keyId"], added["keyId"]);
    assert_eq!(file["userId"], user.as_str());
    assert_eq!(file["expirationDate"], "9999-12-31T23:59:59Z", "ZITADEL's default expiration");
    let key_pem = file["key"].as_str().unwrap();
    assert!(key_pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "PKCS#1, as ZITADEL's key files");
    let file_shape = json!(file.as_object().unwrap().keys().collect::<Vec<_>>());
    insta::assert_json_snapshot!("key_file_members", file_shape);
    let kid = added["keyId"].as_str().unwrap();
    assert_eq!(grant_with(&app, &user, kid, key_pem).await, 200);

    // Listed without key material; REST search finds the same.
    let listed = ok(&app, &admin, USERS, "ListKeys", json!({"filters": [{"userIdFilter": {"id": user}}]})).await;
    snap!("list_keys", listed.clone());
    assert_eq!(listed["result"][0]["id"], added["keyId"]);
    assert!(!listed.to_string().contains("PRIVATE"), "{listed}");
    let (status, by_rest) = rest(
        &app,
        &admin,
        reqwest::Method::POST,
        "/v2/users/keys/search",
        Some(json!({"filters": [{"keyIdFilter": {"id": kid}}]})),
    )
    .await;
    assert_eq!((status, by_rest["result"][0]["id"].clone()), (200, added["keyId"].clone()));
    let none = ok(&app, &admin, USERS, "ListKeys", json!({"filters": [{"keyIdFilter": {"id": "not-a-key"}}]})).await;
    assert!(items(&none, "result").is_empty(), "{none}");
    assert_eq!(none["pagination"].get("totalResult"), None, "proto3 JSON leaves a zero total out");

    // RemoveKey: the key stops working at once; removing it again is not_found.
    let removed = ok(&app, &admin, USERS, "RemoveKey", json!({"userId": user, "keyId": kid})).await;
    snap!("remove_key", removed);
    assert_eq!(grant_with(&app, &user, kid, key_pem).await, 400);
    let (status, body) = call(&app, &admin, USERS, "RemoveKey", json!({"userId": user, "keyId": kid})).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (404, "not_found"));
}

#[tokio::test]
async fn a_registered_public_key_returns_no_key_material_and_verifies_assertions() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "byok").await;
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let private_pem = private.to_pkcs1_pem(LineEnding::LF).unwrap();

    let added = ok(
        &app,
        &admin,
        USERS,
        "AddKey",
        json!({"userId": user, "publicKey": STANDARD.encode(public_pem.as_bytes()), "expirationDate": "2999-01-01T00:00:00+01:00"}),
    )
    .await;
    assert!(added.get("keyContent").is_none(), "no private key exists to return: {added}");
    let kid = added["keyId"].as_str().unwrap();
    assert_eq!(grant_with(&app, &user, kid, &private_pem).await, 200);
    let listed = ok(&app, &admin, USERS, "ListKeys", json!({"filters": [{"keyIdFilter": {"id": kid}}]})).await;
    assert_eq!(listed["result"][0]["expirationDate"], "2998-12-31T23:00:00Z");

    // Bad inputs are invalid_argument, and nothing is stored.
    for (body, why) in [
        (json!({"userId": user, "publicKey": "%%%"}), "not base64"),
        (json!({"userId": user, "publicKey": STANDARD.encode("hello")}), "not PEM"),
        (json!({"userId": user, "publicKey": STANDARD.encode(private_pem.as_bytes())}), "a private key"),
        (json!({"userId": user, "expirationDate": "2001-01-01T00:00:00Z"}), "expiration in the past"),
        (json!({}), "no user"),
    ] {
        let (status, res) = call(&app, &admin, USERS, "AddKey", body).await;
        assert_eq!((status, res["code"].as_str().unwrap()), (400, "invalid_argument"), "{why}: {res}");
        assert!(!res.to_string().contains("PRIVATE KEY-----\n"), "the input is not echoed: {res}");
    }
    let all = ok(&app, &admin, USERS, "ListKeys", json!({"filters": [{"userIdFilter": {"id": user}}]})).await;
    assert_eq!(all["pagination"]["totalResult"], "1");
}

/// `hasSecret` of `user`, checked to agree between `GetUserByID` and `ListUsers`.
async fn has_secret(app: &TestApp, admin: &str, user: &str) -> bool {
    let got = ok(app, admin, USERS, "GetUserByID", json!({"userId": user})).await;
    let listed = ok(app, admin, USERS, "ListUsers", json!({})).await;
    let row = listed["result"].as_array().unwrap().iter().find(|u| u["userId"] == user).unwrap();
    assert_eq!(got["user"]["machine"]["hasSecret"], row["machine"]["hasSecret"]);
    // proto3 JSON leaves `false` out.
    row["machine"].get("hasSecret").is_some_and(|v| v.as_bool().unwrap())
}

#[tokio::test]
async fn secrets_rotate_report_has_secret_and_stop_at_removal() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "secretive").await;
    assert!(!has_secret(&app, &admin, &user).await);

    let first = ok(&app, &admin, USERS, "AddSecret", json!({"userId": user})).await;
    snap!("add_secret", first.clone());
    let first = first["clientSecret"].as_str().unwrap().to_owned();
    assert!(first.starts_with("tsr_cs_"));
    assert!(has_secret(&app, &admin, &user).await);
    assert_eq!(client_credentials(&app, "secretive", &first).await, 200);

    // A new secret supersedes the old one (overlap 0: ZITADEL's behaviour).
    let (status, second) = rest(&app, &admin, reqwest::Method::POST, &format!("/v2/users/{user}/secret"), None).await;
    assert_eq!(status, 200, "{second}");
    let second = second["clientSecret"].as_str().unwrap().to_owned();
    assert_eq!(client_credentials(&app, "secretive", &first).await, 401);
    assert_eq!(client_credentials(&app, "secretive", &second).await, 200);

    let removed = ok(&app, &admin, USERS, "RemoveSecret", json!({"userId": user})).await;
    snap!("remove_secret", removed);
    assert_eq!(client_credentials(&app, "secretive", &second).await, 401);
    assert!(!has_secret(&app, &admin, &user).await);
    let (status, res) = rest(&app, &admin, reqwest::Method::DELETE, &format!("/v2/users/{user}/secret"), None).await;
    assert_eq!((status, res["code"].as_str().unwrap()), (400, "failed_precondition"), "{res}");
}

#[tokio::test]
async fn credentials_need_permission_and_a_machine_user() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let target = machine(&app, &org, "target").await;
    let outsider = machine(&app, &org, "outsider").await;
    let outsider_pat = ok(&app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": outsider})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let key = ok(&app, &admin, USERS, "AddKey", json!({"userId": target})).await;

    // No administrator role: every write is permission_denied, and the list
    // shows only the caller's own keys (none).
    for (method, body) in [
        ("AddKey", json!({"userId": target})),
        ("RemoveKey", json!({"userId": target, "keyId": key["keyId"]})),
        ("AddSecret", json!({"userId": target})),
        ("RemoveSecret", json!({"userId": target})),
    ] {
        let (status, res) = call(&app, &outsider_pat, USERS, method, body).await;
        assert_eq!((status, res["code"].as_str().unwrap()), (403, "permission_denied"), "{method}: {res}");
    }
    let listed = ok(&app, &outsider_pat, USERS, "ListKeys", json!({})).await;
    assert!(items(&listed, "result").is_empty(), "{listed}");
    // A machine user manages its own credentials (as in ZITADEL).
    let own = ok(&app, &outsider_pat, USERS, "AddSecret", json!({"userId": outsider})).await;
    assert!(own["clientSecret"].as_str().unwrap().starts_with("tsr_cs_"));

    // ORG_USER_MANAGER lacks user.credential.write (ZITADEL's role table);
    // ORG_OWNER has it.
    let grant = |role: &str| json!({"userId": outsider, "resource": {"organizationId": org}, "roles": [role]});
    ok(&app, &admin, ADMINS, "CreateAdministrator", grant("ORG_USER_MANAGER")).await;
    let (status, _) = call(&app, &outsider_pat, USERS, "AddSecret", json!({"userId": target})).await;
    assert_eq!(status, 403);
    ok(&app, &admin, ADMINS, "UpdateAdministrator", grant("ORG_OWNER")).await;
    ok(&app, &outsider_pat, USERS, "AddSecret", json!({"userId": target})).await;

    // Human users have no machine credentials.
    let human =
        ok(&app, &admin, USERS, "ListUsers", json!({"queries": [{"userNameQuery": {"userName": "admin"}}]})).await;
    let human_id = human["result"][0]["userId"].as_str().unwrap();
    for method in ["AddKey", "AddSecret"] {
        let (status, res) = call(&app, &admin, USERS, method, json!({"userId": human_id})).await;
        assert_eq!((status, res["code"].as_str().unwrap()), (400, "failed_precondition"), "{method}: {res}");
    }
}

/// docs/service-accounts.md: the shell example turns a key file into a token
/// with bash, jq, openssl and curl, and the token calls the API.
#[tokio::test]
#[ignore = "needs bash, jq, openssl and curl; cargo xtask ci runs it with --include-ignored"]
async fn the_quick_start_shell_example_gets_a_working_token() {
    let tools = ["bash", "jq", "openssl", "curl"];
    let missing: Vec<_> = tools
        .iter()
        .filter(|t| {
            !std::process::Command::new("sh")
                .args(["-c", &format!("command -v {t}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if !missing.is_empty() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs {missing:?} for the quick start test");
        eprintln!("skipping: {missing:?} not installed");
        return;
    }
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = machine(&app, &org, "quick-start").await;
    let key = ok(&app, &admin, USERS, "AddKey", json!({"userId": user})).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key.json");
    std::fs::write(&path, STANDARD.decode(key["keyContent"].as_str().unwrap()).unwrap()).unwrap();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/examples/token-from-key-file.sh");
    let out =
        tokio::process::Command::new("bash").arg(script).arg(&path).env("ISSUER", issuer(&app)).output().await.unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap();
    let (status, me) = call(&app, token, USERS, "GetUserByID", json!({"userId": user})).await;
    assert_eq!((status, me["user"]["username"].as_str()), (200, Some("quick-start")), "{me}");
}
