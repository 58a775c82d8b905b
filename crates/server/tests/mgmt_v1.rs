//! ZITADEL's v1 management REST endpoints (`/management/v1/…`: machine users,
//! projects and roles) end to end through the real binary:
//! grpc-gateway JSON in and out, the `x-zitadel-orgid` header, and the gateway's
//! error bodies `{"code": <int>, "message", "details": []}`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

/// Sends a v1 request; returns (status, headers, body).
async fn v1(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    org: Option<&str>,
    body: Value,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token).json(&body);
    if let Some(org) = org {
        req = req.header("x-zitadel-orgid", org);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

/// Calls a v2 UserService method.
async fn v2(app: &TestApp, token: &str, method: &str, body: Value) -> (u16, Value) {
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

/// The bootstrap organization (the admin's own).
async fn own_org(app: &TestApp) -> String {
    let (status, me) = v2(app, &app.admin_pat(), "ListUsers", json!({})).await;
    assert_eq!(status, 200, "{me}");
    me["result"][0]["details"]["resourceOwner"].as_str().unwrap().to_owned()
}

/// Snapshots a v1 success body with its ids and times redacted.
macro_rules! assert_details_snapshot {
    ($name:literal, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".userId" => "[userId]",
            ".details.creationDate" => "[creationDate]",
            ".details.changeDate" => "[changeDate]",
            ".details.resourceOwner" => "[resourceOwner]",
        })
    };
}

#[tokio::test]
async fn add_machine_user_creates_a_jwt_user_in_the_callers_organization() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app).await;

    let (status, _, created) = v1(
        &app,
        Method::POST,
        "/management/v1/users/machine",
        &admin,
        None,
        json!({"userName": "deployer", "name": "Deployer", "description": "ships releases",
               "accessTokenType": "ACCESS_TOKEN_TYPE_JWT", "unknownField": true}),
    )
    .await;

    assert_eq!(status, 200, "{created}");
    let id = created["userId"].as_str().unwrap().to_owned();
    assert_eq!(created["details"]["resourceOwner"], org.as_str());
    assert!(created["details"].get("sequence").is_none(), "Tessera is not event-sourced");
    assert!(created["details"]["creationDate"].as_str().unwrap().ends_with('Z'));
    assert_details_snapshot!("add_machine_user", created);

    let (status, got) = v2(&app, &admin, "GetUserByID", json!({"userId": id})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["user"]["username"], "deployer");
    assert_eq!(got["user"]["machine"]["name"], "Deployer");
    assert_eq!(got["user"]["machine"]["description"], "ships releases");
    assert_eq!(got["user"]["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT");
}

#[tokio::test]
async fn add_machine_user_takes_snake_case_a_chosen_id_and_the_org_header() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app).await;
    let chosen = "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

    let (status, _, created) = v1(
        &app,
        Method::POST,
        "/management/v1/users/machine",
        &admin,
        Some(&org),
        json!({"user_name": "importer", "name": "Importer", "user_id": chosen, "access_token_type": 0}),
    )
    .await;

    assert_eq!(status, 200, "{created}");
    assert_eq!(created["userId"], chosen);
    assert_eq!(created["details"]["resourceOwner"], org.as_str());
    let (_, got) = v2(&app, &admin, "GetUserByID", json!({"userId": chosen})).await;
    assert_eq!(got["user"]["machine"].get("accessTokenType"), None, "BEARER, the default, is left out");
}

