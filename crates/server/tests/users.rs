//! `zitadel.user.v2.UserService` over Connect and REST, end to end through the
//! real binary: users, personal access tokens, metadata, state rules,
//! permissions, and the transport rules of the Connect protocol.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

mod common;

use common::{Spawn, TestApp, connect, redacted};
use serde_json::{Value, json};
use tessera_domain::Clock;

const USERS: &str = "zitadel.user.v2.UserService";

/// A UserService call that must succeed; returns the body.
async fn ok(app: &TestApp, token: &str, method: &str, body: Value) -> Value {
    let (status, _, res) = connect(app, Some(token), USERS, method, body).await;
    assert_eq!(status, 200, "{method}: {res}");
    res
}

/// A UserService call that must fail with `status` and Connect `code`; returns the body.
async fn fails(app: &TestApp, token: &str, method: &str, body: Value, status: u16, code: &str) -> Value {
    let (got, _, res) = connect(app, Some(token), USERS, method, body).await;
    assert_eq!((got, res["code"].as_str().unwrap_or_default()), (status, code), "{method}: {res}");
    assert!(res["message"].as_str().is_some_and(|m| !m.is_empty()), "{res}");
    res
}

/// The default organization (the admin's).
async fn default_org(app: &TestApp) -> String {
    let me = ok(app, &app.admin_pat(), "ListUsers", json!({})).await;
    me["result"][0]["details"]["resourceOwner"].as_str().unwrap().to_owned()
}

/// Creates a machine user; returns its id.
async fn machine(app: &TestApp, org: &str, username: &str) -> String {
    let res = ok(
        app,
        &app.admin_pat(),
        "CreateUser",
        json!({"organizationId": org, "username": username, "machine": {"name": username}}),
    )
    .await;
    res["id"].as_str().unwrap().to_owned()
}

/// Issues a PAT for `user`; returns (token id, token).
async fn pat(app: &TestApp, user: &str, expiration: Option<&str>) -> (String, String) {
    let mut body = json!({"userId": user});
    if let Some(e) = expiration {
        body["expirationDate"] = json!(e);
    }
    let res = ok(app, &app.admin_pat(), "AddPersonalAccessToken", body).await;
    (res["tokenId"].as_str().unwrap().to_owned(), res["token"].as_str().unwrap().to_owned())
}

/// Whether `token` authenticates a call (GetUserByID on its own user).
async fn works(app: &TestApp, token: &str, user: &str) -> bool {
    let (status, challenge, body) = connect(app, Some(token), USERS, "GetUserByID", json!({"userId": user})).await;
    match status {
        200 => true,
        401 => {
            assert_eq!(challenge.as_deref(), Some("Bearer realm=\"tessera\", error=\"invalid_token\""));
            assert_eq!(body["code"], "unauthenticated");
            false
        }
        other => panic!("unexpected status {other}: {body}"),
    }
}

#[tokio::test]
async fn machine_users_are_created_read_listed_and_updated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;

    let created = ok(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": org, "username": "ci-bot", "machine": {"name": "CI bot", "description": "runs the pipeline"}}),
    )
    .await;
    insta::assert_json_snapshot!("create_user", redacted(&created));
    let id = created["id"].as_str().unwrap();

    let got = ok(&app, &admin, "GetUserByID", json!({"userId": id})).await;
    insta::assert_json_snapshot!("get_machine_user", redacted(&got));
    assert_eq!(got["user"]["details"]["resourceOwner"], org.as_str());

    // Tessera's extension: the access token type can be set on create and update.
    let changed = ok(
        &app,
        &admin,
        "UpdateUser",
        json!({"userId": id, "username": "ci-bot-2", "machine": {"name": "CI", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}}),
    )
    .await;
    insta::assert_json_snapshot!("update_user", redacted(&changed));
    let got = ok(&app, &admin, "GetUserByID", json!({"userId": id})).await;
    assert_eq!(got["user"]["username"], "ci-bot-2");
    assert_eq!(got["user"]["machine"]["name"], "CI");
    assert_eq!(got["user"]["machine"]["description"], "runs the pipeline", "untouched fields stay");
    assert_eq!(got["user"]["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT");

    // Without a username, ZITADEL (and Tessera) use the user id.
    let anonymous =
        ok(&app, &admin, "CreateUser", json!({"organizationId": org, "machine": {"name": "nameless"}})).await;
    let got = ok(&app, &admin, "GetUserByID", json!({"userId": anonymous["id"]})).await;
    assert_eq!(got["user"]["username"], anonymous["id"]);
}

