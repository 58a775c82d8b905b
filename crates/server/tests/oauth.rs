//! The OAuth endpoints end to end (issue #4): discovery, JWKS, the JWT Profile
//! grant with its negative matrix (RFC 7523 §3, RFC 8725), client credentials
//! (RFC 6749 §4.4), the access token types, the API audience rule, userinfo,
//! and the user-state rules (ZITADEL CVE-2024-47000).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{USERS, ok};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Spawn, TestApp, connect};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const API_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";

/// A machine user with a registered key.
struct Machine {
    user_id: String,
    key_id: String,
    key_pem: String,
}

/// Creates a machine user (with `token_type`) and registers a generated key.
async fn machine(app: &TestApp, username: &str, token_type: &str) -> Machine {
    let admin = app.admin_pat();
    let org = api::default_org(app, &admin).await;
    let created = ok(
        app,
        &admin,
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": username, "machine": {"name": username, "accessTokenType": token_type}}),
    )
    .await;
    let user_id = created["id"].as_str().unwrap().to_owned();
    let key = ok(app, &admin, USERS, "AddKey", json!({"userId": user_id})).await;
    let file: Value = serde_json::from_slice(&STANDARD.decode(key["keyContent"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(file["type"], "serviceaccount");
    assert_eq!(file["userId"], user_id.as_str());
    Machine {
        user_id,
        key_id: file["keyId"].as_str().unwrap().to_owned(),
        key_pem: file["key"].as_str().unwrap().to_owned(),
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A valid assertion for `m`, with `edit` applied to the claims.
fn assertion(app: &TestApp, m: &Machine, edit: impl FnOnce(&mut Value)) -> String {
    let mut claims = json!({"iss": m.user_id, "sub": m.user_id, "aud": issuer(app), "iat": now(), "exp": now() + 300});
    edit(&mut claims);
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(m.key_id.clone());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(m.key_pem.as_bytes()).unwrap()).unwrap()
}

/// The issuer: what the server printed as its external URL.
fn issuer(app: &TestApp) -> String {
    let port = app.address.rsplit(':').next().unwrap();
    format!("http://localhost:{port}")
}

/// Posts a form to the token endpoint; returns (status, WWW-Authenticate, body).
async fn token(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Option<String>, Value) {
    let mut req = app.client.post(app.url("/oauth/v2/token")).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let challenge = res.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    if status == 200 {
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert_eq!(res.headers()["pragma"], "no-cache");
    }
    (status, challenge, res.json().await.unwrap_or(Value::Null))
}

async fn jwt_grant(app: &TestApp, assertion: &str, scope: &str) -> (u16, Value) {
    let (status, _, body) = token(
        app,
        &[("grant_type", JWT_BEARER), ("assertion", assertion), ("scope", scope), ("client_id", "None")],
        None,
    )
    .await;
    (status, body)
}

/// Whether `token` may call the management API (GetUserByID on its user).
async fn api_works(app: &TestApp, token: &str, user: &str) -> bool {
    let (status, _, body) = connect(app, Some(token), USERS, "GetUserByID", json!({"userId": user})).await;
    assert!(status == 200 || status == 401, "{status}: {body}");
    status == 200
}

/// Userinfo with `token`: (status, body).
async fn userinfo(app: &TestApp, token: &str) -> (u16, Value) {
    let res = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth(token).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Replaces the issuer (its port varies) and random values for snapshots.
fn scrub(app: &TestApp, v: &Value) -> Value {
    let text = v.to_string().replace(&issuer(app), "[issuer]");
    common::redacted(&serde_json::from_str(&text).unwrap())
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_server() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["issuer"], issuer(&app).as_str(), "OIDC Discovery §4.3: the issuer is the URL it was fetched from");
    insta::assert_json_snapshot!("discovery", scrub(&app, &doc));

    let res = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap();
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age="));
    let jwks: Value = res.json().await.unwrap();
    let mut shape = jwks.clone();
    for key in shape["keys"].as_array_mut().unwrap() {
        key["kid"] = json!("[kid]");
        key["n"] = json!("[modulus]");
    }
    insta::assert_json_snapshot!("jwks", shape);
}

#[tokio::test]
async fn jwt_profile_issues_opaque_tokens_that_call_the_api() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;

    let (status, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), &format!("openid profile {API_AUD}")).await;
    assert_eq!(status, 200, "{body}");
    insta::assert_json_snapshot!("token_response_opaque", scrub(&app, &body));
    let at = body["access_token"].as_str().unwrap();
    assert!(at.starts_with("tsr_at_"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 43_200);
    assert!(body["id_token"].is_string());
    assert!(api_works(&app, at, &m.user_id).await, "the API audience lets it call the API");

    let (status, info) = userinfo(&app, at).await;
    assert_eq!(status, 200);
    insta::assert_json_snapshot!("userinfo_machine", scrub(&app, &info));
    assert_eq!(info["sub"], m.user_id.as_str());
    assert_eq!(info["preferred_username"], "robot");

    // Without the API audience the token is good for userinfo but not the API.
    let (_, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), "openid").await;
    let at = body["access_token"].as_str().unwrap();
    assert!(!api_works(&app, at, &m.user_id).await);
    assert_eq!(userinfo(&app, at).await.0, 200);
}

#[tokio::test]
async fn jwt_access_tokens_verify_against_the_jwks_and_still_check_the_user() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "jwt-robot", "ACCESS_TOKEN_TYPE_JWT").await;
    let (status, body) =
        jwt_grant(&app, &assertion(&app, &m, |_| {}), &format!("{API_AUD} urn:zitadel:iam:user:resourceowner")).await;
    assert_eq!(status, 200, "{body}");
    let at = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(at.split('.').count(), 3, "a JWT");

    // Verify with the published JWKS.
    let jwks: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
    let header = jsonwebtoken::decode_header(&at).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid in every JWT");
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid is published");
    let key =
        jsonwebtoken::DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer(&app)]);
    validation.set_audience(&[&first_audience(&at)]);
    let claims = jsonwebtoken::decode::<Value>(&at, &key, &validation).unwrap().claims;
    for claim in ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"] {
        assert!(claims.get(claim).is_some(), "{claim} missing from {claims}");
    }
    assert_eq!(claims["sub"], m.user_id.as_str());
    assert_eq!(claims["client_id"], m.user_id.as_str(), "the JWT Profile's client is the user id, as in ZITADEL");
    assert!(claims["urn:zitadel:iam:user:resourceowner:id"].is_string());

    assert!(api_works(&app, &at, &m.user_id).await);
    // A JWT is not trusted on its signature alone: suspending the user ends it.
    ok(&app, &app.admin_pat(), USERS, "LockUser", json!({"userId": m.user_id})).await;
    assert!(!api_works(&app, &at, &m.user_id).await);
    assert_eq!(userinfo(&app, &at).await.0, 401);
}

