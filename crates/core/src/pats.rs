//! Personal access tokens: issue (shown once), list, remove.

use serde_json::json;
use tessera_domain::pat::PersonalAccessToken;
use tessera_domain::permission::{Permission, Target, perm};
use tessera_domain::repo::{Listed, Page, PatFilter, PatQuery, PatSort, PatWithOwner, Transaction, Visibility};
use tessera_domain::time::far_future;
use tessera_domain::token_scope::{MAX_ORGS, MAX_PROJECTS, Preset, TokenScope};
use tessera_domain::{OrgId, PatId, ProjectId, Timestamp, UserId};
use tessera_oauth::credential::{Credential, CredentialKind, IssuedCredential};

use crate::ServiceError;
use crate::{Ctx, ServiceResult, load_grants, users};

/// Issues a PAT for a machine user (`user.credential.write` on its organization,
/// or the user itself). The token is returned here and never again.
///
/// Rules: only machine users have PATs (`failed_precondition`, as in ZITADEL); an
/// expiration in the past is `invalid_argument`; without one the token expires
/// 9999-12-31 — unless the organization limits PAT lifetimes (a Tessera
/// extension), in which case the expiration is required and must lie within it.
///
/// With `scope` the token is fine-grained (docs/pat-hygiene.md): the scope must
/// ask for nothing the user lacks ([`ScopeRequest`]); an organization may
/// require one. A caller that is itself a fine-grained token creates only
/// tokens inside its own scope.
///
/// # Errors
/// As above, plus `permission_denied` (also for a scope beyond the user's or
/// the caller's rights).
pub async fn add(
    ctx: &Ctx,
    user_id: UserId,
    expires_at: Option<Timestamp>,
    scope: Option<ScopeRequest>,
) -> ServiceResult<(PersonalAccessToken, IssuedCredential)> {
    let now = ctx.now();
    let (mut pat, token) = mint(ctx, user_id, expires_at);
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
    pat.scope = match scope {
        Some(request) => within_rights(tx.as_ref(), user.id, request).await?,
        None => None,
    };
    if pat.scope.is_none() && org.pat_require_scope {
        return Err(ServiceError::invalid(
            "this organization requires fine-grained tokens: name a scope (organizations, projects or permissions)",
        ));
    }
    // A scoped token creates tokens only inside its own scope, so it cannot
    // mint itself (or anyone) a wider one.
    if let Some(own) = ctx.actor.grants.limit()
        && !pat.scope.as_ref().is_some_and(|s| own.contains(s))
    {
        return Err(ServiceError::denied(
            "a scoped token can only create tokens within its own scope: name a scope inside it",
        ));
    }
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
        .append(&ctx.event("pat.created", "personal_access_token", pat.id, Some(user.org_id)).with_details(
            json!({"userId": user.id, "expiresAt": pat.expires_at, "scope": pat.scope.as_ref().map(TokenScope::to_json)}),
        ))
        .await?;
    tx.commit().await?;
    Ok((pat, token))
}

/// The scope asked for when a PAT is created: permissions named one by one
/// must all be the user's; presets contribute those of their permissions the
/// user holds.
#[derive(Debug, Clone, Default)]
pub struct ScopeRequest {
    /// The organizations it reaches.
    pub orgs: Vec<OrgId>,
    /// The projects it reaches.
    pub projects: Vec<ProjectId>,
    /// Permissions named one by one.
    pub permissions: Vec<Permission>,
    /// Named sets of permissions.
    pub presets: Vec<Preset>,
}

/// The scope `request` asks for, checked against what `user` holds: each
/// named organization and project is one the user holds a role on; each
/// named permission is one a role of the user grants on a resource the scope
/// reaches; a preset adds those of its permissions the user holds there (and
/// fails when that is none: an empty permission list would mean "all").
/// `None` for a request that names nothing. Read in the transaction that
/// stores the token, after the user's lock.
async fn within_rights(tx: &dyn Transaction, user: UserId, request: ScopeRequest) -> ServiceResult<Option<TokenScope>> {
    let ScopeRequest { orgs, projects, permissions, presets } = request;
    if orgs.len() > MAX_ORGS || projects.len() > MAX_PROJECTS {
        return Err(ServiceError::invalid(format!(
            "a scope names at most {MAX_ORGS} organizations and {MAX_PROJECTS} projects"
        )));
    }
    let grants = load_grants(tx, user).await?;
    let mut targets: Vec<Target> = orgs.iter().map(|o| Target::Org(*o)).collect();
    for project in &projects {
        let found = tx.projects().get(*project).await?;
        let org = found
            .map(|p| p.org_id)
            .ok_or_else(|| ServiceError::invalid(format!("scope names project {project}, which does not exist")))?;
        targets.push(Target::Project { org, project: *project });
    }
    let reaches = |t: Target| grants.pairs().iter().any(|(s, _)| s.covers(t));
    if let Some(t) = targets.iter().find(|t| !reaches(**t)) {
        let named = match t {
            Target::Org(o) => format!("organization {o}"),
            Target::Project { project, .. } => format!("project {project}"),
            Target::Instance => "the instance".to_owned(),
        };
        return Err(ServiceError::denied(format!(
            "the user holds no role on {named}: a token cannot reach what its user cannot"
        )));
    }
    let held = |p: &str| {
        if targets.is_empty() {
            grants.pairs().iter().any(|(_, role)| role.grants(p))
        } else {
            targets.iter().any(|t| grants.allows(p, *t))
        }
    };
    if let Some(p) = permissions.iter().find(|p| !held(p)) {
        return Err(ServiceError::denied(format!(
            "the user lacks {p} where the scope reaches: a token cannot carry a right its user lacks"
        )));
    }
    let mut all = permissions;
    for preset in presets {
        let mut from_preset: Vec<Permission> = preset.permissions().into_iter().filter(|p| held(p)).collect();
        if from_preset.is_empty() {
            return Err(ServiceError::denied(format!(
                "the user holds none of the permissions of the preset {} where the scope reaches",
                preset.as_str()
            )));
        }
        all.append(&mut from_preset);
    }
    Ok(TokenScope::new(orgs, projects, &all)?)
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
        scope: None,
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
        Visibility { orgs: ctx.actor.grants.orgs_with(perm::USER_READ), own_user: ctx.actor.own_user(perm::USER_READ) };
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