#[tokio::test]
async fn human_users_accept_zitadels_and_the_python_sdks_password_shapes() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let human = |username: &str, password: Value| {
        json!({
            "organizationId": org,
            "username": username,
            "human": {
                "profile": {"givenName": "Ada", "familyName": "Lovelace"},
                "email": {"email": format!("{username}@example.com"), "isVerified": true},
                "password": password
            }
        })
    };
    let a = ok(
        &app,
        &admin,
        "CreateUser",
        human("ada", json!({"password": "correct horse battery", "changeRequired": false})),
    )
    .await;
    ok(&app, &admin, "CreateUser", human("bob", json!({"password": {"password": "correct horse battery"}}))).await;
    let got = ok(&app, &admin, "GetUserByID", json!({"userId": a["id"]})).await;
    insta::assert_json_snapshot!("get_human_user", redacted(&got));
    assert!(!got.to_string().contains("correct horse"), "no password in responses");

    fails(&app, &admin, "CreateUser", human("eve", json!({"password": ""})), 400, "invalid_argument").await;
    fails(&app, &admin, "CreateUser", json!({"organizationId": org, "human": {"profile": {"givenName": "X", "familyName": "Y"}, "email": {"email": "not-an-address"}}}), 400, "invalid_argument").await;
}

#[tokio::test]
async fn create_user_rejects_bad_input_and_duplicates() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    machine(&app, &org, "taken").await;

    let dup = fails(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": org, "username": "TAKEN", "machine": {"name": "x"}}),
        409,
        "already_exists",
    )
    .await;
    insta::assert_json_snapshot!("create_user_duplicate", dup);
    let missing =
        fails(&app, &admin, "CreateUser", json!({"username": "x", "machine": {"name": "x"}}), 400, "invalid_argument")
            .await;
    insta::assert_json_snapshot!("create_user_missing_org", missing);
    fails(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": org, "username": "no spaces", "machine": {"name": "x"}}),
        400,
        "invalid_argument",
    )
    .await;
    fails(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": org, "username": "x", "machine": {"name": ""}}),
        400,
        "invalid_argument",
    )
    .await;
    fails(&app, &admin, "CreateUser", json!({"organizationId": org, "username": "x"}), 400, "invalid_argument").await;
    fails(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": org, "username": "x", "machine": {"name": "x"}, "human": {}}),
        400,
        "invalid_argument",
    )
    .await;
    let unknown_org = uuid::Uuid::now_v7().to_string();
    fails(
        &app,
        &admin,
        "CreateUser",
        json!({"organizationId": unknown_org, "username": "x", "machine": {"name": "x"}}),
        404,
        "not_found",
    )
    .await;
    fails(&app, &admin, "GetUserByID", json!({"userId": "not-a-uuid"}), 400, "invalid_argument").await;
    let nobody = uuid::Uuid::now_v7().to_string();
    let not_found = fails(&app, &admin, "GetUserByID", json!({"userId": nobody}), 404, "not_found").await;
    insta::assert_json_snapshot!("get_user_not_found", not_found);
}

