//! Federated credentials of machine users (docs/federation.md): add, list,
//! update, remove. Each change locks the user, checks the permission
//! (`user.credential.write` on its organization, or the user itself) and
//! privilege containment, and writes an audit event in the same transaction.
//! Nothing here is secret: an inline key set holds public keys only.

use serde_json::json;
use tessera_domain::federation::{
    Audience, ClaimCondition, FederatedCredential, Issuer, KeySource, MAX_PER_USER, Subject, check_conditions,
};
use tessera_domain::names::{Description, DisplayName};
use tessera_domain::permission::perm;
use tessera_domain::repo::{RepoError, Transaction};
use tessera_domain::user::User;
use tessera_domain::{FederatedCredentialId, UserId};
use tessera_oauth::federation::parse_inline_jwks;

use crate::{Ctx, ServiceError, ServiceResult};

/// A new federated credential.
#[derive(Debug, Clone)]
pub struct NewFederated {
    /// A name for people.
    pub name: DisplayName,
    /// What it is for.
    pub description: Description,
    /// The trusted issuer.
    pub issuer: Issuer,
    /// Where the issuer's keys come from.
    pub key_source: KeySource,
    /// The exact subject.
    pub subject: Subject,
    /// The audience.
    pub audience: Audience,
    /// Conditions on other claims.
    pub conditions: Vec<ClaimCondition>,
}

/// A change to a federated credential: `Some` parts replace the stored ones.
#[derive(Debug, Clone, Default)]
pub struct FederatedChange {
    /// New name.
    pub name: Option<DisplayName>,
    /// New description.
    pub description: Option<Description>,
    /// New issuer.
    pub issuer: Option<Issuer>,
    /// New key source.
    pub key_source: Option<KeySource>,
    /// New subject.
    pub subject: Option<Subject>,
    /// New audience.
    pub audience: Option<Audience>,
    /// New conditions (an empty list removes them).
    pub conditions: Option<Vec<ClaimCondition>>,
}

/// Checks the parts that need more than their own parse: the number of
/// conditions and an inline key set's keys.
fn check(key_source: &KeySource, conditions: &[ClaimCondition]) -> ServiceResult<()> {
    check_conditions(conditions)?;
    if let KeySource::Inline(text) = key_source {
        parse_inline_jwks(text).map_err(|reason| ServiceError::invalid(format!("jwks {reason}")))?;
    }
    Ok(())
}

/// The audit details of a credential (no part of it is secret).
fn details(c: &FederatedCredential) -> serde_json::Value {
    json!({
        "userId": c.user_id,
        "issuer": c.issuer.as_str(),
        "keySource": c.key_source.kind(),
        "subject": c.subject.as_str(),
        "audience": c.audience.as_str(),
        "conditions": c.conditions.iter().map(|c| json!({"claim": c.claim(), "pattern": c.pattern()})).collect::<Vec<_>>(),
    })
}

