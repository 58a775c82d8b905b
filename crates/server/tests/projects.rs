//! `zitadel.project.v2.ProjectService`, `zitadel.application.v2.ApplicationService`
//! and `zitadel.authorization.v2.AuthorizationService` end to end through the
//! real binary: every method, with its permission, not-found, already-exists,
//! invalid-argument and state rules, and the cascades between them.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a test: a failed step must fail it")]

#[path = "common/api.rs"]
mod api;
mod common;

use api::{USERS, add_pat, call, create_machine, create_org, default_org, grant, in_days, items, ok, rest};
use base64::Engine as _;
use common::TestApp;
use serde_json::{Value, json};

const PROJECTS: &str = "zitadel.project.v2.ProjectService";
const PROJECTS_BETA: &str = "zitadel.project.v2beta.ProjectService";
const APPS: &str = "zitadel.application.v2.ApplicationService";
const AUTHZ: &str = "zitadel.authorization.v2.AuthorizationService";
const AUTHZ_BETA: &str = "zitadel.authorization.v2beta.AuthorizationService";
const UNKNOWN: &str = "0190f0f0-0000-7000-8000-000000000000";

/// The shared redactions plus the ids, dates and secrets of these services.
fn redacted() -> insta::Settings {
    let mut settings = api::redacted();
    for key in ["projectId", "applicationId", "appId", "keyId", "clientId", "projectOrganizationId"] {
        settings.add_redaction(&format!(".**.{key}"), "[uuid]");
    }
    for key in ["removalDate", "deactivationDate", "reactivationDate"] {
        settings.add_redaction(&format!(".**.{key}"), "[timestamp]");
    }
    settings.add_redaction(".**.clientSecret", "[tsr_cs]");
    settings.add_redaction(".**.keyDetails", "[key file]");
    settings
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        redacted().bind(|| insta::assert_json_snapshot!($name, $value))
    };
}

async fn create_project(app: &TestApp, token: &str, org: &str, name: &str) -> String {
    let body = ok(app, token, PROJECTS, "CreateProject", json!({"organizationId": org, "name": name})).await;
    body["projectId"].as_str().unwrap().to_owned()
}

async fn add_role(app: &TestApp, token: &str, project: &str, key: &str) {
    ok(app, token, PROJECTS, "AddProjectRole", json!({"projectId": project, "roleKey": key, "displayName": key})).await;
}

