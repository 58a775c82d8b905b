//! Projects on the console: list and create projects; on a project's page its
//! roles, API applications (client secret shown once, key file downloaded once)
//! and authorizations, each listed, created and deleted.

use std::collections::BTreeSet;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use tessera_domain::application::{ApiAuthMethod, AppName};
use tessera_domain::names::DisplayName;
use tessera_domain::permission::{Target, perm};
use tessera_domain::project::{ProjectName, ProjectState, RoleKey};
use tessera_domain::repo::{AppFilter, AuthorizationFilter, Page, ProjectFilter};
use tessera_domain::{ApplicationId, AuthorizationId, ProjectId};

use super::pages::{
    CsrfForm, Layout, PageResult, caller, csrf, current_org, fmt_time, html, layout, nav, page, see_other,
};
use super::session::ConsoleCaller;
use crate::AppState;
use crate::error::ServiceError;
use tessera_core::{applications, authorizations, projects};

fn all() -> Page {
    Page { offset: 0, limit: Page::MAX_LIMIT, asc: true }
}

struct ProjectRow {
    id: String,
    name: String,
    state_key: &'static str,
    state_class: &'static str,
    created: String,
}

#[derive(Template)]
#[template(path = "console/projects.html")]
struct ProjectsPage {
    l: Layout,
    csrf: String,
    rows: Vec<ProjectRow>,
    can_create: bool,
}

/// `GET /projects`: the projects of the selected organization.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let org = current_org(&req, &caller);
        let rows = projects::list(&caller.ctx, vec![ProjectFilter::Org(org)], Default::default(), all())
            .await?
            .items
            .into_iter()
            .map(|p| {
                let (state_key, state_class) = match p.state {
                    ProjectState::Active => ("state.active", "badge-active"),
                    ProjectState::Inactive => ("state.inactive", "badge-inactive"),
                };
                ProjectRow {
                    id: p.id.to_string(),
                    name: p.name.to_string(),
                    state_key,
                    state_class,
                    created: fmt_time(p.created_at),
                }
            })
            .collect();
        let can_create = caller.ctx.actor.can(perm::PROJECT_CREATE, Target::Org(org));
        let l = layout(&req, Some(nav(&req, &caller).await?));
        Ok(html(StatusCode::OK, ProjectsPage { l, csrf: caller.csrf.clone(), rows, can_create }.render()?))
    })
    .await
}

