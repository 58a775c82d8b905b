//! ZITADEL's v1 management API (`zitadel.management.v1.ManagementService`): the
//! 41 methods the Terraform provider's resources and zitadel-go's
//! service-account examples call (proto/METHODS.md). Served on
//! every transport (`POST /zitadel.management.v1.ManagementService/<Method>`:
//! Connect, gRPC, gRPC-web) and at the REST paths of ZITADEL's grpc-gateway
//! under `/management/v1`.
//!
//! Handlers read and write the generated messages (`tessera_proto`) directly:
//! no hand-written wire types. This module holds the call context (`V1`:
//! the organization of `x-zitadel-orgid`), the shared mappings, the dispatch
//! table and the REST routes; the handlers live in `user_api`, `project_api`,
//! `app_api`, `grant_api` and `member_api`.
//!
//! Wire rules of the gateway: lowerCamelCase JSON (the proto's snake_case names
//! accepted too), unknown fields ignored, zero values omitted, and errors as
//! [`GatewayError`] — `{"code": <numeric gRPC code>, "message", "details": []}`.
//! The organization of a call is the caller's own unless the header
//! `x-zitadel-orgid` names another; a user named by a call must belong to it,
//! as in ZITADEL, where the header scopes every lookup of the call.

mod app_api;
mod grant_api;
mod member_api;
mod project_api;
mod user_api;

use std::collections::BTreeSet;

use actix_web::{HttpRequest, HttpResponse, web};
use tessera_core::keys::NewKey;
use tessera_core::{Ctx, admins, applications, authorizations, keys, orgs, pats, projects, secrets, users};
use tessera_domain::application::{ApiAuthMethod, AppName, AppState};
use tessera_domain::authorization::AuthorizationState;
use tessera_domain::names::{Description, DisplayName, Username};
use tessera_domain::permission::{Role, Scope};
use tessera_domain::project::{Project, ProjectName, ProjectRole, ProjectState, RoleKey};
use tessera_domain::repo::{
    AdminFilter, AdminSort, AppFilter, AppSort, AppWithOwner, AuthorizationFilter, AuthorizationSort,
    AuthorizationView, KeyFilter, KeySort, OrgQueryFilter, OrgSort, Page, PatFilter, PatSort, ProjectFilter,
    ProjectSort, RoleFilter, RoleSort, TextFilter,
};
use tessera_domain::user::{AccessTokenType, User, UserKind};
use tessera_domain::{
    AppKeyId, ApplicationId, AuthorizationId, KeyId, OrgId, PatId, ProjectId, Timestamp, UserId, ValidationError,
};
use tessera_proto::zitadel::app::v1 as app_v1;
use tessera_proto::zitadel::authn::v1 as authn;
use tessera_proto::zitadel::management::v1 as mgmt;
use tessera_proto::zitadel::org::v1 as org_v1;
use tessera_proto::zitadel::project::v1 as project_v1;
use tessera_proto::zitadel::user::v1 as user_v1;
use tessera_proto::zitadel::v1 as object;

use super::call::{Answer, Call, RestCall};
use super::user::{ListUsersRequest, list_users_query};
use crate::api::v2::{bounded_page, recode, required_id, text_method_of};
use crate::error::{ApiError, GatewayError, ServiceError};
// The handlers, one module per group of Terraform resources; they share this
// module's context, helpers and imports (`use super::*`).
use app_api::*;
use grant_api::*;
use member_api::*;
use project_api::*;
use user_api::*;

/// The header that sets the organization of a v1 call.
pub const ORG_HEADER: &str = "x-zitadel-orgid";

/// The service's fully qualified name.
pub const SERVICE: &str = "zitadel.management.v1.ManagementService";

/// A protobuf timestamp.
fn ts(t: Timestamp) -> tessera_proto::Timestamp {
    t.into()
}

/// An optional protobuf timestamp as a domain one.
fn from_ts(t: Option<tessera_proto::Timestamp>, field: &'static str) -> Result<Option<Timestamp>, ApiError> {
    t.map(Timestamp::try_from)
        .transpose()
        .map_err(|_| ServiceError::invalid(format!("{field} is not a valid time")).into())
}

/// `zitadel.v1.ObjectDetails`. `sequence` is never sent: Tessera is not
/// event-sourced, and protojson omits a zero sequence anyway.
fn details(created: Timestamp, changed: Timestamp, owner: OrgId) -> object::ObjectDetails {
    object::ObjectDetails {
        creation_date: Some(ts(created)),
        change_date: Some(ts(changed)),
        resource_owner: owner.to_string(),
    }
}

/// Details of a user.
fn user_details(u: &User) -> object::ObjectDetails {
    details(u.created_at, u.updated_at, u.org_id)
}

