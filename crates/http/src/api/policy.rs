//! `tessera.policy.v1.PolicyService`: Tessera's own organization policies,
//! additive to ZITADEL's API (ZITADEL clients never call it). Connect JSON like
//! the rest of the API.
//!
//! - `GetPersonalAccessTokenPolicy {organizationId}` →
//!   `{organizationId, maxLifetime}` (`policy.read`)
//! - `SetPersonalAccessTokenPolicy {organizationId, maxLifetime}` →
//!   `{organizationId, maxLifetime, changeDate}` (`policy.write`)
//!
//! `maxLifetime` is a `google.protobuf.Duration` in JSON (`"2592000s"`); absent
//! or `"0s"` means no limit, and is then left out of responses. An empty
//! `organizationId` means the caller's own organization.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::org::Organization;
use tessera_domain::{OrgId, Timestamp};

use super::connect::Call;
use super::user::required_id;
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::{Ctx, policy};

/// `GetPersonalAccessTokenPolicyRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GetPatPolicyRequest {
    /// The organization; the caller's own when empty.
    pub organization_id: String,
}

/// `SetPersonalAccessTokenPolicyRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SetPatPolicyRequest {
    /// The organization; the caller's own when empty.
    pub organization_id: String,
    /// Longest lifetime of a new PAT; absent or `"0s"`: no limit.
    pub max_lifetime: Option<String>,
}

/// `PersonalAccessTokenPolicy`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatPolicyResponse {
    /// The organization.
    pub organization_id: String,
    /// Longest lifetime of a new PAT; absent: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<String>,
    /// When the organization last changed (set responses only).
    #[serde(skip_serializing_if = "Option::is_none", with = "wire::opt_ts")]
    pub change_date: Option<Timestamp>,
}

impl PatPolicyResponse {
    fn of(org: &Organization, change_date: Option<Timestamp>) -> Self {
        Self {
            organization_id: org.id.to_string(),
            max_lifetime: org.pat_max_lifetime.as_ref().map(wire::format_duration),
            change_date,
        }
    }
}

fn org_or_own(ctx: &Ctx, id: &str) -> Result<OrgId, ServiceError> {
    if id.trim().is_empty() { Ok(ctx.actor.org_id) } else { required_id("organizationId", id, OrgId::parse) }
}

/// Parses `maxLifetime`: whole, non-negative seconds; zero means no limit.
fn max_lifetime(value: Option<&str>) -> Result<Option<chrono::Duration>, ServiceError> {
    let Some(text) = value.filter(|s| !s.trim().is_empty()) else { return Ok(None) };
    let d = wire::parse_duration(text).map_err(|e| ServiceError::invalid(format!("maxLifetime: {e}")))?;
    if d < chrono::Duration::zero() {
        return Err(ServiceError::invalid("maxLifetime must not be negative"));
    }
    if d.subsec_nanos() != 0 {
        return Err(ServiceError::invalid("maxLifetime must be a whole number of seconds"));
    }
    Ok(if d.is_zero() { None } else { Some(d) })
}

async fn get_pat_policy(ctx: Ctx, req: GetPatPolicyRequest) -> Result<PatPolicyResponse, ApiError> {
    let org = org_or_own(&ctx, &req.organization_id)?;
    let org = policy::get_pat_policy(&ctx, org).await?;
    Ok(PatPolicyResponse::of(&org, None))
}

async fn set_pat_policy(ctx: Ctx, req: SetPatPolicyRequest) -> Result<PatPolicyResponse, ApiError> {
    let org = org_or_own(&ctx, &req.organization_id)?;
    let max = max_lifetime(req.max_lifetime.as_deref())?;
    let org = policy::set_pat_policy(&ctx, org, max).await?;
    Ok(PatPolicyResponse::of(&org, Some(org.updated_at)))
}

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
    Some(match method {
        "GetPersonalAccessTokenPolicy" => call.run(get_pat_policy).await,
        "SetPersonalAccessTokenPolicy" => call.run(set_pat_policy).await,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_lifetime_is_whole_non_negative_seconds_and_zero_lifts_the_limit() {
        assert_eq!(max_lifetime(None).unwrap(), None);
        assert_eq!(max_lifetime(Some("0s")).unwrap(), None);
        assert_eq!(max_lifetime(Some("2592000s")).unwrap(), Some(chrono::Duration::days(30)));
        for bad in ["-1s", "1.5s", "30d", "forever"] {
            assert!(max_lifetime(Some(bad)).is_err(), "{bad}");
        }
    }
}
