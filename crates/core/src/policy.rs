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
/// # Errors
/// `permission_denied`, `not_found`.
pub async fn set_pat_policy(
    ctx: &Ctx,
    org: OrgId,
    max_lifetime: Option<Duration>,
    require_scope: Option<bool>,
) -> ServiceResult<Organization> {
    ctx.require(perm::POLICY_WRITE, Target::Org(org))?;
    ctx.checkpoint("organization.policy.pat.changed", *org.as_uuid()).await;
    let tx = ctx.begin().await?;
    let before = orgs::lock(tx.as_ref(), org).await?;
    let require_scope = require_scope.unwrap_or(before.pat_require_scope);
    if before.pat_max_lifetime == max_lifetime && before.pat_require_scope == require_scope {
        return Ok(before);
    }
    let previous = before.pat_max_lifetime.map(|d| d.num_seconds());
    let mut organization = before.clone();
    organization.pat_max_lifetime = max_lifetime;
    organization.pat_require_scope = require_scope;
    organization.updated_at = ctx.now();
    tx.orgs().update(&before, &organization).await?;
    tx.audit()
        .append(&ctx.event("organization.policy.pat.changed", "organization", org, Some(org)).with_details(json!({
            "maxLifetimeSeconds": max_lifetime.map(|d| d.num_seconds()),
            "previousMaxLifetimeSeconds": previous,
            "requireScope": require_scope,
            "previousRequireScope": before.pat_require_scope,
        })))
        .await?;
    tx.commit().await?;
    Ok(organization)
}
