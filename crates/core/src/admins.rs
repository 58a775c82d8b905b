//! Administrator memberships: a user's roles on the instance or an
//! organization. Create, list, replace roles, delete.
//!
//! Permissions as in ZITADEL: `iam.member.read|write|delete` for the instance,
//! `org.member.read|write|delete` on the organization,
//! `project.member.read|write|delete` on the project. A change takes effect on
//! the member's very next request: the caller's roles are loaded per request.

use serde_json::json;
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::audit::AuditEvent;
use tessera_domain::permission::{OrgFilter, Permission, Role, Scope, Target, perm};
use tessera_domain::repo::{AdminFilter, AdminQuery, AdminSort, AdminVisibility, AdminWithNames, Listed, Page};
use tessera_domain::{OrgId, Timestamp, UserId};

use crate::ServiceError;
use crate::{Ctx, ServiceResult};

/// What a membership change needs: write (create, update) or delete.
#[derive(Debug, Clone, Copy)]
enum Access {
    Write,
    Delete,
}

/// The permission guarding memberships on `scope`, and what it is checked on.
/// A project is loaded to learn its organization (`not_found` when there is
/// none).
async fn guard(ctx: &Ctx, scope: Scope, access: Access) -> ServiceResult<(Permission, Target)> {
    Ok(match (scope, access) {
        (Scope::Instance, Access::Write) => (perm::IAM_MEMBER_WRITE, Target::Instance),
        (Scope::Instance, Access::Delete) => (perm::IAM_MEMBER_DELETE, Target::Instance),
        (Scope::Org(o), Access::Write) => (perm::ORG_MEMBER_WRITE, Target::Org(o)),
        (Scope::Org(o), Access::Delete) => (perm::ORG_MEMBER_DELETE, Target::Org(o)),
        (Scope::Project(p), access) => {
            let project = crate::projects::load(ctx, p).await?;
            let permission = match access {
                Access::Write => perm::PROJECT_MEMBER_WRITE,
                Access::Delete => perm::PROJECT_MEMBER_DELETE,
            };
            (permission, crate::projects::target(&project))
        }
    })
}

/// The organization a scope belongs to, for the audit trail.
fn scope_org(scope: Scope) -> Option<OrgId> {
    match scope {
        Scope::Org(o) => Some(o),
        Scope::Instance | Scope::Project(_) => None,
    }
}

fn scope_details(scope: Scope) -> serde_json::Value {
    match scope {
        Scope::Instance => json!({"instance": true}),
        Scope::Org(o) => json!({"organizationId": o}),
        Scope::Project(p) => json!({"projectId": p}),
    }
}

fn role_names(roles: &RoleSet) -> Vec<&'static str> {
    roles.iter().map(Role::as_str).collect()
}

/// The audit event of a new membership (also used by AddOrganization).
pub(crate) fn created_event(ctx: &Ctx, m: &Administrator) -> AuditEvent {
    ctx.event("administrator.created", "administrator", m.id, scope_org(m.scope)).with_details(json!({
        "userId": m.user_id,
        "resource": scope_details(m.scope),
        "roles": role_names(&m.roles),
    }))
}

/// Checks that the resource exists (after the permission check, so callers
/// without rights on it learn nothing).
async fn existing_scope(ctx: &Ctx, scope: Scope) -> ServiceResult<()> {
    match scope {
        Scope::Instance => Ok(()),
        Scope::Org(o) => crate::orgs::load(ctx, o).await.map(|_| ()),
        Scope::Project(p) => crate::projects::load(ctx, p).await.map(|_| ()),
    }
}

/// Gives `user` roles on `scope` (`iam.member.write` / `org.member.write`).
///
/// # Errors
/// `permission_denied`; `not_found` (organization, project); `invalid_argument`
/// (no roles, or roles of another level); `failed_precondition` (no such user,
/// as ZITADEL answers); `already_exists` (the user already has roles there).
pub async fn create(ctx: &Ctx, user: UserId, scope: Scope, roles: Vec<Role>) -> ServiceResult<Administrator> {
    let (permission, target) = guard(ctx, scope, Access::Write).await?;
    ctx.require(permission, target)?;
    existing_scope(ctx, scope).await?;
    let roles = RoleSet::for_scope(scope, roles)?;
    let store = &ctx.core.store;
    if store.users().get(user).await?.is_none() {
        return Err(ServiceError::precondition("user not found"));
    }
    if store.admins().get(user, scope).await?.is_some() {
        return Err(ServiceError::AlreadyExists("the user is already an administrator of this resource".into()));
    }
    let mut membership = Administrator::new(user, scope, roles, ctx.now());
    membership.id = tessera_domain::AdministratorId::from_uuid(ctx.new_uuid());
    let tx = ctx.begin().await?;
    tx.admins().insert(&membership).await?;
    tx.audit().append(&created_event(ctx, &membership)).await?;
    tx.commit().await?;
    Ok(membership)
}

