//! Projects and their roles: create (the creator becomes `PROJECT_OWNER`), read,
//! list, change, suspend, delete; add, list, change and remove roles.
//!
//! Permissions as in ZITADEL: `project.create` on the organization;
//! `project.read|write|delete` and `project.role.read|write|delete` on the
//! project (granted organization-wide or by a project role).

use serde_json::json;
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::names::DisplayName;
use tessera_domain::permission::{Role, Scope, Target, perm};
use tessera_domain::project::{Project, ProjectName, ProjectRole, RoleKey};
use tessera_domain::repo::{
    Listed, Page, ProjectFilter, ProjectQuery, ProjectSort, ProjectVisibility, RoleFilter, RoleQuery, RoleSort,
    Transaction,
};
use tessera_domain::{OrgId, ProjectId};

use crate::ServiceError;
use crate::{Ctx, ServiceResult};

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Owning organization; the caller's own when `None`.
    pub org_id: Option<OrgId>,
    /// A caller-chosen id.
    pub id: Option<ProjectId>,
    /// Name, unique in the organization.
    pub name: ProjectName,
    /// Assert roles in tokens.
    pub role_assertion: bool,
    /// Require an authorization for tokens.
    pub authorization_required: bool,
    /// Require project access for tokens.
    pub project_access_required: bool,
}

/// Changes to a project; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProjectUpdate {
    /// New name.
    pub name: Option<ProjectName>,
    /// New `projectRoleAssertion`.
    pub role_assertion: Option<bool>,
    /// New `authorizationRequired`.
    pub authorization_required: Option<bool>,
    /// New `projectAccessRequired`.
    pub project_access_required: Option<bool>,
}

/// A change of a project's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectStateChange {
    /// Suspend its applications and roles.
    Deactivate,
    /// End the suspension.
    Activate,
}

/// The permission target of a project.
#[must_use]
pub fn target(p: &Project) -> Target {
    Target::Project { org: p.org_id, project: p.id }
}

/// Loads a project or fails with `not_found`.
pub(crate) async fn load(ctx: &Ctx, id: ProjectId) -> ServiceResult<Project> {
    ctx.core.store.projects().get(id).await?.ok_or_else(|| ServiceError::not_found("project not found"))
}

/// Loads a project and checks `permission` on it.
pub(crate) async fn load_with(ctx: &Ctx, id: ProjectId, permission: &'static str) -> ServiceResult<Project> {
    let project = load(ctx, id).await?;
    ctx.require(permission, target(&project))?;
    Ok(project)
}

/// [`load_with`] inside `tx`, under a lock on the project's row.
pub(crate) async fn lock_with(
    ctx: &Ctx,
    tx: &dyn Transaction,
    id: ProjectId,
    permission: &'static str,
) -> ServiceResult<Project> {
    let project = tx.projects().lock(id).await?.ok_or_else(|| ServiceError::not_found("project not found"))?;
    ctx.require(permission, target(&project))?;
    Ok(project)
}

/// What the caller may see of projects under `permission`.
pub(crate) fn visibility(ctx: &Ctx, permission: &'static str, own: bool) -> ProjectVisibility {
    let grants = &ctx.actor.grants;
    ProjectVisibility {
        orgs: grants.orgs_with(permission),
        projects: grants.projects_with(permission),
        own_user: if own { ctx.actor.own_user(permission) } else { None },
    }
}

fn details(p: &Project) -> serde_json::Value {
    json!({
        "name": p.name,
        "projectRoleAssertion": p.role_assertion,
        "authorizationRequired": p.authorization_required,
        "projectAccessRequired": p.project_access_required,
    })
}

