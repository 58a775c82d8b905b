//! `zitadel.internal_permission.v2.InternalPermissionService` end to end through
//! the real binary: administrator memberships on the instance and on
//! organizations, their permissions and visibility, that a change of roles
//! applies to the very next call, and the "done when" scenario.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{
    ADMINS, ORGS, USERS, add_pat, call, create_machine, create_org, default_org, grant, in_days, ok, snap, status_of,
};
use common::TestApp;
use serde_json::{Value, json};
use tessera_domain::Clock;

const UNKNOWN: &str = "0190f0f0-0000-7000-8000-000000000000";

/// The bootstrap admin machine user's id.
async fn admin_user_id(app: &TestApp, token: &str) -> String {
    let body =
        ok(app, token, USERS, "ListUsers", json!({"queries": [{"userNameQuery": {"userName": "admin-sa"}}]})).await;
    body["result"][0]["userId"].as_str().unwrap().to_owned()
}

/// (user id, roles) of each listed membership, in order.
fn rows(list: &Value) -> Vec<(String, Value)> {
    // proto3 JSON leaves an empty list out.
    list.get("administrators")
        .map_or(&[][..], |a| a.as_array().unwrap())
        .iter()
        .map(|a| (a["user"]["id"].as_str().unwrap().to_owned(), a["roles"].clone()))
        .collect()
}

#[tokio::test]
async fn done_when_an_org_user_manager_pat_manages_users_but_not_organizations_and_dies_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;

    // The admin PAT creates a machine user, makes it ORG_USER_MANAGER and issues it a 30-day PAT.
    let bot = create_machine(&app, &admin, &default, "ci-bot").await;
    let created = ok(
        &app,
        &admin,
        ADMINS,
        "CreateAdministrator",
        json!({"userId": bot, "resource": {"organizationId": default}, "roles": ["ORG_USER_MANAGER"]}),
    )
    .await;
    snap!("create_administrator", &created);
    let token = add_pat(&app, &admin, &bot, Some(in_days(30))).await;

    // It can create and list users ...
    let made = ok(
        &app,
        &token,
        USERS,
        "CreateUser",
        json!({"organizationId": default, "username": "made-by-bot", "machine": {"name": "Made by the bot"}}),
    )
    .await;
    let listed =
        ok(&app, &token, USERS, "ListUsers", json!({"queries": [{"userNameQuery": {"userName": "made-by-bot"}}]}))
            .await;
    assert_eq!(listed["result"][0]["userId"], made["id"]);
    // ... but not instance-level calls.
    let (status, denied) = call(&app, &token, ORGS, "AddOrganization", json!({"name": "Bot Org"})).await;
    assert_eq!(status, 403);
    snap!("add_organization_as_org_user_manager", &denied);
    let (status, _) = call(
        &app,
        &token,
        ADMINS,
        "CreateAdministrator",
        json!({"userId": bot, "resource": {"instance": true}, "roles": ["IAM_OWNER"]}),
    )
    .await;
    assert_eq!(status, 403, "no escalation to the instance");

    // Removing the PAT makes it 401 at once.
    let token_id =
        ok(&app, &admin, USERS, "ListPersonalAccessTokens", json!({"filters": [{"userIdFilter": {"id": bot}}]})).await
            ["result"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    ok(&app, &admin, USERS, "RemovePersonalAccessToken", json!({"userId": bot, "tokenId": token_id})).await;
    assert_eq!(status_of(&app, &token).await, 401, "removed");

    // Deactivating its user makes the next PAT 401 at once; reactivating restores it.
    let token = add_pat(&app, &admin, &bot, Some(in_days(30))).await;
    assert_eq!(status_of(&app, &token).await, 200);
    ok(&app, &admin, USERS, "DeactivateUser", json!({"userId": bot})).await;
    assert_eq!(status_of(&app, &token).await, 401, "user deactivated");
    ok(&app, &admin, USERS, "ReactivateUser", json!({"userId": bot})).await;
    assert_eq!(status_of(&app, &token).await, 200, "user reactivated");

    // Deleting its user makes it 401 for good.
    ok(&app, &admin, USERS, "DeleteUser", json!({"userId": bot})).await;
    assert_eq!(status_of(&app, &token).await, 401, "user deleted");
}

