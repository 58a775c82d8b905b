//! Helpers for end-to-end API tests: Connect calls with a bearer token,
//! snapshots with ids, dates and tokens redacted, and the set-up steps many
//! tests share. Include with `#[path = "common/api.rs"] mod api;` beside
//! `mod common;`.

#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test support: a failed step must fail the test")]

use serde_json::{Value, json};

use crate::common::TestApp;

/// `zitadel.user.v2.UserService`.
pub const USERS: &str = "zitadel.user.v2.UserService";
/// `zitadel.org.v2.OrganizationService`.
pub const ORGS: &str = "zitadel.org.v2.OrganizationService";
/// `zitadel.internal_permission.v2.InternalPermissionService`.
pub const ADMINS: &str = "zitadel.internal_permission.v2.InternalPermissionService";
/// `zitadel.project.v2.ProjectService`.
pub const PROJECTS: &str = "zitadel.project.v2.ProjectService";
/// `zitadel.application.v2.ApplicationService`.
pub const APPS: &str = "zitadel.application.v2.ApplicationService";
/// `zitadel.authorization.v2.AuthorizationService`.
pub const AUTHZ: &str = "zitadel.authorization.v2.AuthorizationService";
/// `tessera.policy.v1.PolicyService`.
pub const POLICY: &str = "tessera.policy.v1.PolicyService";

/// The list under `key` of an answer; proto3 JSON (and ZITADEL) leave an
/// empty list out, so a missing one is empty.
pub fn items<'a>(answer: &'a Value, key: &str) -> &'a [Value] {
    answer.get(key).map_or(&[][..], |v| v.as_array().expect("a list"))
}

