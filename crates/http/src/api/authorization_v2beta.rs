//! `zitadel.authorization.v2beta.AuthorizationService`, which the official
//! SDKs still call. Its requests are v2's with the same field numbers, so they
//! convert by their binary encoding ([`as_v2`](super::v2::as_v2)), except two
//! search filters: v2beta's `userId` (one user) and its `inUserIds`, which
//! both become v2's `inUserIds`. Its `Authorization` is flat (`projectId`,
//! `projectName`, `projectOrganizationId`, `organizationId`, and `roles` as
//! keys), built from v2's.

use tessera_proto::zitadel::authorization::v2;
use tessera_proto::zitadel::authorization::v2beta as beta;
use tessera_proto::zitadel::filter::v2 as filter_v2;

use super::authorization;
use super::call::{Answer, Call, GatewayRoute, gateway_routes};
use super::v2::{recode, run_as_v2};
use super::wire;
use crate::error::ApiError;
use tessera_core::Ctx;

/// A v2beta search filter as v2's.
fn filter(f: &beta::AuthorizationsSearchFilter) -> Result<v2::AuthorizationsSearchFilter, ApiError> {
    use beta::authorizations_search_filter::Filter as B;
    use v2::authorizations_search_filter::Filter as V;
    let filter = match &f.filter {
        None => return Err(wire::one_filter_error().into()),
        Some(B::UserId(one)) => V::InUserIds(filter_v2::InIDsFilter { ids: vec![one.id.clone()] }),
        Some(B::InUserIds(ids)) => V::InUserIds(recode(ids)?),
        Some(B::AuthorizationIds(ids)) => V::AuthorizationIds(recode(ids)?),
        Some(B::OrganizationId(id)) => V::OrganizationId(recode(id)?),
        Some(B::State(q)) => V::State(recode(q)?),
        Some(B::UserOrganizationId(id)) => V::UserOrganizationId(recode(id)?),
        Some(B::UserPreferredLoginName(q)) => V::UserPreferredLoginName(recode(q)?),
        Some(B::UserDisplayName(q)) => V::UserDisplayName(recode(q)?),
        Some(B::ProjectId(id)) => V::ProjectId(recode(id)?),
        Some(B::ProjectName(q)) => V::ProjectName(recode(q)?),
        Some(B::RoleKey(q)) => V::RoleKey(recode(q)?),
        Some(B::ProjectGrantId(id)) => V::ProjectGrantId(recode(id)?),
    };
    Ok(v2::AuthorizationsSearchFilter { filter: Some(filter) })
}

/// v2beta's flat form of an authorization.
fn flat(a: v2::Authorization) -> Result<beta::Authorization, ApiError> {
    let project = a.project.unwrap_or_default();
    Ok(beta::Authorization {
        id: a.id,
        project_id: project.id,
        project_name: project.name,
        project_organization_id: project.organization_id,
        organization_id: a.organization.unwrap_or_default().id,
        creation_date: a.creation_date,
        change_date: a.change_date,
        state: a.state,
        user: a.user.as_ref().map(recode).transpose()?,
        roles: a.roles.into_iter().map(|r| r.key).collect(),
    })
}

async fn list_authorizations(
    ctx: Ctx,
    req: beta::ListAuthorizationsRequest,
) -> Result<beta::ListAuthorizationsResponse, ApiError> {
    let v2 = v2::ListAuthorizationsRequest {
        pagination: req.pagination.as_ref().map(recode).transpose()?,
        sorting_column: req.sorting_column.unwrap_or_default(),
        filters: req.filters.iter().map(filter).collect::<Result<_, _>>()?,
    };
    let listed = authorization::list_authorizations(ctx, v2).await?;
    Ok(beta::ListAuthorizationsResponse {
        pagination: listed.pagination.as_ref().map(recode).transpose()?,
        authorizations: listed.authorizations.into_iter().map(flat).collect::<Result<_, _>>()?,
    })
}

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    use authorization as a;
    Some(match method {
        "CreateAuthorization" => {
            run_as_v2!(
                call,
                beta::CreateAuthorizationRequest,
                beta::CreateAuthorizationResponse,
                a::create_authorization
            )
        }
        "ListAuthorizations" => call.run(list_authorizations).await,
        "UpdateAuthorization" => {
            run_as_v2!(
                call,
                beta::UpdateAuthorizationRequest,
                beta::UpdateAuthorizationResponse,
                a::update_authorization
            )
        }
        "DeactivateAuthorization" => {
            run_as_v2!(
                call,
                beta::DeactivateAuthorizationRequest,
                beta::DeactivateAuthorizationResponse,
                a::deactivate_authorization
            )
        }
        "ActivateAuthorization" => {
            run_as_v2!(
                call,
                beta::ActivateAuthorizationRequest,
                beta::ActivateAuthorizationResponse,
                a::activate_authorization
            )
        }
        "DeleteAuthorization" => {
            run_as_v2!(
                call,
                beta::DeleteAuthorizationRequest,
                beta::DeleteAuthorizationResponse,
                a::delete_authorization
            )
        }
        _ => return None,
    })
}