#[tokio::test]
async fn an_administrators_pat_stops_at_its_expiration() {
    let app = TestApp::in_process().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let short = create_machine(&app, &admin, &default, "short-lived").await;
    grant(&app, &admin, &short, json!({"organizationId": default}), &["ORG_USER_MANAGER"]).await;
    let expires = app.clock().now() + chrono::Duration::seconds(2);
    let token = add_pat(&app, &admin, &short, Some(expires.to_rfc3339())).await;
    assert_eq!(status_of(&app, &token).await, 200, "valid before its expiration");
    app.clock().advance(chrono::Duration::seconds(2));
    assert_eq!(status_of(&app, &token).await, 401, "expired");
}

#[tokio::test]
async fn administrators_are_created_updated_and_deleted_with_zitadels_errors() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let bot = create_machine(&app, &admin, &default, "bot").await;
    let org = json!({"organizationId": default});

    ok(
        &app,
        &admin,
        ADMINS,
        "CreateAdministrator",
        json!({"userId": bot, "resource": {"instance": true}, "roles": ["IAM_OWNER_VIEWER"]}),
    )
    .await;
    ok(&app, &admin, ADMINS, "CreateAdministrator", json!({"userId": bot, "resource": org, "roles": ["ORG_OWNER"]}))
        .await;

    let create_errors = [
        ("create_administrator_exists", json!({"userId": bot, "resource": org, "roles": ["ORG_USER_MANAGER"]}), 409),
        ("create_administrator_no_roles", json!({"userId": bot, "resource": {"instance": true}, "roles": []}), 400),
        ("create_administrator_missing_user_id", json!({"resource": org, "roles": ["ORG_OWNER"]}), 400),
        ("create_administrator_bad_user_id", json!({"userId": "bot", "resource": org, "roles": ["ORG_OWNER"]}), 400),
        ("create_administrator_missing_resource", json!({"userId": bot, "roles": ["ORG_OWNER"]}), 400),
        (
            "create_administrator_two_resources",
            json!({"userId": bot, "resource": {"instance": true, "organizationId": default}, "roles": ["ORG_OWNER"]}),
            400,
        ),
        (
            "create_administrator_instance_false",
            json!({"userId": bot, "resource": {"instance": false}, "roles": ["IAM_OWNER"]}),
            400,
        ),
        (
            "create_administrator_instance_role_on_org",
            json!({"userId": bot, "resource": org, "roles": ["IAM_OWNER"]}),
            400,
        ),
        (
            "create_administrator_org_role_on_instance",
            json!({"userId": bot, "resource": {"instance": true}, "roles": ["ORG_OWNER"]}),
            400,
        ),
        ("create_administrator_unknown_role", json!({"userId": bot, "resource": org, "roles": ["ORG_GOD"]}), 400),
        (
            "create_administrator_project_grant",
            json!({"userId": bot, "resource": {"projectGrant": {"projectId": "p", "organizationId": default}}, "roles": ["PROJECT_GRANT_OWNER"]}),
            400,
        ),
        (
            "create_administrator_project",
            json!({"userId": bot, "resource": {"projectId": UNKNOWN}, "roles": ["PROJECT_OWNER"]}),
            404,
        ),
        (
            "create_administrator_unknown_org",
            json!({"userId": bot, "resource": {"organizationId": UNKNOWN}, "roles": ["ORG_OWNER"]}),
            404,
        ),
        ("create_administrator_unknown_user", json!({"userId": UNKNOWN, "resource": org, "roles": ["ORG_OWNER"]}), 400),
    ];
    for (name, body, expected) in create_errors {
        let (status, err) = call(&app, &admin, ADMINS, "CreateAdministrator", body).await;
        assert_eq!(status, expected, "{name}: {err}");
        snap!(name, &err);
    }

    // Update replaces the roles.
    let updated = ok(
        &app,
        &admin,
        ADMINS,
        "UpdateAdministrator",
        json!({"userId": bot, "resource": org, "roles": ["ORG_USER_MANAGER", "ORG_PROJECT_CREATOR"]}),
    )
    .await;
    snap!("update_administrator", &updated);
    let mine = ok(
        &app,
        &admin,
        ADMINS,
        "ListAdministrators",
        json!({"filters": [{"inUserIdsFilter": {"ids": [bot]}}, {"resource": org}]}),
    )
    .await;
    assert_eq!(rows(&mine), vec![(bot.clone(), json!(["ORG_USER_MANAGER", "ORG_PROJECT_CREATOR"]))]);
    assert_ne!(mine["administrators"][0]["changeDate"], mine["administrators"][0]["creationDate"]);
    let update_errors = [
        (
            "update_administrator_unchanged",
            json!({"userId": bot, "resource": org, "roles": ["ORG_PROJECT_CREATOR", "ORG_USER_MANAGER"]}),
            400,
        ),
        ("update_administrator_no_roles", json!({"userId": bot, "resource": org, "roles": []}), 400),
        ("update_administrator_not_found", json!({"userId": UNKNOWN, "resource": org, "roles": ["ORG_OWNER"]}), 404),
        (
            "update_administrator_project",
            json!({"userId": bot, "resource": {"projectId": UNKNOWN}, "roles": ["PROJECT_OWNER"]}),
            404,
        ),
    ];
    for (name, body, expected) in update_errors {
        let (status, err) = call(&app, &admin, ADMINS, "UpdateAdministrator", body).await;
        assert_eq!(status, expected, "{name}: {err}");
        snap!(name, &err);
    }

    // Delete is idempotent.
    let deleted = ok(&app, &admin, ADMINS, "DeleteAdministrator", json!({"userId": bot, "resource": org})).await;
    snap!("delete_administrator", &deleted);
    let again = ok(&app, &admin, ADMINS, "DeleteAdministrator", json!({"userId": bot, "resource": org})).await;
    snap!("delete_administrator_none", &again);
    assert_eq!(again, json!({}));
    let (status, err) = call(&app, &admin, ADMINS, "DeleteAdministrator", json!({"userId": bot})).await;
    assert_eq!(status, 400);
    snap!("delete_administrator_missing_resource", &err);
    let (status, err) =
        call(&app, &admin, ADMINS, "DeleteAdministrator", json!({"userId": bot, "resource": {"projectId": "p"}})).await;
    assert_eq!(status, 404);
    snap!("delete_administrator_project", &err);
    let left =
        ok(&app, &admin, ADMINS, "ListAdministrators", json!({"filters": [{"inUserIdsFilter": {"ids": [bot]}}]})).await;
    assert_eq!(rows(&left), vec![(bot.clone(), json!(["IAM_OWNER_VIEWER"]))]);
}