/// Details of a change made now to something `owner` owns.
fn changed_now(ctx: &Ctx, owner: OrgId) -> object::ObjectDetails {
    let now = ctx.now();
    details(now, now, owner)
}

/// Names a v1 field in a validation error (the domain says `username`).
fn v1_field(field: &'static str) -> impl FnOnce(ValidationError) -> ValidationError {
    move |e| ValidationError { field: field.into(), ..e }
}

/// The organization named by `x-zitadel-orgid`, if any.
fn org_header(req: &HttpRequest) -> Result<Option<OrgId>, ApiError> {
    let Some(value) = req.headers().get(ORG_HEADER) else { return Ok(None) };
    let bad = || ServiceError::invalid(format!("{ORG_HEADER} is not a valid id"));
    let value = value.to_str().map_err(|_| bad())?.trim();
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(OrgId::parse(value).map_err(|_| bad())?))
}

/// A call's context: the use-case context and the organization it is scoped to
/// by `x-zitadel-orgid`, the caller's own without the header.
struct V1 {
    ctx: Ctx,
    org: OrgId,
}

impl V1 {
    /// The user `id`, which must be in the call's organization (else
    /// `not_found`, as in ZITADEL, where the organization scopes every lookup).
    async fn user(&self, field: &'static str, id: &str) -> Result<User, ApiError> {
        let id = required_id(field, id, UserId::parse)?;
        let user = users::get(&self.ctx, id).await?;
        if user.org_id != self.org {
            return Err(ServiceError::not_found("user not found").into());
        }
        Ok(user)
    }
}

/// Runs `handler` on `call` with the v1 context.
async fn run<Req, Res, Fut>(call: &Call, handler: impl FnOnce(V1, Req) -> Fut) -> Result<Answer, ApiError>
where
    Req: prost::Message + Default + serde::de::DeserializeOwned,
    Res: prost::Message + serde::Serialize,
    Fut: Future<Output = Result<Res, ApiError>>,
{
    let org = org_header(call.request())?;
    call.run(move |ctx, req| {
        let org = org.unwrap_or(ctx.actor.org_id);
        handler(V1 { ctx, org }, req)
    })
    .await
}

/// `KEY_TYPE_JSON` is the only type (ZITADEL refuses `UNSPECIFIED` too).
fn check_key_type(value: i32) -> Result<(), ApiError> {
    match authn::KeyType::try_from(value) {
        Ok(authn::KeyType::Json) => Ok(()),
        _ => Err(ServiceError::invalid("type must be KEY_TYPE_JSON").into()),
    }
}

/// A v1 `ListQuery` as a page ([`Page::requested`]), its offset bounded as in
/// the v2 lists.
fn page(q: Option<&object::ListQuery>) -> Result<Page, ApiError> {
    let q = q.copied().unwrap_or_default();
    Ok(bounded_page("query", q.offset, q.limit, q.asc)?)
}

/// A text query of a v1 list (v1's `TextQueryMethod` numbers the comparisons
/// as v2's enums do).
fn text(value: &str, method: i32, field: &str) -> Result<TextFilter, ApiError> {
    let method = text_method_of(method)
        .ok_or_else(|| ServiceError::invalid(format!("{field}.method is not a known text query method")))?;
    Ok(TextFilter { value: value.to_owned(), method })
}

