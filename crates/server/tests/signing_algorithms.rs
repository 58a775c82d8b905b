//! Instance signing keys of every kind (docs/operator/key-rotation.md): with
//! `signing_keys.algorithm` set, the JWKS publishes a key of that type,
//! discovery announces its algorithm, and the jwt-bearer grant's JWT access
//! token and ID token are signed with it. An independent JOSE library
//! (joserfc, Authlib's, from PyPI) verifies both against the JWKS; a token
//! claiming another algorithm for the key is refused.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, reason = "this file takes no snapshots")]
mod api;
mod common;

use std::process::Stdio;

use api::{USERS, default_org, ok};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{Spawn, TestApp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn issuer(app: &TestApp) -> String {
    format!("http://localhost:{}", app.address.rsplit(':').next().unwrap())
}

/// A JWT-type machine user with a key file; the jwt-bearer grant's answer.
async fn grant(app: &TestApp) -> Value {
    let admin = app.admin_pat();
    let org = default_org(app, &admin).await;
    let body = json!({"organizationId": org, "username": "signed", "machine": {"name": "signed", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}});
    let user = ok(app, &admin, USERS, "CreateUser", body).await["id"].as_str().unwrap().to_owned();
    let added = ok(app, &admin, USERS, "AddKey", json!({"userId": user})).await;
    let file: Value = serde_json::from_slice(&STANDARD.decode(added["keyContent"].as_str().unwrap()).unwrap()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": user, "sub": user, "aud": issuer(app), "iat": now, "exp": now + 60});
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(file["keyId"].as_str().unwrap().to_owned());
    let key = EncodingKey::from_rsa_pem(file["key"].as_str().unwrap().as_bytes()).unwrap();
    let assertion = jsonwebtoken::encode(&header, &claims, &key).unwrap();
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion.as_str()), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

/// Verifies `tokens` against `jwks` with joserfc; `false` when it is missing
/// (and `CI` is not `true`).
async fn verify_with_joserfc(jwks: &Value, tokens: &[&str]) -> bool {
    let python = std::env::var("TESSERA_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let probe =
        tokio::process::Command::new(&python).args(["-c", "import joserfc"]).stdin(Stdio::null()).output().await;
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "`{python}` cannot import joserfc; with CI=true the JOSE check must run (.ci/run installs it)"
        );
        eprintln!("skipping the joserfc check: set TESSERA_TEST_PYTHON to an interpreter with joserfc");
        return false;
    }
    let script = r#"
import json, sys
from joserfc import jwt
from joserfc.jwk import KeySet
given = json.load(sys.stdin)
keys = KeySet.import_key_set(given["jwks"])
for token in given["tokens"]:
    header = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[0] + "=="))
    decoded = jwt.decode(token, keys, algorithms=[header["alg"]])
    assert decoded.claims["sub"], decoded.claims
print("verified", len(given["tokens"]))
"#;
    let mut child = tokio::process::Command::new(&python)
        .args(["-c", script])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt as _;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(json!({"jwks": jwks, "tokens": tokens}).to_string().as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "joserfc refused: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.trim(), format!("verified {}", tokens.len()));
    true
}

#[tokio::test]
async fn each_configured_algorithm_signs_the_tokens_and_is_published() {
    for (alg, kty, crv) in
        [("ES256", "EC", Some("P-256")), ("EdDSA", "OKP", Some("Ed25519")), ("ES384", "EC", Some("P-384"))]
    {
        let app = Spawn::new().settings(move |s| s.signing_keys.algorithm = alg.to_owned()).in_process().await;
        let discovery: Value =
            app.client.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
        assert_eq!(discovery["id_token_signing_alg_values_supported"], json!([alg]), "{alg}");
        let jwks: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
        let key = &jwks["keys"][0];
        assert_eq!((key["kty"].as_str(), key["alg"].as_str()), (Some(kty), Some(alg)), "{jwks}");
        assert_eq!(key["crv"].as_str(), crv);
        assert!(key.get("n").is_none() && key.get("d").is_none(), "no RSA or private members: {key}");

        let answer = grant(&app).await;
        let access = answer["access_token"].as_str().unwrap();
        let id_token = answer["id_token"].as_str().unwrap();
        for token in [access, id_token] {
            let header: Value =
                serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
            assert_eq!(header["alg"], alg);
            assert_eq!(header["kid"], key["kid"]);
        }
        verify_with_joserfc(&jwks, &[access, id_token]).await;
        // The server accepts its own token (userinfo), and refuses it with its
        // header claiming another algorithm.
        let userinfo = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth(access).send().await.unwrap();
        assert_eq!(userinfo.status().as_u16(), 200, "{alg}");
        let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
        let forged = json!({"alg": "RS256", "kid": key["kid"], "typ": "at+jwt"});
        parts[0] = URL_SAFE_NO_PAD.encode(forged.to_string());
        let res = app.client.get(app.url("/oidc/v1/userinfo")).bearer_auth(parts.join(".")).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 401, "{alg}: another alg for the key is refused");
    }
}

#[tokio::test]
async fn rs256_stays_the_default() {
    let app = TestApp::in_process().await;
    let discovery: Value =
        app.client.get(app.url("/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert_eq!(discovery["id_token_signing_alg_values_supported"], json!(["RS256"]));
    let jwks: Value = app.client.get(app.url("/oauth/v2/keys")).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert!(jwks["keys"][0].get("crv").is_none(), "{jwks}");
    let answer = grant(&app).await;
    verify_with_joserfc(&jwks, &[answer["access_token"].as_str().unwrap()]).await;
}