/// The claims of a JWT signed by one of the keys the JWKS publishes, verified
/// as a relying party does: signature, `iss`, and `aud` containing `client_id`.
async fn verified_claims(app: &TestApp, jwt: &str, client_id: &str) -> Value {
    let jwks: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
    let kid = jsonwebtoken::decode_header(jwt).unwrap().kid.expect("kid in every JWT");
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).expect("kid is published");
    let key =
        jsonwebtoken::DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer(app)]);
    validation.set_audience(&[client_id]);
    jsonwebtoken::decode::<Value>(jwt, &key, &validation).unwrap_or_else(|e| panic!("{e}: {jwt}")).claims
}

/// OIDC Core §2 / §3.1.3.7 items 3–5 and RFC 7523 §3: the client of a JWT
/// Profile grant is the user id (the key file's `userId`, the assertion's
/// `sub`), the only id a relying party configured from the key file has. So
/// the ID token's `aud` contains it, `azp` is it (a relying party such as
/// openid-client refuses the token otherwise), and so is the JWT access
/// token's `client_id`.
#[tokio::test]
async fn a_jwt_profile_id_token_is_for_the_user_id_as_client() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "jwt-robot", "ACCESS_TOKEN_TYPE_JWT").await;
    let (status, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), &format!("openid {API_AUD}")).await;
    assert_eq!(status, 200, "{body}");

    let id_token = verified_claims(&app, body["id_token"].as_str().unwrap(), &m.user_id).await;
    assert_eq!(id_token["aud"][0], m.user_id.as_str(), "{id_token}");
    assert_eq!(id_token["aud"].as_array().unwrap().len(), 2, "the client and the API: {id_token}");
    assert_eq!(id_token["azp"], m.user_id.as_str(), "OIDC Core §2: azp is the client when aud has several values");
    assert_eq!(id_token["client_id"], m.user_id.as_str());
    assert_eq!(id_token["sub"], m.user_id.as_str());
    assert!(!id_token.to_string().contains("\"jwt-robot\""), "the username names no client here: {id_token}");

    let access = body["access_token"].as_str().unwrap();
    let claims = verified_claims(&app, access, &first_audience(access)).await;
    assert_eq!(claims["client_id"], m.user_id.as_str());

    // Without a requested audience the access token is meant for its client: the user id.
    let (_, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), "openid").await;
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(verified_claims(&app, access, &m.user_id).await["aud"], json!([m.user_id]));
    let id_token = verified_claims(&app, body["id_token"].as_str().unwrap(), &m.user_id).await;
    assert_eq!((id_token["aud"].clone(), id_token["azp"].clone()), (json!([m.user_id]), json!(m.user_id)));
}

