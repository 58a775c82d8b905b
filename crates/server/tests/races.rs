//! The reproductions of issue #15 through the API, end to end on the real
//! binary: a deactivation, a lock and a secret rotation each raced against an
//! update sent at the same moment, and a credential trying to keep itself alive.
//! Before the fix each lost the state change in most rounds; now none may.
//! (The use cases are raced 500 times per pair in `tests/concurrency.rs`; these
//! rounds prove the same through every layer.) Also privilege containment and
//! the two answers that used to leak or lie.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{APPS, PROJECTS, USERS, add_pat, call, create_machine, create_org, default_org, grant, ok};
use common::TestApp;
use serde_json::{Value, json};

/// Rounds of each race through the API.
const ROUNDS: usize = 40;

async fn state_of(app: &TestApp, admin: &str, user: &str) -> String {
    let got = ok(app, admin, USERS, "GetUserByID", json!({"userId": user})).await;
    got["user"]["state"].as_str().unwrap().to_owned()
}

async fn human(app: &TestApp, admin: &str, org: &str, username: &str) -> String {
    let res = ok(
        app,
        admin,
        USERS,
        "CreateUser",
        json!({"organizationId": org, "username": username, "human": {
            "profile": {"givenName": "Ada", "familyName": "Lovelace"},
            "email": {"email": format!("{username}@example.com"), "isVerified": true},
            "password": {"password": "first password 123"}
        }}),
    )
    .await;
    res["id"].as_str().unwrap().to_owned()
}

/// Sends `update` and `DeactivateUser` at the same moment, `ROUNDS` times; the
/// user must end up inactive every time.
async fn update_never_undoes_deactivation(app: &TestApp, admin: &str, user: &str, update: impl Fn(usize) -> Value) {
    for round in 0..ROUNDS {
        let (updated, deactivated) = tokio::join!(
            call(app, admin, USERS, "UpdateUser", update(round)),
            call(app, admin, USERS, "DeactivateUser", json!({"userId": user})),
        );
        assert_eq!(updated.0, 200, "round {round}: {}", updated.1);
        assert_eq!(deactivated.0, 200, "round {round}: {}", deactivated.1);
        assert_eq!(state_of(app, admin, user).await, "USER_STATE_INACTIVE", "round {round}: deactivation lost");
        ok(app, admin, USERS, "ReactivateUser", json!({"userId": user})).await;
    }
}

#[tokio::test]
async fn a_password_change_at_the_same_moment_never_undoes_a_deactivation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = human(&app, &admin, &org, "ada").await;
    update_never_undoes_deactivation(
        &app,
        &admin,
        &user,
        |round| json!({"userId": user, "human": {"password": {"password": format!("password of round {round}")}}}),
    )
    .await;
}

#[tokio::test]
async fn a_machine_update_at_the_same_moment_never_undoes_a_deactivation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = create_machine(&app, &admin, &org, "runner").await;
    let pat = add_pat(&app, &admin, &user, None).await;
    update_never_undoes_deactivation(
        &app,
        &admin,
        &user,
        |round| json!({"userId": user, "machine": {"description": format!("round {round}")}}),
    )
    .await;
    ok(&app, &admin, USERS, "DeactivateUser", json!({"userId": user})).await;
    let (status, _) = call(&app, &pat, USERS, "GetUserByID", json!({"userId": user})).await;
    assert_eq!(status, 401, "a deactivated user's PAT stops working");
}

#[tokio::test]
async fn a_credential_updating_itself_in_a_loop_cannot_keep_itself_alive() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let user = create_machine(&app, &admin, &org, "selfish").await;
    let own = add_pat(&app, &admin, &user, None).await;
    let body = json!({"userId": user, "machine": {"description": "still here"}});
    // It may update itself while active.
    ok(&app, &own, USERS, "UpdateUser", body.clone()).await;
    for round in 0..ROUNDS / 2 {
        let (own, body) = (own.clone(), body.clone());
        let looping = async {
            for _ in 0..4 {
                let _ = call(&app, &own, USERS, "UpdateUser", body.clone()).await;
            }
        };
        let (_, deactivated) =
            tokio::join!(looping, call(&app, &admin, USERS, "DeactivateUser", json!({"userId": user})));
        assert_eq!(deactivated.0, 200, "round {round}: {}", deactivated.1);
        assert_eq!(state_of(&app, &admin, &user).await, "USER_STATE_INACTIVE", "round {round}: deactivation lost");
        let (status, _) = call(&app, &own, USERS, "UpdateUser", body.clone()).await;
        assert_eq!(status, 401, "round {round}: the deactivated credential still works");
        ok(&app, &admin, USERS, "ReactivateUser", json!({"userId": user})).await;
    }
}

