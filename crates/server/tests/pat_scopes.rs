//! Fine-grained personal access tokens (docs/pat-hygiene.md): a PAT limited to
//! organizations, projects and permissions acts with its user's current rights
//! narrowed to its scope, never more; it cannot be created with rights its
//! user lacks, nor mint itself a wider credential; the organization policy can
//! require a scope. Runs on SQLite and, with `TESSERA_TEST_POSTGRES_URL`, on
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{ADMINS, POLICY, USERS, call, create_machine, create_org, default_org, grant, items, ok, snap};
use common::TestApp;
use serde_json::{Value, json};

/// A scoped PAT for `user`; returns the token.
async fn scoped_pat(app: &TestApp, admin: &str, user: &str, scope: Value) -> String {
    let body = ok(app, admin, USERS, "AddPersonalAccessToken", json!({"userId": user, "tesseraScope": scope})).await;
    body["token"].as_str().unwrap().to_owned()
}

/// The Connect code of a failed call.
fn code(answer: &(u16, Value)) -> &str {
    answer.1["code"].as_str().unwrap_or("")
}

/// Two organizations; `ops`, a machine user of the first holding `ORG_OWNER`
/// on both; a user in each to act on.
struct World {
    app: TestApp,
    admin: String,
    a: String,
    b: String,
    ops: String,
    in_a: String,
    in_b: String,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let a = default_org(&app, &admin).await;
    let b = create_org(&app, &admin, "Other").await;
    let ops = create_machine(&app, &admin, &a, "ops").await;
    grant(&app, &admin, &ops, json!({"organizationId": a}), &["ORG_OWNER"]).await;
    grant(&app, &admin, &ops, json!({"organizationId": b}), &["ORG_OWNER"]).await;
    let in_a = create_machine(&app, &admin, &a, "worker-a").await;
    let in_b = create_machine(&app, &admin, &b, "worker-b").await;
    World { app, admin, a, b, ops, in_a, in_b }
}

#[tokio::test]
async fn a_read_only_pat_on_one_organization_is_refused_writes_and_other_organizations() {
    let w = world().await;
    let pat = scoped_pat(&w.app, &w.admin, &w.ops, json!({"organizationIds": [w.a], "presets": ["read-only"]})).await;

    // Reads in its organization work; the list shows nothing of the other.
    ok(&w.app, &pat, USERS, "GetUserByID", json!({"userId": w.in_a})).await;
    let listed = ok(&w.app, &pat, USERS, "ListUsers", json!({"query": {"limit": 100}})).await;
    let names: Vec<&str> = items(&listed, "result").iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert!(names.contains(&"worker-a") && !names.contains(&"worker-b"), "{names:?}");
    let other = call(&w.app, &pat, USERS, "GetUserByID", json!({"userId": w.in_b})).await;
    assert!(matches!(code(&other), "not_found" | "permission_denied"), "{other:?}");

    // Writes are refused, in its organization and in the other, though its
    // user may do both.
    let create_a = json!({"organizationId": w.a, "username": "new-a", "machine": {"name": "n"}});
    let refused = call(&w.app, &pat, USERS, "CreateUser", create_a.clone()).await;
    assert_eq!(code(&refused), "permission_denied", "{refused:?}");
    snap!("scoped_write_denied", &refused.1);
    let create_b = json!({"organizationId": w.b, "username": "new-b", "machine": {"name": "n"}});
    assert_eq!(code(&call(&w.app, &pat, USERS, "CreateUser", create_b.clone()).await), "permission_denied");
    let deactivate = call(&w.app, &pat, USERS, "DeactivateUser", json!({"userId": w.in_a})).await;
    assert_eq!(code(&deactivate), "permission_denied");
    let full = ok(&w.app, &w.admin, USERS, "AddPersonalAccessToken", json!({"userId": w.ops})).await;
    let full = full["token"].as_str().unwrap();
    ok(&w.app, full, USERS, "CreateUser", create_b).await;

    // It cannot give its user a wider credential: no unscoped or wider PAT,
    // no key, no secret, not even for itself.
    let wider = call(&w.app, &pat, USERS, "AddPersonalAccessToken", json!({"userId": w.ops})).await;
    assert_eq!(code(&wider), "permission_denied", "{wider:?}");
    let wider_scope =
        json!({"userId": w.ops, "tesseraScope": {"organizationIds": [w.a, w.b], "presets": ["read-only"]}});
    assert_eq!(code(&call(&w.app, &pat, USERS, "AddPersonalAccessToken", wider_scope).await), "permission_denied");
    let key = call(&w.app, &pat, USERS, "AddKey", json!({"userId": w.ops})).await;
    assert_eq!(code(&key), "permission_denied", "{key:?}");
    let secret = call(&w.app, &pat, USERS, "AddSecret", json!({"userId": w.ops})).await;
    assert_eq!(code(&secret), "permission_denied", "{secret:?}");

    // The scope shows in ListPersonalAccessTokens, presets as permissions;
    // an unscoped token shows none.
    let listed = ok(
        &w.app,
        &w.admin,
        USERS,
        "ListPersonalAccessTokens",
        json!({"filters": [{"userIdFilter": {"id": w.ops}}], "pagination": {"asc": true}}),
    )
    .await;
    let tokens = items(&listed, "result");
    assert_eq!(tokens.len(), 2);
    let scope = &tokens[0]["tesseraScope"];
    assert_eq!(scope["organizationIds"], json!([w.a]));
    assert!(scope["permissions"].as_array().unwrap().iter().all(|p| p.as_str().unwrap().ends_with(".read")));
    assert!(tokens[1].get("tesseraScope").is_none(), "{}", tokens[1]);
    insta::assert_json_snapshot!("scoped_pat_listed", common::redacted(&tokens[0]));
}

