//! `zitadel.user.v2.UserService` over Connect and REST, end to end through the
//! real binary: users, personal access tokens, metadata, state rules and
//! permissions.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;

use common::TestApp;
use serde_json::{Value, json};

/// Calls a Connect method with `token`; returns (status, body).
async fn call(app: &TestApp, token: &str, method: &str, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(&format!("/zitadel.user.v2.UserService/{method}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn admin_creates_a_machine_user_and_issues_it_a_pat() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let (status, me) = call(&app, &admin, "ListUsers", json!({})).await;
    assert_eq!(status, 200, "{me}");
    let org = me["result"][0]["details"]["resourceOwner"].as_str().unwrap().to_owned();

    let (status, created) = call(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": org, "username": "ci-bot", "machine": {"name": "CI bot"}}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let user = created["id"].as_str().unwrap().to_owned();

    let (status, pat) = call(
        &app,
        &admin,
        "AddPersonalAccessToken",
        json!({"userId": user, "expirationDate": "2099-01-01T00:00:00+00:00"}),
    )
    .await;
    assert_eq!(status, 200, "{pat}");
    let token = pat["token"].as_str().unwrap().to_owned();

    let (status, got) = call(&app, &token, "GetUserByID", json!({"userId": user})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["user"]["username"], "ci-bot");
}
