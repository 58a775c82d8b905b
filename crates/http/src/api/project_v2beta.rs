//! `zitadel.project.v2beta.ProjectService`, which the official SDKs still
//! call. Its messages are v2's under older names (`id` for `projectId`,
//! `projectRoleCheck`/`hasProjectCheck` in `UpdateProject`) with the same field
//! numbers, so each call converts to v2 by its binary encoding
//! ([`as_v2`](super::v2::as_v2)) and runs the v2 handler. Two requests differ
//! beyond names: `CreateProject`'s `admins`, which Tessera refuses (the creator
//! becomes `PROJECT_OWNER`), and the search filters of `ListProjects`.

use tessera_proto::zitadel::project::v2;
use tessera_proto::zitadel::project::v2beta as beta;

use super::call::{Answer, Call, GatewayRoute, gateway_routes};
use super::project;
use super::v2::{as_v2, recode, run_as_v2};
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::Ctx;

async fn create_project(ctx: Ctx, req: beta::CreateProjectRequest) -> Result<beta::CreateProjectResponse, ApiError> {
    if !req.admins.is_empty() {
        return Err(
            ServiceError::invalid("admins is not supported by Tessera: the creator becomes PROJECT_OWNER").into()
        );
    }
    as_v2(ctx, req, project::create_project).await
}

/// A v2beta search filter as v2's: the resource-owner and organization
/// filters are v2's organization filter (owned projects), the project-grant
/// one its `GRANTED` type, which matches nothing in Tessera.
fn filter(f: &beta::ProjectSearchFilter) -> Result<v2::ProjectSearchFilter, ApiError> {
    use beta::project_search_filter::Filter as B;
    use v2::project_organization_id_filter::Type;
    use v2::project_search_filter::Filter as V;
    let org = |id: &str, kind: Type| {
        V::OrganizationIdFilter(v2::ProjectOrganizationIdFilter { organization_id: id.to_owned(), r#type: kind.into() })
    };
    let filter = match &f.filter {
        None => return Err(wire::one_filter_error().into()),
        Some(B::ProjectNameFilter(n)) => V::ProjectNameFilter(recode(n)?),
        Some(B::InProjectIdsFilter(ids)) => V::InProjectIdsFilter(recode(ids)?),
        Some(B::ProjectResourceOwnerFilter(id) | B::ProjectOrganizationIdFilter(id)) => org(&id.id, Type::Owned),
        Some(B::ProjectGrantResourceOwnerFilter(id)) => org(&id.id, Type::Granted),
    };
    Ok(v2::ProjectSearchFilter { filter: Some(filter) })
}

async fn list_projects(ctx: Ctx, req: beta::ListProjectsRequest) -> Result<beta::ListProjectsResponse, ApiError> {
    let v2 = v2::ListProjectsRequest {
        pagination: req.pagination.as_ref().map(recode).transpose()?,
        sorting_column: req.sorting_column,
        filters: req.filters.iter().map(filter).collect::<Result<_, _>>()?,
    };
    recode(&project::list_projects(ctx, v2).await?)
}

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateProject" => call.run(create_project).await,
        "GetProject" => run_as_v2!(call, beta::GetProjectRequest, beta::GetProjectResponse, project::get_project),
        "ListProjects" => call.run(list_projects).await,
        "UpdateProject" => {
            run_as_v2!(call, beta::UpdateProjectRequest, beta::UpdateProjectResponse, project::update_project)
        }
        "DeactivateProject" => {
            run_as_v2!(
                call,
                beta::DeactivateProjectRequest,
                beta::DeactivateProjectResponse,
                project::deactivate_project
            )
        }
        "ActivateProject" => {
            run_as_v2!(call, beta::ActivateProjectRequest, beta::ActivateProjectResponse, project::activate_project)
        }
        "DeleteProject" => {
            run_as_v2!(call, beta::DeleteProjectRequest, beta::DeleteProjectResponse, project::delete_project)
        }
        "AddProjectRole" => {
            run_as_v2!(call, beta::AddProjectRoleRequest, beta::AddProjectRoleResponse, project::add_project_role)
        }
        "ListProjectRoles" => {
            run_as_v2!(call, beta::ListProjectRolesRequest, beta::ListProjectRolesResponse, project::list_project_roles)
        }
        "UpdateProjectRole" => {
            run_as_v2!(
                call,
                beta::UpdateProjectRoleRequest,
                beta::UpdateProjectRoleResponse,
                project::update_project_role
            )
        }
        "RemoveProjectRole" => {
            run_as_v2!(
                call,
                beta::RemoveProjectRoleRequest,
                beta::RemoveProjectRoleResponse,
                project::remove_project_role
            )
        }
        _ => return None,
    })
}