/// Calls a Connect method with `token`; returns (status, body).
pub async fn call(app: &TestApp, token: &str, service: &str, method: &str, body: Value) -> (u16, Value) {
    let res =
        app.client.post(app.url(&format!("/{service}/{method}"))).bearer_auth(token).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Calls a method that must succeed; returns the body.
pub async fn ok(app: &TestApp, token: &str, service: &str, method: &str, body: Value) -> Value {
    let (status, body) = call(app, token, service, method, body).await;
    assert_eq!(status, 200, "{service}/{method}: {body}");
    body
}

/// Calls a REST path; returns (status, body).
pub async fn rest(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Snapshot settings: every id, date and token is redacted by field name,
/// wherever it is, with the placeholders of `common::redacted` (`[uuid]`,
/// `[timestamp]`, `[tsr_pat]`). A field left out here that holds a random value
/// makes the snapshot differ on every run, so an omission cannot go unnoticed.
pub fn redacted() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for key in ["id", "userId", "organizationId", "resourceOwner", "tokenId", "keyId"] {
        settings.add_redaction(&format!(".**.{key}"), "[uuid]");
    }
    for key in ["changeDate", "creationDate", "deletionDate", "timestamp", "expirationDate", "setDate"] {
        settings.add_redaction(&format!(".**.{key}"), "[timestamp]");
    }
    settings.add_redaction(".**.token", "[tsr_pat]");
    settings.add_redaction(".**.clientSecret", "[tsr_cs]");
    settings.add_redaction(".**.keyContent", "[key file]");
    settings
}

/// `insta::assert_json_snapshot!` under [`redacted`] settings.
#[allow(unused_macros, reason = "each test binary uses a different subset")]
macro_rules! snap {
    ($name:expr, $value:expr) => {
        $crate::api::redacted().bind(|| insta::assert_json_snapshot!($name, $value))
    };
}
#[allow(unused_imports, reason = "each test binary uses a different subset")]
pub(crate) use snap;

/// The instance's default organization.
pub async fn default_org(app: &TestApp, token: &str) -> String {
    let body = ok(app, token, ORGS, "ListOrganizations", json!({"queries": [{"defaultQuery": {}}]})).await;
    body["result"][0]["id"].as_str().unwrap().to_owned()
}

/// Creates a machine user; returns its id.
pub async fn create_machine(app: &TestApp, token: &str, org: &str, username: &str) -> String {
    let body = ok(
        app,
        token,
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": username, "machine": {"name": username}}),
    )
    .await;
    body["id"].as_str().unwrap().to_owned()
}

/// Creates an organization; returns its id.
pub async fn create_org(app: &TestApp, token: &str, name: &str) -> String {
    let body = ok(app, token, ORGS, "AddOrganization", json!({"name": name})).await;
    body["organizationId"].as_str().unwrap().to_owned()
}

/// Issues a PAT (optionally expiring at `expires`); returns the token.
pub async fn add_pat(app: &TestApp, token: &str, user: &str, expires: Option<String>) -> String {
    let mut body = json!({"userId": user});
    if let Some(e) = expires {
        body["expirationDate"] = Value::String(e);
    }
    let body = ok(app, token, USERS, "AddPersonalAccessToken", body).await;
    body["token"].as_str().unwrap().to_owned()
}

/// Gives `user` roles on `resource` (`{"instance": true}` or `{"organizationId": …}`).
pub async fn grant(app: &TestApp, token: &str, user: &str, resource: Value, roles: &[&str]) {
    ok(app, token, ADMINS, "CreateAdministrator", json!({"userId": user, "resource": resource, "roles": roles})).await;
}

/// An RFC 3339 time `secs` seconds from now, as the Python SDK writes it.
pub fn in_seconds(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

/// An RFC 3339 time `days` days from now.
pub fn in_days(days: i64) -> String {
    in_seconds(days * 86_400)
}

/// The status a token gets on a cheap authenticated call (ListUsers).
pub async fn status_of(app: &TestApp, token: &str) -> u16 {
    call(app, token, USERS, "ListUsers", json!({"query": {"limit": 1}})).await.0
}

/// A machine user whose access tokens are JWTs, with a generated key file.
pub struct KeyedMachine {
    /// The user's id (the key file's `userId`).
    pub user: String,
    /// The key file's `keyId`.
    pub key_id: String,
    /// The key file's private key, PEM.
    pub pem: String,
}

/// Creates `username` in the default organization, with JWT access tokens
/// and a key from `AddKey`.
pub async fn jwt_machine(app: &TestApp, token: &str, username: &str) -> KeyedMachine {
    use base64::Engine as _;
    let org = default_org(app, token).await;
    let body = json!({"organizationId": org, "username": username, "machine": {"name": username, "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}});
    let user = ok(app, token, USERS, "CreateUser", body).await["id"].as_str().unwrap().to_owned();
    let added = ok(app, token, USERS, "AddKey", json!({"userId": user})).await;
    let raw = base64::engine::general_purpose::STANDARD.decode(added["keyContent"].as_str().unwrap()).unwrap();
    let file: Value = serde_json::from_slice(&raw).unwrap();
    KeyedMachine {
        user,
        key_id: file["keyId"].as_str().unwrap().to_owned(),
        pem: file["key"].as_str().unwrap().to_owned(),
    }
}

impl KeyedMachine {
    /// A jwt-bearer grant (scope `openid`) with an RS256 assertion issued at
    /// `now` (Unix seconds, the server's time); the token endpoint's answer,
    /// which must be 200.
    pub async fn grant(&self, app: &TestApp, now: i64) -> Value {
        let aud = format!("http://localhost:{}", app.address.rsplit(':').next().unwrap());
        let claims = json!({"iss": self.user, "sub": self.user, "aud": aud, "iat": now, "exp": now + 60});
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(self.key_id.clone());
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(self.pem.as_bytes()).unwrap();
        let assertion = jsonwebtoken::encode(&header, &claims, &key).unwrap();
        let res = app
            .client
            .post(app.url("/oauth/v2/token"))
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion.as_str()),
                ("scope", "openid"),
            ])
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        body
    }
}