/// Creates a project in an organization (`project.create` there). The caller
/// becomes its `PROJECT_OWNER`, as in ZITADEL, so that an `ORG_PROJECT_CREATOR`
/// can manage what it created.
///
/// # Errors
/// `permission_denied`, `not_found` (organization), `already_exists` (name or id).
pub async fn create(ctx: &Ctx, new: NewProject) -> ServiceResult<Project> {
    let org = new.org_id.unwrap_or(ctx.actor.org_id);
    ctx.require(perm::PROJECT_CREATE, Target::Org(org))?;
    crate::orgs::load(ctx, org).await?;
    let mut project = Project::new(org, new.name, ctx.now());
    if let Some(id) = new.id
        && ctx.core.store.projects().get(id).await?.is_some()
    {
        return Err(ServiceError::AlreadyExists("a project with this id exists".into()));
    }
    project.id = new.id.unwrap_or_else(|| ProjectId::from_uuid(ctx.new_uuid()));
    project.role_assertion = new.role_assertion;
    project.authorization_required = new.authorization_required;
    project.project_access_required = new.project_access_required;
    let scope = Scope::Project(project.id);
    let mut owner =
        Administrator::new(ctx.actor.user_id, scope, RoleSet::for_scope(scope, [Role::ProjectOwner])?, ctx.now());
    owner.id = tessera_domain::AdministratorId::from_uuid(ctx.new_uuid());
    let tx = ctx.begin().await?;
    tx.projects().insert(&project).await?;
    tx.audit()
        .append(&ctx.event("project.created", "project", project.id, Some(org)).with_details(details(&project)))
        .await?;
    tx.admins().insert(&owner).await?;
    tx.audit().append(&crate::admins::created_event(ctx, &owner)).await?;
    tx.commit().await?;
    Ok(project)
}

/// Reads a project (`project.read`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn get(ctx: &Ctx, id: ProjectId) -> ServiceResult<Project> {
    load_with(ctx, id, perm::PROJECT_READ).await
}

/// Lists the projects the caller may read. Never `permission_denied`.
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<ProjectFilter>,
    sort: ProjectSort,
    page: Page,
) -> ServiceResult<Listed<Project>> {
    let visibility = visibility(ctx, perm::PROJECT_READ, false);
    Ok(ctx.core.store.projects().list(&ProjectQuery { filters, visibility, sort, page }).await?)
}