#[tokio::test]
async fn removing_the_users_role_narrows_the_pat_at_once() {
    let w = world().await;
    let scope = json!({"organizationIds": [w.a], "permissions": ["user.read", "user.write"]});
    let pat = scoped_pat(&w.app, &w.admin, &w.ops, scope).await;
    let update = |name: &str| json!({"userId": w.in_a, "machine": {"name": name}});
    ok(&w.app, &pat, USERS, "UpdateUser", update("first")).await;

    // ORG_OWNER on A becomes ORG_OWNER_VIEWER: user.write is gone from the
    // user, so from the token, on the next request.
    ok(
        &w.app,
        &w.admin,
        ADMINS,
        "UpdateAdministrator",
        json!({"userId": w.ops, "resource": {"organizationId": w.a}, "roles": ["ORG_OWNER_VIEWER"]}),
    )
    .await;
    assert_eq!(code(&call(&w.app, &pat, USERS, "UpdateUser", update("second")).await), "permission_denied");
    ok(&w.app, &pat, USERS, "GetUserByID", json!({"userId": w.in_a})).await;

    // Without any role on A, the token reaches nothing there.
    ok(&w.app, &w.admin, ADMINS, "DeleteAdministrator", json!({"userId": w.ops, "resource": {"organizationId": w.a}}))
        .await;
    let read = call(&w.app, &pat, USERS, "GetUserByID", json!({"userId": w.in_a})).await;
    assert!(matches!(code(&read), "not_found" | "permission_denied"), "{read:?}");
    // Granting the role back restores what the scope allows, and no more.
    grant(&w.app, &w.admin, &w.ops, json!({"organizationId": w.a}), &["ORG_OWNER"]).await;
    ok(&w.app, &pat, USERS, "UpdateUser", update("third")).await;
    assert_eq!(code(&call(&w.app, &pat, USERS, "DeleteUser", json!({"userId": w.in_a})).await), "permission_denied");
}

