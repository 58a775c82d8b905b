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

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{Spawn, TestApp};
use serde_json::{Value, json};

/// A JWT-type machine user with a key file; the jwt-bearer grant's answer.
async fn grant(app: &TestApp) -> Value {
    let machine = api::jwt_machine(app, &app.admin_pat(), "signed").await;
    machine.grant(app, chrono::Utc::now().timestamp()).await
}

/// Verifies `tokens` against `jwks` with joserfc; `false` when it is missing
/// (and `CI` is not `true`).
async fn verify_with_joserfc(jwks: &Value, tokens: &[&str]) -> bool {
    let Some(python) = common::python_with("joserfc").await else { return false };
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
    let (success, stdout, stderr) = common::run_python(&python, script, &json!({"jwks": jwks, "tokens": tokens})).await;
    assert!(success, "joserfc refused: {stdout}{stderr}");
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
