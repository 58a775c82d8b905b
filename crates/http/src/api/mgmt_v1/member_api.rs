//! v1 organization members (Terraform's `org_member`): the organization's
//! administrators, with the roles of `InternalPermissionService`.

use super::*;

/// Organization roles of a member request.
pub(super) fn member_roles(roles: &[String]) -> Result<Vec<Role>, ApiError> {
    roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Role::parse(r).map_err(|_| ServiceError::invalid(format!("roles[{i}] is not a supported role")).into())
        })
        .collect()
}

/// A member's user id; the user may be of any organization, as in ZITADEL.
pub(super) fn member_id(value: &str) -> Result<UserId, ApiError> {
    Ok(required_id("userId", value, UserId::parse)?)
}

pub(super) async fn add_org_member(
    v1: V1,
    req: mgmt::AddOrgMemberRequest,
) -> Result<mgmt::AddOrgMemberResponse, ApiError> {
    let admin =
        admins::create(&v1.ctx, member_id(&req.user_id)?, Scope::Org(v1.org), member_roles(&req.roles)?).await?;
    Ok(mgmt::AddOrgMemberResponse { details: Some(details(admin.created_at, admin.updated_at, v1.org)) })
}

pub(super) async fn update_org_member(
    v1: V1,
    req: mgmt::UpdateOrgMemberRequest,
) -> Result<mgmt::UpdateOrgMemberResponse, ApiError> {
    let admin =
        admins::update(&v1.ctx, member_id(&req.user_id)?, Scope::Org(v1.org), member_roles(&req.roles)?).await?;
    Ok(mgmt::UpdateOrgMemberResponse { details: Some(details(admin.created_at, admin.updated_at, v1.org)) })
}

pub(super) async fn remove_org_member(
    v1: V1,
    req: mgmt::RemoveOrgMemberRequest,
) -> Result<mgmt::RemoveOrgMemberResponse, ApiError> {
    admins::delete(&v1.ctx, member_id(&req.user_id)?, Scope::Org(v1.org)).await?;
    Ok(mgmt::RemoveOrgMemberResponse { details: Some(changed_now(&v1.ctx, v1.org)) })
}

/// v1 `ListOrgMembers`: `userIdQuery` filters; the name and email queries are
/// refused (`invalid_argument`), as Tessera's administrator list has no such
/// filter.
pub(super) async fn list_org_members(
    v1: V1,
    req: mgmt::ListOrgMembersRequest,
) -> Result<mgmt::ListOrgMembersResponse, ApiError> {
    use tessera_proto::zitadel::member::v1::search_query::Query;
    let mut filters = vec![AdminFilter::Scope(Scope::Org(v1.org))];
    for q in &req.queries {
        match &q.query {
            Some(Query::UserIdQuery(u)) => filters.push(AdminFilter::User(member_id(&u.user_id)?)),
            Some(_) => {
                return Err(ServiceError::invalid("queries: only userIdQuery is supported for members").into());
            }
            None => return Err(ServiceError::invalid("queries: a query must name its type").into()),
        }
    }
    let listed = admins::list(&v1.ctx, filters, AdminSort::default(), page(req.query.as_ref())?).await?;
    Ok(mgmt::ListOrgMembersResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        result: listed
            .items
            .iter()
            .map(|m| tessera_proto::zitadel::member::v1::Member {
                user_id: m.admin.user_id.to_string(),
                details: Some(details(m.admin.created_at, m.admin.updated_at, v1.org)),
                roles: m.admin.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                preferred_login_name: m.username.to_string(),
                display_name: m.display_name.to_string(),
                user_resource_owner: m.user_org_id.to_string(),
                ..Default::default()
            })
            .collect(),
    })
}