#[tokio::test]
async fn list_users_filters_sorts_and_pages() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    for name in ["bot-a", "bot-b", "bot-c", "other"] {
        machine(&app, &org, name).await;
    }
    let locked = machine(&app, &org, "bot-locked").await;
    ok(&app, &admin, "LockUser", json!({"userId": locked})).await;

    let names = |res: &Value| -> Vec<String> {
        res["result"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_owned()).collect()
    };
    let res = ok(
        &app,
        &admin,
        "ListUsers",
        json!({
            "query": {"offset": "0", "limit": 10, "asc": true},
            "sortingColumn": "USER_FIELD_NAME_USER_NAME",
            "queries": [
                {"typeQuery": {"type": "TYPE_MACHINE"}},
                {"userNameQuery": {"userName": "bot-", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}},
                {"notQuery": {"query": {"stateQuery": {"state": "USER_STATE_LOCKED"}}}}
            ]
        }),
    )
    .await;
    assert_eq!(names(&res), ["bot-a", "bot-b", "bot-c"]);
    assert_eq!(res["details"]["totalResult"], "3");
    insta::assert_json_snapshot!("list_users", redacted(&res));

    // Descending is ZITADEL's default; snake_case field names are accepted too.
    let res = ok(&app, &admin, "ListUsers", json!({"query": {"limit": 2, "offset": 1}, "sorting_column": 1, "queries": [{"user_name_query": {"user_name": "BOT", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})).await;
    assert_eq!(names(&res), ["bot-c", "bot-b"]);
    assert_eq!(res["details"]["totalResult"], "4");

    let res = ok(&app, &admin, "ListUsers", json!({"queries": [{"orQuery": {"queries": [{"userNameQuery": {"userName": "other"}}, {"inUserIdsQuery": {"userIds": [locked]}}]}}], "query": {"asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME"})).await;
    assert_eq!(names(&res), ["bot-locked", "other"]);

    fails(
        &app,
        &admin,
        "ListUsers",
        json!({"queries": [{"userNameQuery": {"userName": "a"}, "typeQuery": {"type": "TYPE_MACHINE"}}]}),
        400,
        "invalid_argument",
    )
    .await;
    fails(&app, &admin, "ListUsers", json!({"queries": [{"phoneQuery": {"number": "1"}}]}), 400, "invalid_argument")
        .await;
}

#[tokio::test]
async fn state_changes_suspend_and_restore_credentials_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let user = machine(&app, &org, "robot").await;
    let (_, token) = pat(&app, &user, None).await;
    assert!(works(&app, &token, &user).await);

    let res = ok(&app, &admin, "DeactivateUser", json!({"userId": user})).await;
    insta::assert_json_snapshot!("deactivate_user", redacted(&res));
    assert!(!works(&app, &token, &user).await, "deactivated: 401");
    let again = fails(&app, &admin, "DeactivateUser", json!({"userId": user}), 400, "failed_precondition").await;
    insta::assert_json_snapshot!("deactivate_user_twice", again);
    fails(&app, &admin, "LockUser", json!({"userId": user}), 400, "failed_precondition").await;
    ok(&app, &admin, "ReactivateUser", json!({"userId": user})).await;
    assert!(works(&app, &token, &user).await, "reactivated: usable again");
    fails(&app, &admin, "ReactivateUser", json!({"userId": user}), 400, "failed_precondition").await;

    ok(&app, &admin, "LockUser", json!({"userId": user})).await;
    assert!(!works(&app, &token, &user).await, "locked: 401");
    fails(&app, &admin, "LockUser", json!({"userId": user}), 400, "failed_precondition").await;
    ok(&app, &admin, "UnlockUser", json!({"userId": user})).await;
    assert!(works(&app, &token, &user).await, "unlocked: usable again");
    fails(&app, &admin, "UnlockUser", json!({"userId": user}), 400, "failed_precondition").await;

    let res = ok(&app, &admin, "DeleteUser", json!({"userId": user})).await;
    insta::assert_json_snapshot!("delete_user", redacted(&res));
    assert!(!works(&app, &token, &user).await, "deleted: 401 for good");
    fails(&app, &admin, "GetUserByID", json!({"userId": user}), 404, "not_found").await;
    fails(&app, &admin, "ReactivateUser", json!({"userId": user}), 404, "not_found").await;
    fails(&app, &admin, "DeleteUser", json!({"userId": user}), 404, "not_found").await;
}

#[tokio::test]
async fn personal_access_tokens_are_shown_once_listed_and_removed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let user = machine(&app, &org, "robot").await;

    let added = ok(
        &app,
        &admin,
        "AddPersonalAccessToken",
        json!({"userId": user, "expirationDate": "2099-01-01T00:00:00+00:00"}),
    )
    .await;
    insta::assert_json_snapshot!("add_pat", redacted(&added));
    let token = added["token"].as_str().unwrap().to_owned();
    let token_id = added["tokenId"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tsr_pat_"));
    let (forever_id, _) = pat(&app, &user, None).await;

    let listed = ok(&app, &admin, "ListPersonalAccessTokens", json!({"filters": [{"userIdFilter": {"id": user}}], "sortingColumn": "PERSONAL_ACCESS_TOKEN_FIELD_NAME_EXPIRATION_DATE", "pagination": {"asc": true}})).await;
    insta::assert_json_snapshot!("list_pats", redacted(&listed));
    assert!(!listed.to_string().contains(&token), "the token is never listed");
    let ids: Vec<&str> = listed["result"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [token_id.as_str(), forever_id.as_str()]);
    assert_eq!(listed["result"][1]["expirationDate"], "9999-12-31T23:59:59Z", "ZITADEL's default expiration");

    let filtered = ok(&app, &admin, "ListPersonalAccessTokens", json!({"filters": [{"expirationDateFilter": {"timestamp": "2100-01-01T00:00:00Z", "method": "TIMESTAMP_FILTER_METHOD_BEFORE"}}, {"organizationIdFilter": {"id": org}}]})).await;
    assert_eq!(filtered["pagination"]["totalResult"], "1");
    assert_eq!(filtered["result"][0]["id"], token_id.as_str());

    let removed = ok(&app, &admin, "RemovePersonalAccessToken", json!({"userId": user, "tokenId": token_id})).await;
    insta::assert_json_snapshot!("remove_pat", redacted(&removed));
    assert!(!works(&app, &token, &user).await, "removed: 401 at once");
    // Removing again is not_found, exactly like a token of another user: the
    // call never answers success without having removed something.
    fails(&app, &admin, "RemovePersonalAccessToken", json!({"userId": user, "tokenId": token_id}), 404, "not_found")
        .await;
}

#[tokio::test]
async fn pat_rules_follow_zitadel() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let user = machine(&app, &org, "robot").await;
    let human = ok(&app, &admin, "CreateUser", json!({"organizationId": org, "username": "ada", "human": {"profile": {"givenName": "Ada", "familyName": "L"}, "email": {"email": "ada@example.com"}}})).await;

    let past = fails(
        &app,
        &admin,
        "AddPersonalAccessToken",
        json!({"userId": user, "expirationDate": "2020-01-01T00:00:00Z"}),
        400,
        "invalid_argument",
    )
    .await;
    insta::assert_json_snapshot!("add_pat_past_expiration", past);
    let for_human =
        fails(&app, &admin, "AddPersonalAccessToken", json!({"userId": human["id"]}), 400, "failed_precondition").await;
    insta::assert_json_snapshot!("add_pat_human", for_human);
    let nobody = uuid::Uuid::now_v7().to_string();
    fails(&app, &admin, "AddPersonalAccessToken", json!({"userId": nobody}), 400, "failed_precondition").await;
    fails(
        &app,
        &admin,
        "AddPersonalAccessToken",
        json!({"userId": user, "expirationDate": "next tuesday"}),
        400,
        "invalid_argument",
    )
    .await;
    // Naive timestamps (Python's isoformat of a naive datetime) are taken as UTC.
    ok(&app, &admin, "AddPersonalAccessToken", json!({"userId": user, "expirationDate": "2099-01-01T00:00:00.123456"}))
        .await;
}

#[tokio::test]
async fn an_expired_pat_is_refused_the_moment_it_expires() {
    let app = TestApp::in_process().await;
    let org = default_org(&app).await;
    let user = machine(&app, &org, "robot").await;
    let at = app.clock().now() + chrono::Duration::seconds(2);
    let (_, token) = pat(&app, &user, Some(&at.to_rfc3339())).await;
    assert!(works(&app, &token, &user).await);
    app.clock().advance(chrono::Duration::milliseconds(1_999));
    assert!(works(&app, &token, &user).await, "valid until its expiration");
    app.clock().advance(chrono::Duration::milliseconds(1));
    assert!(!works(&app, &token, &user).await, "refused the moment it expires");
}

#[tokio::test]
async fn a_user_without_roles_sees_only_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let user = machine(&app, &org, "plain").await;
    let other = machine(&app, &org, "other").await;
    let (_, token) = pat(&app, &user, None).await;

    let me = ok(&app, &token, "GetUserByID", json!({"userId": user})).await;
    assert_eq!(me["user"]["username"], "plain");
    let listed = ok(&app, &token, "ListUsers", json!({})).await;
    assert_eq!(listed["result"].as_array().unwrap().len(), 1, "a list never fails, it only hides");
    // Another user answers exactly like a missing one: no existence oracle.
    let hidden = fails(&app, &token, "GetUserByID", json!({"userId": other}), 404, "not_found").await;
    insta::assert_json_snapshot!("get_user_unreadable", hidden);
    fails(
        &app,
        &token,
        "CreateUser",
        json!({"organizationId": org, "username": "x", "machine": {"name": "x"}}),
        403,
        "permission_denied",
    )
    .await;
    fails(&app, &token, "DeactivateUser", json!({"userId": other}), 403, "permission_denied").await;
    fails(&app, &token, "AddPersonalAccessToken", json!({"userId": other}), 403, "permission_denied").await;
    // A machine user may manage its own tokens.
    ok(&app, &token, "AddPersonalAccessToken", json!({"userId": user})).await;
    let mine = ok(&app, &token, "ListPersonalAccessTokens", json!({})).await;
    assert_eq!(mine["pagination"]["totalResult"], "2", "its own tokens only: {mine}");
    let _ = admin;
}

