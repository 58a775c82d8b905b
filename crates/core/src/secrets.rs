//! Client secrets of machine users (client credentials grant): generate (shown
//! once), remove. A new secret supersedes the current one, which stays valid for
//! the configured overlap (`tokens.secret_overlap_secs`, default 0 = cut off at
//! once, ZITADEL's behaviour).

use serde_json::json;
use tessera_domain::machine_secret::MachineSecret;
use tessera_domain::{SecretId, UserId};
use tessera_oauth::credential::{Credential, CredentialKind, IssuedCredential};

use crate::ServiceError;
use crate::keys::machine_user;
use crate::{Ctx, ServiceResult};

/// Generates a new client secret for a machine user (`user.credential.write`,
/// or the user itself). The secret is returned here and never again; its
/// `client_id` is the user's username.
///
/// # Errors
/// `failed_precondition` for a missing or human user, `permission_denied`.
pub async fn add(ctx: &Ctx, user_id: UserId) -> ServiceResult<(MachineSecret, IssuedCredential)> {
    let id = SecretId::from_uuid(ctx.new_uuid());
    let (issued, digest) = Credential::generate(CredentialKind::ClientSecret, *id.as_uuid(), &mut ctx.rng());
    ctx.checkpoint("machine_secret.added", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    // The user's row lock also serializes rotations: each supersedes the
    // secret the one before it wrote.
    let user = machine_user(ctx, tx.as_ref(), user_id).await?;
    let secret = MachineSecret::new(user_id, id, digest, ctx.now());
    tx.machine_secrets().rotate(&secret).await?;
    tx.audit()
        .append(
            &ctx.event("machine_secret.added", "machine_secret", secret.id, Some(user.org_id))
                .with_details(json!({"userId": user.id})),
        )
        .await?;
    tx.commit().await?;
    Ok((secret, issued))
}

/// Removes every client secret of a machine user, superseded ones included:
/// client credentials stop working at once.
///
/// # Errors
/// `failed_precondition` for a missing or human user or one without a secret
/// (ZITADEL's answer), `permission_denied`.
pub async fn remove(ctx: &Ctx, user_id: UserId) -> ServiceResult<()> {
    ctx.checkpoint("machine_secret.removed", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = machine_user(ctx, tx.as_ref(), user_id).await?;
    let removed = tx.machine_secrets().delete_for_user(user_id).await?;
    if removed == 0 {
        return Err(ServiceError::precondition("the user has no client secret"));
    }
    tx.audit()
        .append(
            &ctx.event("machine_secret.removed", "machine_secret", user_id, Some(user.org_id))
                .with_details(json!({"userId": user.id, "count": removed})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether `user` has a client secret (cached, for the read-only calls).
///
/// # Errors
/// Database errors.
pub async fn has_secret(ctx: &Ctx, user: &tessera_domain::user::User) -> ServiceResult<bool> {
    let load = || async { Ok(!users_with_secret(ctx, std::slice::from_ref(user)).await?.is_empty()) };
    ctx.core.caches.has_secret.get_or_load(user.id, load).await
}

/// Which of `users` (already visible to the caller) have a current client
/// secret — ZITADEL's `hasSecret` — in one query for the whole page.
///
/// # Errors
/// Database errors only.
pub async fn users_with_secret(
    ctx: &Ctx,
    users: &[tessera_domain::user::User],
) -> ServiceResult<std::collections::HashSet<UserId>> {
    let machines: Vec<UserId> = users.iter().filter(|u| u.is_machine()).map(|u| u.id).collect();
    Ok(ctx.core.store.machine_secrets().users_with_secret(&machines).await?.into_iter().collect())
}
