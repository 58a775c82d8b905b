//! Machine keys (JWT Profile, RFC 7523): generate a key pair and hand out its
//! ZITADEL-format key file once, or register a caller's public key; list; remove.
//! Only public keys are stored.

use serde_json::json;
use tessera_domain::machine_key::MachineKey;
use tessera_domain::permission::perm;
use tessera_domain::repo::{
    KeyFilter, KeyQuery, KeySort, Listed, MachineKeyWithOwner, Page, RepoError, Repos, Transaction, Visibility,
};
use tessera_domain::time::far_future;
use tessera_domain::user::User;
use tessera_domain::{KeyId, Timestamp, UserId};
use tessera_oauth::keyfile::{GeneratedKeyPair, KeyFile, parse_public_key_pem};

use crate::ServiceError;
use crate::{Ctx, ServiceResult};

/// Where a new key's public half comes from.
pub enum NewKey {
    /// Tessera generates an RSA-2048 pair and returns the private half once,
    /// inside a key file.
    Generate,
    /// The caller registers its own public key (PEM); nothing secret is returned.
    Register(String),
}

/// A key just added; `key_file` only for a generated pair.
pub struct AddedKey {
    /// The stored key.
    pub key: MachineKey,
    /// The ZITADEL key file (`{"type":"serviceaccount","keyId","key","expirationDate","userId"}`),
    /// the only copy of the private key.
    pub key_file: Option<KeyFile>,
}

/// Adds a key to a machine user (`user.credential.write` on its organization, or
/// the user itself). An expiration in the past is `invalid_argument`; without one
/// the key expires 9999-12-31, as in ZITADEL.
///
/// # Errors
/// `failed_precondition` for a missing or human user (as ZITADEL answers),
/// `invalid_argument` for a bad public key or expiration, `permission_denied`.
pub async fn add(ctx: &Ctx, user_id: UserId, expires_at: Option<Timestamp>, new: NewKey) -> ServiceResult<AddedKey> {
    // Checked before the slow work so that nobody without rights makes us
    // generate keys; checked again under the lock below.
    let store = ctx.core.store.as_ref();
    check_machine_user(ctx, store, store.users().get(user_id).await?).await?;
    let now = ctx.now();
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ServiceError::invalid("expirationDate must be in the future"));
    }
    let expires_at = expires_at.unwrap_or_else(far_future);
    let id = KeyId::from_uuid(ctx.new_uuid());
    let (public, key_file) = match new {
        NewKey::Register(pem) => {
            let public = parse_public_key_pem(&pem).map_err(|e| ServiceError::invalid(format!("publicKey: {e}")))?;
            (public, None)
        }
        NewKey::Generate => {
            let (key_id, uid) = (id.to_string(), user_id.to_string());
            let mut rng = ctx.rng().fork();
            let (public, file) = crate::blocking(ctx, move || -> Result<_, tessera_oauth::keyfile::KeyFileError> {
                let pair = GeneratedKeyPair::generate(&mut rng)?;
                let file = pair.machine_key_file(&key_id, expires_at, &uid)?;
                Ok((pair.public_key().clone(), file))
            })
            .await?
            .map_err(|e| ServiceError::Internal(Box::new(e)))?;
            (public, Some(file))
        }
    };
    let (key_type, public_key_pem) = public.into_parts();
    let key = MachineKey { id, user_id, key_type, public_key_pem, expires_at, created_at: now };
    ctx.checkpoint("machine_key.added", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = machine_user(ctx, tx.as_ref(), user_id).await?;
    tx.machine_keys().insert(&key).await?;
    tx.audit()
        .append(&ctx.event("machine_key.added", "machine_key", key.id, Some(user.org_id)).with_details(json!({
            "userId": user.id,
            "keyType": key.key_type.as_str(),
            "generated": key_file.is_some(),
            "expiresAt": key.expires_at,
        })))
        .await?;
    tx.commit().await?;
    Ok(AddedKey { key, key_file })
}

/// Lists keys the caller may see: those of users in organizations where it holds
/// `user.read`, and its own. Never a private key (none is stored).
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<KeyFilter>,
    sort: KeySort,
    page: Page,
) -> ServiceResult<Listed<MachineKeyWithOwner>> {
    let visibility =
        Visibility { orgs: ctx.actor.grants.orgs_with(perm::USER_READ), own_user: ctx.actor.own_user(perm::USER_READ) };
    Ok(ctx.core.store.machine_keys().list(&KeyQuery { filters, visibility, sort, page }).await?)
}

/// Removes a key of a user (`user.credential.write`, or the user itself).
/// Assertions signed with it are refused from then on.
///
/// # Errors
/// `not_found` for an unknown user or a key that is not the user's,
/// `permission_denied`.
pub async fn remove(ctx: &Ctx, user_id: UserId, key_id: KeyId) -> ServiceResult<()> {
    ctx.checkpoint("machine_key.removed", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = crate::users::lock_for_change(ctx, tx.as_ref(), user_id, perm::USER_CREDENTIAL_WRITE, || {
        ServiceError::not_found("user not found")
    })
    .await?;
    let found = tx.machine_keys().get(key_id).await?;
    if found.is_none_or(|k| k.key.user_id != user_id) {
        return Err(ServiceError::not_found("key not found"));
    }
    match tx.machine_keys().delete(key_id).await {
        Ok(()) => {}
        Err(RepoError::NotFound { .. }) => return Err(ServiceError::not_found("key not found")),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(
            &ctx.event("machine_key.removed", "machine_key", key_id, Some(user.org_id))
                .with_details(json!({"userId": user.id})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Reads a machine user for a credential change under a lock inside `tx`,
/// with the permission (`user.credential.write`, or the user itself) and
/// privilege containment. ZITADEL answers a missing user with
/// `failed_precondition` on these calls; so does Tessera.
pub(crate) async fn machine_user(ctx: &Ctx, tx: &dyn Transaction, user_id: UserId) -> ServiceResult<User> {
    let user = tx.users().lock(user_id).await?;
    check_machine_user(ctx, tx, user).await
}

/// The same checks on `user` as read through `repos`.
async fn check_machine_user(ctx: &Ctx, repos: &dyn Repos, user: Option<User>) -> ServiceResult<User> {
    let user = user.ok_or_else(|| ServiceError::precondition("user not found"))?;
    // Permission first, so that only callers with rights on the user learn its type.
    ctx.require_on_user(perm::USER_CREDENTIAL_WRITE, &user)?;
    if !user.is_machine() {
        return Err(ServiceError::precondition("keys, secrets and federated credentials are for machine users only"));
    }
    crate::containment::require_contains(ctx, repos, &user).await?;
    Ok(user)
}
