//! Tessera's organization policy on personal access tokens: the longest
//! lifetime a new PAT may have, and whether it must be fine-grained (ZITADEL
//! has neither; `pats::add` enforces both). Tokens issued before a change keep
//! their expiration and scope.

use chrono::Duration;
use serde_json::json;
use tessera_domain::OrgId;
use tessera_domain::org::Organization;
use tessera_domain::permission::{Target, perm};

use crate::{Ctx, ServiceResult, orgs};

/// The longest inactivity limit: ten years.
pub const MAX_INACTIVITY_DAYS: u32 = 3650;

/// The organization's PAT policy (`policy.read` on it).
///
/// # Errors
/// `permission_denied`, `not_found`.
pub async fn get_pat_policy(ctx: &Ctx, org: OrgId) -> ServiceResult<Organization> {
    ctx.require(perm::POLICY_READ, Target::Org(org))?;
    orgs::load(ctx, org).await
}

/// Sets the longest lifetime of new PATs in the organization (`None` lifts the
/// limit) and, when `require_scope` is given, whether they must name a scope
/// (`policy.write` on it). Setting the values it already has changes nothing
/// and succeeds.
///
/// `inactivity_days`, when given, sets the days of disuse after which a PAT
/// is disabled (`Some(None)` lifts it; 1–3650 days). A PAT's last use is
/// recorded in batches, and the background scan disables it within a pass of
/// its deadline (docs/pat-hygiene.md "Inactivity").
///
/// # Errors
/// `permission_denied`, `not_found`, `invalid_argument` for days out of range.
pub async fn set_pat_policy(
    ctx: &Ctx,
    org: OrgId,
    max_lifetime: Option<Duration>,
    require_scope: Option<bool>,
    inactivity_days: Option<Option<u32>>,
) -> ServiceResult<Organization> {
    ctx.require(perm::POLICY_WRITE, Target::Org(org))?;
    if let Some(Some(days)) = inactivity_days
        && !(1..=MAX_INACTIVITY_DAYS).contains(&days)
    {
        return Err(crate::ServiceError::invalid(format!(
            "inactivityDays must be between 1 and {MAX_INACTIVITY_DAYS} (0 lifts the limit)"
        )));
    }
    ctx.checkpoint("organization.policy.pat.changed", *org.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = orgs::lock(tx.as_ref(), org).await?;
    let require_scope = require_scope.unwrap_or(before.pat_require_scope);
    let inactivity_days = inactivity_days.unwrap_or(before.pat_inactivity_days);
    if before.pat_max_lifetime == max_lifetime
        && before.pat_require_scope == require_scope
        && before.pat_inactivity_days == inactivity_days
    {
        return Ok(before);
    }
    let previous = before.pat_max_lifetime.map(|d| d.num_seconds());
    let mut organization = before.clone();
    organization.pat_max_lifetime = max_lifetime;
    organization.pat_require_scope = require_scope;
    organization.pat_inactivity_days = inactivity_days;
    organization.updated_at = ctx.now();
    tx.orgs().update(&before, &organization).await?;
    tx.audit()
        .append(&ctx.event("organization.policy.pat.changed", "organization", org, Some(org)).with_details(json!({
            "maxLifetimeSeconds": max_lifetime.map(|d| d.num_seconds()),
            "previousMaxLifetimeSeconds": previous,
            "requireScope": require_scope,
            "previousRequireScope": before.pat_require_scope,
            "inactivityDays": inactivity_days,
            "previousInactivityDays": before.pat_inactivity_days,
        })))
        .await?;
    tx.commit().await?;
    Ok(organization)
}
