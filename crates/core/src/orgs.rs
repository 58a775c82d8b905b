//! Organizations: create (with their first administrators), list, rename,
//! deactivate, activate and delete.

use serde_json::json;
use tessera_domain::admin::{Administrator, RoleSet};
use tessera_domain::names::OrgName;
use tessera_domain::org::Organization;
use tessera_domain::permission::{Role, Scope, Target, perm};
use tessera_domain::repo::{Listed, OrgQuery, OrgQueryFilter, OrgSort, Page, Transaction};
use tessera_domain::user::User;
use tessera_domain::{OrgId, UserId};

use crate::ServiceError;
use crate::users::{self, NewHuman};
use crate::{Ctx, ServiceResult};

/// Who becomes an administrator of a new organization.
#[derive(Debug, Clone)]
pub enum AdminUser {
    /// An existing user (of any organization).
    Existing(UserId),
    /// A human user created in the new organization.
    Human(Box<NewHuman>),
}

/// One administrator of a new organization.
#[derive(Debug, Clone)]
pub struct NewOrgAdmin {
    /// The user.
    pub user: AdminUser,
    /// Organization roles; none means `ORG_OWNER` (ZITADEL's default).
    pub roles: Vec<Role>,
}

/// An organization to create.
#[derive(Debug, Clone)]
pub struct NewOrg {
    /// A caller-chosen id.
    pub id: Option<OrgId>,
    /// The unique name.
    pub name: OrgName,
    /// Its first administrators (may be none: instance administrators manage it).
    pub admins: Vec<NewOrgAdmin>,
}

/// A created organization and the users created with it.
#[derive(Debug, Clone)]
pub struct CreatedOrg {
    /// The organization.
    pub org: Organization,
    /// Ids of the human administrators created with it, in request order.
    pub created_users: Vec<UserId>,
}

/// A change of an organization's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgStateChange {
    /// Suspend every credential of every user in it.
    Deactivate,
    /// End the suspension.
    Activate,
}

/// Loads an organization or fails with `not_found`.
pub(crate) async fn load(ctx: &Ctx, id: OrgId) -> ServiceResult<Organization> {
    ctx.core.store.orgs().get(id).await?.ok_or_else(|| ServiceError::not_found("organization not found"))
}

/// Reads an organization under a lock inside `tx`, or fails with `not_found`.
pub(crate) async fn lock(tx: &dyn Transaction, id: OrgId) -> ServiceResult<Organization> {
    tx.orgs().lock(id).await?.ok_or_else(|| ServiceError::not_found("organization not found"))
}

/// The instance's default organization.
///
/// # Errors
/// `internal` before the bootstrap (which cannot happen on a running server).
pub async fn default_org_id(ctx: &Ctx) -> ServiceResult<OrgId> {
    match ctx.core.store.instance().get().await? {
        Some(instance) => Ok(instance.default_org_id),
        None => Err(ServiceError::Internal("the instance is not set up".into())),
    }
}

/// Creates an organization with its administrators in one transaction
/// (`org.create` on the instance). Human administrators are created as users of
/// the new organization; existing users keep their organization.
///
/// # Errors
/// `permission_denied`; `invalid_argument` (roles that are not organization
/// roles); `failed_precondition` (an administrator user that does not exist, as
/// ZITADEL answers); `already_exists` (name, id, username, or a user named
/// twice).
pub async fn add(ctx: &Ctx, new: NewOrg) -> ServiceResult<CreatedOrg> {
    ctx.require(perm::ORG_CREATE, Target::Instance)?;
    let store = &ctx.core.store;
    let now = ctx.now();
    let mut org = Organization::new(new.name, now);
    if let Some(id) = new.id
        && store.orgs().get(id).await?.is_some()
    {
        return Err(ServiceError::AlreadyExists("an organization with this id exists".into()));
    }
    org.id = new.id.unwrap_or_else(|| OrgId::from_uuid(ctx.new_uuid()));
    let scope = Scope::Org(org.id);
    let mut humans: Vec<User> = Vec::new();
    let mut memberships = Vec::new();
    for admin in new.admins {
        let roles = if admin.roles.is_empty() { vec![Role::OrgOwner] } else { admin.roles };
        let roles = RoleSet::for_scope(scope, roles)?;
        let user_id = match admin.user {
            AdminUser::Existing(id) => {
                if store.users().get(id).await?.is_none() {
                    return Err(ServiceError::precondition("user not found"));
                }
                id
            }
            AdminUser::Human(h) => {
                if let Some(id) = h.user_id
                    && store.users().get(id).await?.is_some()
                {
                    return Err(ServiceError::AlreadyExists("a user with this id exists".into()));
                }
                let user = users::build_human(ctx, org.id, *h).await?;
                let id = user.id;
                humans.push(user);
                id
            }
        };
        let mut membership = Administrator::new(user_id, scope, roles, now);
        membership.id = tessera_domain::AdministratorId::from_uuid(ctx.new_uuid());
        memberships.push(membership);
    }

    let tx = ctx.begin().await?;
    tx.orgs().insert(&org).await?;
    tx.audit()
        .append(
            &ctx.event("organization.created", "organization", org.id, Some(org.id))
                .with_details(json!({"name": org.name})),
        )
        .await?;
    for user in &humans {
        tx.users().insert(user).await?;
        tx.audit()
            .append(
                &ctx.event("user.human.created", "user", user.id, Some(org.id))
                    .with_details(json!({"username": user.username})),
            )
            .await?;
    }
    for m in &memberships {
        tx.admins().insert(m).await?;
        tx.audit().append(&crate::admins::created_event(ctx, m)).await?;
    }
    tx.commit().await?;
    Ok(CreatedOrg { org, created_users: humans.iter().map(|u| u.id).collect() })
}