#[tokio::test]
async fn metadata_is_set_listed_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let user = machine(&app, &org, "robot").await;
    let res = ok(
        &app,
        &admin,
        "SetUserMetadata",
        json!({"userId": user, "metadata": [{"key": "team", "value": "b3Bz"}, {"key": "env", "value": "cHJvZA=="}]}),
    )
    .await;
    insta::assert_json_snapshot!("set_metadata", redacted(&res));
    let listed = ok(&app, &admin, "ListUserMetadata", json!({"userId": user, "pagination": {"asc": true}})).await;
    insta::assert_json_snapshot!("list_metadata", redacted(&listed));
    assert_eq!(listed["metadata"][1]["value"], "b3Bz");
    let filtered = ok(
        &app,
        &admin,
        "ListUserMetadata",
        json!({"userId": user, "filters": [{"keyFilter": {"key": "te", "method": "TEXT_FILTER_METHOD_STARTS_WITH"}}]}),
    )
    .await;
    assert_eq!(filtered["pagination"]["totalResult"], "1");
    fails(
        &app,
        &admin,
        "SetUserMetadata",
        json!({"userId": user, "metadata": [{"key": "x", "value": "%%%"}]}),
        400,
        "invalid_argument",
    )
    .await;
    ok(&app, &admin, "DeleteUserMetadata", json!({"userId": user, "keys": ["team"]})).await;
    let listed = ok(&app, &admin, "ListUserMetadata", json!({"userId": user})).await;
    assert_eq!(listed["pagination"]["totalResult"], "1");
}

