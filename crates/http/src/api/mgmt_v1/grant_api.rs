//! v1 user grants (Terraform's `user_grant`): a user grant is an
//! authorization; Tessera has no project grants.

use super::*;

/// `zitadel.user.v1.UserGrant`: v1's user grant is Tessera's authorization.
fn wire_grant(v: &AuthorizationView) -> user_v1::UserGrant {
    let a = &v.authorization;
    user_v1::UserGrant {
        id: a.id.to_string(),
        details: Some(details(a.created_at, a.updated_at, a.org_id)),
        role_keys: a.roles.iter().map(ToString::to_string).collect(),
        state: match a.state {
            AuthorizationState::Active => user_v1::UserGrantState::Active,
            AuthorizationState::Inactive => user_v1::UserGrantState::Inactive,
        }
        .into(),
        user_id: a.user_id.to_string(),
        user_name: v.username.to_string(),
        display_name: v.user_display_name.to_string(),
        org_id: a.org_id.to_string(),
        org_name: v.org_name.to_string(),
        project_id: a.project_id.to_string(),
        project_name: v.project_name.to_string(),
        preferred_login_name: v.username.to_string(),
        ..Default::default()
    }
}

/// Role keys of a grant request.
pub(super) fn role_keys(keys: &[String]) -> Result<BTreeSet<RoleKey>, ApiError> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            RoleKey::parse(k).map_err(|_| ServiceError::invalid(format!("roleKeys[{i}] is not a role key")).into())
        })
        .collect()
}

/// The grant `grant` of the user `user` (in the call's organization).
pub(super) async fn user_grant(v1: &V1, user: &str, grant: &str) -> Result<AuthorizationView, ApiError> {
    let user = v1.user("userId", user).await?;
    if grant.trim().is_empty() {
        return Err(ServiceError::invalid("grantId is required").into());
    }
    let id = AuthorizationId::parse(grant).map_err(|_| ServiceError::not_found("user grant not found"))?;
    let filters = vec![AuthorizationFilter::Ids(vec![id]), AuthorizationFilter::Users(vec![user.id])];
    let listed = authorizations::list(&v1.ctx, filters, AuthorizationSort::default(), Page::default()).await?;
    listed.items.into_iter().next().ok_or_else(|| ServiceError::not_found("user grant not found").into())
}

pub(super) async fn add_user_grant(
    v1: V1,
    req: mgmt::AddUserGrantRequest,
) -> Result<mgmt::AddUserGrantResponse, ApiError> {
    if !req.project_grant_id.is_empty() {
        return Err(ServiceError::invalid("projectGrantId is not supported: Tessera has no project grants").into());
    }
    let user = v1.user("userId", &req.user_id).await?;
    let project = required_id("projectId", &req.project_id, ProjectId::parse)?;
    let new = authorizations::NewAuthorization {
        user_id: user.id,
        project_id: project,
        org_id: Some(v1.org),
        roles: role_keys(&req.role_keys)?,
    };
    let view = authorizations::create(&v1.ctx, new).await?;
    let a = &view.authorization;
    Ok(mgmt::AddUserGrantResponse {
        user_grant_id: a.id.to_string(),
        details: Some(details(a.created_at, a.updated_at, a.org_id)),
    })
}

pub(super) async fn get_user_grant(
    v1: V1,
    req: mgmt::GetUserGrantByIdRequest,
) -> Result<mgmt::GetUserGrantByIdResponse, ApiError> {
    let view = user_grant(&v1, &req.user_id, &req.grant_id).await?;
    Ok(mgmt::GetUserGrantByIdResponse { user_grant: Some(wire_grant(&view)) })
}

pub(super) async fn update_user_grant(
    v1: V1,
    req: mgmt::UpdateUserGrantRequest,
) -> Result<mgmt::UpdateUserGrantResponse, ApiError> {
    let view = user_grant(&v1, &req.user_id, &req.grant_id).await?;
    let a = authorizations::update(&v1.ctx, view.authorization.id, role_keys(&req.role_keys)?).await?;
    Ok(mgmt::UpdateUserGrantResponse { details: Some(details(a.created_at, a.updated_at, a.org_id)) })
}

pub(super) async fn remove_user_grant(
    v1: V1,
    req: mgmt::RemoveUserGrantRequest,
) -> Result<mgmt::RemoveUserGrantResponse, ApiError> {
    let view = user_grant(&v1, &req.user_id, &req.grant_id).await?;
    authorizations::delete(&v1.ctx, view.authorization.id).await?;
    Ok(mgmt::RemoveUserGrantResponse { details: Some(changed_now(&v1.ctx, view.authorization.org_id)) })
}