/// Replaces the roles of `user` on `scope`; roles left out are revoked
/// (`iam.member.write` / `org.member.write`).
///
/// # Errors
/// `permission_denied`; `invalid_argument` (no roles, or roles of another
/// level); `not_found` (no such membership, or project);
/// `failed_precondition` (the roles are the ones it has, as ZITADEL answers).
pub async fn update(ctx: &Ctx, user: UserId, scope: Scope, roles: Vec<Role>) -> ServiceResult<Administrator> {
    let (permission, target) = guard(ctx, scope, Access::Write).await?;
    ctx.require(permission, target)?;
    let roles = RoleSet::for_scope(scope, roles)?;
    // Read inside the transaction that writes: a concurrent removal is seen.
    let tx = ctx.begin().await?;
    let mut membership =
        tx.admins().get(user, scope).await?.ok_or_else(|| ServiceError::not_found("administrator not found"))?;
    if membership.roles == roles {
        return Err(ServiceError::precondition("the roles are not changed"));
    }
    let previous = role_names(&membership.roles);
    membership.roles = roles;
    membership.updated_at = ctx.now();
    tx.admins().update(&membership).await?;
    tx.audit()
        .append(&ctx.event("administrator.changed", "administrator", membership.id, scope_org(scope)).with_details(
            json!({
                "userId": user,
                "resource": scope_details(scope),
                "roles": role_names(&membership.roles),
                "previousRoles": previous,
            }),
        ))
        .await?;
    tx.commit().await?;
    Ok(membership)
}

/// Removes every role of `user` on `scope` (`iam.member.delete` /
/// `org.member.delete`). Idempotent, as in ZITADEL: when there is no such
/// membership nothing happens and `None` is returned; otherwise the deletion
/// time.
///
/// # Errors
/// `permission_denied`, `not_found` (project).
pub async fn delete(ctx: &Ctx, user: UserId, scope: Scope) -> ServiceResult<Option<Timestamp>> {
    let (permission, target) = guard(ctx, scope, Access::Delete).await?;
    ctx.require(permission, target)?;
    let tx = ctx.begin().await?;
    let Some(membership) = tx.admins().get(user, scope).await? else { return Ok(None) };
    tx.admins().delete(membership.id).await?;
    tx.audit()
        .append(&ctx.event("administrator.deleted", "administrator", membership.id, scope_org(scope)).with_details(
            json!({
                "userId": user,
                "resource": scope_details(scope),
                "roles": role_names(&membership.roles),
            }),
        ))
        .await?;
    tx.commit().await?;
    Ok(Some(ctx.now()))
}

/// Lists the memberships the caller may see: those on resources whose members
/// it may read, and its own (no permission needed for those). Never
/// `permission_denied`.
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<AdminFilter>,
    sort: AdminSort,
    page: Page,
) -> ServiceResult<Listed<AdminWithNames>> {
    let grants = &ctx.actor.grants;
    let projects = match grants.orgs_with(perm::PROJECT_MEMBER_READ) {
        OrgFilter::All => None,
        OrgFilter::Only(_) => Some(grants.projects_with(perm::PROJECT_MEMBER_READ)),
    };
    let visibility = AdminVisibility {
        instance: grants.allows(perm::IAM_MEMBER_READ, Target::Instance),
        orgs: grants.orgs_with(perm::ORG_MEMBER_READ),
        projects,
        own_user: ctx.actor.own_user(perm::ORG_MEMBER_READ),
    };
    Ok(ctx.core.store.admins().list(&AdminQuery { filters, visibility, sort, page }).await?)
}

/// Makes `roles` the roles of `user` on `scope`, whatever it held: creates the
/// membership, replaces its roles, or removes it when `roles` is empty; the
/// roles it already has change nothing (the console's role form). Each step
/// checks its own permission, as [`create`], [`update`] and [`delete`] do.
///
/// # Errors
/// As [`create`], [`update`] and [`delete`].
pub async fn set(ctx: &Ctx, user: UserId, scope: Scope, roles: Vec<Role>) -> ServiceResult<()> {
    let existing = ctx.core.store.admins().get(user, scope).await?;
    match (existing, roles.is_empty()) {
        (None, true) => {}
        (None, false) => {
            create(ctx, user, scope, roles).await?;
        }
        (Some(_), true) => {
            delete(ctx, user, scope).await?;
        }
        (Some(m), false) => {
            let unchanged = m.roles.iter().count() == roles.len() && roles.iter().all(|r| m.roles.contains(*r));
            if !unchanged {
                update(ctx, user, scope, roles).await?;
            }
        }
    }
    Ok(())
}