#[tokio::test]
async fn rest_paths_reach_the_same_handlers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app).await;
    let res = app
        .client
        .post(app.url("/v2/users/new"))
        .bearer_auth(&admin)
        .json(&json!({"organizationId": org, "username": "rest-bot", "machine": {"name": "REST"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let got: Value = app
        .client
        .get(app.url(&format!("/v2/users/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["user"]["username"], "rest-bot");
    let added: Value = app
        .client
        .post(app.url(&format!("/v2/users/{id}/pats")))
        .bearer_auth(&admin)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token_id = added["tokenId"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/v2/users/{id}/pats/{token_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.post(app.url(&format!("/v2/users/{id}/deactivate"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 200, "an empty body is the empty message");

    // v2beta's gateway paths reach the same handlers, for the methods both have.
    let got: Value = app
        .client
        .get(app.url(&format!("/v2beta/users/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["user"]["state"], "USER_STATE_INACTIVE", "{got}");
    let res =
        app.client.post(app.url(&format!("/v2beta/users/{id}/reactivate"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let listed: Value = app
        .client
        .post(app.url("/v2beta/users"))
        .bearer_auth(&admin)
        .json(&json!({"queries": [{"inUserIdsQuery": {"userIds": [id]}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["result"][0]["state"], "USER_STATE_ACTIVE", "{listed}");

    let res = app.client.delete(app.url(&format!("/v2beta/users/{id}"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn the_connect_transport_follows_the_protocol() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();

    let (status, challenge, body) = connect(&app, None, USERS, "ListUsers", json!({})).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer realm=\"tessera\"")));
    insta::assert_json_snapshot!("unauthenticated_missing", body);
    let (status, challenge, body) = connect(&app, Some("tsr_pat_garbage"), USERS, "ListUsers", json!({})).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("error=\"invalid_token\""));
    insta::assert_json_snapshot!("unauthenticated_invalid", body);
    let res = app
        .client
        .post(app.url(&format!("/{USERS}/ListUsers")))
        .header("authorization", format!("bEaReR {admin}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the scheme is case-insensitive");
    let res = app
        .client
        .post(app.url(&format!("/{USERS}/ListUsers")))
        .header("authorization", format!("Basic {admin}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // The PAT pasted without `Bearer `: the answer says how to send it, and
    // differs from the one for a token that is unknown, expired or revoked.
    let res = app
        .client
        .post(app.url(&format!("/{USERS}/ListUsers")))
        .header("authorization", admin.as_str())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"tessera\"");
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(!body.to_string().contains(&admin), "the token is echoed: {body}");
    insta::assert_json_snapshot!("unauthenticated_no_bearer_scheme", body);
    assert!(app.logs().contains("API request refused"), "a refused token leaves a trace at info");

    let (status, _, body) = connect(&app, Some(&admin), USERS, "NoSuchMethod", json!({})).await;
    assert_eq!(status, 404);
    insta::assert_json_snapshot!("unknown_method", body);
    let (status, _, body) = connect(&app, Some(&admin), "zitadel.nothing.v2.NothingService", "Call", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("unimplemented")));

    let raw = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url(&format!("/{USERS}/ListUsers")))
            .bearer_auth(&admin)
            .header("content-type", content_type)
            .body(body)
    };
    assert_eq!(raw("", "application/json").send().await.unwrap().status(), 200, "empty body = {{}}");
    assert_eq!(raw("{}", "application/json; charset=utf-8").send().await.unwrap().status(), 200);
    let res = raw("{}", "text/plain").send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "invalid_argument");
    let res = raw("{not json", "application/json").send().await.unwrap();
    assert_eq!(res.status(), 400);
    let res = raw(r#"{"unknownField": 1, "query": {"limit": "5"}}"#, "application/json").send().await.unwrap();
    assert_eq!(res.status(), 200, "unknown fields are ignored, int64 as string accepted");
    let res = raw(r#"{"query": {"limit": "many"}}"#, "application/json").send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    insta::assert_json_snapshot!("bad_field_value", body);
    assert!(!body.to_string().contains("many"), "input values are never echoed");

    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024 + 10));
    let res = app
        .client
        .post(app.url(&format!("/{USERS}/ListUsers")))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    insta::assert_json_snapshot!("body_too_large", res.json::<Value>().await.unwrap());

    let res = app.client.get(app.url(&format!("/{USERS}/ListUsers"))).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn last_use_is_recorded_off_the_request_path() {
    let mut app = TestApp::spawn().await;
    let org = default_org(&app).await;
    let user = machine(&app, &org, "robot").await;
    let (token_id, token) = pat(&app, &user, None).await;
    let listed = ok(
        &app,
        &app.admin_pat(),
        "ListPersonalAccessTokens",
        json!({"filters": [{"tokenIdFilter": {"id": token_id}}]}),
    )
    .await;
    assert!(listed["result"][0].get("lastUsedDate").is_none(), "never used yet");
    assert!(works(&app, &token, &user).await);
    // The batch is written at the latest on shutdown.
    assert!(app.stop().success());
    let first_run = app.logs();

    let app = Spawn::reusing(&app).start().await;
    let listed = ok(
        &app,
        &app.admin_pat(),
        "ListPersonalAccessTokens",
        json!({"filters": [{"tokenIdFilter": {"id": token_id}}]}),
    )
    .await;
    assert!(listed["result"][0]["lastUsedDate"].is_string(), "{listed}\n{first_run}");
}