fn keys(list: &Value, field: &str, key: &str) -> Vec<String> {
    list[field].as_array().unwrap().iter().map(|o| o[key].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn projects_and_roles_are_created_read_listed_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;

    // Create, with the flags.
    let created = ok(
        &app,
        &admin,
        PROJECTS,
        "CreateProject",
        json!({"organizationId": org, "name": "Billing", "projectRoleAssertion": true, "authorizationRequired": true}),
    )
    .await;
    snap!("create_project", &created);
    let project = created["projectId"].as_str().unwrap().to_owned();
    let (status, err) =
        call(&app, &admin, PROJECTS, "CreateProject", json!({"organizationId": org, "name": "billing"})).await;
    assert_eq!(status, 409);
    snap!("create_project_exists", &err);
    let (status, err) =
        call(&app, &admin, PROJECTS, "CreateProject", json!({"organizationId": org, "name": " "})).await;
    assert_eq!(status, 400);
    snap!("create_project_empty_name", &err);
    let (status, err) =
        call(&app, &admin, PROJECTS, "CreateProject", json!({"organizationId": UNKNOWN, "name": "x"})).await;
    assert_eq!(status, 404);
    snap!("create_project_unknown_org", &err);

    // Read, in v2 and v2beta spelling.
    let got = ok(&app, &admin, PROJECTS, "GetProject", json!({"projectId": project})).await;
    snap!("get_project", &got);
    assert_eq!(got["project"]["projectRoleAssertion"], true);
    assert_eq!(got["project"]["authorizationRequired"], true);
    assert_eq!(got["project"].get("projectAccessRequired"), None, "false is left out");
    let beta_created = ok(
        &app,
        &admin,
        PROJECTS_BETA,
        "CreateProject",
        // v2beta's CreateProject spells the check as v2 does (only its
        // UpdateProject says projectRoleCheck).
        json!({"organizationId": org, "name": "Beta", "authorizationRequired": true}),
    )
    .await;
    snap!("create_project_v2beta", &beta_created);
    let beta_id = beta_created["id"].as_str().unwrap().to_owned();
    let beta_project = ok(&app, &admin, PROJECTS, "GetProject", json!({"projectId": beta_id})).await;
    assert_eq!(beta_project["project"]["authorizationRequired"], true);
    ok(&app, &admin, PROJECTS_BETA, "DeleteProject", json!({"id": beta_id})).await;
    let beta = ok(&app, &admin, PROJECTS_BETA, "GetProject", json!({"id": project})).await;
    snap!("get_project_v2beta", &beta);
    assert_eq!(beta["project"]["id"], project);
    assert_eq!(beta["project"]["authorizationRequired"], true, "v2beta's Project keeps the v2 names of the checks");
    let (status, err) = call(&app, &admin, PROJECTS, "GetProject", json!({"projectId": UNKNOWN})).await;
    assert_eq!(status, 404);
    snap!("get_project_not_found", &err);
    let (status, err) = call(&app, &admin, PROJECTS, "GetProject", json!({})).await;
    assert_eq!(status, 400);
    snap!("get_project_missing_id", &err);

    // List: by name, by organization, paging.
    let other_org = create_org(&app, &admin, "Other").await;
    create_project(&app, &admin, &org, "Shipping").await;
    create_project(&app, &admin, &other_org, "Elsewhere").await;
    let all = ok(&app, &admin, PROJECTS, "ListProjects", json!({"pagination": {"asc": true}})).await;
    snap!("list_projects", &all);
    assert_eq!(keys(&all, "projects", "name"), ["Billing", "Shipping", "Elsewhere"]);
    let by_name = ok(
        &app,
        &admin,
        PROJECTS,
        "ListProjects",
        json!({"filters": [{"projectNameFilter": {"projectName": "bill", "method": "TEXT_FILTER_METHOD_STARTS_WITH_IGNORE_CASE"}}]}),
    )
    .await;
    assert_eq!(keys(&by_name, "projects", "name"), ["Billing"]);
    let by_org = ok(
        &app,
        &admin,
        PROJECTS,
        "ListProjects",
        json!({"sortingColumn": "PROJECT_FIELD_NAME_NAME", "pagination": {"asc": true},
               "filters": [{"organizationIdFilter": {"organizationId": org}}]}),
    )
    .await;
    assert_eq!(keys(&by_org, "projects", "name"), ["Billing", "Shipping"]);
    let page =
        ok(&app, &admin, PROJECTS, "ListProjects", json!({"pagination": {"limit": 1, "offset": 1, "asc": true}})).await;
    assert_eq!(keys(&page, "projects", "name"), ["Shipping"]);
    assert_eq!(page["pagination"], json!({"totalResult": "3", "appliedLimit": "1"}));
    let by_ids = ok(
        &app,
        &admin,
        PROJECTS,
        "ListProjects",
        json!({"filters": [{"inProjectIdsFilter": {"ids": [project, "nope"]}}]}),
    )
    .await;
    assert_eq!(keys(&by_ids, "projects", "name"), ["Billing"]);

    // Update.
    let updated = ok(
        &app,
        &admin,
        PROJECTS,
        "UpdateProject",
        json!({"projectId": project, "name": "Billing API", "projectAccessRequired": true}),
    )
    .await;
    snap!("update_project", &updated);
    let got = ok(&app, &admin, PROJECTS, "GetProject", json!({"projectId": project})).await;
    assert_eq!(got["project"]["name"], "Billing API");
    assert_eq!(got["project"]["projectAccessRequired"], true);
    assert_eq!(got["project"]["projectRoleAssertion"], true, "fields left out stay");
    let (status, err) =
        call(&app, &admin, PROJECTS, "UpdateProject", json!({"projectId": project, "name": "Billing API"})).await;
    assert_eq!(status, 400);
    snap!("update_project_unchanged", &err);
    let (status, err) =
        call(&app, &admin, PROJECTS, "UpdateProject", json!({"projectId": project, "name": "Shipping"})).await;
    assert_eq!(status, 409);
    snap!("update_project_name_taken", &err);

    // State.
    let deactivated = ok(&app, &admin, PROJECTS, "DeactivateProject", json!({"projectId": project})).await;
    snap!("deactivate_project", &deactivated);
    let got = ok(&app, &admin, PROJECTS, "GetProject", json!({"projectId": project})).await;
    assert_eq!(got["project"]["state"], "PROJECT_STATE_INACTIVE");
    let (status, err) = call(&app, &admin, PROJECTS, "DeactivateProject", json!({"projectId": project})).await;
    assert_eq!(status, 400);
    snap!("deactivate_project_inactive", &err);
    let activated = ok(&app, &admin, PROJECTS, "ActivateProject", json!({"projectId": project})).await;
    snap!("activate_project", &activated);
    let (status, err) = call(&app, &admin, PROJECTS, "ActivateProject", json!({"projectId": project})).await;
    assert_eq!(status, 400);
    snap!("activate_project_active", &err);

    // Roles.
    let role = ok(
        &app,
        &admin,
        PROJECTS,
        "AddProjectRole",
        json!({"projectId": project, "roleKey": "invoices.read", "displayName": "Read invoices", "group": "invoices"}),
    )
    .await;
    snap!("add_project_role", &role);
    add_role(&app, &admin, &project, "admin").await;
    let (status, err) = call(
        &app,
        &admin,
        PROJECTS,
        "AddProjectRole",
        json!({"projectId": project, "roleKey": "admin", "displayName": "again"}),
    )
    .await;
    assert_eq!(status, 409);
    snap!("add_project_role_exists", &err);
    let (status, err) = call(
        &app,
        &admin,
        PROJECTS,
        "AddProjectRole",
        json!({"projectId": project, "roleKey": "two words", "displayName": "x"}),
    )
    .await;
    assert_eq!(status, 400);
    snap!("add_project_role_bad_key", &err);
    let roles =
        ok(&app, &admin, PROJECTS, "ListProjectRoles", json!({"projectId": project, "pagination": {"asc": true}}))
            .await;
    snap!("list_project_roles", &roles);
    assert_eq!(keys(&roles, "projectRoles", "key"), ["admin", "invoices.read"]);
    let filtered = ok(
        &app,
        &admin,
        PROJECTS,
        "ListProjectRoles",
        json!({"projectId": project, "filters": [{"displayNameFilter": {"displayName": "invoices", "method": "TEXT_FILTER_METHOD_CONTAINS_IGNORE_CASE"}}]}),
    )
    .await;
    assert_eq!(keys(&filtered, "projectRoles", "key"), ["invoices.read"]);
    let changed = ok(
        &app,
        &admin,
        PROJECTS,
        "UpdateProjectRole",
        json!({"projectId": project, "roleKey": "admin", "displayName": "Administrator", "group": "ops"}),
    )
    .await;
    snap!("update_project_role", &changed);
    let roles = ok(
        &app,
        &admin,
        PROJECTS,
        "ListProjectRoles",
        json!({"projectId": project, "filters": [{"roleKeyFilter": {"key": "admin"}}]}),
    )
    .await;
    assert_eq!(roles["projectRoles"][0]["displayName"], "Administrator");
    assert_eq!(roles["projectRoles"][0]["group"], "ops");
    let (status, err) = call(
        &app,
        &admin,
        PROJECTS,
        "UpdateProjectRole",
        json!({"projectId": project, "roleKey": "nope", "displayName": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    snap!("update_project_role_not_found", &err);
    let removed =
        ok(&app, &admin, PROJECTS, "RemoveProjectRole", json!({"projectId": project, "roleKey": "admin"})).await;
    snap!("remove_project_role", &removed);
    let (status, err) =
        call(&app, &admin, PROJECTS, "RemoveProjectRole", json!({"projectId": project, "roleKey": "admin"})).await;
    assert_eq!(status, 404);
    snap!("remove_project_role_not_found", &err);

    // Delete.
    let deleted = ok(&app, &admin, PROJECTS, "DeleteProject", json!({"projectId": project})).await;
    snap!("delete_project", &deleted);
    let (status, _) = call(&app, &admin, PROJECTS, "GetProject", json!({"projectId": project})).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, &admin, PROJECTS, "ListProjectRoles", json!({"projectId": project})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn project_permissions_follow_zitadels_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let theirs = create_project(&app, &admin, &org, "Theirs").await;

    // An ORG_USER_MANAGER may read projects but not create them.
    let manager = create_machine(&app, &admin, &org, "manager").await;
    grant(&app, &admin, &manager, json!({"organizationId": org}), &["ORG_USER_MANAGER"]).await;
    let manager_pat = add_pat(&app, &admin, &manager, None).await;
    let (status, err) =
        call(&app, &manager_pat, PROJECTS, "CreateProject", json!({"organizationId": org, "name": "Mine"})).await;
    assert_eq!(status, 403);
    // Error bodies need only the shared redactions.
    api::snap!("create_project_denied", &err);
    ok(&app, &manager_pat, PROJECTS, "GetProject", json!({"projectId": theirs})).await;
    let (status, err) =
        call(&app, &manager_pat, PROJECTS, "UpdateProject", json!({"projectId": theirs, "name": "Renamed"})).await;
    assert_eq!(status, 403);
    snap!("update_project_denied", &err);

    // An ORG_PROJECT_CREATOR may create projects and becomes their PROJECT_OWNER:
    // it manages what it created and sees nothing else.
    let creator = create_machine(&app, &admin, &org, "creator").await;
    grant(&app, &admin, &creator, json!({"organizationId": org}), &["ORG_PROJECT_CREATOR"]).await;
    let creator_pat = add_pat(&app, &admin, &creator, None).await;
    let mine = create_project(&app, &creator_pat, &org, "Mine").await;
    add_role(&app, &creator_pat, &mine, "reader").await;
    ok(&app, &creator_pat, PROJECTS, "UpdateProject", json!({"projectId": mine, "projectRoleAssertion": true})).await;
    let listed = ok(&app, &creator_pat, PROJECTS, "ListProjects", json!({})).await;
    assert_eq!(keys(&listed, "projects", "name"), ["Mine"]);
    let (status, _) = call(&app, &creator_pat, PROJECTS, "GetProject", json!({"projectId": theirs})).await;
    assert_eq!(status, 403);
    let admins =
        ok(&app, &admin, api::ADMINS, "ListAdministrators", json!({"filters": [{"resource": {"projectId": mine}}]}))
            .await;
    assert_eq!(admins["administrators"][0]["roles"], json!(["PROJECT_OWNER"]));
    assert_eq!(admins["administrators"][0]["user"]["id"], creator);

    // Another organization's creator cannot create projects here.
    let other = create_org(&app, &admin, "Other").await;
    let outsider = create_machine(&app, &admin, &other, "outsider").await;
    grant(&app, &admin, &outsider, json!({"organizationId": other}), &["ORG_PROJECT_CREATOR"]).await;
    let outsider_pat = add_pat(&app, &admin, &outsider, None).await;
    let (status, _) =
        call(&app, &outsider_pat, PROJECTS, "CreateProject", json!({"organizationId": org, "name": "Sneaky"})).await;
    assert_eq!(status, 403);
    let listed = ok(&app, &outsider_pat, PROJECTS, "ListProjects", json!({})).await;
    assert!(items(&listed, "projects").is_empty());

    // Deleting the project removes the owner's membership with it.
    ok(&app, &creator_pat, PROJECTS, "DeleteProject", json!({"projectId": mine})).await;
    let admins =
        ok(&app, &admin, api::ADMINS, "ListAdministrators", json!({"filters": [{"resource": {"projectId": mine}}]}))
            .await;
    assert!(items(&admins, "administrators").is_empty());
}

#[tokio::test]
async fn api_applications_secrets_and_keys() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let project = create_project(&app, &admin, &org, "Resource server").await;

    // Basic: a secret, once.
    let basic = ok(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "api", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}}),
    )
    .await;
    snap!("create_application_basic", &basic);
    let basic_id = basic["applicationId"].as_str().unwrap().to_owned();
    let secret = basic["apiConfiguration"]["clientSecret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("tsr_cs_"));
    assert_eq!(basic["apiConfiguration"]["clientId"], basic_id, "the client id is the application id");

    // Private key JWT: no secret.
    let jwt = ok(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "jwt", "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}),
    )
    .await;
    snap!("create_application_private_key_jwt", &jwt);
    assert!(jwt["apiConfiguration"].get("clientSecret").is_none());
    let jwt_id = jwt["applicationId"].as_str().unwrap().to_owned();

    let (status, err) = call(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "API", "apiConfiguration": {}}),
    )
    .await;
    assert_eq!(status, 409);
    snap!("create_application_exists", &err);
    let (status, err) = call(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": project, "name": "web", "oidcConfiguration": {"redirectUris": []}}),
    )
    .await;
    assert_eq!(status, 400);
    snap!("create_application_oidc", &err);
    let (status, err) = call(
        &app,
        &admin,
        APPS,
        "CreateApplication",
        json!({"projectId": UNKNOWN, "name": "x", "apiConfiguration": {}}),
    )
    .await;
    assert_eq!(status, 404);
    snap!("create_application_unknown_project", &err);

    // Read and list.
    let got = ok(&app, &admin, APPS, "GetApplication", json!({"applicationId": basic_id})).await;
    snap!("get_application", &got);
    let (status, err) = call(&app, &admin, APPS, "GetApplication", json!({"applicationId": UNKNOWN})).await;
    assert_eq!(status, 404);
    snap!("get_application_not_found", &err);
    let listed = ok(
        &app,
        &admin,
        APPS,
        "ListApplications",
        json!({"sortingColumn": "APPLICATION_SORT_BY_NAME", "pagination": {"asc": true},
               "filters": [{"projectIdFilter": {"projectId": project}}]}),
    )
    .await;
    snap!("list_applications", &listed);
    assert_eq!(keys(&listed, "applications", "name"), ["api", "jwt"]);
    let by_client = ok(
        &app,
        &admin,
        APPS,
        "ListApplications",
        json!({"filters": [{"clientIdFilter": {"clientId": jwt_id}}, {"typeFilter": "APPLICATION_TYPE_API"}]}),
    )
    .await;
    assert_eq!(keys(&by_client, "applications", "name"), ["jwt"]);
    let oidc_only =
        ok(&app, &admin, APPS, "ListApplications", json!({"filters": [{"typeFilter": "APPLICATION_TYPE_OIDC"}]})).await;
    assert!(items(&oidc_only, "applications").is_empty());

    // Update, state.
    let updated = ok(
        &app,
        &admin,
        APPS,
        "UpdateApplication",
        json!({"applicationId": basic_id, "projectId": project, "name": "api v2"}),
    )
    .await;
    snap!("update_application", &updated);
    let (status, err) =
        call(&app, &admin, APPS, "UpdateApplication", json!({"applicationId": basic_id, "name": "api v2"})).await;
    assert_eq!(status, 400);
    snap!("update_application_unchanged", &err);
    let (status, _) = call(
        &app,
        &admin,
        APPS,
        "UpdateApplication",
        json!({"applicationId": basic_id, "projectId": UNKNOWN, "name": "x"}),
    )
    .await;
    assert_eq!(status, 404, "the application is not in that project");
    let deactivated =
        ok(&app, &admin, APPS, "DeactivateApplication", json!({"applicationId": basic_id, "projectId": project})).await;
    snap!("deactivate_application", &deactivated);
    let (status, err) = call(&app, &admin, APPS, "DeactivateApplication", json!({"applicationId": basic_id})).await;
    assert_eq!(status, 400);
    snap!("deactivate_application_inactive", &err);
    let got = ok(&app, &admin, APPS, "GetApplication", json!({"applicationId": basic_id})).await;
    assert_eq!(got["application"]["state"], "APPLICATION_STATE_INACTIVE");
    let reactivated = ok(&app, &admin, APPS, "ReactivateApplication", json!({"applicationId": basic_id})).await;
    snap!("reactivate_application", &reactivated);
    let (status, err) = call(&app, &admin, APPS, "ReactivateApplication", json!({"applicationId": basic_id})).await;
    assert_eq!(status, 400);
    snap!("reactivate_application_active", &err);

    // Secrets.
    let regenerated =
        ok(&app, &admin, APPS, "GenerateClientSecret", json!({"applicationId": basic_id, "projectId": project})).await;
    snap!("generate_client_secret", &regenerated);
    let new_secret = regenerated["clientSecret"].as_str().unwrap();
    assert!(new_secret.starts_with("tsr_cs_"));
    assert_ne!(new_secret, secret);
    let (status, err) = call(&app, &admin, APPS, "GenerateClientSecret", json!({"applicationId": jwt_id})).await;
    assert_eq!(status, 400);
    snap!("generate_client_secret_private_key_jwt", &err);

    // Keys.
    let key = ok(
        &app,
        &admin,
        APPS,
        "CreateApplicationKey",
        json!({"applicationId": jwt_id, "projectId": project, "expirationDate": in_days(30)}),
    )
    .await;
    snap!("create_application_key", &key);
    let key_id = key["keyId"].as_str().unwrap().to_owned();
    let file = base64::engine::general_purpose::STANDARD.decode(key["keyDetails"].as_str().unwrap()).unwrap();
    let file: Value = serde_json::from_slice(&file).unwrap();
    assert_eq!(file["type"], "application");
    assert_eq!(file["keyId"], key_id);
    assert_eq!(file["appId"], jwt_id);
    assert_eq!(file["clientId"], jwt_id);
    assert!(file["key"].as_str().unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let file_keys: Vec<&str> = file.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(file_keys.len(), 5, "{file_keys:?}");
    let (status, err) = call(
        &app,
        &admin,
        APPS,
        "CreateApplicationKey",
        json!({"applicationId": jwt_id, "expirationDate": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 400);
    snap!("create_application_key_expired", &err);
    let (status, err) = call(&app, &admin, APPS, "CreateApplicationKey", json!({"applicationId": basic_id})).await;
    assert_eq!(status, 400);
    snap!("create_application_key_basic", &err);
    let second = ok(&app, &admin, APPS, "CreateApplicationKey", json!({"applicationId": jwt_id})).await;
    let got = ok(&app, &admin, APPS, "GetApplicationKey", json!({"keyId": key_id})).await;
    snap!("get_application_key", &got);
    let listed = ok(
        &app,
        &admin,
        APPS,
        "ListApplicationKeys",
        json!({"sortingColumn": "APPLICATION_KEYS_SORT_BY_CREATION_DATE", "pagination": {"asc": true},
               "filters": [{"applicationIdFilter": {"applicationId": jwt_id}}]}),
    )
    .await;
    snap!("list_application_keys", &listed);
    assert_eq!(keys(&listed, "keys", "keyId"), [key_id.clone(), second["keyId"].as_str().unwrap().to_owned()]);
    let by_org = ok(
        &app,
        &admin,
        APPS,
        "ListApplicationKeys",
        json!({"filters": [{"organizationIdFilter": {"organizationId": org}}]}),
    )
    .await;
    assert_eq!(by_org["keys"].as_array().unwrap().len(), 2);
    let (status, _) =
        call(&app, &admin, APPS, "DeleteApplicationKey", json!({"keyId": key_id, "applicationId": basic_id})).await;
    assert_eq!(status, 404, "the key belongs to another application");
    let deleted = ok(
        &app,
        &admin,
        APPS,
        "DeleteApplicationKey",
        json!({"keyId": key_id, "applicationId": jwt_id, "projectId": project}),
    )
    .await;
    snap!("delete_application_key", &deleted);
    let (status, err) = call(&app, &admin, APPS, "GetApplicationKey", json!({"keyId": key_id})).await;
    assert_eq!(status, 404);
    snap!("get_application_key_not_found", &err);

    // Switching to private_key_jwt drops the secret; back to basic needs a new one.
    ok(&app, &admin, APPS, "UpdateApplication", json!({"applicationId": basic_id, "apiConfiguration": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}})).await;
    let got = ok(&app, &admin, APPS, "GetApplication", json!({"applicationId": basic_id})).await;
    assert_eq!(got["application"]["apiConfiguration"]["authMethodType"], "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT");

    // Permissions: ORG_USER_MANAGER cannot see or change applications.
    let manager = create_machine(&app, &admin, &org, "manager").await;
    grant(&app, &admin, &manager, json!({"organizationId": org}), &["ORG_USER_MANAGER"]).await;
    let manager_pat = add_pat(&app, &admin, &manager, None).await;
    let (status, err) = call(&app, &manager_pat, APPS, "GetApplication", json!({"applicationId": jwt_id})).await;
    assert_eq!(status, 403);
    snap!("get_application_denied", &err);
    let listed = ok(&app, &manager_pat, APPS, "ListApplications", json!({})).await;
    assert!(items(&listed, "applications").is_empty());
    // ORG_OWNER may write applications but, as in ZITADEL, not delete them.
    let owner = create_machine(&app, &admin, &org, "owner").await;
    grant(&app, &admin, &owner, json!({"organizationId": org}), &["ORG_OWNER"]).await;
    let owner_pat = add_pat(&app, &admin, &owner, None).await;
    ok(&app, &owner_pat, APPS, "UpdateApplication", json!({"applicationId": basic_id, "name": "renamed by owner"}))
        .await;
    let (status, _) = call(&app, &owner_pat, APPS, "DeleteApplication", json!({"applicationId": jwt_id})).await;
    assert_eq!(status, 403);

    // Delete the application; then the project with the rest.
    let deleted =
        ok(&app, &admin, APPS, "DeleteApplication", json!({"applicationId": jwt_id, "projectId": project})).await;
    snap!("delete_application", &deleted);
    let (status, _) = call(&app, &admin, APPS, "GetApplicationKey", json!({"keyId": second["keyId"]})).await;
    assert_eq!(status, 404, "keys go with their application");
    ok(&app, &admin, PROJECTS, "DeleteProject", json!({"projectId": project})).await;
    let (status, _) = call(&app, &admin, APPS, "GetApplication", json!({"applicationId": basic_id})).await;
    assert_eq!(status, 404, "applications go with their project");
}

#[tokio::test]
async fn authorizations_give_users_project_roles() {
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let project = create_project(&app, &admin, &org, "Orders").await;
    add_role(&app, &admin, &project, "reader").await;
    add_role(&app, &admin, &project, "writer").await;
    let bot = create_machine(&app, &admin, &org, "bot").await;
    let other_bot = create_machine(&app, &admin, &org, "other-bot").await;

    let created = ok(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": bot, "projectId": project, "roleKeys": ["reader"]}),
    )
    .await;
    snap!("create_authorization", &created);
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, err) = call(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": bot, "projectId": project, "organizationId": org, "roleKeys": []}),
    )
    .await;
    assert_eq!(status, 409);
    snap!("create_authorization_exists", &err);
    let (status, err) = call(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": other_bot, "projectId": project, "roleKeys": ["reader", "nope"]}),
    )
    .await;
    assert_eq!(status, 400);
    snap!("create_authorization_unknown_role", &err);
    let other_org = create_org(&app, &admin, "Other").await;
    let (status, err) = call(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": other_bot, "projectId": project, "organizationId": other_org, "roleKeys": []}),
    )
    .await;
    assert_eq!(status, 400);
    snap!("create_authorization_project_grant", &err);
    let (status, err) = call(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": UNKNOWN, "projectId": project, "roleKeys": []}),
    )
    .await;
    assert_eq!(status, 404);
    snap!("create_authorization_unknown_user", &err);
    ok(
        &app,
        &admin,
        AUTHZ,
        "CreateAuthorization",
        json!({"userId": other_bot, "projectId": project, "roleKeys": ["writer"]}),
    )
    .await;

    // List and filters.
    let listed = ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"pagination": {"asc": true}})).await;
    snap!("list_authorizations", &listed);
    let of_bot =
        ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"filters": [{"inUserIds": {"ids": [bot]}}]})).await;
    assert_eq!(keys(&of_bot, "authorizations", "id"), [id.as_str()]);
    let by_role =
        ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"filters": [{"roleKey": {"key": "writer"}}]})).await;
    assert_eq!(by_role["authorizations"][0]["user"]["id"], other_bot);
    let by_project = ok(
        &app,
        &admin,
        AUTHZ,
        "ListAuthorizations",
        json!({"filters": [{"projectId": {"id": project}}, {"organizationId": {"id": org}}]}),
    )
    .await;
    assert_eq!(by_project["pagination"]["totalResult"], "2");
    let by_login = ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"filters": [{"userPreferredLoginName": {"loginName": "other", "method": "TEXT_FILTER_METHOD_STARTS_WITH"}}]})).await;
    assert_eq!(by_login["authorizations"][0]["user"]["id"], other_bot);
    let beta = ok(&app, &admin, AUTHZ_BETA, "ListAuthorizations", json!({"filters": [{"userId": {"id": bot}}]})).await;
    snap!("list_authorizations_v2beta", &beta);
    assert_eq!(beta["authorizations"][0]["projectId"], project);
    assert_eq!(beta["authorizations"][0]["roles"], json!(["reader"]));
    let none =
        ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"filters": [{"projectGrantId": {"id": UNKNOWN}}]})).await;
    assert!(items(&none, "authorizations").is_empty());

    // Update, state.
    let updated =
        ok(&app, &admin, AUTHZ, "UpdateAuthorization", json!({"id": id, "roleKeys": ["reader", "writer"]})).await;
    snap!("update_authorization", &updated);
    let (status, err) =
        call(&app, &admin, AUTHZ, "UpdateAuthorization", json!({"id": id, "roleKeys": ["writer", "reader"]})).await;
    assert_eq!(status, 400);
    snap!("update_authorization_unchanged", &err);
    let deactivated = ok(&app, &admin, AUTHZ, "DeactivateAuthorization", json!({"id": id})).await;
    snap!("deactivate_authorization", &deactivated);
    let (status, err) = call(&app, &admin, AUTHZ, "DeactivateAuthorization", json!({"id": id})).await;
    assert_eq!(status, 400);
    snap!("deactivate_authorization_inactive", &err);
    let inactive =
        ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"filters": [{"state": {"state": "STATE_INACTIVE"}}]}))
            .await;
    assert_eq!(keys(&inactive, "authorizations", "id"), [id.as_str()]);
    let activated = ok(&app, &admin, AUTHZ, "ActivateAuthorization", json!({"id": id})).await;
    snap!("activate_authorization", &activated);

    // Removing a project role takes it out of every authorization.
    ok(&app, &admin, PROJECTS, "RemoveProjectRole", json!({"projectId": project, "roleKey": "writer"})).await;
    let of_bot =
        ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({"filters": [{"authorizationIds": {"ids": [id]}}]})).await;
    assert_eq!(keys(&of_bot["authorizations"][0], "roles", "key"), ["reader"]);

    // Permissions: a PROJECT_OWNER manages the project's authorizations; a user
    // sees its own; a user without rights sees nothing else.
    let bot_pat = add_pat(&app, &admin, &bot, None).await;
    let own = ok(&app, &bot_pat, AUTHZ, "ListAuthorizations", json!({})).await;
    assert_eq!(keys(&own, "authorizations", "id"), [id.as_str()]);
    let (status, err) = call(&app, &bot_pat, AUTHZ, "DeleteAuthorization", json!({"id": id})).await;
    assert_eq!(status, 403);
    snap!("delete_authorization_denied", &err);
    let owner = create_machine(&app, &admin, &org, "owner").await;
    grant(&app, &admin, &owner, json!({"projectId": project}), &["PROJECT_OWNER"]).await;
    let owner_pat = add_pat(&app, &admin, &owner, None).await;
    let seen = ok(&app, &owner_pat, AUTHZ, "ListAuthorizations", json!({})).await;
    assert_eq!(seen["pagination"]["totalResult"], "2");

    // Delete.
    let deleted = ok(&app, &owner_pat, AUTHZ, "DeleteAuthorization", json!({"id": id})).await;
    snap!("delete_authorization", &deleted);
    let (status, err) = call(&app, &admin, AUTHZ, "DeleteAuthorization", json!({"id": id})).await;
    assert_eq!(status, 404);
    snap!("delete_authorization_not_found", &err);

    // Deleting the user or the project deletes its authorizations.
    ok(&app, &admin, USERS, "DeleteUser", json!({"userId": other_bot})).await;
    let left = ok(&app, &admin, AUTHZ, "ListAuthorizations", json!({})).await;
    assert!(items(&left, "authorizations").is_empty());
}

