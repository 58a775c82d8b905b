//! Everything that ends with time, on a frozen clock the test advances: no
//! test here waits on the wall clock (CONVENTIONS.md §13). The server runs
//! in-process (`TestApp::in_process`).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{USERS, create_machine, default_org, ok};
use chrono::Duration;
use common::{Spawn, TestApp};
use serde_json::{Value, json};

const API_AUD: &str = "urn:zitadel:iam:org:project:id:zitadel:aud";

async fn client_credentials(app: &TestApp, username: &str, secret: &str) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/oauth/v2/token"))
        .basic_auth(username, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("scope", API_AUD)])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn secret(app: &TestApp, admin: &str, user: &str) -> String {
    ok(app, admin, USERS, "AddSecret", json!({"userId": user})).await["clientSecret"].as_str().unwrap().to_owned()
}

/// A superseded client secret works for exactly the configured overlap.
#[tokio::test]
async fn a_superseded_secret_works_until_its_overlap_ends() {
    let app = Spawn::new().settings(|s| s.tokens.secret_overlap_secs = 300).in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = create_machine(&app, &admin, &org, "rotating").await;
    let old = secret(&app, &admin, &user).await;
    let new = secret(&app, &admin, &user).await;
    app.clock().advance(Duration::seconds(299));
    assert_eq!(client_credentials(&app, "rotating", &old).await.0, 200, "inside the overlap");
    app.clock().advance(Duration::seconds(1));
    assert_eq!(client_credentials(&app, "rotating", &old).await.0, 401, "the overlap has ended");
    assert_eq!(client_credentials(&app, "rotating", &new).await.0, 200);
}

/// An opaque access token calls the API until its lifetime ends, then
/// introspects as inactive and is refused.
#[tokio::test]
async fn an_access_token_ends_with_its_lifetime() {
    let app = Spawn::new().settings(|s| s.tokens.access_token_lifetime_secs = 600).in_process().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = create_machine(&app, &admin, &org, "worker").await;
    let s = secret(&app, &admin, &user).await;
    let (status, body) = client_credentials(&app, "worker", &s).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 600);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let user = user.as_str();
    let works = |token: String| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url(&format!("/{USERS}/GetUserByID")))
                .bearer_auth(token)
                .json(&json!({"userId": user}))
                .send()
                .await
                .unwrap();
            res.status().as_u16()
        }
    };
    app.clock().advance(Duration::seconds(599));
    assert_eq!(works(token.clone()).await, 200, "still inside its lifetime");
    app.clock().advance(Duration::seconds(1));
    assert_eq!(works(token).await, 401, "expired");
}