#[tokio::test]
async fn a_change_of_roles_applies_to_the_very_next_call() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let bot = create_machine(&app, &admin, &default, "bot").await;
    let token = add_pat(&app, &admin, &bot, None).await;
    let new_user = |name: &str| json!({"organizationId": default, "username": name, "machine": {"name": name}});
    let org = json!({"organizationId": default});

    let (status, _) = call(&app, &token, USERS, "CreateUser", new_user("one")).await;
    assert_eq!(status, 403, "no roles yet");
    grant(&app, &admin, &bot, org.clone(), &["ORG_USER_MANAGER"]).await;
    let (status, _) = call(&app, &token, USERS, "CreateUser", new_user("two")).await;
    assert_eq!(status, 200, "granted");
    ok(
        &app,
        &admin,
        ADMINS,
        "UpdateAdministrator",
        json!({"userId": bot, "resource": org, "roles": ["ORG_OWNER_VIEWER"]}),
    )
    .await;
    let (status, _) = call(&app, &token, USERS, "CreateUser", new_user("three")).await;
    assert_eq!(status, 403, "downgraded to a viewer");
    let seen = ok(&app, &token, USERS, "ListUsers", json!({})).await;
    assert!(seen["result"].as_array().unwrap().len() > 1, "a viewer still reads the organization's users");
    ok(&app, &admin, ADMINS, "DeleteAdministrator", json!({"userId": bot, "resource": org})).await;
    let seen = ok(&app, &token, USERS, "ListUsers", json!({})).await;
    assert_eq!(seen["result"].as_array().unwrap().len(), 1, "revoked: only itself");
}

