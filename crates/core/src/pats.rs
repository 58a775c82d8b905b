//! Personal access tokens: issue (shown once), list, remove.

use serde_json::json;
use tessera_domain::pat::PersonalAccessToken;
use tessera_domain::permission::perm;
use tessera_domain::repo::{Listed, Page, PatFilter, PatQuery, PatSort, PatWithOwner, Visibility};
use tessera_domain::time::far_future;
use tessera_domain::{PatId, Timestamp, UserId};
use tessera_oauth::credential::{Credential, CredentialKind, IssuedCredential};

use crate::ServiceError;
use crate::{Ctx, ServiceResult, users};

/// Issues a PAT for a machine user (`user.credential.write` on its organization,
/// or the user itself). The token is returned here and never again.
///
/// Rules: only machine users have PATs (`failed_precondition`, as in ZITADEL); an
/// expiration in the past is `invalid_argument`; without one the token expires
/// 9999-12-31 — unless the organization limits PAT lifetimes (a Tessera
/// extension), in which case the expiration is required and must lie within it.
///
/// # Errors
/// As above, plus `permission_denied`.
pub async fn add(
    ctx: &Ctx,
    user_id: UserId,
    expires_at: Option<Timestamp>,
) -> ServiceResult<(PersonalAccessToken, IssuedCredential)> {
    let now = ctx.now();
    let (pat, token) = mint(ctx, user_id, expires_at);
    ctx.checkpoint("pat.created", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    // ZITADEL answers a missing user with failed_precondition here.
    let user = users::lock_for_change(ctx, tx.as_ref(), user_id, perm::USER_CREDENTIAL_WRITE, || {
        ServiceError::precondition("user not found")
    })
    .await?;
    if !user.is_machine() {
        return Err(ServiceError::precondition("personal access tokens are for machine users only"));
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ServiceError::invalid("expirationDate must be in the future"));
    }
    let org = tx.orgs().get(user.org_id).await?.ok_or_else(|| ServiceError::not_found("organization not found"))?;
    if let Some(max) = org.pat_max_lifetime {
        let limit = describe_lifetime(max);
        match expires_at {
            None => {
                return Err(ServiceError::invalid(format!(
                    "this organization requires an expirationDate at most {limit} ahead"
                )));
            }
            Some(t) if t - now > max => {
                return Err(ServiceError::invalid(format!(
                    "expirationDate exceeds this organization's maximum token lifetime of {limit}"
                )));
            }
            Some(_) => {}
        }
    }
    tx.pats().insert(&pat).await?;
    tx.audit()
        .append(
            &ctx.event("pat.created", "personal_access_token", pat.id, Some(user.org_id))
                .with_details(json!({"userId": user.id, "expiresAt": pat.expires_at})),
        )
        .await?;
    tx.commit().await?;
    Ok((pat, token))
}

/// A new PAT of `user_id` and its `tsr_pat_` token, not yet stored: the id and
/// the secret come from the injected clock and randomness. Checks nothing;
/// [`add`] and the first-instance bootstrap store it with their own checks.
#[must_use]
pub fn mint(ctx: &Ctx, user_id: UserId, expires_at: Option<Timestamp>) -> (PersonalAccessToken, IssuedCredential) {
    let id = PatId::from_uuid(ctx.new_uuid());
    let (token, digest) = Credential::generate(CredentialKind::Pat, *id.as_uuid(), &mut ctx.rng());
    let pat = PersonalAccessToken {
        id,
        user_id,
        digest,
        expires_at: expires_at.unwrap_or_else(far_future),
        created_at: ctx.now(),
        last_used_at: None,
    };
    (pat, token)
}

/// A lifetime in words: whole days when it is a number of days (the usual
/// policy), seconds otherwise.
fn describe_lifetime(d: chrono::Duration) -> String {
    if d.num_seconds() % 86_400 == 0 {
        format!("{} days", d.num_days())
    } else {
        format!("{} seconds", d.num_seconds())
    }
}

/// Lists tokens the caller may see: those of users in organizations where it holds
/// `user.read`, and its own. Never the token itself.
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<PatFilter>,
    sort: PatSort,
    page: Page,
) -> ServiceResult<Listed<PatWithOwner>> {
    let visibility =
        Visibility { orgs: ctx.actor.grants.orgs_with(perm::USER_READ), own_user: Some(ctx.actor.user_id) };
    Ok(ctx.core.store.pats().list(&PatQuery { filters, visibility, sort, page }).await?)
}

/// Removes a token of a user (`user.credential.write`, or the user itself). It
/// stops working at once. A token that does not exist, or belongs to another
/// user than the one named, is `not_found`: the call never answers success
/// without having removed something.
///
/// # Errors
/// `not_found` (user or token), `permission_denied`.
pub async fn remove(ctx: &Ctx, user_id: UserId, token_id: PatId) -> ServiceResult<()> {
    ctx.checkpoint("pat.removed", *user_id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let user = users::lock_for_change(ctx, tx.as_ref(), user_id, perm::USER_CREDENTIAL_WRITE, || {
        ServiceError::not_found("user not found")
    })
    .await?;
    let not_found = || ServiceError::not_found("personal access token not found");
    let found = tx.pats().get(token_id).await?.ok_or_else(not_found)?;
    if found.pat.user_id != user_id {
        return Err(not_found());
    }
    match tx.pats().delete(token_id).await {
        Ok(()) => {}
        Err(tessera_domain::repo::RepoError::NotFound { .. }) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(
            &ctx.event("pat.removed", "personal_access_token", token_id, Some(user.org_id))
                .with_details(json!({"userId": user.id})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