/// Lists the organizations the caller may read (`org.read` per organization;
/// every one for instance roles). Never `permission_denied`.
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<OrgQueryFilter>,
    sort: OrgSort,
    page: Page,
) -> ServiceResult<Listed<Organization>> {
    let visible = ctx.actor.grants.orgs_with(perm::ORG_READ);
    Ok(ctx.core.store.orgs().list(&OrgQuery { filters, visible, sort, page }).await?)
}

/// Renames an organization (`org.write`).
///
/// # Errors
/// `permission_denied`, `not_found`, `failed_precondition` (same name),
/// `already_exists` (name taken).
pub async fn rename(ctx: &Ctx, id: OrgId, name: OrgName) -> ServiceResult<Organization> {
    ctx.require(perm::ORG_WRITE, Target::Org(id))?;
    ctx.checkpoint("organization.changed", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = lock(tx.as_ref(), id).await?;
    let mut org = before.clone();
    let previous = org.name.clone();
    org.rename(name, ctx.now()).map_err(|e| ServiceError::precondition(e.0))?;
    tx.orgs().update(&before, &org).await?;
    tx.audit()
        .append(
            &ctx.event("organization.changed", "organization", org.id, Some(org.id))
                .with_details(json!({"name": org.name, "previousName": previous})),
        )
        .await?;
    tx.commit().await?;
    Ok(org)
}

/// Deactivates or activates an organization (`org.write`). Deactivation
/// suspends every credential of every user in it at once, on every endpoint;
/// activation restores those that have not expired or been removed meanwhile.
///
/// # Errors
/// `permission_denied`, `not_found`, `failed_precondition` (already in that state).
pub async fn change_state(ctx: &Ctx, id: OrgId, change: OrgStateChange) -> ServiceResult<Organization> {
    ctx.require(perm::ORG_WRITE, Target::Org(id))?;
    ctx.checkpoint("organization.state", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = lock(tx.as_ref(), id).await?;
    let mut org = before.clone();
    let now = ctx.now();
    let (result, action) = match change {
        OrgStateChange::Deactivate => (org.deactivate(now), "organization.deactivated"),
        OrgStateChange::Activate => (org.activate(now), "organization.activated"),
    };
    result.map_err(|e| ServiceError::precondition(e.0))?;
    tx.orgs().update(&before, &org).await?;
    tx.audit().append(&ctx.event(action, "organization", org.id, Some(org.id))).await?;
    tx.commit().await?;
    Ok(org)
}

/// Deletes an organization and everything it owns: its users, their tokens,
/// metadata and memberships, and every membership held on it (`org.delete`).
///
/// # Errors
/// `permission_denied`, `not_found`, `failed_precondition` (the instance's
/// default organization, as in ZITADEL).
pub async fn delete(ctx: &Ctx, id: OrgId) -> ServiceResult<Organization> {
    ctx.require(perm::ORG_DELETE, Target::Org(id))?;
    if default_org_id(ctx).await? == id {
        load(ctx, id).await?;
        return Err(ServiceError::precondition("the default organization cannot be deleted"));
    }
    ctx.checkpoint("organization.deleted", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let org = lock(tx.as_ref(), id).await?;
    tx.orgs().delete(org.id).await?;
    tx.audit()
        .append(
            &ctx.event("organization.deleted", "organization", org.id, Some(org.id))
                .with_details(json!({"name": org.name})),
        )
        .await?;
    tx.commit().await?;
    Ok(org)
}