/// ZITADEL's grpc-gateway paths of the v2beta service (`/v2beta/projects…`).
/// Project grants have none here: Tessera has no project grants.
const REST: &[GatewayRoute] = &[
    ("POST", "/v2beta/projects", "CreateProject"),
    ("POST", "/v2beta/projects/search", "ListProjects"),
    ("GET", "/v2beta/projects/{id}", "GetProject"),
    ("POST", "/v2beta/projects/{id}", "UpdateProject"),
    ("DELETE", "/v2beta/projects/{id}", "DeleteProject"),
    ("POST", "/v2beta/projects/{id}/deactivate", "DeactivateProject"),
    ("POST", "/v2beta/projects/{id}/activate", "ActivateProject"),
    ("POST", "/v2beta/projects/{projectId}/roles", "AddProjectRole"),
    ("POST", "/v2beta/projects/{projectId}/roles/search", "ListProjectRoles"),
    ("POST", "/v2beta/projects/{projectId}/roles/{roleKey}", "UpdateProjectRole"),
    ("DELETE", "/v2beta/projects/{projectId}/roles/{roleKey}", "RemoveProjectRole"),
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
        let project = json!({"id": "p", "organizationId": "o", "creationDate": ts, "changeDate": ts, "name": "n",
            "state": "PROJECT_STATE_INACTIVE", "projectRoleAssertion": true, "authorizationRequired": true,
            "projectAccessRequired": true, "privateLabelingSetting": 1});
        let page = json!({"offset": "3", "limit": 4, "asc": true});
        let role = json!({"projectId": "p", "key": "k", "creationDate": ts, "changeDate": ts,
            "displayName": "d", "group": "g"});
        assert_twins::<beta::CreateProjectRequest, v2::CreateProjectRequest>(json!({"organizationId": "o", "id": "p",
            "name": "n", "projectRoleAssertion": true, "authorizationRequired": true, "projectAccessRequired": true}));
        assert_twins::<beta::CreateProjectResponse, v2::CreateProjectResponse>(json!({"id": "p", "creationDate": ts}));
        assert_twins::<beta::GetProjectRequest, v2::GetProjectRequest>(json!({"id": "p"}));
        assert_twins::<beta::GetProjectResponse, v2::GetProjectResponse>(json!({"project": project}));
        assert_twins::<beta::ListProjectsResponse, v2::ListProjectsResponse>(
            json!({"pagination": {"totalResult": "9", "appliedLimit": "4"}, "projects": [project]}),
        );
        assert_twins::<
            tessera_proto::zitadel::filter::v2beta::PaginationRequest,
            tessera_proto::zitadel::filter::v2::PaginationRequest,
        >(page.clone());
        assert_twins::<beta::ProjectNameFilter, v2::ProjectNameFilter>(json!({"projectName": "n", "method": 5}));
        assert_twins::<
            tessera_proto::zitadel::filter::v2beta::InIDsFilter,
            tessera_proto::zitadel::filter::v2::InIDsFilter,
        >(json!({"ids": ["a", "b"]}));
        assert_twins::<beta::UpdateProjectRequest, v2::UpdateProjectRequest>(json!({"id": "p", "name": "n",
            "projectRoleAssertion": false, "projectRoleCheck": true, "hasProjectCheck": false}));
        assert_twins::<beta::UpdateProjectResponse, v2::UpdateProjectResponse>(json!({"changeDate": ts}));
        assert_twins::<beta::DeactivateProjectRequest, v2::DeactivateProjectRequest>(json!({"id": "p"}));
        assert_twins::<beta::DeactivateProjectResponse, v2::DeactivateProjectResponse>(json!({"changeDate": ts}));
        assert_twins::<beta::ActivateProjectRequest, v2::ActivateProjectRequest>(json!({"id": "p"}));
        assert_twins::<beta::ActivateProjectResponse, v2::ActivateProjectResponse>(json!({"changeDate": ts}));
        assert_twins::<beta::DeleteProjectRequest, v2::DeleteProjectRequest>(json!({"id": "p"}));
        assert_twins::<beta::DeleteProjectResponse, v2::DeleteProjectResponse>(json!({"deletionDate": ts}));
        assert_twins::<beta::AddProjectRoleRequest, v2::AddProjectRoleRequest>(
            json!({"projectId": "p", "roleKey": "k", "displayName": "d", "group": "g"}),
        );
        assert_twins::<beta::AddProjectRoleResponse, v2::AddProjectRoleResponse>(json!({"creationDate": ts}));
        assert_twins::<beta::ListProjectRolesRequest, v2::ListProjectRolesRequest>(json!({"projectId": "p",
            "pagination": page, "sortingColumn": 2, "filters": [{"roleKeyFilter": {"key": "k", "method": 1}},
            {"displayNameFilter": {"displayName": "d", "method": 2}}]}));
        assert_twins::<beta::ListProjectRolesResponse, v2::ListProjectRolesResponse>(
            json!({"pagination": {"totalResult": "1", "appliedLimit": "4"}, "projectRoles": [role]}),
        );
        assert_twins::<beta::UpdateProjectRoleRequest, v2::UpdateProjectRoleRequest>(
            json!({"projectId": "p", "roleKey": "k", "displayName": "d", "group": "g"}),
        );
        assert_twins::<beta::UpdateProjectRoleResponse, v2::UpdateProjectRoleResponse>(json!({"changeDate": ts}));
        assert_twins::<beta::RemoveProjectRoleRequest, v2::RemoveProjectRoleRequest>(
            json!({"projectId": "p", "roleKey": "k"}),
        );
        assert_twins::<beta::RemoveProjectRoleResponse, v2::RemoveProjectRoleResponse>(json!({"removalDate": ts}));
    }

    #[test]
    fn grant_filters_match_nothing_and_owner_filters_are_owned_projects() {
        use v2::project_organization_id_filter::Type;
        let of = |v: Value| {
            let f = filter(&serde_json::from_value(v).unwrap()).unwrap();
            let Some(v2::project_search_filter::Filter::OrganizationIdFilter(o)) = f.filter else { panic!() };
            (o.organization_id, Type::try_from(o.r#type).unwrap())
        };
        assert_eq!(of(json!({"projectResourceOwnerFilter": {"id": "o"}})), ("o".into(), Type::Owned));
        assert_eq!(of(json!({"projectOrganizationIdFilter": {"id": "o"}})), ("o".into(), Type::Owned));
        assert_eq!(of(json!({"projectGrantResourceOwnerFilter": {"id": "o"}})), ("o".into(), Type::Granted));
        assert!(filter(&beta::ProjectSearchFilter::default()).is_err());
    }
}
