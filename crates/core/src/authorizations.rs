//! Authorizations (user grants): a user's roles on a project. Create, list,
//! replace roles, suspend, delete. Changes show in the very next token and
//! introspection: the role claims are read per request.
//!
//! Permissions as in ZITADEL: `user.grant.read|write|delete` on the project
//! (granted organization-wide, e.g. `ORG_USER_MANAGER`, or by a project role,
//! e.g. `PROJECT_OWNER`). A user may always list its own authorizations.

use std::collections::BTreeSet;

use serde_json::json;
use tessera_domain::authorization::Authorization;
use tessera_domain::permission::{Target, perm};
use tessera_domain::project::{Project, RoleKey};
use tessera_domain::repo::{
    AuthorizationFilter, AuthorizationQuery, AuthorizationSort, AuthorizationView, Listed, Page, RoleFilter, RoleQuery,
    Transaction,
};
use tessera_domain::{AuthorizationId, OrgId, ProjectId, UserId};

use crate::ServiceError;
use crate::projects;
use crate::{Ctx, ServiceResult};

/// An authorization to create.
#[derive(Debug, Clone)]
pub struct NewAuthorization {
    /// The user.
    pub user_id: UserId,
    /// The project.
    pub project_id: ProjectId,
    /// The organization to grant in; the project's own when `None` (the only
    /// one Tessera accepts: it has no project grants).
    pub org_id: Option<OrgId>,
    /// Role keys, each a role of the project.
    pub roles: BTreeSet<RoleKey>,
}

/// A change of an authorization's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationStateChange {
    /// Suspend its roles.
    Deactivate,
    /// End the suspension.
    Activate,
}

fn target(a: &AuthorizationView) -> Target {
    Target::Project { org: a.project_org_id, project: a.authorization.project_id }
}

/// Checks that every key is a role of `project`.
async fn check_roles(ctx: &Ctx, project: &Project, roles: &BTreeSet<RoleKey>) -> ServiceResult<()> {
    if roles.is_empty() {
        return Ok(());
    }
    let keys: Vec<RoleKey> = roles.iter().cloned().collect();
    let page = Page { offset: 0, limit: Page::MAX_LIMIT, asc: true };
    let found = ctx
        .core
        .store
        .projects()
        .list_roles(&RoleQuery {
            project: project.id,
            filters: vec![RoleFilter::Keys(keys)],
            sort: Default::default(),
            page,
        })
        .await?;
    let known: BTreeSet<&RoleKey> = found.items.iter().map(|r| &r.key).collect();
    if let Some(missing) = roles.iter().find(|k| !known.contains(k)) {
        return Err(ServiceError::precondition(format!("the project has no role {missing}")));
    }
    Ok(())
}

/// Reads an authorization under a lock inside `tx` and checks `permission` on
/// its project.
async fn lock_with(
    ctx: &Ctx,
    tx: &dyn Transaction,
    id: AuthorizationId,
    permission: &'static str,
) -> ServiceResult<AuthorizationView> {
    let found =
        tx.authorizations().lock(id).await?.ok_or_else(|| ServiceError::not_found("authorization not found"))?;
    ctx.require(permission, target(&found))?;
    Ok(found)
}

async fn load_with(ctx: &Ctx, id: AuthorizationId, permission: &'static str) -> ServiceResult<AuthorizationView> {
    let found = ctx
        .core
        .store
        .authorizations()
        .get(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("authorization not found"))?;
    ctx.require(permission, target(&found))?;
    Ok(found)
}

fn role_names(roles: &BTreeSet<RoleKey>) -> Vec<&str> {
    roles.iter().map(RoleKey::as_str).collect()
}

