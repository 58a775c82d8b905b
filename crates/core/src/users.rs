//! Users: create, read, list, update, change state, delete.

use secrecy::SecretString;
use serde_json::json;
use tessera_domain::names::{Description, DisplayName, Email, Username};
use tessera_domain::permission::{Target, perm};
use tessera_domain::repo::{Listed, Page, Transaction, UserFilter, UserQuery, UserSort, Visibility};
use tessera_domain::user::{AccessTokenType, Human, Machine, StateChange, User, UserKind};
use tessera_domain::{OrgId, UserId};

use crate::{Ctx, ServiceError, ServiceResult, containment};

/// A machine user to create.
#[derive(Debug, Clone)]
pub struct NewMachine {
    /// Owning organization; the caller's own when `None`.
    pub org_id: Option<OrgId>,
    /// A caller-chosen id.
    pub user_id: Option<UserId>,
    /// Login name; the user id when `None` (ZITADEL's default).
    pub username: Option<Username>,
    /// Display name.
    pub name: DisplayName,
    /// Description.
    pub description: Description,
    /// What the token endpoint issues.
    pub access_token_type: AccessTokenType,
}

/// A human user to create.
#[derive(Debug, Clone)]
pub struct NewHuman {
    /// Owning organization; the caller's own when `None`.
    pub org_id: Option<OrgId>,
    /// A caller-chosen id.
    pub user_id: Option<UserId>,
    /// Login name; the e-mail address when `None` (ZITADEL's default).
    pub username: Option<Username>,
    /// Given name.
    pub given_name: DisplayName,
    /// Family name.
    pub family_name: DisplayName,
    /// Display name; "given family" when `None`.
    pub display_name: Option<DisplayName>,
    /// E-mail address.
    pub email: Email,
    /// Whether the address counts as verified.
    pub email_verified: bool,
    /// Initial console password.
    pub password: Option<SecretString>,
}

/// Changes to a machine user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct MachineUpdate {
    /// New display name.
    pub name: Option<DisplayName>,
    /// New description.
    pub description: Option<Description>,
    /// New access token type.
    pub access_token_type: Option<AccessTokenType>,
}

/// Changes to a human user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct HumanUpdate {
    /// New given name.
    pub given_name: Option<DisplayName>,
    /// New family name.
    pub family_name: Option<DisplayName>,
    /// New display name.
    pub display_name: Option<DisplayName>,
    /// New e-mail address (and whether it is verified).
    pub email: Option<(Email, bool)>,
    /// New password.
    pub password: Option<SecretString>,
}

/// A partial update of a user.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// New login name.
    pub username: Option<Username>,
    /// Machine changes (refused for humans).
    pub machine: Option<MachineUpdate>,
    /// Human changes (refused for machines).
    pub human: Option<HumanUpdate>,
}

async fn hash_password(ctx: &Ctx, password: SecretString) -> ServiceResult<tessera_domain::user::PasswordHash> {
    Ok(ctx.core.hasher.hash_async(password).await?)
}

/// Checks the organization exists (after the permission check, so its existence
/// is not revealed to callers without rights on it).
async fn existing_org(ctx: &Ctx, org: OrgId) -> ServiceResult<()> {
    match ctx.core.store.orgs().get(org).await? {
        Some(_) => Ok(()),
        None => Err(ServiceError::not_found("organization not found")),
    }
}

