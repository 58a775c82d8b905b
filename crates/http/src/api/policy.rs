//! `tessera.policy.v1.PolicyService`: Tessera's own organization policies,
//! additive to ZITADEL's API (ZITADEL clients never call it), on every
//! transport like the rest of the API.
//!
//! - `GetPersonalAccessTokenPolicy {organizationId}` →
//!   `{organizationId, maxLifetime, requireScope, inactivityDays}` (`policy.read`)
//! - `SetPersonalAccessTokenPolicy {organizationId, maxLifetime, requireScope,
//!   inactivityDays}` → `{organizationId, maxLifetime, changeDate,
//!   requireScope, inactivityDays}` (`policy.write`; an absent `requireScope`
//!   or `inactivityDays` keeps the stored one; `inactivityDays: 0` lifts it)
//!
//! The messages are the generated ones of `proto/tessera/policy/v1`.
//!
//! `maxLifetime` is a `google.protobuf.Duration` in JSON (`"2592000s"`); absent
//! or `"0s"` means no limit, and is then left out of responses. An empty
//! `organizationId` means the caller's own organization.

use tessera_domain::OrgId;
use tessera_domain::org::Organization;
use tessera_proto::tessera::policy::v1 as pb;

use super::call::{Answer, Call};
use super::v2::required_id;
use crate::error::{ApiError, ServiceError};
use tessera_core::{Ctx, policy};

/// The organization's PAT lifetime limit as a protobuf duration; `None` when
/// there is none.
fn limit(org: &Organization) -> Option<tessera_proto::Duration> {
    org.pat_max_lifetime.map(Into::into)
}

fn org_or_own(ctx: &Ctx, id: &str) -> Result<OrgId, ServiceError> {
    if id.trim().is_empty() { Ok(ctx.actor.org_id) } else { required_id("organizationId", id, OrgId::parse) }
}

/// Checks `maxLifetime`: whole, non-negative seconds; zero means no limit.
fn max_lifetime(value: Option<tessera_proto::Duration>) -> Result<Option<chrono::Duration>, ServiceError> {
    let Some(d) = value else { return Ok(None) };
    if d.seconds < 0 || d.nanos < 0 {
        return Err(ServiceError::invalid("maxLifetime must not be negative"));
    }
    if d.nanos != 0 {
        return Err(ServiceError::invalid("maxLifetime must be a whole number of seconds"));
    }
    let d = chrono::Duration::try_from(d).map_err(|e| ServiceError::invalid(format!("maxLifetime: {e}")))?;
    Ok(if d.is_zero() { None } else { Some(d) })
}

async fn get_pat_policy(
    ctx: Ctx,
    req: pb::GetPersonalAccessTokenPolicyRequest,
) -> Result<pb::GetPersonalAccessTokenPolicyResponse, ApiError> {
    let org = org_or_own(&ctx, &req.organization_id)?;
    let org = policy::get_pat_policy(&ctx, org).await?;
    Ok(pb::GetPersonalAccessTokenPolicyResponse {
        organization_id: org.id.to_string(),
        max_lifetime: limit(&org),
        require_scope: org.pat_require_scope,
        inactivity_days: org.pat_inactivity_days.unwrap_or(0),
    })
}

async fn set_pat_policy(
    ctx: Ctx,
    req: pb::SetPersonalAccessTokenPolicyRequest,
) -> Result<pb::SetPersonalAccessTokenPolicyResponse, ApiError> {
    let org = org_or_own(&ctx, &req.organization_id)?;
    let max = max_lifetime(req.max_lifetime)?;
    let inactivity = req.inactivity_days.map(|d| (d != 0).then_some(d));
    let org = policy::set_pat_policy(&ctx, org, max, req.require_scope, inactivity).await?;
    Ok(pb::SetPersonalAccessTokenPolicyResponse {
        organization_id: org.id.to_string(),
        max_lifetime: limit(&org),
        change_date: Some(org.updated_at.into()),
        require_scope: org.pat_require_scope,
        inactivity_days: org.pat_inactivity_days.unwrap_or(0),
    })
}

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
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
        let d = |text| Some(tessera_proto::Duration::parse(text).unwrap());
        assert_eq!(max_lifetime(None).unwrap(), None);
        assert_eq!(max_lifetime(d("0s")).unwrap(), None);
        assert_eq!(max_lifetime(d("2592000s")).unwrap(), Some(chrono::Duration::days(30)));
        for bad in ["-1s", "1.5s", "-0.5s"] {
            assert!(max_lifetime(d(bad)).is_err(), "{bad}");
        }
        let beyond = tessera_proto::Duration { seconds: i64::MAX, nanos: 0 };
        assert!(max_lifetime(Some(beyond)).is_err());
    }
}