/// Hands `call` to the v1 method `method`; `None` for a method Tessera does
/// not have (proto/METHODS.md lists the ones still to come).
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "GetUserByID" => run(call, get_user_by_id).await,
        "ListUsers" => run(call, list_users).await,
        "AddMachineUser" => run(call, add_machine_user).await,
        "RemoveUser" => run(call, remove_user).await,
        "UpdateUserName" => run(call, update_user_name).await,
        "UpdateMachine" => run(call, update_machine).await,
        "GenerateMachineSecret" => run(call, generate_machine_secret).await,
        "RemoveMachineSecret" => run(call, remove_machine_secret).await,
        "GetMachineKeyByIDs" => run(call, get_machine_key).await,
        "AddMachineKey" => run(call, add_machine_key).await,
        "RemoveMachineKey" => run(call, remove_machine_key).await,
        "GetPersonalAccessTokenByIDs" => run(call, get_pat).await,
        "AddPersonalAccessToken" => run(call, add_pat).await,
        "RemovePersonalAccessToken" => run(call, remove_pat).await,
        "GetMyOrg" => run(call, get_my_org).await,
        "AddProject" => run(call, add_project).await,
        "GetProjectByID" => run(call, get_project).await,
        "ListProjects" => run(call, list_projects).await,
        "UpdateProject" => run(call, update_project).await,
        "RemoveProject" => run(call, remove_project).await,
        "ListProjectRoles" => run(call, list_roles).await,
        "AddProjectRole" => run(call, add_role).await,
        "UpdateProjectRole" => run(call, update_role).await,
        "RemoveProjectRole" => run(call, remove_role).await,
        "AddAPIApp" => run(call, add_api_app).await,
        "GetAppByID" => run(call, get_app).await,
        "ListApps" => run(call, list_apps).await,
        "UpdateApp" => run(call, update_app).await,
        "UpdateAPIAppConfig" => run(call, update_api_config).await,
        "RemoveApp" => run(call, remove_app).await,
        "AddAppKey" => run(call, add_app_key).await,
        "GetAppKey" => run(call, get_app_key).await,
        "RemoveAppKey" => run(call, remove_app_key).await,
        "AddUserGrant" => run(call, add_user_grant).await,
        "GetUserGrantByID" => run(call, get_user_grant).await,
        "UpdateUserGrant" => run(call, update_user_grant).await,
        "RemoveUserGrant" => run(call, remove_user_grant).await,
        "AddOrgMember" => run(call, add_org_member).await,
        "ListOrgMembers" => run(call, list_org_members).await,
        "UpdateOrgMember" => run(call, update_org_member).await,
        "RemoveOrgMember" => run(call, remove_org_member).await,
        _ => return None,
    })
}

/// The grpc-gateway routes: (HTTP method, path under `/management/v1`, the
/// `rpc`, the path parameters in order with their request field names).
const REST: &[(&str, &str, &str, &[&str])] = &[
    ("GET", "/users/{id}", "GetUserByID", &["id"]),
    ("POST", "/users/_search", "ListUsers", &[]),
    ("POST", "/users/machine", "AddMachineUser", &[]),
    ("DELETE", "/users/{id}", "RemoveUser", &["id"]),
    ("PUT", "/users/{userId}/username", "UpdateUserName", &["userId"]),
    ("PUT", "/users/{userId}/machine", "UpdateMachine", &["userId"]),
    ("PUT", "/users/{userId}/secret", "GenerateMachineSecret", &["userId"]),
    ("DELETE", "/users/{userId}/secret", "RemoveMachineSecret", &["userId"]),
    ("GET", "/users/{userId}/keys/{keyId}", "GetMachineKeyByIDs", &["userId", "keyId"]),
    ("POST", "/users/{userId}/keys", "AddMachineKey", &["userId"]),
    ("DELETE", "/users/{userId}/keys/{keyId}", "RemoveMachineKey", &["userId", "keyId"]),
    ("GET", "/users/{userId}/pats/{tokenId}", "GetPersonalAccessTokenByIDs", &["userId", "tokenId"]),
    ("POST", "/users/{userId}/pats", "AddPersonalAccessToken", &["userId"]),
    ("DELETE", "/users/{userId}/pats/{tokenId}", "RemovePersonalAccessToken", &["userId", "tokenId"]),
    ("GET", "/orgs/me", "GetMyOrg", &[]),
    ("POST", "/projects", "AddProject", &[]),
    ("GET", "/projects/{id}", "GetProjectByID", &["id"]),
    ("POST", "/projects/_search", "ListProjects", &[]),
    ("PUT", "/projects/{id}", "UpdateProject", &["id"]),
    ("DELETE", "/projects/{id}", "RemoveProject", &["id"]),
    ("POST", "/projects/{projectId}/roles/_search", "ListProjectRoles", &["projectId"]),
    ("POST", "/projects/{projectId}/roles", "AddProjectRole", &["projectId"]),
    ("PUT", "/projects/{projectId}/roles/{roleKey}", "UpdateProjectRole", &["projectId", "roleKey"]),
    ("DELETE", "/projects/{projectId}/roles/{roleKey}", "RemoveProjectRole", &["projectId", "roleKey"]),
    ("POST", "/projects/{projectId}/apps/api", "AddAPIApp", &["projectId"]),
    ("POST", "/projects/{projectId}/apps/_search", "ListApps", &["projectId"]),
    ("GET", "/projects/{projectId}/apps/{appId}", "GetAppByID", &["projectId", "appId"]),
    ("PUT", "/projects/{projectId}/apps/{appId}", "UpdateApp", &["projectId", "appId"]),
    ("PUT", "/projects/{projectId}/apps/{appId}/api_config", "UpdateAPIAppConfig", &["projectId", "appId"]),
    ("DELETE", "/projects/{projectId}/apps/{appId}", "RemoveApp", &["projectId", "appId"]),
    ("POST", "/projects/{projectId}/apps/{appId}/keys", "AddAppKey", &["projectId", "appId"]),
    ("GET", "/projects/{projectId}/apps/{appId}/keys/{keyId}", "GetAppKey", &["projectId", "appId", "keyId"]),
    ("DELETE", "/projects/{projectId}/apps/{appId}/keys/{keyId}", "RemoveAppKey", &["projectId", "appId", "keyId"]),
    ("POST", "/users/{userId}/grants", "AddUserGrant", &["userId"]),
    ("GET", "/users/{userId}/grants/{grantId}", "GetUserGrantByID", &["userId", "grantId"]),
    ("PUT", "/users/{userId}/grants/{grantId}", "UpdateUserGrant", &["userId", "grantId"]),
    ("DELETE", "/users/{userId}/grants/{grantId}", "RemoveUserGrant", &["userId", "grantId"]),
    ("POST", "/orgs/me/members", "AddOrgMember", &[]),
    ("POST", "/orgs/me/members/_search", "ListOrgMembers", &[]),
    ("PUT", "/orgs/me/members/{userId}", "UpdateOrgMember", &["userId"]),
    ("DELETE", "/orgs/me/members/{userId}", "RemoveOrgMember", &["userId"]),
];

