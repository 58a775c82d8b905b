//! Leaked-token revocation (docs/pat-hygiene.md): a report signed the way
//! GitHub's secret scanning signs it (ECDSA P-256 over the raw body, key named
//! by `Github-Public-Key-Identifier`) revokes every genuine credential in it at
//! once and answers with the feedback array; a forged report changes nothing.
//! The plain revocation endpoint revokes what it is given and answers the same
//! whether or not it existed.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
#[allow(unused_macros, reason = "this file takes no snapshots")]
mod api;
mod common;

use api::{USERS, add_pat, create_machine, default_org, ok, status_of};
use base64::Engine as _;
use common::{Spawn, TestApp};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// A P-256 key pair and its key list entry, as GitHub publishes them.
fn key_pair(id: &str) -> (EcdsaKeyPair, Value) {
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let public = p256::PublicKey::from_sec1_bytes(pair.public_key().as_ref()).unwrap();
    let pem = p256::pkcs8::EncodePublicKey::to_public_key_pem(&public, p256::pkcs8::LineEnding::LF).unwrap();
    (pair, json!({"key_identifier": id, "key": pem, "is_current": true}))
}

fn sign(pair: &EcdsaKeyPair, body: &[u8]) -> String {
    let sig = pair.sign(&ring::rand::SystemRandom::new(), body).unwrap();
    base64::engine::general_purpose::STANDARD.encode(sig)
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

async fn report(app: &TestApp, key_id: &str, signature: &str, body: &[u8]) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/tessera/v1/secret-scanning/github"))
        .header("content-type", "application/json")
        .header("Github-Public-Key-Identifier", key_id)
        .header("Github-Public-Key-Signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// A client-credentials access token and the secret it came from.
async fn secret_and_token(app: &TestApp, admin: &str, user: &str, username: &str) -> (String, String) {
    let secret =
        ok(app, admin, USERS, "AddSecret", json!({"userId": user})).await["clientSecret"].as_str().unwrap().to_owned();
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .basic_auth(username, Some(&secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "openid urn:zitadel:iam:org:project:id:zitadel:aud")])
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    (secret, body["access_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_signed_report_revokes_genuine_tokens_at_once_and_a_forged_one_nothing() {
    let (pair, entry) = key_pair("github-key-1");
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("github-keys.json");
    std::fs::write(&keys, json!({"public_keys": [entry]}).to_string()).unwrap();
    let app = Spawn::new().env("TESSERA_SECRET_SCANNING__GITHUB_KEYS_FILE", keys.to_str().unwrap()).start().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = create_machine(&app, &admin, &org, "leaky").await;
    let leaked = add_pat(&app, &admin, &user, None).await;
    let kept = add_pat(&app, &admin, &user, None).await;
    let (secret, access_token) = secret_and_token(&app, &admin, &user, "leaky").await;
    for token in [&leaked, &kept, &access_token] {
        assert_eq!(status_of(&app, token).await, 200);
    }

    // A forged signature (another key under the published id) is refused and
    // revokes nothing.
    let body = json!([{"token": leaked, "type": "tessera_personal_access_token", "url": "https://github.com/acme/app/blob/abc/.env", "source": "content"}])
        .to_string();
    let (forger, _) = key_pair("github-key-1");
    let (status, answer) = report(&app, "github-key-1", &sign(&forger, body.as_bytes()), body.as_bytes()).await;
    assert_eq!(status, 401, "{answer}");
    let (status, _) = report(&app, "unknown-key", &sign(&pair, body.as_bytes()), body.as_bytes()).await;
    assert_eq!(status, 401);
    assert_eq!(status_of(&app, &leaked).await, 200, "nothing was revoked");

    // The genuine report: three real credentials and one that is not.
    let body = json!([
        {"token": leaked, "type": "tessera_personal_access_token", "url": "https://github.com/acme/app/blob/abc/.env", "source": "content"},
        {"token": access_token, "type": "tessera_access_token", "url": "https://gist.github.com/x", "source": "gist"},
        {"token": secret, "type": "tessera_client_secret", "url": "https://github.com/acme/app/issues/1", "source": "issue"},
        {"token": "tsr_pat_notarealtokenatall", "type": "tessera_personal_access_token", "url": "https://github.com/x", "source": "content"},
    ])
    .to_string();
    let (status, feedback) = report(&app, "github-key-1", &sign(&pair, body.as_bytes()), body.as_bytes()).await;
    assert_eq!(status, 200, "{feedback}");
    let labels: Vec<&str> = feedback.as_array().unwrap().iter().map(|f| f["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["true_positive", "true_positive", "true_positive", "false_positive"]);
    assert_eq!(feedback[0]["token_hash"], sha256_hex(&leaked));
    assert_eq!(feedback[0]["token_type"], "tessera_personal_access_token");
    let mut shown = feedback.clone();
    for (entry, token) in shown.as_array_mut().unwrap().iter_mut().zip([&leaked, &access_token, &secret]) {
        assert_eq!(entry["token_hash"], sha256_hex(token));
        entry["token_hash"] = json!("[sha256 of the token]");
    }
    insta::assert_json_snapshot!("github_feedback", shown);

    // Refused at once, everywhere; the other PAT still works.
    assert_eq!(status_of(&app, &leaked).await, 401);
    assert_eq!(status_of(&app, &access_token).await, 401);
    let introspected =
        ok(&app, &admin, USERS, "ListPersonalAccessTokens", json!({"filters": [{"userIdFilter": {"id": user}}]})).await;
    assert_eq!(introspected["result"].as_array().unwrap().len(), 1, "the leaked PAT is removed");
    let grant = app
        .client
        .post(app.url("/oauth/v2/token"))
        .basic_auth("leaky", Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status().as_u16(), 401, "the leaked client secret is removed");
    assert_eq!(status_of(&app, &kept).await, 200);
    let leaks = app.audit_actions().await.iter().filter(|a| *a == "credential.leaked").count();
    assert_eq!(leaks, 3);
    assert!(!app.logs().contains(&leaked), "no token in the log");

    // The plain endpoint: anyone holding a token may revoke it; the answer is
    // the same for a token that does not exist.
    for credentials in [json!([kept]), json!(["tsr_pat_nothing"]), json!([])] {
        let res = app
            .client
            .post(app.url("/tessera/v1/credentials/revoke"))
            .json(&json!({"credentials": credentials}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 202);
        assert_eq!(res.json::<Value>().await.unwrap(), json!({}));
    }
    assert_eq!(status_of(&app, &kept).await, 401);

    // Malformed requests are clear errors.
    let (status, answer) = report(&app, "github-key-1", &sign(&pair, b"{}"), b"{}").await;
    assert_eq!(status, 400, "{answer}");
    let res = app.client.post(app.url("/tessera/v1/secret-scanning/github")).body("[]").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400, "no signature headers");
    let res = app.client.post(app.url("/tessera/v1/credentials/revoke")).body("tsr_pat_x").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 400);
}

/// Serves `body` at every path on loopback; counts the requests.
async fn key_list_server(body: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/meta/public_keys/secret_scanning", listener.local_addr().unwrap());
    let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = fetches.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let (body, counter) = (body.clone(), counter.clone());
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, fetches)
}

#[tokio::test]
async fn the_key_list_is_fetched_once_and_an_unknown_key_refetches_at_most_once_a_minute() {
    let (pair, entry) = key_pair("k1");
    let (url, fetches) = key_list_server(json!({"public_keys": [entry]}).to_string()).await;
    let app = Spawn::new()
        .settings(move |s| {
            s.secret_scanning.github_keys_url = url;
            s.federation.allow_hosts = "127.0.0.1".to_owned();
        })
        .in_process()
        .await;
    let body = br#"[{"token":"tsr_pat_x","type":"t","url":"u","source":"s"}]"#;
    for _ in 0..3 {
        let (status, feedback) = report(&app, "k1", &sign(&pair, body), body).await;
        assert_eq!((status, feedback[0]["label"].clone()), (200, json!("false_positive")));
    }
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1, "fetched once, then held");
    // A flood of reports naming unknown keys costs at most one fetch a minute
    // (the mock clock stands still, then moves on by a minute).
    let fetched = || fetches.load(std::sync::atomic::Ordering::SeqCst);
    for i in 0..20 {
        let (status, _) = report(&app, &format!("forged-{i}"), &sign(&pair, body), body).await;
        assert_eq!(status, 401);
    }
    assert_eq!(fetched(), 1, "the first fetch was less than a minute ago");
    app.clock().advance(chrono::Duration::seconds(61));
    for i in 0..20 {
        let (status, _) = report(&app, &format!("forged-{i}"), &sign(&pair, body), body).await;
        assert_eq!(status, 401);
    }
    assert_eq!(fetched(), 2, "one refresh for the whole flood");
    // A day later the list is refreshed even for a known key.
    app.clock().advance(chrono::Duration::days(1));
    let (status, _) = report(&app, "k1", &sign(&pair, body), body).await;
    assert_eq!((status, fetched()), (200, 3));
}

#[tokio::test]
async fn without_a_key_list_the_partner_endpoint_is_not_served() {
    let app = TestApp::spawn().await;
    let res = app.client.post(app.url("/tessera/v1/secret-scanning/github")).body("[]").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
}