/// Client credentials keep ZITADEL's client: the username the secret was
/// presented with (RFC 6749 §2.3.1), in the ID token and the JWT access token.
#[tokio::test]
async fn a_client_credentials_id_token_is_for_the_username_as_client() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "jwt-robot", "ACCESS_TOKEN_TYPE_JWT").await;
    let secret = ok(&app, &app.admin_pat(), USERS, "AddSecret", json!({"userId": m.user_id})).await;
    let secret = secret["clientSecret"].as_str().unwrap().to_owned();
    let scope = format!("openid {API_AUD}");
    let (status, _, body) =
        token(&app, &[("grant_type", "client_credentials"), ("scope", &scope)], Some(("jwt-robot", &secret))).await;
    assert_eq!(status, 200, "{body}");

    let id_token = verified_claims(&app, body["id_token"].as_str().unwrap(), "jwt-robot").await;
    assert_eq!(id_token["aud"][0], "jwt-robot", "{id_token}");
    assert_eq!(id_token["azp"], "jwt-robot");
    assert_eq!(id_token["client_id"], "jwt-robot");
    assert_eq!(id_token["sub"], m.user_id.as_str());
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(verified_claims(&app, access, &first_audience(access)).await["client_id"], "jwt-robot");
}

/// The first audience of a JWT (the API audience: the instance id).
fn first_audience(jwt: &str) -> String {
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["aud"][0].as_str().unwrap().to_owned()
}