#[tokio::test]
async fn update_machine_replaces_name_description_and_token_type() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let (_, _, created) = v1(
        &app,
        Method::POST,
        "/management/v1/users/machine",
        &admin,
        None,
        json!({"userName": "worker", "name": "Worker", "description": "old", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}),
    )
    .await;
    let id = created["userId"].as_str().unwrap().to_owned();
    let path = format!("/management/v1/users/{id}/machine");

    // accessTokenType omitted: a full replace makes it BEARER again.
    let (status, _, updated) =
        v1(&app, Method::PUT, &path, &admin, None, json!({"name": "Worker 2", "description": "new"})).await;

    assert_eq!(status, 200, "{updated}");
    assert!(updated.get("userId").is_none());
    let (_, got) = v2(&app, &admin, "GetUserByID", json!({"userId": id})).await;
    assert_eq!(got["user"]["machine"]["name"], "Worker 2");
    assert_eq!(got["user"]["machine"]["description"], "new");
    assert_eq!(got["user"]["machine"].get("accessTokenType"), None, "BEARER, the default, is left out");
    let changed =
        |v: &Value| chrono::DateTime::parse_from_rfc3339(v["details"]["changeDate"].as_str().unwrap()).unwrap();
    assert!(changed(&updated) > changed(&created));
    assert_details_snapshot!("update_machine", updated);

    // Description omitted: it is cleared; JWT set again.
    let (status, _, _) = v1(
        &app,
        Method::PUT,
        &path,
        &admin,
        None,
        json!({"name": "Worker 3", "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"}),
    )
    .await;
    assert_eq!(status, 200);
    let (_, got) = v2(&app, &admin, "GetUserByID", json!({"userId": id})).await;
    assert_eq!(got["user"]["machine"].get("description"), None, "an empty description is left out");
    assert_eq!(got["user"]["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT");
}

#[tokio::test]
async fn v1_errors_use_the_gateway_shape_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let create = "/management/v1/users/machine";

    // invalid_argument (3) → 400: the required userName is missing.
    let (status, _, body) = v1(&app, Method::POST, create, &admin, None, json!({"name": "x"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], 3);
    assert!(body["message"].as_str().unwrap().contains("userName"), "{body}");
    insta::assert_json_snapshot!("error_invalid_argument", body);

    // unauthenticated (16) → 401 with the bearer challenge.
    let (status, headers, body) = v1(&app, Method::POST, create, "tsr_pat_garbage", None, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], 16);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    insta::assert_json_snapshot!("error_unauthenticated", body);

    // already_exists (6) → 409.
    let dup = json!({"userName": "twin", "name": "Twin"});
    assert_eq!(v1(&app, Method::POST, create, &admin, None, dup.clone()).await.0, 200);
    let (status, _, body) = v1(&app, Method::POST, create, &admin, None, dup).await;
    assert_eq!((status, body["code"].clone()), (409, json!(6)), "{body}");

    // not_found (5) → 404: an organization that does not exist.
    let missing_org = "0199a1b2-c3d4-7e5f-8a9b-000000000000";
    let (status, _, body) =
        v1(&app, Method::POST, create, &admin, Some(missing_org), json!({"userName": "a", "name": "A"})).await;
    assert_eq!((status, body["code"].clone()), (404, json!(5)), "{body}");

    // invalid_argument: a header that is not an id.
    let (status, _, body) =
        v1(&app, Method::POST, create, &admin, Some("not-an-id"), json!({"userName": "a", "name": "A"})).await;
    assert_eq!((status, body["code"].clone()), (400, json!(3)), "{body}");

    // not_found: an update of a user that does not exist.
    let path = format!("/management/v1/users/{missing_org}/machine");
    let (status, _, body) = v1(&app, Method::PUT, &path, &admin, None, json!({"name": "A"})).await;
    assert_eq!((status, body["code"].clone()), (404, json!(5)), "{body}");

    // invalid_argument: UpdateMachine requires a name.
    let (_, twin) = v2(&app, &admin, "ListUsers", json!({"queries": [{"userNameQuery": {"userName": "twin"}}]})).await;
    let twin_id = twin["result"][0]["userId"].as_str().unwrap().to_owned();
    let path = format!("/management/v1/users/{twin_id}/machine");
    let (status, _, body) = v1(&app, Method::PUT, &path, &admin, None, json!({"description": "d"})).await;
    assert_eq!((status, body["code"].clone()), (400, json!(3)), "{body}");
}