#[tokio::test]
async fn a_pat_cannot_be_created_with_rights_its_user_lacks() {
    let w = world().await;
    let manager = create_machine(&w.app, &w.admin, &w.a, "manager").await;
    grant(&w.app, &w.admin, &manager, json!({"organizationId": w.a}), &["ORG_USER_MANAGER"]).await;
    let add = |scope: Value| json!({"userId": manager, "tesseraScope": scope});
    let cases = [
        ("another organization", json!({"organizationIds": [w.b]}), "permission_denied"),
        (
            "a permission it lacks",
            json!({"organizationIds": [w.a], "permissions": ["project.write"]}),
            "permission_denied",
        ),
        ("a permission it lacks anywhere", json!({"permissions": ["org.delete"]}), "permission_denied"),
        ("an unknown permission", json!({"permissions": ["user.reed"]}), "invalid_argument"),
        ("an unknown preset", json!({"presets": ["admin"]}), "invalid_argument"),
        ("an id that is none", json!({"organizationIds": ["acme"]}), "invalid_argument"),
        ("an unknown project", json!({"projectIds": [w.in_a]}), "invalid_argument"),
    ];
    for (what, scope, expected) in cases {
        let refused = call(&w.app, &w.admin, USERS, "AddPersonalAccessToken", add(scope)).await;
        assert_eq!(code(&refused), expected, "{what}: {refused:?}");
    }
    let refused = call(&w.app, &w.admin, USERS, "AddPersonalAccessToken", add(json!({"organizationIds": [w.b]}))).await;
    let named: Value = serde_json::from_str(&refused.1.to_string().replace(&w.b, "[org b]")).unwrap();
    insta::assert_json_snapshot!("scope_beyond_the_user", named);

    // A preset brings those of its permissions the user holds: user-manager
    // names user.credential.write, which ORG_USER_MANAGER lacks.
    let scope = json!({"organizationIds": [w.a], "presets": ["user-manager"], "permissions": ["user.read"]});
    let added = ok(&w.app, &w.admin, USERS, "AddPersonalAccessToken", add(scope)).await;
    let listed = ok(
        &w.app,
        &w.admin,
        USERS,
        "ListPersonalAccessTokens",
        json!({"filters": [{"tokenIdFilter": {"id": added["tokenId"]}}]}),
    )
    .await;
    let permissions = items(&listed, "result")[0]["tesseraScope"]["permissions"].clone();
    assert!(permissions.as_array().unwrap().contains(&json!("user.write")), "{permissions}");
    assert!(!permissions.as_array().unwrap().contains(&json!("user.credential.write")), "{permissions}");
    // A preset of which the user holds nothing there is refused: an empty list
    // of permissions would mean all of them.
    let creator = create_machine(&w.app, &w.admin, &w.a, "creator").await;
    grant(&w.app, &w.admin, &creator, json!({"organizationId": w.a}), &["ORG_PROJECT_CREATOR"]).await;
    let nothing = json!({"userId": creator, "tesseraScope": {"organizationIds": [w.a], "presets": ["user-manager"]}});
    let refused = call(&w.app, &w.admin, USERS, "AddPersonalAccessToken", nothing).await;
    assert_eq!(code(&refused), "permission_denied", "{refused:?}");
    let empty = ok(&w.app, &w.admin, USERS, "AddPersonalAccessToken", add(json!({}))).await;
    let listed = ok(
        &w.app,
        &w.admin,
        USERS,
        "ListPersonalAccessTokens",
        json!({"filters": [{"tokenIdFilter": {"id": empty["tokenId"]}}]}),
    )
    .await;
    assert!(items(&listed, "result")[0].get("tesseraScope").is_none());
}

#[tokio::test]
async fn the_organization_policy_can_require_a_scope() {
    let w = world().await;
    let set = ok(
        &w.app,
        &w.admin,
        POLICY,
        "SetPersonalAccessTokenPolicy",
        json!({"organizationId": w.a, "requireScope": true}),
    )
    .await;
    assert_eq!(set["requireScope"], true);
    let got = ok(&w.app, &w.admin, POLICY, "GetPersonalAccessTokenPolicy", json!({"organizationId": w.a})).await;
    assert_eq!(got["requireScope"], true);

    let unscoped = call(&w.app, &w.admin, USERS, "AddPersonalAccessToken", json!({"userId": w.ops})).await;
    assert_eq!(code(&unscoped), "invalid_argument", "{unscoped:?}");
    snap!("scope_required", &unscoped.1);
    scoped_pat(&w.app, &w.admin, &w.ops, json!({"organizationIds": [w.a]})).await;
    // The other organization has no such policy.
    ok(&w.app, &w.admin, USERS, "AddPersonalAccessToken", json!({"userId": w.in_b})).await;

    // Setting the lifetime alone keeps the requirement; setting it false lifts it.
    let lifetime = json!({"organizationId": w.a, "maxLifetime": "864000s"});
    let kept = ok(&w.app, &w.admin, POLICY, "SetPersonalAccessTokenPolicy", lifetime).await;
    assert_eq!(kept["requireScope"], true);
    let lifted = json!({"organizationId": w.a, "requireScope": false});
    ok(&w.app, &w.admin, POLICY, "SetPersonalAccessTokenPolicy", lifted).await;
    ok(&w.app, &w.admin, USERS, "AddPersonalAccessToken", json!({"userId": w.ops})).await;
    let actions = w.app.audit_actions().await;
    assert!(actions.iter().filter(|a| *a == "organization.policy.pat.changed").count() >= 3, "{actions:?}");
}