/// RFC 7523 §3 and RFC 8725: every rule refuses with `invalid_grant`, and the
/// description never repeats the assertion.
#[tokio::test]
async fn the_assertion_negative_matrix() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let other = machine(&app, "other", "ACCESS_TOKEN_TYPE_BEARER").await;
    let iss = issuer(&app);
    let sign_with =
        |header: Header, claims: &Value, key: &EncodingKey| jsonwebtoken::encode(&header, claims, key).unwrap();
    let rsa = EncodingKey::from_rsa_pem(m.key_pem.as_bytes()).unwrap();
    let kid_header = |alg| {
        let mut h = Header::new(alg);
        h.kid = Some(m.key_id.clone());
        h
    };
    let base = json!({"iss": m.user_id, "sub": m.user_id, "aud": iss, "iat": now(), "exp": now() + 300});
    let unsigned = {
        let h = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": m.key_id}).to_string());
        let c = URL_SAFE_NO_PAD.encode(base.to_string());
        format!("{h}.{c}.")
    };
    // HS256 keyed with the public key (SPKI PEM, as stored): the classic
    // algorithm confusion attack (RFC 8725 §2.1).
    let public_pem = {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::pkcs8::EncodePublicKey as _;
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&m.key_pem).unwrap();
        private.to_public_key().to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap()
    };
    let hmac = sign_with(kid_header(Algorithm::HS256), &base, &EncodingKey::from_secret(public_pem.as_bytes()));
    let tampered = {
        let good = assertion(&app, &m, |_| {});
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
        claims["exp"] = json!(now() + 100_000);
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        parts.join(".")
    };
    let with_jku = {
        let mut h = kid_header(Algorithm::RS256);
        h.jku = Some("https://attacker.example/jwks.json".into());
        let other_key = EncodingKey::from_rsa_pem(other.key_pem.as_bytes()).unwrap();
        sign_with(h, &base, &other_key)
    };
    let cases: Vec<(&str, String)> = vec![
        ("wrong audience", assertion(&app, &m, |c| c["aud"] = json!("https://elsewhere.example"))),
        ("audience with a trailing slash", assertion(&app, &m, |c| c["aud"] = json!(format!("{iss}/")))),
        ("expired", assertion(&app, &m, |c| c["exp"] = json!(now() - 60))),
        ("no exp", assertion(&app, &m, |c| drop(c.as_object_mut().unwrap().remove("exp")))),
        ("no iat", assertion(&app, &m, |c| drop(c.as_object_mut().unwrap().remove("iat")))),
        ("iat older than an hour", assertion(&app, &m, |c| c["iat"] = json!(now() - 7200))),
        ("iat in the future", assertion(&app, &m, |c| c["iat"] = json!(now() + 600))),
        ("nbf in the future", assertion(&app, &m, |c| c["nbf"] = json!(now() + 600))),
        ("iss differs from sub", assertion(&app, &m, |c| c["iss"] = json!(other.user_id))),
        (
            "sub of another user",
            assertion(&app, &m, |c| {
                c["sub"] = json!(other.user_id);
                c["iss"] = json!(other.user_id);
            }),
        ),
        (
            "sub not a user id",
            assertion(&app, &m, |c| {
                c["sub"] = json!("robot");
                c["iss"] = json!("robot");
            }),
        ),
        ("unknown kid", {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some(uuid::Uuid::now_v7().to_string());
            sign_with(h, &base, &rsa)
        }),
        ("kid of another user's key", {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some(other.key_id.clone());
            sign_with(h, &base, &EncodingKey::from_rsa_pem(other.key_pem.as_bytes()).unwrap())
        }),
        ("alg none", unsigned),
        ("HS256 keyed with the public key", hmac),
        ("tampered claims", tampered),
        ("jku header pointing elsewhere", with_jku),
        ("garbage", "not.a.jwt".to_owned()),
        ("oversized", format!("{}.{}.{}", "a".repeat(5000), "b".repeat(5000), "c")),
    ];
    let mut descriptions = serde_json::Map::new();
    for (case, assertion) in cases {
        let before = app.logs().matches("OAuth request refused").count();
        let (status, body) = jwt_grant(&app, &assertion, API_AUD).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{case}: {body}");
        assert!(!body.to_string().contains(&assertion[..20.min(assertion.len())]), "{case}: the assertion is echoed");
        descriptions.insert(case.to_owned(), body["error_description"].clone());
        // One line at info per refusal, naming the rule, never the assertion.
        let logs = app.logs_once(|l| l.matches("OAuth request refused").count() > before).await;
        assert_eq!(logs.matches("OAuth request refused").count(), before + 1, "{case}: {logs}");
        assert!(!logs.contains(&assertion[..20.min(assertion.len())]), "{case}: the assertion is logged");
    }
    // The rule is named where that leaks nothing (the assertion's shape, and
    // claims checked after the signature); key and signature failures, which
    // would tell whether a user or key exists, share one description.
    let descriptions = serde_json::to_string_pretty(&descriptions).unwrap().replace(&iss, "[issuer]");
    insta::assert_snapshot!("assertion_refusal_descriptions", descriptions);
    let logs = app.logs();
    assert!(
        logs.contains("the assertion's signature is invalid") && logs.contains("the assertion's key is not registered"),
        "the log names the rule the description keeps vague: {logs}"
    );
    // The good one still works: the matrix did not break the key.
    assert_eq!(jwt_grant(&app, &assertion(&app, &m, |_| {}), API_AUD).await.0, 200);
}

/// RFC 7523 §3 item 7: a `jti` cannot be replayed while the assertion is valid.
#[tokio::test]
async fn a_jti_cannot_be_replayed() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let once = assertion(&app, &m, |c| c["jti"] = json!("nonce-1"));
    assert_eq!(jwt_grant(&app, &once, API_AUD).await.0, 200);
    let (status, body) = jwt_grant(&app, &once, API_AUD).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    // Without a jti there is nothing to track (ZITADEL's SDK sends none).
    let plain = assertion(&app, &m, |_| {});
    assert_eq!(jwt_grant(&app, &plain, API_AUD).await.0, 200);
    assert_eq!(jwt_grant(&app, &plain, API_AUD).await.0, 200);
}

/// Group commit (DESIGN.md §6): grants sent at once are committed together,
/// yet the replay rule holds inside one batch — of many simultaneous grants
/// with the same `jti` exactly one succeeds — and every token issued in a
/// batch was stored and works.
#[tokio::test]
async fn simultaneous_grants_share_a_commit_but_not_a_jti() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let same = assertion(&app, &m, |c| c["jti"] = json!("nonce-simultaneous"));
    let replays = futures_util::future::join_all((0..16).map(|_| jwt_grant(&app, &same, API_AUD))).await;
    let issued = replays.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(issued, 1, "exactly one grant may use the jti: {replays:?}");
    for (status, body) in replays.iter().filter(|(status, _)| *status != 200) {
        assert_eq!((*status, body["error"].as_str()), (400, Some("invalid_grant")), "{body}");
    }

    let fresh: Vec<String> = (0..16).map(|i| assertion(&app, &m, |c| c["jti"] = json!(format!("nonce-{i}")))).collect();
    let grants = futures_util::future::join_all(fresh.iter().map(|a| jwt_grant(&app, a, API_AUD))).await;
    for (status, body) in &grants {
        assert_eq!(*status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap();
        assert!(api_works(&app, token, &m.user_id).await, "a token of the batch was not stored");
    }
}