#[tokio::test]
async fn administrators_are_listed_with_filters_paging_and_per_row_visibility() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let other = create_org(&app, &admin, "Other").await;
    let admin_id = admin_user_id(&app, &admin).await;
    let manager = create_machine(&app, &admin, &default, "manager").await;
    let owner = create_machine(&app, &admin, &other, "owner").await;
    let nobody = create_machine(&app, &admin, &default, "nobody").await;
    grant(&app, &admin, &manager, json!({"organizationId": default}), &["ORG_USER_MANAGER"]).await;
    grant(&app, &admin, &owner, json!({"organizationId": other}), &["ORG_OWNER"]).await;
    grant(&app, &admin, &owner, json!({"organizationId": default}), &["ORG_OWNER_VIEWER"]).await;
    let list = |token: String, body: Value| {
        let app = &app;
        async move { ok(app, &token, ADMINS, "ListAdministrators", body).await }
    };

    // The instance owner sees everything: two bootstrap admins and the three grants.
    let all = list(admin.clone(), json!({"pagination": {"asc": true}})).await;
    snap!("list_administrators", &all);
    assert_eq!(all["pagination"]["totalResult"], "5");
    let first = &all["administrators"][0];
    assert_eq!((first["user"]["id"].as_str().unwrap(), &first["instance"]), (admin_id.as_str(), &json!(true)));
    assert_eq!(first["user"]["preferredLoginName"], "admin-sa");
    let on_other = &all["administrators"][3];
    assert_eq!(on_other["organization"], json!({"id": other, "name": "Other"}));
    assert_eq!(on_other["user"]["organizationId"], other.as_str());
    assert_eq!(on_other["user"]["displayName"], "owner");

    let page = list(admin.clone(), json!({"pagination": {"offset": 1, "limit": 2, "asc": true}})).await;
    assert_eq!(page["pagination"], json!({"totalResult": "5", "appliedLimit": "2"}));
    assert_eq!(rows(&page).len(), 2);
    let newest = list(
        admin.clone(),
        json!({"pagination": {"limit": 1}, "sortingColumn": "ADMINISTRATOR_FIELD_NAME_CREATION_DATE"}),
    )
    .await;
    assert_eq!(rows(&newest)[0].0, owner, "descending by default, as in ZITADEL");

    let ids = |v: &Value| rows(v).into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    let when = all["administrators"][2]["creationDate"].as_str().unwrap().to_owned();
    let filtered = [
        (json!({"inUserIdsFilter": {"ids": [manager, "not-a-uuid"]}}), vec![manager.clone()]),
        (json!({"userOrganizationId": {"id": other}}), vec![owner.clone(), owner.clone()]),
        (json!({"resource": {"organizationId": other}}), vec![owner.clone()]),
        (json!({"resource": {"projectId": UNKNOWN}}), vec![]),
        (json!({"role": {"roleKey": "ORG_OWNER"}}), vec![owner.clone()]),
        (json!({"role": {"roleKey": "PROJECT_GRANT_OWNER"}}), vec![]),
        (
            json!({"userPreferredLoginName": {"preferredLoginName": "MAN", "method": "TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE"}}),
            vec![manager.clone()],
        ),
        (
            json!({"userDisplayName": {"displayName": "own", "method": "TEXT_FILTER_METHOD_CONTAINS"}}),
            vec![owner.clone(), owner.clone()],
        ),
        (
            json!({"creationDate": {"timestamp": when, "method": "TIMESTAMP_FILTER_METHOD_AFTER"}}),
            vec![owner.clone(), owner.clone()],
        ),
        (
            json!({"changeDate": {"timestamp": when, "method": "TIMESTAMP_FILTER_METHOD_BEFORE"}}),
            ids(&all)[..2].to_vec(),
        ),
        (
            json!({"and": {"queries": [{"resource": {"organizationId": default}}, {"not": {"query": {"userDisplayName": {"displayName": "manager"}}}}]}}),
            vec![owner.clone()],
        ),
        (
            json!({"or": {"queries": [{"resource": {"instance": true}}, {"inUserIdsFilter": {"ids": [manager]}}]}}),
            [ids(&all)[..2].to_vec(), vec![manager.clone()]].concat(),
        ),
    ];
    for (filter, expected) in filtered {
        let got = list(admin.clone(), json!({"pagination": {"asc": true}, "filters": [filter]})).await;
        assert_eq!(ids(&got), expected, "{filter}");
    }
    let (status, err) = call(&app, &admin, ADMINS, "ListAdministrators", json!({"filters": [{"role": {}}]})).await;
    assert_eq!(status, 400);
    snap!("list_administrators_empty_role", &err);
    let (status, err) =
        call(&app, &admin, ADMINS, "ListAdministrators", json!({"filters": [{"everything": {}}]})).await;
    assert_eq!(status, 400);
    snap!("list_administrators_unknown_filter", &err);

    // Visibility: org.member.read per organization, plus one's own memberships.
    let owner_pat = add_pat(&app, &admin, &owner, None).await;
    let seen = list(owner_pat.clone(), json!({"pagination": {"asc": true}})).await;
    assert_eq!(seen["pagination"]["totalResult"], "3", "{seen}");
    assert_eq!(ids(&seen), vec![manager.clone(), owner.clone(), owner.clone()], "viewer on default, owner on other");
    let manager_pat = add_pat(&app, &admin, &manager, None).await;
    let seen = list(manager_pat, json!({})).await;
    snap!("list_administrators_own_only", &seen);
    assert_eq!(ids(&seen), vec![manager.clone()], "ORG_USER_MANAGER cannot read members, but sees its own");
    let nobody_pat = add_pat(&app, &admin, &nobody, None).await;
    let seen = list(nobody_pat, json!({})).await;
    // proto3 JSON leaves out a zero total and an empty list.
    assert_eq!(seen, json!({"pagination": {"appliedLimit": "100"}}));

    // Write and delete permissions are checked per resource.
    let (status, err) = call(
        &app,
        &owner_pat,
        ADMINS,
        "CreateAdministrator",
        json!({"userId": nobody, "resource": {"organizationId": other}, "roles": ["ORG_USER_MANAGER"]}),
    )
    .await;
    assert_eq!(status, 200, "an org owner manages its organization's administrators: {err}");
    for (method, resource, name) in [
        ("CreateAdministrator", json!({"organizationId": default}), "create_administrator_denied"),
        ("CreateAdministrator", json!({"instance": true}), "create_instance_administrator_denied"),
        ("UpdateAdministrator", json!({"organizationId": default}), "update_administrator_denied"),
        ("DeleteAdministrator", json!({"organizationId": default}), "delete_administrator_denied"),
        ("DeleteAdministrator", json!({"instance": true}), "delete_instance_administrator_denied"),
    ] {
        let (status, err) = call(
            &app,
            &owner_pat,
            ADMINS,
            method,
            json!({"userId": manager, "resource": resource, "roles": ["ORG_OWNER"]}),
        )
        .await;
        assert_eq!(status, 403, "{name}: {err}");
        snap!(name, &err);
    }
    ok(
        &app,
        &owner_pat,
        ADMINS,
        "DeleteAdministrator",
        json!({"userId": nobody, "resource": {"organizationId": other}}),
    )
    .await;
}