#[tokio::test]
async fn an_application_update_at_the_same_moment_never_undoes_a_secret_rotation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let project = ok(&app, &admin, PROJECTS, "CreateProject", json!({"name": "api"})).await;
    let project = project["projectId"].as_str().unwrap().to_owned();
    let created = ok(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "api", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}}),
    )
    .await;
    let app_id = created["applicationId"].as_str().unwrap().to_owned();
    let client_id = created["apiConfiguration"]["clientId"].as_str().unwrap().to_owned();
    let introspects = |secret: String| {
        let (app, client_id) = (&app, client_id.clone());
        async move {
            let res = app
                .client
                .post(app.url("/oauth/v2/introspect"))
                .basic_auth(client_id, Some(secret))
                .form(&[("token", "tsr_at_not_a_token")])
                .send()
                .await
                .unwrap();
            res.status().as_u16() == 200
        }
    };
    let mut old: Option<String> = None;
    for round in 0..ROUNDS {
        let (updated, rotated) = tokio::join!(
            call(
                &app,
                &admin,
                APPS,
                "UpdateApplication",
                json!({"applicationId": app_id, "name": format!("api {round}")})
            ),
            call(&app, &admin, APPS, "GenerateClientSecret", json!({"applicationId": app_id})),
        );
        assert_eq!(updated.0, 200, "round {round}: {}", updated.1);
        assert_eq!(rotated.0, 200, "round {round}: {}", rotated.1);
        let secret = rotated.1["clientSecret"].as_str().unwrap().to_owned();
        assert!(introspects(secret.clone()).await, "round {round}: the new secret is refused");
        if let Some(old) = old.replace(secret) {
            assert!(!introspects(old).await, "round {round}: the rotated-out secret still works");
        }
    }
}

#[tokio::test]
async fn no_administrator_changes_a_user_holding_rights_it_lacks() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    // An IAM_OWNER living in the default organization…
    let owner = create_machine(&app, &admin, &org, "owner").await;
    grant(&app, &admin, &owner, json!({"instance": true}), &["IAM_OWNER"]).await;
    let owner_human = human(&app, &admin, &org, "root").await;
    grant(&app, &admin, &owner_human, json!({"instance": true}), &["IAM_OWNER"]).await;
    // …and that organization's user manager and owner.
    let mut managers = Vec::new();
    for (name, role) in [("manager", "ORG_USER_MANAGER"), ("org-owner", "ORG_OWNER")] {
        let id = create_machine(&app, &admin, &org, name).await;
        grant(&app, &admin, &id, json!({"organizationId": org}), &[role]).await;
        managers.push((role, add_pat(&app, &admin, &id, None).await));
    }
    let plain = create_machine(&app, &admin, &org, "plain").await;
    for (role, pat) in &managers {
        for (method, body) in [
            ("UpdateUser", json!({"userId": owner_human, "human": {"password": {"password": "taken over 12345"}}})),
            ("UpdateUser", json!({"userId": owner_human, "human": {"email": {"email": "me@evil.example"}}})),
            ("UpdateUser", json!({"userId": owner, "machine": {"description": "mine now"}})),
            ("DeactivateUser", json!({"userId": owner})),
            ("LockUser", json!({"userId": owner_human})),
            ("DeleteUser", json!({"userId": owner})),
            ("AddPersonalAccessToken", json!({"userId": owner})),
            ("AddKey", json!({"userId": owner})),
            ("AddSecret", json!({"userId": owner})),
            ("SetUserMetadata", json!({"userId": owner, "metadata": [{"key": "k", "value": "dg=="}]})),
        ] {
            let (status, res) = call(&app, pat, USERS, method, body).await;
            assert_eq!((status, res["code"].as_str()), (403, Some("permission_denied")), "{role} {method}: {res}");
        }
        // Users with no more rights than the manager stay manageable.
        ok(&app, pat, USERS, "UpdateUser", json!({"userId": plain, "machine": {"description": role}})).await;
    }
    assert_eq!(state_of(&app, &admin, &owner).await, "USER_STATE_ACTIVE");
    // The instance owner may change its peer.
    ok(&app, &admin, USERS, "UpdateUser", json!({"userId": owner, "machine": {"description": "by a peer"}})).await;
}

#[tokio::test]
async fn removing_another_users_token_is_not_found_and_reading_an_unreadable_user_too() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let me = create_machine(&app, &admin, &org, "me").await;
    let mine = add_pat(&app, &admin, &me, None).await;
    let victim = create_machine(&app, &admin, &org, "victim").await;
    let listed = ok(&app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": victim})).await;
    let (victim_token_id, victim_token) =
        (listed["tokenId"].as_str().unwrap().to_owned(), listed["token"].as_str().unwrap().to_owned());
    let (status, res) =
        call(&app, &mine, USERS, "RemovePersonalAccessToken", json!({"userId": me, "tokenId": victim_token_id})).await;
    assert_eq!((status, res["code"].as_str()), (404, Some("not_found")), "{res}");
    let (status, _) = call(&app, &victim_token, USERS, "GetUserByID", json!({"userId": victim})).await;
    assert_eq!(status, 200, "the victim's token still works");

    // A user in an organization the caller cannot read answers like a missing one.
    let other_org = create_org(&app, &admin, "elsewhere").await;
    let hidden = create_machine(&app, &admin, &other_org, "hidden").await;
    let (hidden_status, hidden_body) = call(&app, &mine, USERS, "GetUserByID", json!({"userId": hidden})).await;
    let missing = uuid::Uuid::now_v7().to_string();
    let (missing_status, missing_body) = call(&app, &mine, USERS, "GetUserByID", json!({"userId": missing})).await;
    assert_eq!((hidden_status, &hidden_body), (missing_status, &missing_body));
    assert_eq!(hidden_body["code"], "not_found");
}
