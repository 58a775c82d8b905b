//! `zitadel.org.v2.OrganizationService` and Tessera's `tessera.policy.v1.PolicyService`
//! end to end through the real binary: every method, over Connect and REST,
//! with its permission, not-found, already-exists, invalid-argument and state
//! rules, and the effect of an organization's state on its users' credentials.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{
    ADMINS, ORGS, POLICY, USERS, add_pat, call, create_machine, create_org, default_org, grant, in_days, items, ok,
    rest, snap, status_of,
};
use common::TestApp;
use serde_json::{Value, json};
use tessera_domain::repo::Repos;

const UNKNOWN_ORG: &str = "0190f0f0-0000-7000-8000-000000000000";

/// A method name as a snapshot name: `DeleteOrganization` → `delete_organization`.
fn snake(method: &str) -> String {
    let mut out = String::new();
    for c in method.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Names of organizations in a ListOrganizations answer, in order.
fn names(list: &Value) -> Vec<String> {
    items(list, "result").iter().map(|o| o["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn organizations_are_added_with_admins_listed_renamed_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let helper = create_machine(&app, &admin, &default, "helper").await;

    // Add: plain, then with an existing user (default role) and a new human admin.
    let plain = ok(&app, &admin, ORGS, "AddOrganization", json!({"name": "Plain"})).await;
    snap!("add_organization", &plain);
    let custom_id = "01912345-6789-7abc-8def-0123456789ab";
    let acme = ok(
        &app,
        &admin,
        ORGS,
        "AddOrganization",
        json!({
            "name": "Acme",
            "organizationId": custom_id,
            "admins": [
                {"userId": helper},
                {"human": {
                    "username": "ada",
                    "profile": {"givenName": "Ada", "familyName": "Lovelace"},
                    "email": {"email": "ada@acme.example", "isVerified": true},
                    "password": {"password": "correct horse battery staple", "changeRequired": false}
                 }, "roles": ["ORG_USER_MANAGER", "ORG_OWNER_VIEWER"]}
            ]
        }),
    )
    .await;
    snap!("add_organization_with_admins", &acme);
    assert_eq!(acme["organizationId"], custom_id);
    let ada = acme["createdAdmins"][0]["userId"].as_str().unwrap().to_owned();
    let ada_user = ok(&app, &admin, USERS, "GetUserByID", json!({"userId": ada})).await;
    assert_eq!(ada_user["user"]["details"]["resourceOwner"], custom_id, "the human admin belongs to the new org");
    let memberships = ok(
        &app,
        &admin,
        ADMINS,
        "ListAdministrators",
        json!({"pagination": {"asc": true}, "filters": [{"resource": {"organizationId": custom_id}}]}),
    )
    .await;
    let roles: Vec<(String, Value)> = memberships["administrators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["user"]["id"].as_str().unwrap().to_owned(), a["roles"].clone()))
        .collect();
    assert_eq!(
        roles,
        vec![(helper.clone(), json!(["ORG_OWNER"])), (ada.clone(), json!(["ORG_OWNER_VIEWER", "ORG_USER_MANAGER"]))]
    );

    // List: every query type, sorting and paging.
    let all = ok(&app, &admin, ORGS, "ListOrganizations", json!({"query": {"asc": true}})).await;
    snap!("list_organizations", &all);
    assert_eq!(names(&all), ["Tessera", "Plain", "Acme"]);
    let by_name = ok(
        &app,
        &admin,
        ORGS,
        "ListOrganizations",
        json!({"sortingColumn": "ORGANIZATION_FIELD_NAME_NAME", "query": {"asc": true}}),
    )
    .await;
    assert_eq!(names(&by_name), ["Acme", "Plain", "Tessera"]);
    assert_eq!(by_name["sortingColumn"], "ORGANIZATION_FIELD_NAME_NAME");
    let page =
        ok(&app, &admin, ORGS, "ListOrganizations", json!({"query": {"offset": "1", "limit": 1, "asc": true}})).await;
    assert_eq!((names(&page), &page["details"]["totalResult"]), (vec!["Plain".to_owned()], &json!("3")));
    let queries = [
        (json!({"nameQuery": {"name": "ac", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}), vec!["Acme"]),
        (json!({"nameQuery": {"name": "Plain"}}), vec!["Plain"]),
        (json!({"domainQuery": {"domain": "ess", "method": "TEXT_QUERY_METHOD_CONTAINS"}}), vec!["Tessera"]),
        (json!({"idQuery": {"id": custom_id}}), vec!["Acme"]),
        (json!({"idQuery": {"id": "not-a-uuid"}}), vec![]),
        (json!({"defaultQuery": {}}), vec!["Tessera"]),
        (json!({"stateQuery": {"state": "ORGANIZATION_STATE_ACTIVE"}}), vec!["Tessera", "Plain", "Acme"]),
        (json!({"stateQuery": {"state": "ORGANIZATION_STATE_REMOVED"}}), vec![]),
    ];
    for (query, expected) in queries {
        let list =
            ok(&app, &admin, ORGS, "ListOrganizations", json!({"query": {"asc": true}, "queries": [query]})).await;
        assert_eq!(names(&list), expected, "{query}");
    }

    // Update.
    let renamed =
        ok(&app, &admin, ORGS, "UpdateOrganization", json!({"organizationId": custom_id, "name": "Acme Corp"})).await;
    snap!("update_organization", &renamed);
    let (status, same) =
        call(&app, &admin, ORGS, "UpdateOrganization", json!({"organizationId": custom_id, "name": "Acme Corp"})).await;
    assert_eq!(status, 400);
    snap!("update_organization_unchanged", &same);
    let (status, taken) =
        call(&app, &admin, ORGS, "UpdateOrganization", json!({"organizationId": custom_id, "name": "plain"})).await;
    assert_eq!(status, 409);
    snap!("update_organization_name_taken", &taken);
    let check = ok(&app, &admin, ORGS, "ListOrganizations", json!({"queries": [{"idQuery": {"id": custom_id}}]})).await;
    assert_eq!(names(&check), ["Acme Corp"]);

    // Delete cascades to the organization's users and the memberships held on it.
    let acme_bot = create_machine(&app, &admin, custom_id, "acme-bot").await;
    let acme_token = add_pat(&app, &admin, &acme_bot, None).await;
    assert_eq!(status_of(&app, &acme_token).await, 200);
    let deleted = ok(&app, &admin, ORGS, "DeleteOrganization", json!({"organizationId": custom_id})).await;
    snap!("delete_organization", &deleted);
    let (status, _) = call(&app, &admin, USERS, "GetUserByID", json!({"userId": ada})).await;
    assert_eq!(status, 404, "the organization's users are gone");
    assert_eq!(status_of(&app, &acme_token).await, 401, "and so are their credentials");
    let left =
        ok(&app, &admin, ADMINS, "ListAdministrators", json!({"filters": [{"inUserIdsFilter": {"ids": [helper]}}]}))
            .await;
    assert!(items(&left, "administrators").is_empty(), "memberships on the deleted organization are gone");
    let (status, gone) = call(&app, &admin, ORGS, "DeleteOrganization", json!({"organizationId": custom_id})).await;
    assert_eq!(status, 404);
    snap!("delete_organization_not_found", &gone);

    // Every change is in the audit trail.
    let store = app.db.store().await;
    let actions: Vec<String> = store.audit().recent(100).await.unwrap().into_iter().map(|e| e.action).collect();
    for action in [
        "organization.created",
        "user.human.created",
        "administrator.created",
        "organization.changed",
        "organization.deleted",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
    store.close().await;
}

#[tokio::test]
async fn organization_methods_refuse_bad_input_missing_objects_and_taken_names() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let bot = create_machine(&app, &admin, &default, "bot").await;
    create_org(&app, &admin, "Taken").await;

    let add_cases = [
        ("add_organization_empty_name", json!({"name": "  "}), 400),
        ("add_organization_custom_id_not_uuid", json!({"name": "X", "organizationId": "my-org"}), 400),
        ("add_organization_unknown_role", json!({"name": "X", "admins": [{"userId": bot, "roles": ["ORG_GOD"]}]}), 400),
        (
            "add_organization_instance_role",
            json!({"name": "X", "admins": [{"userId": bot, "roles": ["IAM_OWNER"]}]}),
            400,
        ),
        ("add_organization_admin_without_user", json!({"name": "X", "admins": [{"roles": []}]}), 400),
        (
            "add_organization_human_without_email",
            json!({"name": "X", "admins": [{"human": {"profile": {"givenName": "A", "familyName": "B"}}}]}),
            400,
        ),
        (
            "add_organization_hashed_password",
            json!({"name": "X", "admins": [{"human": {"hashedPassword": {"hash": "$2a$..."}}}]}),
            400,
        ),
        ("add_organization_unknown_admin", json!({"name": "X", "admins": [{"userId": UNKNOWN_ORG}]}), 400),
        ("add_organization_name_taken", json!({"name": "TAKEN"}), 409),
        ("add_organization_id_taken", json!({"name": "X", "organizationId": default}), 409),
        ("add_organization_admin_twice", json!({"name": "X", "admins": [{"userId": bot}, {"userId": bot}]}), 409),
    ];
    for (name, body, expected) in add_cases {
        let (status, err) = call(&app, &admin, ORGS, "AddOrganization", body).await;
        assert_eq!(status, expected, "{name}: {err}");
        snap!(name, &err);
    }
    let list = ok(&app, &admin, ORGS, "ListOrganizations", json!({"queries": [{"nameQuery": {"name": "X"}}]})).await;
    // proto3 JSON leaves an empty list out, as ZITADEL does.
    assert_eq!(list.get("result"), None, "a failed AddOrganization leaves nothing behind");

    let (status, err) =
        call(&app, &admin, ORGS, "ListOrganizations", json!({"queries": [{"nameQuery": {"name": ""}}]})).await;
    assert_eq!(status, 400);
    snap!("list_organizations_empty_name", &err);
    let (status, err) = call(&app, &admin, ORGS, "ListOrganizations", json!({"queries": [{"phoneQuery": {}}]})).await;
    assert_eq!(status, 400);
    snap!("list_organizations_unknown_query", &err);

    for method in ["UpdateOrganization", "DeactivateOrganization", "ActivateOrganization", "DeleteOrganization"] {
        let (status, err) = call(&app, &admin, ORGS, method, json!({"name": "Y"})).await;
        assert_eq!(status, 400, "{method}: {err}");
        snap!(format!("{}_missing_id", snake(method)), &err);
        let (status, err) = call(&app, &admin, ORGS, method, json!({"organizationId": UNKNOWN_ORG, "name": "Y"})).await;
        assert_eq!(status, 404, "{method}: {err}");
        snap!(format!("{}_not_found", snake(method)), &err);
    }
    let (status, err) =
        call(&app, &admin, ORGS, "UpdateOrganization", json!({"organizationId": default, "name": ""})).await;
    assert_eq!(status, 400);
    snap!("update_organization_empty_name", &err);

    let (status, err) = call(&app, &admin, ORGS, "DeleteOrganization", json!({"organizationId": default})).await;
    assert_eq!(status, 400);
    snap!("delete_default_organization", &err);
    let (status, err) = call(&app, &admin, ORGS, "RemoveOrganization", json!({})).await;
    assert_eq!(status, 404);
    snap!("unknown_method", &err);
}

#[tokio::test]
async fn organization_permissions_follow_zitadels_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let other = create_org(&app, &admin, "Other").await;
    let manager = create_machine(&app, &admin, &default, "manager").await;
    grant(&app, &admin, &manager, json!({"organizationId": default}), &["ORG_USER_MANAGER"]).await;
    let manager_pat = add_pat(&app, &admin, &manager, Some(in_days(1))).await;
    let owner = create_machine(&app, &admin, &default, "other-owner").await;
    grant(&app, &admin, &owner, json!({"organizationId": other}), &["ORG_OWNER"]).await;
    let owner_pat = add_pat(&app, &admin, &owner, Some(in_days(1))).await;
    let nobody = create_machine(&app, &admin, &default, "nobody").await;
    let nobody_pat = add_pat(&app, &admin, &nobody, Some(in_days(1))).await;

    // Lists show what the caller may read and are never refused.
    let seen = ok(&app, &manager_pat, ORGS, "ListOrganizations", json!({})).await;
    assert_eq!(names(&seen), ["Tessera"]);
    let seen = ok(&app, &owner_pat, ORGS, "ListOrganizations", json!({})).await;
    assert_eq!(names(&seen), ["Other"]);
    let seen = ok(&app, &nobody_pat, ORGS, "ListOrganizations", json!({})).await;
    snap!("list_organizations_nothing_visible", &seen);
    assert_eq!(names(&seen), Vec::<String>::new());
    assert_eq!(seen["details"].get("totalResult"), None, "a zero total is left out");

    // org.create is instance-level: no organization role grants it.
    for token in [&manager_pat, &owner_pat, &nobody_pat] {
        let (status, err) = call(&app, token, ORGS, "AddOrganization", json!({"name": "Mine"})).await;
        assert_eq!(status, 403, "{err}");
    }
    let (_, err) = call(&app, &owner_pat, ORGS, "AddOrganization", json!({"name": "Mine"})).await;
    snap!("add_organization_denied", &err);

    // org.write and org.delete: the owner on its organization only; the user manager nowhere.
    let (status, err) =
        call(&app, &manager_pat, ORGS, "UpdateOrganization", json!({"organizationId": default, "name": "Mine"})).await;
    assert_eq!(status, 403);
    snap!("update_organization_denied", &err);
    let (status, _) =
        call(&app, &owner_pat, ORGS, "UpdateOrganization", json!({"organizationId": default, "name": "Mine"})).await;
    assert_eq!(status, 403);
    ok(&app, &owner_pat, ORGS, "UpdateOrganization", json!({"organizationId": other, "name": "Other Ltd"})).await;
    for method in ["DeactivateOrganization", "ActivateOrganization"] {
        let (status, err) = call(&app, &manager_pat, ORGS, method, json!({"organizationId": other})).await;
        assert_eq!(status, 403, "{method}");
        snap!(format!("{}_denied", snake(method)), &err);
    }
    // Without rights on it, a caller cannot even learn whether an organization exists.
    let (status, _) =
        call(&app, &manager_pat, ORGS, "DeactivateOrganization", json!({"organizationId": UNKNOWN_ORG})).await;
    assert_eq!(status, 403);
    let (status, err) = call(&app, &manager_pat, ORGS, "DeleteOrganization", json!({"organizationId": other})).await;
    assert_eq!(status, 403);
    snap!("delete_organization_denied", &err);
    ok(&app, &owner_pat, ORGS, "DeleteOrganization", json!({"organizationId": other})).await;
}

#[tokio::test]
async fn deactivating_an_organization_suspends_every_credential_of_its_users_until_activated() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = create_org(&app, &admin, "Suspendable").await;
    let (a, b) = (create_machine(&app, &admin, &org, "bot-a").await, create_machine(&app, &admin, &org, "bot-b").await);
    let (pat_a, pat_b) = (add_pat(&app, &admin, &a, None).await, add_pat(&app, &admin, &b, Some(in_days(30))).await);
    assert_eq!((status_of(&app, &pat_a).await, status_of(&app, &pat_b).await), (200, 200));

    let deactivated = ok(&app, &admin, ORGS, "DeactivateOrganization", json!({"organizationId": org})).await;
    snap!("deactivate_organization", &deactivated);
    for token in [&pat_a, &pat_b] {
        let res = app
            .client
            .post(app.url("/zitadel.user.v2.UserService/ListUsers"))
            .bearer_auth(token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["www-authenticate"], "Bearer realm=\"tessera\", error=\"invalid_token\"");
        let body = res.json::<Value>().await.unwrap();
        snap!("credential_of_deactivated_organization", &body);
    }
    let listed = ok(
        &app,
        &admin,
        ORGS,
        "ListOrganizations",
        json!({"queries": [{"stateQuery": {"state": "ORGANIZATION_STATE_INACTIVE"}}]}),
    )
    .await;
    assert_eq!(names(&listed), ["Suspendable"]);
    assert_eq!(listed["result"][0]["state"], "ORGANIZATION_STATE_INACTIVE");
    let (status, again) = call(&app, &admin, ORGS, "DeactivateOrganization", json!({"organizationId": org})).await;
    assert_eq!(status, 400);
    snap!("deactivate_organization_already_inactive", &again);

    let activated = ok(&app, &admin, ORGS, "ActivateOrganization", json!({"organizationId": org})).await;
    snap!("activate_organization", &activated);
    assert_eq!((status_of(&app, &pat_a).await, status_of(&app, &pat_b).await), (200, 200));
    let (status, again) = call(&app, &admin, ORGS, "ActivateOrganization", json!({"organizationId": org})).await;
    assert_eq!(status, 400);
    snap!("activate_organization_already_active", &again);
}

#[tokio::test]
async fn organization_methods_are_mounted_at_zitadels_rest_paths() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();

    let (status, added) = rest(&app, &admin, Method::POST, "/v2/organizations", Some(json!({"name": "Rest"}))).await;
    assert_eq!(status, 201, "{added}");
    let id = added["organizationId"].as_str().unwrap().to_owned();
    let (status, list) = rest(
        &app,
        &admin,
        Method::POST,
        "/v2/organizations/_search",
        Some(json!({"queries": [{"nameQuery": {"name": "Rest"}}]})),
    )
    .await;
    assert_eq!((status, names(&list)), (200, vec!["Rest".to_owned()]));
    let path = format!("/v2/organizations/{id}");
    let (status, body) = rest(&app, &admin, Method::POST, &path, Some(json!({"name": "Rest 2"}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rest(&app, &admin, Method::POST, &format!("{path}/deactivate"), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rest(&app, &admin, Method::POST, &format!("{path}/activate"), Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rest(&app, &admin, Method::DELETE, &path, None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = rest(&app, &admin, Method::DELETE, &path, None).await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn the_pat_lifetime_policy_is_read_set_enforced_and_lifted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let default = default_org(&app, &admin).await;
    let org = create_org(&app, &admin, "Strict").await;
    let bot = create_machine(&app, &admin, &org, "bot").await;

    let none = ok(&app, &admin, POLICY, "GetPersonalAccessTokenPolicy", json!({"organizationId": org})).await;
    snap!("get_pat_policy_unlimited", &none);
    assert!(none.get("maxLifetime").is_none());
    let own = ok(&app, &admin, POLICY, "GetPersonalAccessTokenPolicy", json!({})).await;
    assert_eq!(own["organizationId"], default.as_str(), "no organizationId: the caller's own");

    let set = ok(
        &app,
        &admin,
        POLICY,
        "SetPersonalAccessTokenPolicy",
        json!({"organizationId": org, "maxLifetime": "2592000s"}),
    )
    .await;
    snap!("set_pat_policy", &set);
    let got = ok(&app, &admin, POLICY, "GetPersonalAccessTokenPolicy", json!({"organizationId": org})).await;
    assert_eq!(got["maxLifetime"], "2592000s");

    // Enforced on new tokens.
    let (status, err) = call(&app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": bot})).await;
    assert_eq!(status, 400);
    snap!("add_pat_without_expiration_under_policy", &err);
    let (status, err) =
        call(&app, &admin, USERS, "AddPersonalAccessToken", json!({"userId": bot, "expirationDate": in_days(31)}))
            .await;
    assert_eq!(status, 400);
    snap!("add_pat_beyond_policy", &err);
    add_pat(&app, &admin, &bot, Some(in_days(29))).await;
    // Other organizations are not affected.
    let elsewhere = create_machine(&app, &admin, &default, "elsewhere").await;
    add_pat(&app, &admin, &elsewhere, None).await;

    for (bad, name) in [
        ("30d", "set_pat_policy_not_a_duration"),
        ("-5s", "set_pat_policy_negative"),
        ("1.5s", "set_pat_policy_fraction"),
    ] {
        let (status, err) = call(
            &app,
            &admin,
            POLICY,
            "SetPersonalAccessTokenPolicy",
            json!({"organizationId": org, "maxLifetime": bad}),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
        snap!(name, &err);
    }
    for method in ["GetPersonalAccessTokenPolicy", "SetPersonalAccessTokenPolicy"] {
        let (status, err) = call(&app, &admin, POLICY, method, json!({"organizationId": UNKNOWN_ORG})).await;
        assert_eq!(status, 404, "{method}");
        snap!(format!("{}_not_found", snake(method)), &err);
        let (status, err) = call(&app, &admin, POLICY, method, json!({"organizationId": "nope"})).await;
        assert_eq!(status, 400, "{method}");
        snap!(format!("{}_bad_id", snake(method)), &err);
    }

    // policy.read for user managers, policy.write for owners.
    let manager = create_machine(&app, &admin, &default, "manager").await;
    grant(&app, &admin, &manager, json!({"organizationId": org}), &["ORG_USER_MANAGER"]).await;
    let manager_pat = add_pat(&app, &admin, &manager, None).await;
    ok(&app, &manager_pat, POLICY, "GetPersonalAccessTokenPolicy", json!({"organizationId": org})).await;
    let (status, err) =
        call(&app, &manager_pat, POLICY, "SetPersonalAccessTokenPolicy", json!({"organizationId": org})).await;
    assert_eq!(status, 403);
    snap!("set_pat_policy_denied", &err);
    let (status, err) =
        call(&app, &manager_pat, POLICY, "GetPersonalAccessTokenPolicy", json!({"organizationId": default})).await;
    assert_eq!(status, 403);
    snap!("get_pat_policy_denied", &err);

    // "0s" lifts the limit.
    let lifted =
        ok(&app, &admin, POLICY, "SetPersonalAccessTokenPolicy", json!({"organizationId": org, "maxLifetime": "0s"}))
            .await;
    snap!("set_pat_policy_lifted", &lifted);
    add_pat(&app, &admin, &bot, None).await;

    let store = app.db.store().await;
    let changes = store
        .audit()
        .recent(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "organization.policy.pat.changed")
        .count();
    assert_eq!(changes, 2, "each change is audited");
    store.close().await;
}
