//! User metadata: free-form key/value pairs.

use serde_json::json;
use tessera_domain::UserId;
use tessera_domain::permission::perm;
use tessera_domain::repo::{Listed, MetadataEntry, Page, TextFilter};

use crate::ServiceError;
use crate::{Ctx, ServiceResult};

/// Longest key (ZITADEL's limit).
pub const MAX_KEY_LEN: usize = 200;
/// Largest value in bytes (ZITADEL's limit).
pub const MAX_VALUE_LEN: usize = 500_000;

/// Sets entries (`user.write`, or the user itself): existing keys are overwritten,
/// others untouched; an empty value deletes its key (ZITADEL's current behaviour).
///
/// # Errors
/// `invalid_argument` (key or value size), `not_found`, `permission_denied`.
pub async fn set(ctx: &Ctx, user_id: UserId, entries: Vec<(String, Vec<u8>)>) -> ServiceResult<()> {
    if entries.is_empty() {
        return Err(ServiceError::invalid("metadata must hold at least one entry"));
    }
    let now = ctx.now();
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for (key, value) in entries {
        if key.is_empty() || key.chars().count() > MAX_KEY_LEN {
            return Err(ServiceError::invalid("metadata key must be 1 to 200 characters"));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(ServiceError::invalid("metadata value must be at most 500000 bytes"));
        }
        if value.is_empty() {
            deletes.push(key);
        } else {
            upserts.push(MetadataEntry { key, value, created_at: now, updated_at: now });
        }
    }
    let tx = ctx.begin().await?;
    let user = crate::users::lock_for_change(ctx, tx.as_ref(), user_id, perm::USER_WRITE, || {
        ServiceError::not_found("user not found")
    })
    .await?;
    let keys: Vec<&str> = upserts.iter().map(|e| e.key.as_str()).chain(deletes.iter().map(String::as_str)).collect();
    let event = ctx.event("user.metadata.set", "user", user.id, Some(user.org_id)).with_details(json!({"keys": keys}));
    tx.metadata().set(user.id, &upserts).await?;
    tx.metadata().delete(user.id, &deletes).await?;
    tx.audit().append(&event).await?;
    tx.commit().await?;
    Ok(())
}

/// Lists a user's entries (`user.read`, or the user itself).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn list(
    ctx: &Ctx,
    user_id: UserId,
    key: Option<TextFilter>,
    page: Page,
) -> ServiceResult<Listed<MetadataEntry>> {
    let user = ctx.user(user_id).await?;
    ctx.require_on_user(perm::USER_READ, &user)?;
    Ok(ctx.core.store.metadata().list(user.id, key.as_ref(), page).await?)
}

/// Deletes keys (`user.write`, or the user itself); missing keys are ignored.
///
/// # Errors
/// `invalid_argument` (no keys), `not_found`, `permission_denied`.
pub async fn delete(ctx: &Ctx, user_id: UserId, keys: Vec<String>) -> ServiceResult<()> {
    if keys.is_empty() {
        return Err(ServiceError::invalid("keys must name at least one key"));
    }
    let tx = ctx.begin().await?;
    let user = crate::users::lock_for_change(ctx, tx.as_ref(), user_id, perm::USER_WRITE, || {
        ServiceError::not_found("user not found")
    })
    .await?;
    tx.metadata().delete(user.id, &keys).await?;
    tx.audit()
        .append(
            &ctx.event("user.metadata.deleted", "user", user.id, Some(user.org_id)).with_details(json!({"keys": keys})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