/// ZITADEL's grpc-gateway paths of the v2beta service.
const REST: &[GatewayRoute] = &[
    ("POST", "/v2beta/authorizations", "CreateAuthorization"),
    ("POST", "/v2beta/authorizations/search", "ListAuthorizations"),
    ("PATCH", "/v2beta/authorizations/{id}", "UpdateAuthorization"),
    ("DELETE", "/v2beta/authorizations/{id}", "DeleteAuthorization"),
    ("POST", "/v2beta/authorizations/{id}/activate", "ActivateAuthorization"),
    ("POST", "/v2beta/authorizations/{id}/deactivate", "DeactivateAuthorization"),
];

gateway_routes!(REST, dispatch);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::v2::assert_twins;
    use serde_json::Value;

    #[test]
    fn every_message_converted_by_its_encoding_is_v2s_twin() {
        let ts = "2030-01-02T03:04:05.600Z";
        assert_twins::<beta::CreateAuthorizationRequest, v2::CreateAuthorizationRequest>(
            json!({"userId": "u", "projectId": "p", "organizationId": "o", "roleKeys": ["a", "b"]}),
        );
        assert_twins::<beta::CreateAuthorizationResponse, v2::CreateAuthorizationResponse>(
            json!({"id": "a", "creationDate": ts}),
        );
        assert_twins::<beta::UpdateAuthorizationRequest, v2::UpdateAuthorizationRequest>(
            json!({"id": "a", "roleKeys": ["a"]}),
        );
        assert_twins::<beta::UpdateAuthorizationResponse, v2::UpdateAuthorizationResponse>(json!({"changeDate": ts}));
        assert_twins::<beta::DeactivateAuthorizationRequest, v2::DeactivateAuthorizationRequest>(json!({"id": "a"}));
        assert_twins::<beta::DeactivateAuthorizationResponse, v2::DeactivateAuthorizationResponse>(
            json!({"changeDate": ts}),
        );
        assert_twins::<beta::ActivateAuthorizationRequest, v2::ActivateAuthorizationRequest>(json!({"id": "a"}));
        assert_twins::<beta::ActivateAuthorizationResponse, v2::ActivateAuthorizationResponse>(
            json!({"changeDate": ts}),
        );
        assert_twins::<beta::DeleteAuthorizationRequest, v2::DeleteAuthorizationRequest>(json!({"id": "a"}));
        assert_twins::<beta::DeleteAuthorizationResponse, v2::DeleteAuthorizationResponse>(json!({"deletionDate": ts}));
        assert_twins::<beta::User, v2::User>(
            json!({"id": "u", "preferredLoginName": "l", "displayName": "d", "organizationId": "o"}),
        );
        assert_twins::<beta::StateQuery, v2::StateQuery>(json!({"state": "STATE_INACTIVE"}));
        for (a, b) in [
            ("userPreferredLoginName", "loginName"),
            ("userDisplayName", "displayName"),
            ("projectName", "name"),
            ("roleKey", "key"),
        ] {
            let beta: beta::AuthorizationsSearchFilter =
                serde_json::from_value(json!({a: {b: "x", "method": 3}})).unwrap();
            let v2 = filter(&beta).unwrap();
            let expected: v2::AuthorizationsSearchFilter =
                serde_json::from_value(json!({a: {b: "x", "method": 3}})).unwrap();
            assert_eq!(v2, expected, "{a}");
        }
    }

    #[test]
    fn one_user_and_several_become_v2s_user_list() {
        let of = |v: Value| filter(&serde_json::from_value(v).unwrap()).unwrap();
        let users = |ids: &[&str]| v2::AuthorizationsSearchFilter {
            filter: Some(v2::authorizations_search_filter::Filter::InUserIds(filter_v2::InIDsFilter {
                ids: ids.iter().map(|s| (*s).to_owned()).collect(),
            })),
        };
        assert_eq!(of(json!({"userId": {"id": "u"}})), users(&["u"]));
        assert_eq!(of(json!({"inUserIds": {"ids": ["u", "v"]}})), users(&["u", "v"]));
        assert!(filter(&beta::AuthorizationsSearchFilter::default()).is_err());
    }
}