/// ZITADEL CVE-2024-47000: a suspended user gets nothing from any grant, and its
/// existing tokens stop at once.
#[tokio::test]
async fn suspended_users_get_no_tokens_and_lose_the_ones_they_have() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let (_, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), API_AUD).await;
    let at = body["access_token"].as_str().unwrap().to_owned();
    for (suspend, resume) in [("DeactivateUser", "ReactivateUser"), ("LockUser", "UnlockUser")] {
        ok(&app, &admin, USERS, suspend, json!({"userId": m.user_id})).await;
        let (status, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), API_AUD).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{suspend}: {body}");
        assert!(!api_works(&app, &at, &m.user_id).await, "{suspend}");
        assert_eq!(userinfo(&app, &at).await.0, 401, "{suspend}");
        ok(&app, &admin, USERS, resume, json!({"userId": m.user_id})).await;
        assert!(api_works(&app, &at, &m.user_id).await, "{resume}");
    }
    ok(&app, &admin, USERS, "DeleteUser", json!({"userId": m.user_id})).await;
    assert_eq!(jwt_grant(&app, &assertion(&app, &m, |_| {}), API_AUD).await.0, 400);
    assert_eq!(userinfo(&app, &at).await.0, 401);
}

#[tokio::test]
async fn token_endpoint_request_errors() {
    let app = TestApp::spawn().await;
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let a = assertion(&app, &m, |_| {});

    let (status, _, body) = token(&app, &[("grant_type", "password"), ("username", "x")], None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")));
    insta::assert_json_snapshot!("token_unsupported_grant_type", body);
    let (status, _, body) = token(&app, &[("assertion", &a)], None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    let (status, _, body) = token(&app, &[("grant_type", JWT_BEARER)], None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
    insta::assert_json_snapshot!("token_missing_assertion", body);
    // RFC 6749 §3.2: a repeated parameter is invalid_request.
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={JWT_BEARER}&assertion={a}&assertion={a}&scope=openid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_request");
    let res =
        app.client.post(app.url("/oauth/v2/token")).json(&json!({"grant_type": JWT_BEARER})).send().await.unwrap();
    assert_eq!(res.status(), 400, "JSON is not a form");

    // RFC 6749 §3.3: scopes the client may not have are refused, never dropped.
    for scope in ["", "admin", "openid offline_access", &format!("urn:zitadel:iam:org:id:{}", uuid::Uuid::now_v7())] {
        let (status, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), scope).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{scope:?}: {body}");
    }
    let (_, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), "admin").await;
    insta::assert_json_snapshot!("token_invalid_scope", body);
}

#[tokio::test]
async fn client_credentials_with_basic_and_post() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let secret = ok(&app, &admin, USERS, "AddSecret", json!({"userId": m.user_id})).await;
    let secret = secret["clientSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsr_cs_"));

    let (status, _, body) =
        token(&app, &[("grant_type", "client_credentials"), ("scope", API_AUD)], Some(("robot", &secret))).await;
    assert_eq!(status, 200, "{body}");
    insta::assert_json_snapshot!("token_response_client_credentials", scrub(&app, &body));
    assert!(api_works(&app, body["access_token"].as_str().unwrap(), &m.user_id).await);
    let (status, _, body) = token(
        &app,
        &[("grant_type", "client_credentials"), ("scope", API_AUD), ("client_id", "robot"), ("client_secret", &secret)],
        None,
    )
    .await;
    assert_eq!(status, 200, "client_secret_post: {body}");

    // RFC 6749 §2.3: one method only.
    let (status, _, body) = token(
        &app,
        &[("grant_type", "client_credentials"), ("scope", API_AUD), ("client_id", "robot"), ("client_secret", &secret)],
        Some(("robot", &secret)),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));

    // RFC 6749 §5.2: failed client authentication is 401 invalid_client with a challenge.
    for (who, what) in [("robot", "tsr_cs_wrong"), ("someone-else", secret.as_str()), ("robot", "")] {
        let (status, challenge, body) =
            token(&app, &[("grant_type", "client_credentials"), ("scope", API_AUD)], Some((who, what))).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{who}: {body}");
        assert_eq!(challenge.as_deref(), Some("Basic realm=\"tessera\""));
        assert!(!body.to_string().contains(&secret));
    }
    let (status, _, body) = token(&app, &[("grant_type", "client_credentials"), ("scope", API_AUD)], None).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")));
    insta::assert_json_snapshot!("token_invalid_client", body);

    // A suspended user's secret authenticates nothing.
    ok(&app, &admin, USERS, "DeactivateUser", json!({"userId": m.user_id})).await;
    let (status, _, _) =
        token(&app, &[("grant_type", "client_credentials"), ("scope", API_AUD)], Some(("robot", &secret))).await;
    assert_eq!(status, 401);
}