/// Stores a new user with its audit event.
async fn insert(ctx: &Ctx, user: User, action: &str) -> ServiceResult<User> {
    let tx = ctx.begin().await?;
    tx.users().insert(&user).await?;
    tx.audit()
        .append(&ctx.event(action, "user", user.id, Some(user.org_id)).with_details(json!({"username": user.username})))
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// Creates a machine user (`user.write` on the organization).
///
/// # Errors
/// `permission_denied`, `not_found` (organization), `already_exists` (username).
pub async fn create_machine(ctx: &Ctx, new: NewMachine) -> ServiceResult<User> {
    let org = new.org_id.unwrap_or(ctx.actor.org_id);
    ctx.require(perm::USER_WRITE, Target::Org(org))?;
    existing_org(ctx, org).await?;
    let id = new.user_id.unwrap_or_else(|| UserId::from_uuid(ctx.new_uuid()));
    let username = match new.username {
        Some(u) => u,
        None => Username::parse(&id.to_string())?,
    };
    let machine = Machine { name: new.name, description: new.description, access_token_type: new.access_token_type };
    let mut user = User::new_machine(org, username, machine, ctx.now());
    user.id = id;
    insert(ctx, user, "user.machine.created").await
}

/// Creates a human user (`user.write` on the organization).
///
/// # Errors
/// `permission_denied`, `not_found` (organization), `already_exists` (username).
pub async fn create_human(ctx: &Ctx, new: NewHuman) -> ServiceResult<User> {
    let org = new.org_id.unwrap_or(ctx.actor.org_id);
    ctx.require(perm::USER_WRITE, Target::Org(org))?;
    existing_org(ctx, org).await?;
    let user = build_human(ctx, org, new).await?;
    insert(ctx, user, "user.human.created").await
}

/// A new human user in `org`, not yet stored: ZITADEL's defaults applied
/// (username = e-mail, display name = "given family") and the password hashed.
/// Checks no permission; the caller does.
///
/// # Errors
/// `invalid_argument` when a default does not make a valid name.
pub(crate) async fn build_human(ctx: &Ctx, org: OrgId, new: NewHuman) -> ServiceResult<User> {
    let username = match new.username {
        Some(u) => u,
        None => Username::parse(new.email.as_str())?,
    };
    let display_name = match new.display_name {
        Some(d) => d,
        None => DisplayName::parse("displayName", &format!("{} {}", new.given_name, new.family_name))?,
    };
    let password_hash = match new.password {
        Some(p) => Some(hash_password(ctx, p).await?),
        None => None,
    };
    let human = Human {
        given_name: new.given_name,
        family_name: new.family_name,
        display_name,
        email: new.email,
        email_verified: new.email_verified,
        password_hash,
    };
    let mut user = User::new_human(org, username, human, ctx.now());
    user.id = new.user_id.unwrap_or_else(|| UserId::from_uuid(ctx.new_uuid()));
    Ok(user)
}

/// Reads a user (`user.read` on its organization, or the caller itself).
///
/// # Errors
/// `not_found`, also for a user the caller may not read.
pub async fn get(ctx: &Ctx, id: UserId) -> ServiceResult<User> {
    let user = ctx.user_for_reading(id).await?;
    // A user the caller may not read answers exactly like a missing one, so the
    // call reveals nothing about who exists elsewhere (no existence oracle).
    if ctx.require_on_user(perm::USER_READ, &user).is_err() {
        return Err(ServiceError::not_found("user not found"));
    }
    Ok(user)
}

/// Lists the users the caller may read (never `permission_denied`: rows the
/// caller may not see are left out, as in ZITADEL).
///
/// # Errors
/// Database errors only.
pub async fn list(ctx: &Ctx, filters: Vec<UserFilter>, sort: UserSort, page: Page) -> ServiceResult<Listed<User>> {
    let visibility =
        Visibility { orgs: ctx.actor.grants.orgs_with(perm::USER_READ), own_user: ctx.actor.own_user(perm::USER_READ) };
    Ok(ctx.core.store.users().list(&UserQuery { filters, visibility, sort, page }).await?)
}

/// Applies a partial update (`user.write`, or the user itself). The password
/// is hashed before the transaction; inside it the user is read again under a
/// lock, the permission and its kind checked again, and only the changed
/// columns written, so a concurrent deactivation, lock or deletion is never
/// undone.
///
/// # Errors
/// `not_found`, `permission_denied` (also for a user holding rights the caller
/// lacks), `invalid_argument` (both kinds), `failed_precondition` (wrong kind),
/// `already_exists` (username).
pub async fn update(ctx: &Ctx, id: UserId, change: UserUpdate) -> ServiceResult<User> {
    if change.machine.is_some() && change.human.is_some() {
        return Err(ServiceError::invalid("send either machine or human changes, not both"));
    }
    // Checked before the slow work so that nobody without rights makes us hash.
    let seen = ctx.user(id).await?;
    ctx.require_on_user(perm::USER_WRITE, &seen)?;
    containment::require_contains(ctx, ctx.core.store.as_ref(), &seen).await?;
    let password_hash = match change.human.as_ref().and_then(|h| h.password.clone()) {
        Some(p) => Some(hash_password(ctx, p).await?),
        None => None,
    };
    ctx.checkpoint("user.update", *id.as_uuid()).await;

    let tx = ctx.begin().await?;
    let before = tx.users().lock(id).await?.ok_or_else(|| ServiceError::not_found("user not found"))?;
    ctx.require_on_user(perm::USER_WRITE, &before)?;
    containment::require_contains(ctx, tx.as_ref(), &before).await?;
    let mut user = before.clone();
    if let Some(username) = change.username {
        user.username = username;
    }
    match (&mut user.kind, change.machine, change.human) {
        (UserKind::Machine(m), Some(update), None) => {
            if let Some(name) = update.name {
                m.name = name;
            }
            if let Some(description) = update.description {
                m.description = description;
            }
            if let Some(t) = update.access_token_type {
                m.access_token_type = t;
            }
        }
        (UserKind::Human(_), Some(_), _) => {
            return Err(ServiceError::precondition("the user is not a machine user"));
        }
        (UserKind::Machine(_), _, Some(_)) => {
            return Err(ServiceError::precondition("the user is not a human user"));
        }
        (UserKind::Human(h), None, Some(update)) => {
            if let Some(v) = update.given_name {
                h.given_name = v;
            }
            if let Some(v) = update.family_name {
                h.family_name = v;
            }
            if let Some(v) = update.display_name {
                h.display_name = v;
            }
            if let Some((email, verified)) = update.email {
                h.email = email;
                h.email_verified = verified;
            }
            if let Some(hash) = password_hash {
                h.password_hash = Some(hash);
            }
        }
        (_, None, None) => {}
    }
    user.updated_at = ctx.now();
    tx.users().update(&before, &user).await?;
    tx.audit().append(&ctx.event("user.changed", "user", user.id, Some(user.org_id))).await?;
    tx.commit().await?;
    Ok(user)
}

/// Deactivates, reactivates, locks or unlocks a user (`user.write`). Suspending a
/// user suspends every credential it has, on every endpoint, at once.
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (wrong state).
pub async fn change_state(ctx: &Ctx, id: UserId, change: StateChange) -> ServiceResult<User> {
    ctx.checkpoint(change.audit_action(), *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = tx.users().lock(id).await?.ok_or_else(|| ServiceError::not_found("user not found"))?;
    ctx.require(perm::USER_WRITE, Target::Org(before.org_id))?;
    containment::require_contains(ctx, tx.as_ref(), &before).await?;
    let mut user = before.clone();
    user.transition(change, ctx.now()).map_err(|e| ServiceError::precondition(e.0))?;
    tx.users().update(&before, &user).await?;
    tx.audit().append(&ctx.event(change.audit_action(), "user", user.id, Some(user.org_id))).await?;
    tx.commit().await?;
    Ok(user)
}

/// Deletes a user and every credential and membership it has (`user.delete`, or
/// the user itself).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn delete(ctx: &Ctx, id: UserId) -> ServiceResult<User> {
    ctx.checkpoint("user.deleted", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = tx.users().lock(id).await?.ok_or_else(|| ServiceError::not_found("user not found"))?;
    ctx.require_on_user(perm::USER_DELETE, &user)?;
    containment::require_contains(ctx, tx.as_ref(), &user).await?;
    tx.users().delete(user.id).await?;
    tx.audit()
        .append(
            &ctx.event("user.deleted", "user", user.id, Some(user.org_id))
                .with_details(json!({"username": user.username})),
        )
        .await?;
    tx.commit().await?;
    Ok(user)
}

/// Reads `id` under a lock inside `tx` for a change of its credentials or
/// profile by the actor (`permission`, or the user itself), with privilege
/// containment. `missing` is the error for an unknown user (ZITADEL answers
/// `failed_precondition` on some credential calls, `not_found` on others).
///
/// # Errors
/// `missing`, `permission_denied`, database errors.
pub(crate) async fn lock_for_change(
    ctx: &Ctx,
    tx: &dyn Transaction,
    id: UserId,
    permission: &'static str,
    missing: fn() -> ServiceError,
) -> ServiceResult<User> {
    let user = tx.users().lock(id).await?.ok_or_else(missing)?;
    ctx.require_on_user(permission, &user)?;
    containment::require_contains(ctx, tx, &user).await?;
    Ok(user)
}