#[tokio::test]
async fn the_v2beta_app_service_speaks_its_own_names() {
    const BETA: &str = "zitadel.app.v2beta.AppService";
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let project = create_project(&app, &admin, &org, "Beta apps").await;

    let created = ok(
        &app,
        &admin,
        BETA,
        "CreateApplication",
        json!({"projectId": project, "name": "api", "apiRequest": {"authMethodType": "API_AUTH_METHOD_TYPE_BASIC"}}),
    )
    .await;
    snap!("v2beta_create_application", &created);
    let id = created["appId"].as_str().unwrap().to_owned();
    assert!(created["apiResponse"]["clientSecret"].as_str().unwrap().starts_with("tsr_cs_"));
    let got = ok(&app, &admin, BETA, "GetApplication", json!({"id": id})).await;
    snap!("v2beta_get_application", &got);
    assert_eq!(got["app"]["state"], "APP_STATE_ACTIVE");
    let listed = ok(
        &app,
        &admin,
        BETA,
        "ListApplications",
        json!({"projectId": project, "filters": [{"apiAppOnly": true}, {"stateFilter": "APP_STATE_ACTIVE"}],
               "sortingColumn": "APP_SORT_BY_NAME"}),
    )
    .await;
    assert_eq!(listed["applications"][0]["id"], id);
    let secret = ok(
        &app,
        &admin,
        BETA,
        "RegenerateClientSecret",
        json!({"projectId": project, "applicationId": id, "isApi": true}),
    )
    .await;
    assert!(secret["clientSecret"].as_str().unwrap().starts_with("tsr_cs_"));
    ok(
        &app,
        &admin,
        BETA,
        "UpdateApplication",
        json!({"projectId": project, "id": id, "apiConfigurationRequest": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}}),
    )
    .await;
    let key = ok(&app, &admin, BETA, "CreateApplicationKey", json!({"appId": id, "projectId": project})).await;
    snap!("v2beta_create_application_key", &key);
    let key_id = key["id"].as_str().unwrap().to_owned();
    let got = ok(&app, &admin, BETA, "GetApplicationKey", json!({"id": key_id})).await;
    assert_eq!(got["id"], key_id);
    let keys = ok(&app, &admin, BETA, "ListApplicationKeys", json!({"applicationId": id})).await;
    assert_eq!(keys["keys"][0]["id"], key_id);
    ok(&app, &admin, BETA, "DeleteApplicationKey", json!({"id": key_id, "applicationId": id, "projectId": project}))
        .await;
    ok(&app, &admin, BETA, "DeactivateApplication", json!({"projectId": project, "id": id})).await;
    ok(&app, &admin, BETA, "ReactivateApplication", json!({"projectId": project, "id": id})).await;
    ok(&app, &admin, BETA, "DeleteApplication", json!({"projectId": project, "id": id})).await;
    let (status, _) = call(&app, &admin, BETA, "GetApplication", json!({"id": id})).await;
    assert_eq!(status, 404);
    let (status, _) = call(&app, "tsr_pat_nope", BETA, "GetApplication", json!({"id": id})).await;
    assert_eq!(status, 401);
}