/// A new secret replaces the old one at once (ZITADEL), unless an overlap is
/// configured (Tessera's rotation without downtime).
#[tokio::test]
async fn secret_rotation_with_and_without_overlap() {
    for (overlap, old_still_works) in [("0", false), ("300", true)] {
        let app = Spawn::new().env("TESSERA_TOKENS__SECRET_OVERLAP_SECS", overlap).start().await;
        let admin = app.admin_pat();
        let m = machine(&app, "robot", "ACCESS_TOKEN_TYPE_BEARER").await;
        let old = ok(&app, &admin, USERS, "AddSecret", json!({"userId": m.user_id})).await["clientSecret"]
            .as_str()
            .unwrap()
            .to_owned();
        let new = ok(&app, &admin, USERS, "AddSecret", json!({"userId": m.user_id})).await["clientSecret"]
            .as_str()
            .unwrap()
            .to_owned();
        let grant = |s: String| {
            let app = &app;
            async move {
                token(app, &[("grant_type", "client_credentials"), ("scope", "openid")], Some(("robot", &s))).await.0
            }
        };
        assert_eq!(grant(new).await, 200);
        assert_eq!(grant(old.clone()).await == 200, old_still_works, "overlap {overlap}");
        ok(&app, &admin, USERS, "RemoveSecret", json!({"userId": m.user_id})).await;
        assert_eq!(grant(old).await, 401);
    }
}

/// The ID token verifies with an independent OpenID Connect client library.
#[tokio::test]
async fn id_tokens_verify_with_the_openidconnect_crate() {
    use openidconnect::core::{CoreIdToken, CoreProviderMetadata};
    use openidconnect::{ClientId, IssuerUrl, Nonce};

    let app = TestApp::spawn().await;
    let m = machine(&app, "oidc-robot", "ACCESS_TOKEN_TYPE_BEARER").await;
    let (_, body) = jwt_grant(&app, &assertion(&app, &m, |_| {}), "openid profile").await;
    let id_token: CoreIdToken = serde_json::from_value(body["id_token"].clone()).unwrap();

    // Discovery and JWKS through the issuer URL (localhost resolves to the server).
    let http = openidconnect::reqwest::Client::builder()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let provider = CoreProviderMetadata::discover_async(IssuerUrl::new(issuer(&app)).unwrap(), &http).await.unwrap();
    // The relying party knows the client id from the key file: its `userId`.
    // No other audience is requested, so none needs to be trusted.
    let verifier = openidconnect::core::CoreIdTokenVerifier::new_public_client(
        ClientId::new(m.user_id.clone()),
        provider.issuer().clone(),
        provider.jwks().clone(),
    );
    let claims = id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())).unwrap();
    assert_eq!(claims.subject().as_str(), m.user_id);
    assert_eq!(claims.preferred_username().unwrap().as_str(), "oidc-robot");
}

#[tokio::test]
async fn userinfo_errors_follow_rfc_6750() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/oidc/v1/userinfo")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"tessera\"");
    let res = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth("tsr_at_nonsense").send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"tessera\", error=\"invalid_token\"");
    insta::assert_json_snapshot!("userinfo_invalid_token", res.json::<Value>().await.unwrap());
    // A PAT works at userinfo too.
    let (status, body) = userinfo(&app, &app.admin_pat()).await;
    assert_eq!(status, 200, "{body}");
    // POST with the token in the body (RFC 6750 §2.2).
    let res =
        app.client.post(app.url("/oidc/v1/userinfo")).form(&[("access_token", app.admin_pat())]).send().await.unwrap();
    assert_eq!(res.status(), 200);
}