#[tokio::test]
async fn v1_refuses_callers_without_user_write_and_human_targets() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let (_, _, created) = v1(
        &app,
        Method::POST,
        "/management/v1/users/machine",
        &admin,
        None,
        json!({"userName": "plain", "name": "Plain"}),
    )
    .await;
    let plain = created["userId"].as_str().unwrap().to_owned();
    let (status, pat) = v2(&app, &admin, "AddPersonalAccessToken", json!({"userId": plain})).await;
    assert_eq!(status, 200, "{pat}");
    let plain_pat = pat["token"].as_str().unwrap().to_owned();

    // permission_denied (7) → 403: a user without administrator roles.
    let (status, _, body) = v1(
        &app,
        Method::POST,
        "/management/v1/users/machine",
        &plain_pat,
        None,
        json!({"userName": "sneaky", "name": "Sneaky"}),
    )
    .await;
    assert_eq!((status, body["code"].clone()), (403, json!(7)), "{body}");
    insta::assert_json_snapshot!("error_permission_denied", body);

    // failed_precondition (9) → 400: UpdateMachine on the human console admin.
    let (_, humans) = v2(&app, &admin, "ListUsers", json!({"queries": [{"typeQuery": {"type": "TYPE_HUMAN"}}]})).await;
    let human = humans["result"][0]["userId"].as_str().unwrap().to_owned();
    let (status, _, body) =
        v1(&app, Method::PUT, &format!("/management/v1/users/{human}/machine"), &admin, None, json!({"name": "Robot"}))
            .await;
    assert_eq!((status, body["code"].clone()), (400, json!(9)), "{body}");
}

/// The Terraform provider's `project` and `project_role` resources at their
/// grpc-gateway paths: create, read, update, list, remove, with the gateway's
/// error body for a project of another organization.
#[tokio::test]
async fn projects_and_roles_at_their_rest_paths() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = own_org(&app).await;
    let (status, _, created) = v1(
        &app,
        Method::POST,
        "/management/v1/projects",
        &admin,
        Some(&org),
        json!({"name": "tf-project", "projectRoleAssertion": true, "privateLabelingSetting": "PRIVATE_LABELING_SETTING_UNSPECIFIED"}),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/management/v1/projects/{id}");
    let (status, _, got) = v1(&app, Method::GET, &path, &admin, Some(&org), json!({})).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["project"]["projectRoleAssertion"], true);
    let body = json!({"name": "tf-project", "hasProjectCheck": true});
    let (status, _, _) = v1(&app, Method::PUT, &path, &admin, Some(&org), body).await;
    assert_eq!(status, 200);
    let roles = format!("{path}/roles");
    let body = json!({"roleKey": "reader", "displayName": "Reader", "group": "ops"});
    let (status, _, added) = v1(&app, Method::POST, &roles, &admin, Some(&org), body).await;
    assert_eq!(status, 200, "{added}");
    // A full replace, as in ZITADEL: the provider always sends both fields.
    let body = json!({"displayName": "Readers", "group": "ops"});
    let (status, _, _) = v1(&app, Method::PUT, &format!("{roles}/reader"), &admin, Some(&org), body).await;
    assert_eq!(status, 200);
    let (status, _, listed) = v1(&app, Method::POST, &format!("{roles}/_search"), &admin, Some(&org), json!({})).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["result"][0]["displayName"], "Readers");
    assert_eq!(listed["result"][0]["group"], "ops");

    // Another organization's header hides the project: the gateway's 404.
    let elsewhere = api::create_org(&app, &admin, "elsewhere").await;
    let (status, _, err) = v1(&app, Method::GET, &path, &admin, Some(&elsewhere), json!({})).await;
    assert_eq!((status, err["code"].as_i64()), (404, Some(5)), "{err}");

    let (status, _, _) = v1(&app, Method::DELETE, &format!("{roles}/reader"), &admin, Some(&org), json!({})).await;
    assert_eq!(status, 200);
    let (status, _, _) = v1(&app, Method::DELETE, &path, &admin, Some(&org), json!({})).await;
    assert_eq!(status, 200);
    let (status, _, _) = v1(&app, Method::GET, &path, &admin, Some(&org), json!({})).await;
    assert_eq!(status, 404);
}