/// Gives a user roles on a project (`user.grant.write` on the project).
///
/// # Errors
/// `not_found` (project or user), `permission_denied`, `invalid_argument`
/// (another organization than the project's: project grants are not
/// supported), `failed_precondition` (a key that is not a role of the
/// project), `already_exists` (the user already has an authorization there).
pub async fn create(ctx: &Ctx, new: NewAuthorization) -> ServiceResult<AuthorizationView> {
    let project = projects::load(ctx, new.project_id).await?;
    ctx.require(perm::USER_GRANT_WRITE, projects::target(&project))?;
    let org = new.org_id.unwrap_or(project.org_id);
    if org != project.org_id {
        return Err(ServiceError::invalid(
            "organizationId must be the project's organization: Tessera has no project grants",
        ));
    }
    if ctx.core.store.users().get(new.user_id).await?.is_none() {
        return Err(ServiceError::not_found("user not found"));
    }
    check_roles(ctx, &project, &new.roles).await?;
    let mut authorization = Authorization::new(new.user_id, project.id, org, new.roles, ctx.now());
    authorization.id = AuthorizationId::from_uuid(ctx.new_uuid());
    let tx = ctx.begin().await?;
    tx.authorizations().insert(&authorization).await?;
    tx.audit()
        .append(&ctx.event("authorization.created", "authorization", authorization.id, Some(org)).with_details(json!({
            "userId": authorization.user_id,
            "projectId": authorization.project_id,
            "roleKeys": role_names(&authorization.roles),
        })))
        .await?;
    tx.commit().await?;
    load_with(ctx, authorization.id, perm::USER_GRANT_WRITE).await
}

/// Lists the authorizations the caller may read, and its own. Never
/// `permission_denied`.
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<AuthorizationFilter>,
    sort: AuthorizationSort,
    page: Page,
) -> ServiceResult<Listed<AuthorizationView>> {
    let visibility = projects::visibility(ctx, perm::USER_GRANT_READ, true);
    Ok(ctx.core.store.authorizations().list(&AuthorizationQuery { filters, visibility, sort, page }).await?)
}

/// Replaces the roles of an authorization (`user.grant.write`).
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (unknown role, or
/// the roles are the ones it has).
pub async fn update(ctx: &Ctx, id: AuthorizationId, roles: BTreeSet<RoleKey>) -> ServiceResult<Authorization> {
    let found = load_with(ctx, id, perm::USER_GRANT_WRITE).await?;
    let project = projects::load(ctx, found.authorization.project_id).await?;
    check_roles(ctx, &project, &roles).await?;
    ctx.checkpoint("authorization.changed", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = lock_with(ctx, tx.as_ref(), id, perm::USER_GRANT_WRITE).await?.authorization;
    if before.roles == roles {
        return Err(ServiceError::precondition("the roles are not changed"));
    }
    let previous = role_names(&before.roles).into_iter().map(str::to_owned).collect::<Vec<_>>();
    let mut authorization = before.clone();
    authorization.roles = roles;
    authorization.updated_at = ctx.now();
    tx.authorizations().update(&before, &authorization).await?;
    tx.audit()
        .append(
            &ctx.event("authorization.changed", "authorization", authorization.id, Some(authorization.org_id))
                .with_details(json!({
                    "userId": authorization.user_id,
                    "projectId": authorization.project_id,
                    "roleKeys": role_names(&authorization.roles),
                    "previousRoleKeys": previous,
                })),
        )
        .await?;
    tx.commit().await?;
    Ok(authorization)
}

/// Deactivates or activates an authorization (`user.grant.write`).
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (already in that state).
pub async fn change_state(
    ctx: &Ctx,
    id: AuthorizationId,
    change: AuthorizationStateChange,
) -> ServiceResult<Authorization> {
    ctx.checkpoint("authorization.state", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = lock_with(ctx, tx.as_ref(), id, perm::USER_GRANT_WRITE).await?.authorization;
    let mut authorization = before.clone();
    let now = ctx.now();
    let (result, action) = match change {
        AuthorizationStateChange::Deactivate => (authorization.deactivate(now), "authorization.deactivated"),
        AuthorizationStateChange::Activate => (authorization.activate(now), "authorization.activated"),
    };
    result.map_err(|e| ServiceError::precondition(e.0))?;
    tx.authorizations().update(&before, &authorization).await?;
    tx.audit()
        .append(
            &ctx.event(action, "authorization", authorization.id, Some(authorization.org_id))
                .with_details(json!({"userId": authorization.user_id, "projectId": authorization.project_id})),
        )
        .await?;
    tx.commit().await?;
    Ok(authorization)
}

/// Deletes an authorization (`user.grant.delete`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn delete(ctx: &Ctx, id: AuthorizationId) -> ServiceResult<()> {
    ctx.checkpoint("authorization.deleted", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let found = lock_with(ctx, tx.as_ref(), id, perm::USER_GRANT_DELETE).await?;
    let a = &found.authorization;
    tx.authorizations().delete(a.id).await?;
    tx.audit()
        .append(
            &ctx.event("authorization.deleted", "authorization", a.id, Some(a.org_id))
                .with_details(json!({"userId": a.user_id, "projectId": a.project_id})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
