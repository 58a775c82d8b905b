//! Token introspection (RFC 7662) and revocation (RFC 7009) end to end: a
//! resource server holding an API application's secret or key file introspects
//! PATs, opaque and JWT access tokens; every bad token is exactly
//! `{"active": false}`; only client authentication failures are 401; changes
//! (revocation, removal, deactivation, authorization removal) show at the very
//! next call.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{APPS, AUTHZ, PROJECTS, USERS, add_pat, create_machine, default_org, ok};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::TestApp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn issuer(app: &TestApp) -> String {
    format!("http://localhost:{}", app.address.rsplit(':').next().unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The world a resource server lives in.
struct World {
    app: TestApp,
    admin: String,
    org: String,
    project: String,
    /// `client_secret_basic` application: (client id, secret).
    basic: (String, String),
    /// `private_key_jwt` application key file.
    key_file: Value,
    /// A machine user with the `reader` role on the project, and its key.
    user: String,
    user_key: (String, String),
    authorization: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let project = ok(&app, &admin, PROJECTS, "CreateProject", json!({"organizationId": org, "name": "Billing"})).await
        ["projectId"]
        .as_str()
        .unwrap()
        .to_owned();
    for role in ["reader", "writer"] {
        ok(
            &app,
            &admin,
            PROJECTS,
            "AddProjectRole",
            json!({"projectId": project, "roleKey": role, "displayName": role}),
        )
        .await;
    }
    let basic = ok(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "api", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}}),
    )
    .await;
    let basic = (
        basic["apiConfiguration"]["clientId"].as_str().unwrap().to_owned(),
        basic["apiConfiguration"]["clientSecret"].as_str().unwrap().to_owned(),
    );
    let jwt_app = ok(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "jwt-api", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}),
    )
    .await;
    let key = ok(
        &app,
        &admin,
        APPS,
        "CreateApplicationKey",
        json!({"applicationId": jwt_app["applicationId"], "projectId": project}),
    )
    .await;
    let key_file: Value =
        serde_json::from_slice(&STANDARD.decode(key["keyDetails"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(key_file["type"], "application");

    let user = create_machine(&app, &admin, &org, "worker").await;
    let authorization = ok(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": user, "projectId": project, "roleKeys": ["reader"]}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user_key = ok(&app, &admin, USERS, "AddKey", json!({"userId": user})).await;
    let file: Value =
        serde_json::from_slice(&STANDARD.decode(user_key["keyContent"].as_str().unwrap()).unwrap()).unwrap();
    let user_key = (file["keyId"].as_str().unwrap().to_owned(), file["key"].as_str().unwrap().to_owned());
    World { app, admin, org, project, basic, key_file, user, user_key, authorization }
}

impl World {
    /// A token for the machine user by the JWT Profile grant with `scope`.
    async fn token(&self, scope: &str) -> String {
        let (status, body) = self.grant(scope).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// The JWT Profile grant for the machine user: (status, body).
    async fn grant(&self, scope: &str) -> (u16, Value) {
        let claims =
            json!({"iss": self.user, "sub": self.user, "aud": issuer(&self.app), "iat": now(), "exp": now() + 300});
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.user_key.0.clone());
        let assertion =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(self.user_key.1.as_bytes()).unwrap())
                .unwrap();
        let res = self
            .app
            .client
            .post(self.app.url("/oauth/v2/token"))
            .form(&[("grant_type", JWT_BEARER), ("assertion", assertion.as_str()), ("scope", scope)])
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json::<Value>().await.unwrap())
    }

    /// A `private_key_jwt` client assertion of the key-file application.
    fn client_assertion(&self, edit: impl FnOnce(&mut Value)) -> String {
        let client = self.key_file["clientId"].as_str().unwrap();
        let mut claims =
            json!({"iss": client, "sub": client, "aud": issuer(&self.app), "iat": now(), "exp": now() + 60});
        edit(&mut claims);
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.key_file["keyId"].as_str().unwrap().to_owned());
        let key = EncodingKey::from_rsa_pem(self.key_file["key"].as_str().unwrap().as_bytes()).unwrap();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }

    /// Introspects with `client_secret_basic`: (status, WWW-Authenticate, body).
    async fn introspect(&self, form: &[(&str, &str)]) -> (u16, Option<String>, Value) {
        self.introspect_as(&self.basic.0, &self.basic.1, form).await
    }

    async fn introspect_as(&self, id: &str, secret: &str, form: &[(&str, &str)]) -> (u16, Option<String>, Value) {
        let req = self.app.client.post(self.app.url("/oauth/v2/introspect")).basic_auth(id, Some(secret)).form(form);
        send(req).await
    }

    /// Introspects with `private_key_jwt`.
    async fn introspect_with_key(&self, token: &str) -> (u16, Option<String>, Value) {
        let assertion = self.client_assertion(|_| {});
        let form = [("token", token), ("client_assertion_type", CLIENT_ASSERTION), ("client_assertion", &assertion)];
        send(self.app.client.post(self.app.url("/oauth/v2/introspect")).form(&form)).await
    }

    async fn active(&self, token: &str) -> bool {
        let (status, _, body) = self.introspect(&[("token", token)]).await;
        assert_eq!(status, 200, "{body}");
        if body["active"] == false {
            assert_eq!(body, json!({"active": false}), "an inactive answer carries nothing else");
        }
        body["active"] == true
    }
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    if status == 200 {
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    (status, challenge, res.json().await.unwrap_or(Value::Null))
}

fn scrub(w: &World, v: &Value) -> Value {
    let text = v
        .to_string()
        .replace(&issuer(&w.app), "[issuer]")
        .replace(&w.project, "[project]")
        .replace(&w.org, "[org]")
        .replace(&w.user, "[user]");
    common::redacted(&serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn pats_opaque_and_jwt_access_tokens_introspect_with_the_users_project_roles() {
    let w = world().await;
    let aud = format!("urn:zitadel:iam:org:project:id:{}:aud", w.project);

    // A PAT: any application of the instance may introspect it.
    let pat = add_pat(&w.app, &w.admin, &w.user, None).await;
    let (status, _, body) = w.introspect(&[("token", &pat)]).await;
    assert_eq!(status, 200, "{body}");
    insta::assert_json_snapshot!("introspect_pat", scrub(&w, &body));
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], w.user.as_str());
    assert_eq!(body["username"], "worker");
    let roles = json!({"reader": {w.org.clone(): "Tessera"}});
    assert_eq!(body["urn:zitadel:iam:org:project:roles"], roles, "{body}");
    assert_eq!(body[format!("urn:zitadel:iam:org:project:{}:roles", w.project)], roles);

    // An opaque access token with the project in its audience.
    let opaque = w.token(&format!("openid {aud}")).await;
    assert!(opaque.starts_with("tsr_at_"));
    let (_, _, body) = w.introspect(&[("token", &opaque), ("token_type_hint", "refresh_token")]).await;
    insta::assert_json_snapshot!("introspect_opaque", scrub(&w, &body));
    assert_eq!(body["active"], true, "a wrong hint still finds the token");
    // RFC 7662 §2.2 `client_id`: the JWT Profile's client is the user id (the
    // assertion's `sub`), as in ZITADEL, not the username.
    assert_eq!(body["client_id"], w.user.as_str());
    assert_eq!(body["urn:zitadel:iam:org:project:roles"], roles);

    // The same with private_key_jwt.
    let (status, _, by_key) = w.introspect_with_key(&opaque).await;
    assert_eq!((status, by_key["active"].clone()), (200, json!(true)), "{by_key}");

    // A token for another audience is not active for this project.
    let api_only = w.token("urn:zitadel:iam:org:project:id:zitadel:aud").await;
    assert!(!w.active(&api_only).await);
    // The answer says nothing more; the log says why and what to do.
    let hint = format!("request it with the scope urn:zitadel:iam:org:project:id:{}:aud", w.project);
    assert!(
        w.app.logs_once(|l| l.contains(&hint)).await.contains(&hint),
        "the inactive answer's reason is logged at info"
    );
    assert!(!w.app.logs().contains(&api_only), "the token is logged");

    // A JWT access token.
    ok(
        &w.app,
        &w.admin,
        USERS,
        "UpdateUser",
        json!({"userId": w.user, "machine": {"accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}}),
    )
    .await;
    let jwt = w.token(&format!("openid {aud}")).await;
    assert_eq!(jwt.split('.').count(), 3);
    let (_, _, body) = w.introspect(&[("token", &jwt), ("token_type_hint", "access_token")]).await;
    insta::assert_json_snapshot!("introspect_jwt", scrub(&w, &body));
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], w.user.as_str(), "the JWT Profile's client, from the JWT's client_id");
    assert_eq!(body["urn:zitadel:iam:org:project:roles"], roles);
    let (_, _, by_key) = w.introspect_with_key(&jwt).await;
    assert_eq!(by_key["active"], true);

    // Role changes show at the very next introspection; so does removal of the
    // authorization.
    ok(
        &w.app,
        &w.admin,
        AUTHZ,
        "UpdateAuthorization",
        json!({"id": w.authorization, "roleKeys": ["reader", "writer"]}),
    )
    .await;
    let (_, _, body) = w.introspect(&[("token", &pat)]).await;
    assert_eq!(body["urn:zitadel:iam:org:project:roles"].as_object().unwrap().len(), 2, "{body}");
    ok(&w.app, &w.admin, AUTHZ, "DeleteAuthorization", json!({"id": w.authorization})).await;
    let (_, _, body) = w.introspect(&[("token", &jwt)]).await;
    assert_eq!(body["active"], true, "the token itself is still good");
    assert!(body.get("urn:zitadel:iam:org:project:roles").is_none(), "but carries no roles: {body}");
}

/// RFC 7662 §2.2 `client_id` per grant, as in ZITADEL: client credentials
/// tokens name the username they authenticated with, opaque (stored with the
/// token) and JWT (its claim) alike; JWT Profile tokens name the user id.
/// A fine-grained PAT introspects with its permissions in `scope` and its
/// whole scope in `urn:tessera:pat_scope` (docs/pat-hygiene.md).
#[tokio::test]
async fn a_fine_grained_pat_introspects_with_its_scope() {
    let w = world().await;
    ok(
        &w.app,
        &w.admin,
        "zitadel.internal_permission.v2.InternalPermissionService",
        "CreateAdministrator",
        json!({"userId": w.user, "resource": {"organizationId": w.org}, "roles": ["ORG_OWNER_VIEWER"]}),
    )
    .await;
    let scope = json!({"organizationIds": [w.org], "permissions": ["user.read", "project.read"]});
    let added =
        ok(&w.app, &w.admin, USERS, "AddPersonalAccessToken", json!({"userId": w.user, "tesseraScope": scope})).await;
    let (status, _, body) = w.introspect(&[("token", added["token"].as_str().unwrap())]).await;
    assert_eq!(status, 200, "{body}");
    insta::assert_json_snapshot!("introspect_fine_grained_pat", scrub(&w, &body));
    let scopes = body["scope"].as_str().unwrap();
    assert!(
        scopes.contains("urn:tessera:permission:user.read") && scopes.contains("urn:tessera:permission:project.read")
    );
    assert_eq!(body["urn:tessera:pat_scope"]["organizationIds"], json!([w.org]));
}

#[tokio::test]
async fn introspection_names_the_client_of_each_grant() {
    let w = world().await;
    let aud = format!("urn:zitadel:iam:org:project:id:{}:aud", w.project);
    let secret = ok(&w.app, &w.admin, USERS, "AddSecret", json!({"userId": w.user})).await["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let client_credentials = || async {
        let form = [("grant_type", "client_credentials"), ("scope", aud.as_str())];
        let req = w.app.client.post(w.app.url("/oauth/v2/token")).basic_auth("worker", Some(&secret)).form(&form);
        let (status, _, body) = send(req).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_owned()
    };

    for token_type in ["ACCESS_TOKEN_TYPE_BEARER", "ACCESS_TOKEN_TYPE_JWT"] {
        ok(
            &w.app,
            &w.admin,
            USERS,
            "UpdateUser",
            json!({"userId": w.user, "machine": {"accessTokenType": token_type}}),
        )
        .await;
        let by_secret = client_credentials().await;
        let by_key = w.token(&aud).await;
        assert_eq!(by_secret.starts_with("tsr_at_"), token_type.ends_with("BEARER"), "{token_type}");

        let (_, _, body) = w.introspect(&[("token", &by_secret)]).await;
        assert_eq!((body["active"].clone(), body["client_id"].clone()), (json!(true), json!("worker")), "{body}");
        assert_eq!(body["aud"], json!([w.project]));
        let (_, _, body) = w.introspect(&[("token", &by_key)]).await;
        assert_eq!((body["active"].clone(), body["client_id"].clone()), (json!(true), json!(w.user)), "{body}");
        assert_eq!(body["sub"], body["client_id"], "the JWT Profile's client is its subject");
    }
}

/// RFC 7662 §2.2: everything bad about a token is `200 {"active": false}`, and
/// nothing else; a change is seen by the very next introspection.
#[tokio::test]
async fn bad_foreign_revoked_and_suspended_tokens_are_inactive_and_nothing_more() {
    let w = world().await;
    let aud = format!("urn:zitadel:iam:org:project:id:{}:aud", w.project);
    let pat = add_pat(&w.app, &w.admin, &w.user, None).await;
    let opaque = w.token(&aud).await;
    assert!(w.active(&pat).await && w.active(&opaque).await);

    // The last character changes, whatever it was (a fixed `x` left one token
    // in 62 untouched, and CI once drew it).
    let (head, last) = opaque.split_at(opaque.len() - 1);
    let tampered = format!("{head}{}", if last == "x" { "y" } else { "x" });
    assert_ne!(tampered, opaque);
    for junk in
        ["", "garbage", "tsr_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &tampered, "a.b.c", &w.basic.1]
    {
        if junk.is_empty() {
            // A missing token is a malformed request, not an inactive token.
            let (status, _, body) = w.introspect(&[("token_type_hint", "access_token")]).await;
            assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
            continue;
        }
        assert!(!w.active(junk).await, "{junk:.12}");
    }

    // Removing the PAT and deactivating the user take effect at once.
    let listed = ok(&w.app, &w.admin, USERS, "ListPersonalAccessTokens", json!({})).await;
    let token_id =
        listed["result"].as_array().unwrap().iter().find(|t| t["userId"] == w.user.as_str()).unwrap()["id"].clone();
    ok(&w.app, &w.admin, USERS, "RemovePersonalAccessToken", json!({"userId": w.user, "tokenId": token_id})).await;
    assert!(!w.active(&pat).await);
    ok(&w.app, &w.admin, USERS, "DeactivateUser", json!({"userId": w.user})).await;
    assert!(!w.active(&opaque).await);
    ok(&w.app, &w.admin, USERS, "ReactivateUser", json!({"userId": w.user})).await;
    assert!(w.active(&opaque).await, "reactivation restores unexpired tokens");

    // A deactivated project's applications cannot introspect at all.
    ok(&w.app, &w.admin, PROJECTS, "DeactivateProject", json!({"projectId": w.project})).await;
    let (status, challenge, body) = w.introspect(&[("token", &opaque)]).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
    assert!(challenge.is_some());
}

/// RFC 7662 §2.1: the caller must authenticate; only that is 401.
#[tokio::test]
async fn client_authentication_failures_are_401_invalid_client() {
    let w = world().await;
    let pat = add_pat(&w.app, &w.admin, &w.user, None).await;
    let post = |form: Vec<(&'static str, String)>| {
        let req = w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&form);
        send(req)
    };
    let expired = w.client_assertion(|c| c["exp"] = json!(now() - 120));
    let wrong_aud = w.client_assertion(|c| c["aud"] = json!("https://elsewhere.example"));
    let replayed = w.client_assertion(|c| c["jti"] = json!("once"));
    let (status, _, _) = post(vec![
        ("token", pat.clone()),
        ("client_assertion_type", CLIENT_ASSERTION.into()),
        ("client_assertion", replayed.clone()),
    ])
    .await;
    assert_eq!(status, 200, "the first use of a jti is fine");

    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        ("no authentication", w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&[("token", &pat)])),
        (
            "wrong secret",
            w.app
                .client
                .post(w.app.url("/oauth/v2/introspect"))
                .basic_auth(&w.basic.0, Some("tsr_cs_nope"))
                .form(&[("token", &pat)]),
        ),
        (
            "unknown client",
            w.app
                .client
                .post(w.app.url("/oauth/v2/introspect"))
                .basic_auth("nobody", Some(&w.basic.1))
                .form(&[("token", &pat)]),
        ),
        (
            "secret in the body",
            w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&[
                ("token", pat.as_str()),
                ("client_id", &w.basic.0),
                ("client_secret", &w.basic.1),
            ]),
        ),
        ("machine user secret", {
            let secret = ok(&w.app, &w.admin, USERS, "AddSecret", json!({"userId": w.user})).await["clientSecret"]
                .as_str()
                .unwrap()
                .to_owned();
            w.app
                .client
                .post(w.app.url("/oauth/v2/introspect"))
                .basic_auth("worker", Some(secret))
                .form(&[("token", &pat)])
        }),
        (
            "expired assertion",
            w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&[
                ("token", pat.as_str()),
                ("client_assertion_type", CLIENT_ASSERTION),
                ("client_assertion", &expired),
            ]),
        ),
        (
            "assertion for another audience",
            w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&[
                ("token", pat.as_str()),
                ("client_assertion_type", CLIENT_ASSERTION),
                ("client_assertion", &wrong_aud),
            ]),
        ),
        (
            "replayed jti",
            w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&[
                ("token", pat.as_str()),
                ("client_assertion_type", CLIENT_ASSERTION),
                ("client_assertion", &replayed),
            ]),
        ),
        (
            "wrong assertion type",
            w.app.client.post(w.app.url("/oauth/v2/introspect")).form(&[
                ("token", pat.as_str()),
                ("client_assertion_type", "urn:example:other"),
                ("client_assertion", &w.client_assertion(|_| {})),
            ]),
        ),
    ];
    let mut descriptions = serde_json::Map::new();
    for (case, req) in cases {
        let before = w.app.logs().matches("OAuth request refused").count();
        let (status, challenge, body) = send(req).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{case}: {body}");
        assert!(challenge.is_some(), "{case}: RFC 6749 §5.2 wants a WWW-Authenticate challenge");
        if case == "no authentication" {
            insta::assert_json_snapshot!("introspect_unauthenticated", body);
        }
        let logs = w.app.logs_once(|l| l.matches("OAuth request refused").count() > before).await;
        assert_eq!(logs.matches("OAuth request refused").count(), before + 1, "{case}: one log line");
        descriptions.insert(case.to_owned(), body["error_description"].clone());
    }
    // Assertion rules are named where that leaks nothing; a wrong secret or
    // an unknown client is not told apart from other failures.
    let descriptions = serde_json::to_string_pretty(&descriptions).unwrap().replace(&issuer(&w.app), "[issuer]");
    insta::assert_snapshot!("introspect_client_refusal_descriptions", descriptions);

    // Form rules: a duplicated token is invalid_request; GET is refused.
    let (status, _, body) = send(
        w.app
            .client
            .post(w.app.url("/oauth/v2/introspect"))
            .basic_auth(&w.basic.0, Some(&w.basic.1))
            .body(format!("token={pat}&token={pat}"))
            .header("content-type", "application/x-www-form-urlencoded"),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")), "{body}");
    let res = w
        .app
        .client
        .get(w.app.url(&format!("/oauth/v2/introspect?token={pat}")))
        .basic_auth(&w.basic.0, Some(&w.basic.1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

/// RFC 7009: a client revokes the tokens issued to it; 200 also for unknown
/// tokens; another client's token and PATs are left alone.
#[tokio::test]
async fn revocation_ends_a_token_everywhere_at_once() {
    let w = world().await;
    let aud = format!("urn:zitadel:iam:org:project:id:{}:aud", w.project);
    let api = "urn:zitadel:iam:org:project:id:zitadel:aud";
    let secret = ok(&w.app, &w.admin, USERS, "AddSecret", json!({"userId": w.user})).await["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = |id: String, secret: String, token: String| {
        let req =
            w.app.client.post(w.app.url("/oauth/v2/revoke")).basic_auth(id, Some(secret)).form(&[("token", token)]);
        send(req)
    };

    // The machine user revokes its own opaque token: gone from API and introspection.
    let opaque = w.token(&format!("{aud} {api}")).await;
    assert_eq!(api::call(&w.app, &opaque, USERS, "GetUserByID", json!({"userId": w.user})).await.0, 200);
    let (status, _, body) = revoke("worker".into(), secret.clone(), opaque.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(!w.active(&opaque).await);
    assert_eq!(api::call(&w.app, &opaque, USERS, "GetUserByID", json!({"userId": w.user})).await.0, 401);
    // Again, and an unknown token: still 200.
    assert_eq!(revoke("worker".into(), secret.clone(), opaque.clone()).await.0, 200);
    assert_eq!(revoke("worker".into(), secret.clone(), "garbage".into()).await.0, 200);

    // Another client cannot revoke it.
    let other = create_machine(&w.app, &w.admin, &w.org, "other").await;
    let other_secret = ok(&w.app, &w.admin, USERS, "AddSecret", json!({"userId": other})).await["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine = w.token(&aud).await;
    assert_eq!(revoke("other".into(), other_secret, mine.clone()).await.0, 200);
    assert!(w.active(&mine).await, "a foreign client's revocation has no effect");
    // Nor can a machine whose username is the user id that names this token's client.
    let impostor = create_machine(&w.app, &w.admin, &w.org, &w.user).await;
    let impostor_secret = ok(&w.app, &w.admin, USERS, "AddSecret", json!({"userId": impostor})).await["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(revoke(w.user.clone(), impostor_secret, mine.clone()).await.0, 200);
    assert!(w.active(&mine).await, "a username equal to another user's id names another client");

    // The resource server (the project's application) may revoke tokens meant for it.
    assert_eq!(revoke(w.basic.0.clone(), w.basic.1.clone(), mine.clone()).await.0, 200);
    assert!(!w.active(&mine).await);

    // JWT access tokens are revoked by jti.
    ok(
        &w.app,
        &w.admin,
        USERS,
        "UpdateUser",
        json!({"userId": w.user, "machine": {"accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}}),
    )
    .await;
    let jwt = w.token(&format!("{aud} {api}")).await;
    assert!(w.active(&jwt).await);
    let form = [("token", jwt.as_str()), ("client_id", "worker"), ("client_secret", secret.as_str())];
    let (status, _, _) = send(w.app.client.post(w.app.url("/oauth/v2/revoke")).form(&form)).await;
    assert_eq!(status, 200, "client_secret_post works here");
    assert!(!w.active(&jwt).await);
    assert_eq!(api::call(&w.app, &jwt, USERS, "GetUserByID", json!({"userId": w.user})).await.0, 401);
    let res = w.app.client.get(w.app.url("/oidc/v1/userinfo")).bearer_auth(&jwt).send().await.unwrap();
    assert_eq!(res.status(), 401);

    // PATs are removed through the API, not here.
    let pat = add_pat(&w.app, &w.admin, &w.user, None).await;
    assert_eq!(revoke("worker".into(), secret.clone(), pat.clone()).await.0, 200);
    assert!(w.active(&pat).await);

    // Bad client credentials are 401.
    let (status, challenge, body) = revoke("worker".into(), "tsr_cs_wrong".into(), pat).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    assert!(challenge.is_some());
}

/// ZITADEL's project scopes at the token endpoint: a project audience must name
/// an active project, a role scope a role the user holds (RFC 6749 §3.3:
/// `invalid_scope` otherwise); role claims reach ID tokens and userinfo.
#[tokio::test]
async fn project_and_role_scopes_are_checked_and_fill_the_role_claims() {
    let w = world().await;
    let aud = format!("urn:zitadel:iam:org:project:id:{}:aud", w.project);
    for scope in [
        "urn:zitadel:iam:org:project:id:0190f0f0-0000-7000-8000-000000000000:aud".to_owned(),
        "urn:zitadel:iam:org:project:id:not-a-project:aud".to_owned(),
        format!("{aud} urn:zitadel:iam:org:project:role:writer"),
    ] {
        let (status, body) = w.grant(&scope).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{scope}: {body}");
    }

    let (status, body) = w.grant(&format!("openid {aud} urn:zitadel:iam:org:projects:roles")).await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(id_token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    let roles = json!({"reader": {w.org.clone(): "Tessera"}});
    assert_eq!(claims["urn:zitadel:iam:org:project:roles"], roles, "{claims}");
    assert_eq!(claims[format!("urn:zitadel:iam:org:project:{}:roles", w.project)], roles);
    let access = body["access_token"].as_str().unwrap();
    let info: Value = w
        .app
        .client
        .get(w.app.url("/oidc/v1/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["urn:zitadel:iam:org:project:roles"], roles, "{info}");

    let (status, body) = w.grant(&format!("openid {aud} urn:zitadel:iam:org:project:role:reader")).await;
    assert_eq!(status, 200, "a role the user holds: {body}");

    // A deactivated project is no audience.
    ok(&w.app, &w.admin, PROJECTS, "DeactivateProject", json!({"projectId": w.project})).await;
    let (status, body) = w.grant(&aud).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{body}");
}