/// Applies a partial update (`project.write`).
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (nothing changes),
/// `already_exists` (name).
pub async fn update(ctx: &Ctx, id: ProjectId, change: ProjectUpdate) -> ServiceResult<Project> {
    ctx.checkpoint("project.changed", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = lock_with(ctx, tx.as_ref(), id, perm::PROJECT_WRITE).await?;
    let mut project = before.clone();
    if let Some(name) = change.name {
        project.name = name;
    }
    if let Some(v) = change.role_assertion {
        project.role_assertion = v;
    }
    if let Some(v) = change.authorization_required {
        project.authorization_required = v;
    }
    if let Some(v) = change.project_access_required {
        project.project_access_required = v;
    }
    if project == before {
        return Err(ServiceError::precondition("the project is not changed"));
    }
    project.updated_at = ctx.now();
    tx.projects().update(&before, &project).await?;
    tx.audit()
        .append(
            &ctx.event("project.changed", "project", project.id, Some(project.org_id)).with_details(details(&project)),
        )
        .await?;
    tx.commit().await?;
    Ok(project)
}

/// Deactivates or activates a project (`project.write`). While inactive, its
/// applications cannot authenticate and its roles appear in no token.
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (already in that state).
pub async fn change_state(ctx: &Ctx, id: ProjectId, change: ProjectStateChange) -> ServiceResult<Project> {
    ctx.checkpoint("project.state", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = lock_with(ctx, tx.as_ref(), id, perm::PROJECT_WRITE).await?;
    let mut project = before.clone();
    let now = ctx.now();
    let (result, action) = match change {
        ProjectStateChange::Deactivate => (project.deactivate(now), "project.deactivated"),
        ProjectStateChange::Activate => (project.activate(now), "project.activated"),
    };
    result.map_err(|e| ServiceError::precondition(e.0))?;
    tx.projects().update(&before, &project).await?;
    tx.audit().append(&ctx.event(action, "project", project.id, Some(project.org_id))).await?;
    tx.commit().await?;
    Ok(project)
}

/// Deletes a project with its roles, applications, keys, authorizations and
/// administrator memberships (`project.delete`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn delete(ctx: &Ctx, id: ProjectId) -> ServiceResult<Project> {
    ctx.checkpoint("project.deleted", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let project = lock_with(ctx, tx.as_ref(), id, perm::PROJECT_DELETE).await?;
    tx.projects().delete(project.id).await?;
    tx.audit()
        .append(
            &ctx.event("project.deleted", "project", project.id, Some(project.org_id))
                .with_details(json!({"name": project.name})),
        )
        .await?;
    tx.commit().await?;
    Ok(project)
}

/// Adds a role to a project (`project.role.write`).
///
/// # Errors
/// `not_found` (project), `permission_denied`, `already_exists` (key).
pub async fn add_role(
    ctx: &Ctx,
    project: ProjectId,
    key: RoleKey,
    display_name: DisplayName,
    group: String,
) -> ServiceResult<ProjectRole> {
    let project = load_with(ctx, project, perm::PROJECT_ROLE_WRITE).await?;
    let now = ctx.now();
    let role = ProjectRole { project_id: project.id, key, display_name, group, created_at: now, updated_at: now };
    let tx = ctx.begin().await?;
    tx.projects().insert_role(&role).await?;
    tx.audit()
        .append(&ctx.event("project.role.added", "project", project.id, Some(project.org_id)).with_details(json!({
            "key": role.key,
            "displayName": role.display_name,
            "group": role.group,
        })))
        .await?;
    tx.commit().await?;
    Ok(role)
}

/// Lists a project's roles (`project.role.read`).
///
/// # Errors
/// `not_found` (project), `permission_denied`.
pub async fn list_roles(
    ctx: &Ctx,
    project: ProjectId,
    filters: Vec<RoleFilter>,
    sort: RoleSort,
    page: Page,
) -> ServiceResult<Listed<ProjectRole>> {
    let project = load_with(ctx, project, perm::PROJECT_ROLE_READ).await?;
    Ok(ctx.core.store.projects().list_roles(&RoleQuery { project: project.id, filters, sort, page }).await?)
}

/// Changes a role's display name and group (`project.role.write`).
///
/// # Errors
/// `not_found` (project or role), `permission_denied`, `failed_precondition`
/// (nothing changes).
pub async fn update_role(
    ctx: &Ctx,
    project: ProjectId,
    key: &RoleKey,
    display_name: Option<DisplayName>,
    group: Option<String>,
) -> ServiceResult<ProjectRole> {
    let project = load_with(ctx, project, perm::PROJECT_ROLE_WRITE).await?;
    let tx = ctx.begin().await?;
    let before = tx
        .projects()
        .get_role(project.id, key)
        .await?
        .ok_or_else(|| ServiceError::not_found("project role not found"))?;
    let mut role = before.clone();
    if let Some(d) = display_name {
        role.display_name = d;
    }
    if let Some(g) = group {
        role.group = g;
    }
    if role == before {
        return Err(ServiceError::precondition("the project role is not changed"));
    }
    role.updated_at = ctx.now();
    tx.projects().update_role(&before, &role).await?;
    tx.audit()
        .append(&ctx.event("project.role.changed", "project", project.id, Some(project.org_id)).with_details(json!({
            "key": role.key,
            "displayName": role.display_name,
            "group": role.group,
        })))
        .await?;
    tx.commit().await?;
    Ok(role)
}

/// Removes a role from a project and from every authorization holding it
/// (`project.role.delete`).
///
/// # Errors
/// `not_found` (project or role), `permission_denied`.
pub async fn remove_role(ctx: &Ctx, project: ProjectId, key: &RoleKey) -> ServiceResult<()> {
    let project = load_with(ctx, project, perm::PROJECT_ROLE_DELETE).await?;
    let tx = ctx.begin().await?;
    match tx.projects().delete_role(project.id, key).await {
        Ok(()) => {}
        Err(tessera_domain::repo::RepoError::NotFound { .. }) => {
            return Err(ServiceError::not_found("project role not found"));
        }
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(
            &ctx.event("project.role.removed", "project", project.id, Some(project.org_id))
                .with_details(json!({"key": key})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