/// Mounts the v1 REST routes in one scope, so that other paths skip them at
/// the prefix. Static segments first, so `/users/machine` and `/users/_search`
/// do not match `/users/{id}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let mut rows: Vec<_> = REST.iter().collect();
    rows.sort_by_key(|(_, path, _, _)| path.contains("{id}"));
    let mut scope = web::scope("/management/v1");
    for &(verb, path, rpc, params) in rows {
        let route = match verb {
            "GET" => web::get(),
            "POST" => web::post(),
            "PUT" => web::put(),
            _ => web::delete(),
        };
        scope =
            scope.route(path, route.to(move |req: HttpRequest, payload: web::Payload| rest(req, payload, rpc, params)));
    }
    cfg.service(scope);
}

/// One REST call: path parameters set on the body, then the same handler.
async fn rest(
    req: HttpRequest,
    payload: web::Payload,
    rpc: &'static str,
    params: &'static [&'static str],
) -> Result<HttpResponse, GatewayError> {
    let values: Vec<(&str, String)> =
        params.iter().map(|p| (*p, req.match_info().get(p).unwrap_or_default().to_owned())).collect();
    let call = RestCall::new(req, payload, &values).await?;
    let answer = dispatch(rpc, call.call()).await.unwrap_or_else(|| {
        Err(ApiError::new(crate::error::ConnectCode::Unimplemented, format!("unknown method {SERVICE}/{rpc}")))
    })?;
    Ok(super::call::ok(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// v1 `ListUsers` is read as v2's: every v1 query converts unchanged.
    #[test]
    fn v1_user_list_requests_are_twins_of_v2s() {
        let text = |name: &str| serde_json::json!({name: {"userName": "a", "method": "TEXT_QUERY_METHOD_CONTAINS"}});
        crate::api::v2::assert_twins::<mgmt::ListUsersRequest, ListUsersRequest>(serde_json::json!({
            "query": {"offset": "5", "limit": 10, "asc": true},
            "sortingColumn": "USER_FIELD_NAME_EMAIL",
            "queries": [
                text("userNameQuery"),
                {"firstNameQuery": {"firstName": "f", "method": "TEXT_QUERY_METHOD_EQUALS"}},
                {"lastNameQuery": {"lastName": "l", "method": "TEXT_QUERY_METHOD_EQUALS_IGNORE_CASE"}},
                {"nickNameQuery": {"nickName": "n"}},
                {"displayNameQuery": {"displayName": "d", "method": "TEXT_QUERY_METHOD_STARTS_WITH"}},
                {"emailQuery": {"emailAddress": "e", "method": "TEXT_QUERY_METHOD_ENDS_WITH"}},
                {"stateQuery": {"state": "USER_STATE_LOCKED"}},
                {"typeQuery": {"type": "TYPE_MACHINE"}},
                {"loginNameQuery": {"loginName": "x", "method": "TEXT_QUERY_METHOD_CONTAINS_IGNORE_CASE"}},
                {"inUserIdsQuery": {"userIds": ["1", "2"]}},
                {"orQuery": {"queries": [{"andQuery": {"queries": [{"notQuery": {"query": text("userNameQuery")}}]}}]}},
                {"inUserEmailsQuery": {"userEmails": ["a@b"]}},
            ],
        }));
    }

    #[test]
    fn every_rest_route_names_a_dispatched_method_of_the_proto() {
        for (_, _, rpc, _) in REST {
            assert!(tessera_proto::method(SERVICE, rpc).is_some(), "{rpc} is not in proto/");
        }
    }
}