/// Adds a federated credential to a machine user.
///
/// # Errors
/// `invalid_argument` for too many conditions or a bad inline key set,
/// `failed_precondition` for a missing or human user or one that holds
/// [`MAX_PER_USER`] already, `permission_denied`.
pub async fn add(ctx: &Ctx, user_id: UserId, new: NewFederated) -> ServiceResult<FederatedCredential> {
    check(&new.key_source, &new.conditions)?;
    let now = ctx.now();
    let credential = FederatedCredential {
        id: FederatedCredentialId::from_uuid(ctx.new_uuid()),
        user_id,
        name: new.name,
        description: new.description,
        issuer: new.issuer,
        key_source: new.key_source,
        subject: new.subject,
        audience: new.audience,
        conditions: new.conditions,
        created_at: now,
        updated_at: now,
    };
    ctx.checkpoint("federated_credential.added", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    // The user's row lock also serializes concurrent adds, so the bound holds.
    let user = crate::keys::machine_user(ctx, tx.as_ref(), user_id).await?;
    if tx.federated_credentials().list_for_user(user_id).await?.len() >= MAX_PER_USER {
        return Err(ServiceError::precondition("a user holds at most 20 federated credentials"));
    }
    tx.federated_credentials().insert(&credential).await?;
    tx.audit()
        .append(
            &ctx.event("federated_credential.added", "federated_credential", credential.id, Some(user.org_id))
                .with_details(details(&credential)),
        )
        .await?;
    tx.commit().await?;
    Ok(credential)
}

/// The federated credentials of a user the caller may read (`user.read` on
/// its organization, or the user itself), oldest first.
///
/// # Errors
/// `not_found` for an unknown user or one the caller may not read.
pub async fn list(ctx: &Ctx, user_id: UserId) -> ServiceResult<Vec<FederatedCredential>> {
    let store = ctx.core.store.as_ref();
    let user = store.users().get(user_id).await?.ok_or_else(|| ServiceError::not_found("user not found"))?;
    ctx.require_on_user(perm::USER_READ, &user).map_err(|_| ServiceError::not_found("user not found"))?;
    Ok(store.federated_credentials().list_for_user(user_id).await?)
}

/// The user's credential `id`, read inside `tx` after the user's lock.
async fn owned(tx: &dyn Transaction, user: &User, id: FederatedCredentialId) -> ServiceResult<FederatedCredential> {
    match tx.federated_credentials().get(id).await? {
        Some(found) if found.credential.user_id == user.id => Ok(found.credential),
        _ => Err(ServiceError::not_found("federated credential not found")),
    }
}

/// Updates a federated credential of a user.
///
/// # Errors
/// As [`add`], and `not_found` for a credential that is not the user's.
pub async fn update(
    ctx: &Ctx,
    user_id: UserId,
    id: FederatedCredentialId,
    change: FederatedChange,
) -> ServiceResult<FederatedCredential> {
    ctx.checkpoint("federated_credential.changed", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = crate::keys::machine_user(ctx, tx.as_ref(), user_id).await?;
    let before = owned(tx.as_ref(), &user, id).await?;
    let mut after = before.clone();
    let FederatedChange { name, description, issuer, key_source, subject, audience, conditions } = change;
    after.name = name.unwrap_or(after.name);
    after.description = description.unwrap_or(after.description);
    after.issuer = issuer.unwrap_or(after.issuer);
    after.key_source = key_source.unwrap_or(after.key_source);
    after.subject = subject.unwrap_or(after.subject);
    after.audience = audience.unwrap_or(after.audience);
    after.conditions = conditions.unwrap_or(after.conditions);
    check(&after.key_source, &after.conditions)?;
    if after == before {
        return Ok(before);
    }
    after.updated_at = ctx.now();
    tx.federated_credentials().update(&before, &after).await?;
    tx.audit()
        .append(
            &ctx.event("federated_credential.changed", "federated_credential", id, Some(user.org_id))
                .with_details(details(&after)),
        )
        .await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes a federated credential of a user; tokens it would accept are
/// refused from the next exchange on, on every node (an exchange reads the
/// credentials from the database).
///
/// # Errors
/// `not_found` for an unknown user or a credential that is not the user's,
/// `permission_denied`.
pub async fn remove(ctx: &Ctx, user_id: UserId, id: FederatedCredentialId) -> ServiceResult<()> {
    ctx.checkpoint("federated_credential.removed", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = crate::users::lock_for_change(ctx, tx.as_ref(), user_id, perm::USER_CREDENTIAL_WRITE, || {
        ServiceError::not_found("user not found")
    })
    .await?;
    let found = owned(tx.as_ref(), &user, id).await?;
    match tx.federated_credentials().delete(id).await {
        Ok(()) => {}
        Err(RepoError::NotFound { .. }) => return Err(ServiceError::not_found("federated credential not found")),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(
            &ctx.event("federated_credential.removed", "federated_credential", id, Some(user.org_id))
                .with_details(details(&found)),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