/// ZITADEL's grpc-gateway paths of `zitadel.project.v2beta.ProjectService`
/// (`/v2beta/projects…`): path parameters fill the v2beta messages' fields,
/// and the answers are the Connect ones.
#[tokio::test]
async fn the_v2beta_project_rest_paths_reach_the_same_handlers() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;

    let (status, created) =
        rest(&app, &admin, Method::POST, "/v2beta/projects", Some(json!({"organizationId": org, "name": "Rest"})))
            .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v2beta/projects/{id}");

    let (status, got) = rest(&app, &admin, Method::GET, &path, None).await;
    assert_eq!((status, got["project"]["name"].as_str()), (200, Some("Rest")), "{got}");
    let (status, _) =
        rest(&app, &admin, Method::POST, &path, Some(json!({"name": "Rest 2", "projectRoleCheck": true}))).await;
    assert_eq!(status, 200);
    let (_, got) = rest(&app, &admin, Method::GET, &path, None).await;
    assert_eq!(
        (got["project"]["name"].as_str(), &got["project"]["authorizationRequired"]),
        (Some("Rest 2"), &json!(true))
    );
    let search = json!({"filters": [{"projectNameFilter": {"projectName": "Rest 2"}}]});
    let (status, found) = rest(&app, &admin, Method::POST, "/v2beta/projects/search", Some(search)).await;
    assert_eq!((status, found["projects"][0]["id"].as_str()), (200, Some(id.as_str())), "{found}");
    for state in ["deactivate", "activate"] {
        let (status, body) = rest(&app, &admin, Method::POST, &format!("{path}/{state}"), Some(json!({}))).await;
        assert_eq!(status, 200, "{state}: {body}");
    }

    // Roles: the key travels in the path.
    let roles = format!("{path}/roles");
    let (status, body) =
        rest(&app, &admin, Method::POST, &roles, Some(json!({"roleKey": "reader", "displayName": "Reader"}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) =
        rest(&app, &admin, Method::POST, &format!("{roles}/reader"), Some(json!({"displayName": "Readers"}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, listed) = rest(&app, &admin, Method::POST, &format!("{roles}/search"), Some(json!({}))).await;
    assert_eq!((status, listed["projectRoles"][0]["displayName"].as_str()), (200, Some("Readers")), "{listed}");
    let (status, _) = rest(&app, &admin, Method::DELETE, &format!("{roles}/reader"), None).await;
    assert_eq!(status, 200);
    let (_, listed) = rest(&app, &admin, Method::POST, &format!("{roles}/search"), Some(json!({}))).await;
    assert!(items(&listed, "projectRoles").is_empty(), "{listed}");

    // Errors as on the other v2 REST paths; the id in the path wins over the body's.
    let (status, err) = rest(&app, &admin, Method::GET, &format!("/v2beta/projects/{UNKNOWN}"), None).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("not_found")), "{err}");
    let (status, _) = rest(&app, &admin, Method::DELETE, &path, Some(json!({"id": UNKNOWN}))).await;
    assert_eq!(status, 200);
    let (status, _) = rest(&app, &admin, Method::GET, &path, None).await;
    assert_eq!(status, 404, "the project of the path is gone");
}

/// ZITADEL's gateway paths of `zitadel.app.v2beta.AppService` and
/// `zitadel.authorization.v2beta.AuthorizationService`, in one walk.
#[tokio::test]
async fn the_v2beta_app_and_authorization_rest_paths_reach_the_same_handlers() {
    use reqwest::Method;
    let app = TestApp::spawn().await;
    let admin = app.admin_pat();
    let org = default_org(&app, &admin).await;
    let project = create_project(&app, &admin, &org, "Rest apps").await;
    let r = |method: Method, path: String, body: Option<Value>| {
        let (app, admin) = (&app, &admin);
        async move { rest(app, admin, method, &path, body).await }
    };

    // Applications.
    let body = json!({"projectId": project, "name": "api", "apiRequest": {}});
    let (status, created) = r(Method::POST, "/v2beta/applications".into(), Some(body)).await;
    assert_eq!(status, 200, "{created}");
    let id = created["appId"].as_str().unwrap().to_owned();
    let (status, got) = r(Method::GET, format!("/v2beta/applications/{id}"), None).await;
    assert_eq!((status, got["app"]["id"].as_str()), (200, Some(id.as_str())), "{got}");
    let search = json!({"projectId": project, "filters": [{"apiAppOnly": true}]});
    let (status, listed) = r(Method::POST, "/v2beta/applications/search".into(), Some(search)).await;
    assert_eq!((status, listed["applications"][0]["id"].as_str()), (200, Some(id.as_str())), "{listed}");
    let (status, secret) =
        r(Method::POST, format!("/v2beta/applications/{id}/generate_client_secret"), Some(json!({}))).await;
    assert!(status == 200 && secret["clientSecret"].as_str().unwrap().starts_with("tsr_cs_"), "{secret}");
    let keys_only =
        json!({"name": "api 2", "apiConfigurationRequest": {"authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}});
    let (status, body) = r(Method::PATCH, format!("/v2beta/applications/{id}"), Some(keys_only)).await;
    assert_eq!(status, 200, "{body}");
    for state in ["deactivate", "reactivate"] {
        let (status, body) = r(Method::POST, format!("/v2beta/applications/{id}/{state}"), Some(json!({}))).await;
        assert_eq!(status, 200, "{state}: {body}");
    }
    let (status, key) = r(Method::POST, "/v2beta/application_keys".into(), Some(json!({"appId": id}))).await;
    assert_eq!(status, 200, "{key}");
    let key_id = key["id"].as_str().unwrap().to_owned();
    let (status, got) = r(Method::GET, format!("/v2beta/application_keys/{key_id}"), None).await;
    assert_eq!((status, got["id"].as_str()), (200, Some(key_id.as_str())), "{got}");
    let search = json!({"applicationId": id});
    let (status, keys) = r(Method::POST, "/v2beta/application_keys/search".into(), Some(search)).await;
    assert_eq!((status, keys["keys"][0]["id"].as_str()), (200, Some(key_id.as_str())), "{keys}");
    let (status, _) = r(Method::DELETE, format!("/v2beta/application_keys/{key_id}"), None).await;
    assert_eq!(status, 200);
    let (status, _) = r(Method::DELETE, format!("/v2beta/applications/{id}"), None).await;
    assert_eq!(status, 200);
    let (status, _) = r(Method::GET, format!("/v2beta/applications/{id}"), None).await;
    assert_eq!(status, 404);

    // Authorizations.
    let bot = create_machine(&app, &admin, &org, "rest-bot").await;
    ok(
        &app,
        &admin,
        PROJECTS,
        "AddProjectRole",
        json!({"projectId": project, "roleKey": "reader", "displayName": "R"}),
    )
    .await;
    let body = json!({"userId": bot, "projectId": project, "roleKeys": ["reader"]});
    let (status, created) = r(Method::POST, "/v2beta/authorizations".into(), Some(body)).await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let search = json!({"filters": [{"userId": {"id": bot}}]});
    let (status, listed) = r(Method::POST, "/v2beta/authorizations/search".into(), Some(search.clone())).await;
    assert_eq!((status, &listed["authorizations"][0]["roles"]), (200, &json!(["reader"])), "{listed}");
    let (status, body) = r(Method::PATCH, format!("/v2beta/authorizations/{id}"), Some(json!({"roleKeys": []}))).await;
    assert_eq!(status, 200, "{body}");
    for state in ["deactivate", "activate"] {
        let (status, body) = r(Method::POST, format!("/v2beta/authorizations/{id}/{state}"), Some(json!({}))).await;
        assert_eq!(status, 200, "{state}: {body}");
    }
    let (status, _) = r(Method::DELETE, format!("/v2beta/authorizations/{id}"), None).await;
    assert_eq!(status, 200);
    let (_, listed) = r(Method::POST, "/v2beta/authorizations/search".into(), Some(search)).await;
    assert!(items(&listed, "authorizations").is_empty(), "{listed}");
}