/// A form with a name.
#[derive(Deserialize)]
pub struct NameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /projects`.
pub async fn create(req: HttpRequest, state: web::Data<AppState>, form: web::Form<NameForm>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let new = projects::NewProject {
            org_id: Some(current_org(&req, &caller)),
            id: None,
            name: ProjectName::parse(form.name.trim()).map_err(ServiceError::from)?,
            role_assertion: false,
            authorization_required: false,
            project_access_required: false,
        };
        let project = projects::create(&caller.ctx, new).await?;
        Ok(see_other(&format!("/ui/console/projects/{}", project.id)))
    })
    .await
}

struct RoleRow {
    key: String,
    display_name: String,
    group: String,
}

struct AppRow {
    id: String,
    name: String,
    client_id: String,
    basic: bool,
    auth_key: &'static str,
}

struct GrantRow {
    id: String,
    username: String,
    roles: String,
}

/// The dialog open on a project's page.
pub enum ProjectDialog {
    /// None.
    None,
    /// Confirm deleting the project.
    Delete,
    /// A new application secret (client id, secret), shown once.
    Secret(String, String),
}

#[derive(Template)]
#[template(path = "console/project.html")]
struct ProjectPage {
    l: Layout,
    csrf: String,
    id: String,
    name: String,
    roles: Vec<RoleRow>,
    apps: Vec<AppRow>,
    grants: Vec<GrantRow>,
    dialog: ProjectDialog,
    can_delete: bool,
    can_roles: bool,
    can_apps: bool,
    can_apps_delete: bool,
    can_grants: bool,
    can_grants_delete: bool,
}

fn project_id(s: &str) -> Result<ProjectId, ServiceError> {
    ProjectId::parse(s).map_err(|_| ServiceError::not_found("project not found"))
}

async fn render(req: &HttpRequest, caller: &ConsoleCaller, id: ProjectId, dialog: ProjectDialog) -> PageResult {
    let ctx = &caller.ctx;
    let project = projects::get(ctx, id).await?;
    let target = Target::Project { org: project.org_id, project: project.id };
    let can = |p| ctx.actor.can(p, target);
    let roles = if can(perm::PROJECT_ROLE_READ) {
        projects::list_roles(ctx, id, Vec::new(), Default::default(), all()).await?.items
    } else {
        Vec::new()
    };
    let roles = roles
        .into_iter()
        .map(|r| RoleRow { key: r.key.to_string(), display_name: r.display_name.to_string(), group: r.group })
        .collect();
    let apps = applications::list(ctx, vec![AppFilter::Project(id)], Default::default(), all())
        .await?
        .items
        .into_iter()
        .map(|a| {
            let basic = a.app.auth_method == ApiAuthMethod::Basic;
            AppRow {
                id: a.app.id.to_string(),
                name: a.app.name.to_string(),
                client_id: a.app.client_id,
                basic,
                auth_key: if basic { "apps.auth.basic" } else { "apps.auth.jwt" },
            }
        })
        .collect();
    let grants = authorizations::list(ctx, vec![AuthorizationFilter::Project(id)], Default::default(), all())
        .await?
        .items
        .into_iter()
        .map(|g| GrantRow {
            id: g.authorization.id.to_string(),
            username: g.username.to_string(),
            roles: g.roles.iter().map(|r| r.key.to_string()).collect::<Vec<_>>().join(", "),
        })
        .collect();
    let p = ProjectPage {
        l: layout(req, Some(nav(req, caller).await?)),
        csrf: caller.csrf.clone(),
        id: project.id.to_string(),
        name: project.name.to_string(),
        roles,
        apps,
        grants,
        dialog,
        can_delete: can(perm::PROJECT_DELETE),
        can_roles: can(perm::PROJECT_ROLE_WRITE),
        can_apps: can(perm::PROJECT_APP_WRITE),
        can_apps_delete: can(perm::PROJECT_APP_DELETE),
        can_grants: can(perm::USER_GRANT_WRITE),
        can_grants_delete: can(perm::USER_GRANT_DELETE),
    };
    Ok(html(StatusCode::OK, p.render()?))
}

/// The project page's query.
#[derive(Deserialize)]
pub struct ProjectQuery {
    #[serde(default)]
    dialog: String,
}

/// `GET /projects/{id}`.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<ProjectQuery>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let dialog = if q.dialog == "delete" { ProjectDialog::Delete } else { ProjectDialog::None };
        render(&req, &caller, project_id(&path)?, dialog).await
    })
    .await
}

/// `POST /projects/{id}/delete` (after the confirmation dialog).
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        projects::delete(&caller.ctx, project_id(&path)?).await?;
        Ok(see_other("/ui/console/projects"))
    })
    .await
}

/// The role form.
#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    group: String,
}

/// `POST /projects/{id}/roles`: adds a role (display name defaults to the key).
pub async fn add_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<RoleForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = project_id(&path)?;
        let key = RoleKey::parse(form.key.trim()).map_err(ServiceError::from)?;
        let name = if form.display_name.trim().is_empty() { form.key.trim() } else { form.display_name.trim() };
        let name = DisplayName::parse("displayName", name).map_err(ServiceError::from)?;
        projects::add_role(&caller.ctx, id, key, name, form.group.trim().to_owned()).await?;
        Ok(see_other(&format!("/ui/console/projects/{id}#roles")))
    })
    .await
}

/// `POST /projects/{id}/roles/remove`.
pub async fn remove_role(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<RoleForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = project_id(&path)?;
        let key = RoleKey::parse(form.key.trim()).map_err(ServiceError::from)?;
        projects::remove_role(&caller.ctx, id, &key).await?;
        Ok(see_other(&format!("/ui/console/projects/{id}#roles")))
    })
    .await
}

/// The application form.
#[derive(Deserialize)]
pub struct AppForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    auth: String,
}

/// `POST /projects/{id}/apps`: creates an API application; a basic-auth one
/// shows its client secret once, in this response.
pub async fn add_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<AppForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = project_id(&path)?;
        let auth_method = if form.auth == "jwt" { ApiAuthMethod::PrivateKeyJwt } else { ApiAuthMethod::Basic };
        let new = applications::NewApp {
            project_id: id,
            id: None,
            name: AppName::parse(form.name.trim()).map_err(ServiceError::from)?,
            auth_method,
        };
        let (app, secret) = applications::create(&caller.ctx, new).await?;
        match secret {
            Some(secret) => {
                let dialog = ProjectDialog::Secret(app.app.client_id, secret.expose_secret().to_owned());
                render(&req, &caller, id, dialog).await
            }
            None => Ok(see_other(&format!("/ui/console/projects/{id}#apps"))),
        }
    })
    .await
}

fn app_ids(path: &(String, String)) -> Result<(ProjectId, ApplicationId), ServiceError> {
    let app = ApplicationId::parse(&path.1).map_err(|_| ServiceError::not_found("application not found"))?;
    Ok((project_id(&path.0)?, app))
}

/// `POST /projects/{id}/apps/{app}/secret`: a new client secret, shown once.
pub async fn app_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let (project, app) = app_ids(&path)?;
        let (app, secret) = applications::generate_secret(&caller.ctx, app, Some(project)).await?;
        let dialog = ProjectDialog::Secret(app.app.client_id, secret.expose_secret().to_owned());
        render(&req, &caller, project, dialog).await
    })
    .await
}

/// `POST /projects/{id}/apps/{app}/keys`: a new key pair; the answer is the
/// application key file as a download, the only copy of the private key.
pub async fn app_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let (project, app) = app_ids(&path)?;
        let created = applications::create_key(&caller.ctx, app, Some(project), None).await?;
        let res: PageResult = Ok(HttpResponse::Ok()
            .content_type("application/json")
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}.json\"", created.key.id)))
            .body(created.file.as_bytes().to_vec()));
        res
    })
    .await
}

/// `POST /projects/{id}/apps/{app}/delete`.
pub async fn delete_app(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let (project, app) = app_ids(&path)?;
        applications::delete(&caller.ctx, app, Some(project)).await?;
        Ok(see_other(&format!("/ui/console/projects/{project}#apps")))
    })
    .await
}

/// `POST /projects/{id}/authorizations`: authorizes a user of the project's
/// organization (by username) with the checked roles.
pub async fn add_authorization(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let (mut presented, mut username, mut roles) = (String::new(), String::new(), BTreeSet::new());
        for (k, v) in form_urlencoded::parse(&body) {
            match k.as_ref() {
                "csrf" => presented = v.into_owned(),
                "username" => username = v.trim().to_owned(),
                "role" => {
                    roles.insert(RoleKey::parse(&v).map_err(ServiceError::from)?);
                }
                _ => {}
            }
        }
        csrf(&caller, &presented)?;
        let id = project_id(&path)?;
        let project = projects::get(&caller.ctx, id).await?;
        let user = caller
            .ctx
            .core
            .store
            .users()
            .find_by_username(project.org_id, &username)
            .await
            .map_err(ServiceError::from)?
            .ok_or_else(|| ServiceError::not_found("user not found"))?;
        let new = authorizations::NewAuthorization { user_id: user.id, project_id: id, org_id: None, roles };
        authorizations::create(&caller.ctx, new).await?;
        Ok(see_other(&format!("/ui/console/projects/{id}#authorizations")))
    })
    .await
}

/// `POST /projects/{id}/authorizations/{authorization}/delete`.
pub async fn delete_authorization(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let project = project_id(&path.0)?;
        let id = AuthorizationId::parse(&path.1).map_err(|_| ServiceError::not_found("authorization not found"))?;
        authorizations::delete(&caller.ctx, id).await?;
        Ok(see_other(&format!("/ui/console/projects/{project}#authorizations")))
    })
    .await
}
