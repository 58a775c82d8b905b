//! The instance's signing keys as ZITADEL's WebKeyService manages them
//! (`zitadel.webkey.v2`, docs/operator/key-rotation.md): create a key of a
//! kind (published at once, signing only once activated), activate it, delete
//! an inactive one, list them with their states. `tessera keys` runs the same
//! operations (`tessera_oauth::keyring`) with no API actor; both write audit
//! events in the transaction of the change.
//!
//! Permissions as in ZITADEL: `iam.web_key.write` (create, activate),
//! `iam.web_key.delete`, `iam.web_key.read`, which `IAM_OWNER` holds.
//!
//! After a change this node reloads its keys at once, so that a key created
//! here is in its JWKS and an activated key signs its next token; the other
//! nodes follow at their next refresh (`signing_keys.refresh_interval_secs`).

use std::sync::Arc;

use tessera_domain::permission::{Target, perm};
use tessera_domain::signing_key::{SigningKey, WebKeyState};
use tessera_domain::{SigningKeyId, Timestamp};
use tessera_oauth::keyring::{self, KeyRing, KeyRingError};
use tessera_oauth::signing::KeyKind;

use crate::{Ctx, ServiceError, ServiceResult};

/// A key with its state at the time of the listing.
#[derive(Debug, Clone)]
pub struct WebKey {
    /// The key (public data and schedule; its private half stays sealed).
    pub key: SigningKey,
    /// Its state.
    pub state: WebKeyState,
    /// When it last changed state.
    pub changed_at: Timestamp,
}

fn ring(ctx: &Ctx) -> ServiceResult<&Arc<KeyRing>> {
    ctx.core.signing_keys.as_ref().ok_or_else(|| ServiceError::Unavailable("signing keys are not loaded".into()))
}

fn service_error(e: KeyRingError) -> ServiceError {
    match e {
        KeyRingError::NotFound => ServiceError::not_found("web key not found"),
        KeyRingError::ActiveKey | KeyRingError::Removed | KeyRingError::TooMany => {
            ServiceError::precondition(e.to_string())
        }
        KeyRingError::Collision => ServiceError::Unavailable(e.to_string().into()),
        KeyRingError::Store(e) => e.into(),
        e => ServiceError::Internal(Box::new(e)),
    }
}

/// Reloads this node's keys after a change; a failure is logged (the change
/// is committed, and the periodic refresh retries).
async fn reload(ctx: &Ctx, ring: &KeyRing) {
    if let Err(e) = ring.refresh(ctx.core.store.as_ref(), ctx.core.clock.as_ref()).await {
        tracing::warn!(error = %e, "could not reload the signing keys after a change; the next refresh retries");
    }
}

/// CreateWebKey: a key of `kind`, published at once, awaiting activation.
///
/// # Errors
/// `permission_denied`; `failed_precondition` when 20 keys are stored.
pub async fn create(ctx: &Ctx, kind: KeyKind) -> ServiceResult<SigningKey> {
    ctx.require(perm::IAM_WEB_KEY_WRITE, Target::Instance)?;
    let ring = ring(ctx)?;
    let (store, clock) = (ctx.core.store.as_ref(), ctx.core.clock.as_ref());
    let key =
        keyring::create(store, clock, ring.sealer(), kind, Some(ctx.actor.user_id)).await.map_err(service_error)?;
    reload(ctx, ring).await;
    Ok(key)
}

/// ActivateWebKey: the key signs from now on; the previous one stays
/// published until every token it signed has expired.
///
/// # Errors
/// `permission_denied`, `not_found`, `failed_precondition` for a removed key.
pub async fn activate(ctx: &Ctx, id: SigningKeyId) -> ServiceResult<SigningKey> {
    ctx.require(perm::IAM_WEB_KEY_WRITE, Target::Instance)?;
    let ring = ring(ctx)?;
    let (store, clock) = (ctx.core.store.as_ref(), ctx.core.clock.as_ref());
    let key =
        keyring::activate(store, clock, ring.policy(), id, Some(ctx.actor.user_id)).await.map_err(service_error)?;
    reload(ctx, ring).await;
    Ok(key)
}

/// DeleteWebKey: deletes a key that does not sign now; returns when, or
/// `None` when there was no such key (success, as in ZITADEL). `id` is
/// `None` for an id that cannot name a key (ZITADEL's ids are free-form):
/// the same answer after the same permission check.
///
/// # Errors
/// `permission_denied`; `failed_precondition` for the active key.
pub async fn delete(ctx: &Ctx, id: Option<SigningKeyId>) -> ServiceResult<Option<Timestamp>> {
    ctx.require(perm::IAM_WEB_KEY_DELETE, Target::Instance)?;
    let Some(id) = id else { return Ok(None) };
    let ring = ring(ctx)?;
    let (store, clock) = (ctx.core.store.as_ref(), ctx.core.clock.as_ref());
    let deleted = keyring::delete(store, clock, id, Some(ctx.actor.user_id)).await.map_err(service_error)?;
    if !deleted {
        return Ok(None);
    }
    reload(ctx, ring).await;
    Ok(Some(ctx.now()))
}

/// ListWebKeys: every stored key with its state, oldest first.
///
/// # Errors
/// `permission_denied`; database errors.
pub async fn list(ctx: &Ctx) -> ServiceResult<Vec<WebKey>> {
    ctx.require(perm::IAM_WEB_KEY_READ, Target::Instance)?;
    let keys = ctx.core.store.signing_keys().list().await?;
    let now = ctx.now();
    let mut listed: Vec<WebKey> = keys
        .iter()
        .map(|key| {
            let state = WebKeyState::of(key, &keys, now);
            WebKey { key: key.clone(), state, changed_at: state.changed_at(key, &keys, now) }
        })
        .collect();
    listed.sort_by_key(|k| (k.key.created_at, *k.key.id.as_uuid()));
    Ok(listed)
}
