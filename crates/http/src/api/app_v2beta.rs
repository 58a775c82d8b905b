//! `zitadel.app.v2beta.AppService`: the v2beta spelling of the application
//! service, which the official SDKs still call. Each call converts its
//! v2beta message (`proto/zitadel/app/v2beta`) to v2's, runs the v2 handler,
//! and converts the answer back. Where the two versions share field numbers
//! (ids renamed `id`/`appId`/`keyId`, `APP_STATE_*` for `APPLICATION_STATE_*`)
//! the binary encoding converts ([`recode`]); the rest is mapped field by
//! field: requests that number their ids the other way round, the request and
//! response variants (`apiRequest` for `apiConfiguration`, …), the top-level
//! `projectId` and `…AppOnly` filters of `ListApplications`, the resource id
//! of `ListApplicationKeys`, and `RegenerateClientSecret` for
//! `GenerateClientSecret`. v2beta's `Application` has no `projectId`. Only API
//! applications exist, as in v2.

use tessera_proto::zitadel::app::v2beta as beta;
use tessera_proto::zitadel::application::v2;

use super::application as app;
use super::call::{Answer, Call, GatewayRoute, gateway_routes};
use super::v2::{recode, run_as_v2};
use super::wire;
use crate::error::ApiError;
use tessera_core::Ctx;

async fn create_application(
    ctx: Ctx,
    req: beta::CreateApplicationRequest,
) -> Result<beta::CreateApplicationResponse, ApiError> {
    use beta::create_application_request::CreationRequestType as B;
    use v2::create_application_request::ApplicationType as V;
    let kind = match req.creation_request_type {
        None => None,
        Some(B::ApiRequest(c)) => Some(V::ApiConfiguration(recode(&c)?)),
        Some(B::OidcRequest(_)) => Some(V::OidcConfiguration(v2::CreateOidcApplicationRequest {})),
        Some(B::SamlRequest(_)) => Some(V::SamlConfiguration(v2::CreateSamlApplicationRequest {})),
    };
    let v2 = v2::CreateApplicationRequest {
        project_id: req.project_id,
        application_id: req.id,
        name: req.name,
        application_type: kind,
    };
    let created = app::create_application(ctx, v2).await?;
    let api = created.application_type.map(|t| match t {
        v2::create_application_response::ApplicationType::ApiConfiguration(c) => c,
    });
    Ok(beta::CreateApplicationResponse {
        app_id: created.application_id,
        creation_date: created.creation_date,
        creation_response_type: api
            .map(|c| recode(&c).map(beta::create_application_response::CreationResponseType::ApiResponse))
            .transpose()?,
    })
}

async fn update_application(
    ctx: Ctx,
    req: beta::UpdateApplicationRequest,
) -> Result<beta::UpdateApplicationResponse, ApiError> {
    use beta::update_application_request::UpdateRequestType as B;
    use v2::update_application_request::ApplicationType as V;
    let kind = match req.update_request_type {
        None => None,
        Some(B::ApiConfigurationRequest(c)) => Some(V::ApiConfiguration(recode(&c)?)),
        Some(B::OidcConfigurationRequest(_)) => {
            Some(V::OidcConfiguration(v2::UpdateOidcApplicationConfigurationRequest {}))
        }
        Some(B::SamlConfigurationRequest(_)) => {
            Some(V::SamlConfiguration(v2::UpdateSamlApplicationConfigurationRequest {}))
        }
    };
    let v2 = v2::UpdateApplicationRequest {
        application_id: req.id,
        project_id: req.project_id,
        name: req.name,
        application_type: kind,
    };
    recode(&app::update_application(ctx, v2).await?)
}

async fn deactivate_application(
    ctx: Ctx,
    req: beta::DeactivateApplicationRequest,
) -> Result<beta::DeactivateApplicationResponse, ApiError> {
    let v2 = v2::DeactivateApplicationRequest { application_id: req.id, project_id: req.project_id };
    recode(&app::deactivate_application(ctx, v2).await?)
}

async fn reactivate_application(
    ctx: Ctx,
    req: beta::ReactivateApplicationRequest,
) -> Result<beta::ReactivateApplicationResponse, ApiError> {
    let v2 = v2::ReactivateApplicationRequest { application_id: req.id, project_id: req.project_id };
    recode(&app::reactivate_application(ctx, v2).await?)
}

async fn delete_application(
    ctx: Ctx,
    req: beta::DeleteApplicationRequest,
) -> Result<beta::DeleteApplicationResponse, ApiError> {
    let v2 = v2::DeleteApplicationRequest { application_id: req.id, project_id: req.project_id };
    recode(&app::delete_application(ctx, v2).await?)
}

async fn regenerate_client_secret(
    ctx: Ctx,
    req: beta::RegenerateClientSecretRequest,
) -> Result<beta::RegenerateClientSecretResponse, ApiError> {
    let v2 = v2::GenerateClientSecretRequest { application_id: req.application_id, project_id: req.project_id };
    recode(&app::generate_client_secret(ctx, v2).await?)
}

/// A v2beta application filter as v2's: `…AppOnly` are type filters.
fn filter(f: &beta::ApplicationSearchFilter) -> Result<v2::ApplicationSearchFilter, ApiError> {
    use beta::application_search_filter::Filter as B;
    use v2::application_search_filter::Filter as V;
    let only = |t: v2::ApplicationType| V::TypeFilter(t.into());
    let filter = match &f.filter {
        None => return Err(wire::one_filter_error().into()),
        Some(B::NameFilter(n)) => V::NameFilter(recode(n)?),
        // APP_STATE_* and APPLICATION_STATE_* number the states alike.
        Some(B::StateFilter(s)) => V::StateFilter(*s),
        Some(B::ApiAppOnly(_)) => only(v2::ApplicationType::Api),
        Some(B::OidcAppOnly(_)) => only(v2::ApplicationType::Oidc),
        Some(B::SamlAppOnly(_)) => only(v2::ApplicationType::Saml),
    };
    Ok(v2::ApplicationSearchFilter { filter: Some(filter) })
}

async fn list_applications(
    ctx: Ctx,
    req: beta::ListApplicationsRequest,
) -> Result<beta::ListApplicationsResponse, ApiError> {
    let mut filters = Vec::with_capacity(req.filters.len() + 1);
    if !req.project_id.is_empty() {
        let project = v2::ProjectIdFilter { project_id: req.project_id.clone() };
        filters.push(v2::ApplicationSearchFilter {
            filter: Some(v2::application_search_filter::Filter::ProjectIdFilter(project)),
        });
    }
    for f in &req.filters {
        filters.push(filter(f)?);
    }
    // APP_SORT_BY_* and APPLICATION_SORT_BY_* number the columns alike.
    let v2 = v2::ListApplicationsRequest { pagination: req.pagination, sorting_column: req.sorting_column, filters };
    recode(&app::list_applications(ctx, v2).await?)
}

async fn list_application_keys(
    ctx: Ctx,
    req: beta::ListApplicationKeysRequest,
) -> Result<beta::ListApplicationKeysResponse, ApiError> {
    use beta::list_application_keys_request::ResourceId as B;
    use v2::application_key_search_filter::Filter as V;
    let filter = match req.resource_id {
        Some(B::ApplicationId(id)) if !id.is_empty() => {
            Some(V::ApplicationIdFilter(v2::ApplicationKeyApplicationIdFilter { application_id: id }))
        }
        Some(B::ProjectId(id)) if !id.is_empty() => {
            Some(V::ProjectIdFilter(v2::ApplicationKeyProjectIdFilter { project_id: id }))
        }
        Some(B::OrganizationId(id)) if !id.is_empty() => {
            Some(V::OrganizationIdFilter(v2::ApplicationKeyOrganizationIdFilter { organization_id: id }))
        }
        _ => None,
    };
    let v2 = v2::ListApplicationKeysRequest {
        pagination: req.pagination,
        sorting_column: req.sorting_column,
        filters: filter.map(|f| v2::ApplicationKeySearchFilter { filter: Some(f) }).into_iter().collect(),
    };
    recode(&app::list_application_keys(ctx, v2).await?)
}

async fn delete_application_key(
    ctx: Ctx,
    req: beta::DeleteApplicationKeyRequest,
) -> Result<beta::DeleteApplicationKeyResponse, ApiError> {
    let v2 = v2::DeleteApplicationKeyRequest {
        key_id: req.id,
        application_id: req.application_id,
        project_id: req.project_id,
    };
    recode(&app::delete_application_key(ctx, v2).await?)
}

/// Dispatches a call; `None` for an unknown method (v2's
/// `GenerateClientSecret` is v2beta's `RegenerateClientSecret`).
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateApplication" => call.run(create_application).await,
        "GetApplication" => {
            run_as_v2!(call, beta::GetApplicationRequest, beta::GetApplicationResponse, app::get_application)
        }
        "ListApplications" => call.run(list_applications).await,
        "UpdateApplication" => call.run(update_application).await,
        "DeactivateApplication" => call.run(deactivate_application).await,
        "ReactivateApplication" => call.run(reactivate_application).await,
        "DeleteApplication" => call.run(delete_application).await,
        "RegenerateClientSecret" => call.run(regenerate_client_secret).await,
        "CreateApplicationKey" => {
            run_as_v2!(
                call,
                beta::CreateApplicationKeyRequest,
                beta::CreateApplicationKeyResponse,
                app::create_application_key
            )
        }
        "GetApplicationKey" => {
            run_as_v2!(call, beta::GetApplicationKeyRequest, beta::GetApplicationKeyResponse, app::get_application_key)
        }
        "ListApplicationKeys" => call.run(list_application_keys).await,
        "DeleteApplicationKey" => call.run(delete_application_key).await,
        _ => return None,
    })
}

/// ZITADEL's grpc-gateway paths of the v2beta service.
const REST: &[GatewayRoute] = &[
    ("POST", "/v2beta/applications", "CreateApplication"),
    ("POST", "/v2beta/applications/search", "ListApplications"),
    ("GET", "/v2beta/applications/{id}", "GetApplication"),
    ("PATCH", "/v2beta/applications/{id}", "UpdateApplication"),
    ("DELETE", "/v2beta/applications/{id}", "DeleteApplication"),
    ("POST", "/v2beta/applications/{id}/deactivate", "DeactivateApplication"),
    ("POST", "/v2beta/applications/{id}/reactivate", "ReactivateApplication"),
    ("POST", "/v2beta/applications/{applicationId}/generate_client_secret", "RegenerateClientSecret"),
    ("POST", "/v2beta/application_keys", "CreateApplicationKey"),
    ("POST", "/v2beta/application_keys/search", "ListApplicationKeys"),
    ("GET", "/v2beta/application_keys/{id}", "GetApplicationKey"),
    ("DELETE", "/v2beta/application_keys/{id}", "DeleteApplicationKey"),
];

gateway_routes!(REST, dispatch);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::v2::assert_twins;
    use serde_json::Value;

    fn msg<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn every_message_converted_by_its_encoding_is_v2s_twin() {
        let ts = "2030-01-02T03:04:05.600Z";
        let beta_app = json!({"id": "a", "creationDate": ts, "changeDate": ts, "state": "APP_STATE_INACTIVE",
            "name": "n", "apiConfig": {"clientId": "c", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}});
        let page = json!({"totalResult": "1", "appliedLimit": "2"});
        assert_twins::<beta::GetApplicationRequest, v2::GetApplicationRequest>(json!({"id": "a"}));
        assert_twins::<beta::GetApplicationResponse, v2::GetApplicationResponse>(json!({"app": beta_app}));
        assert_twins::<beta::ListApplicationsResponse, v2::ListApplicationsResponse>(
            json!({"applications": [beta_app], "pagination": page}),
        );
        assert_twins::<beta::UpdateApplicationResponse, v2::UpdateApplicationResponse>(json!({"changeDate": ts}));
        assert_twins::<beta::DeactivateApplicationResponse, v2::DeactivateApplicationResponse>(
            json!({"deactivationDate": ts}),
        );
        assert_twins::<beta::ReactivateApplicationResponse, v2::ReactivateApplicationResponse>(
            json!({"reactivationDate": ts}),
        );
        assert_twins::<beta::DeleteApplicationResponse, v2::DeleteApplicationResponse>(json!({"deletionDate": ts}));
        assert_twins::<beta::RegenerateClientSecretResponse, v2::GenerateClientSecretResponse>(
            json!({"clientSecret": "s", "creationDate": ts}),
        );
        assert_twins::<beta::CreateApiApplicationRequest, v2::CreateApiApplicationRequest>(
            json!({"authMethodType": 1}),
        );
        assert_twins::<beta::CreateApiApplicationResponse, v2::CreateApiApplicationResponse>(
            json!({"clientId": "c", "clientSecret": "s"}),
        );
        assert_twins::<beta::UpdateApiApplicationConfigurationRequest, v2::UpdateApiApplicationConfigurationRequest>(
            json!({"authMethodType": 1}),
        );
        assert_twins::<beta::ApplicationNameQuery, v2::ApplicationNameFilter>(json!({"name": "n", "method": 4}));
        assert_twins::<beta::CreateApplicationKeyRequest, v2::CreateApplicationKeyRequest>(
            json!({"appId": "a", "projectId": "p", "expirationDate": ts}),
        );
        assert_twins::<beta::CreateApplicationKeyResponse, v2::CreateApplicationKeyResponse>(
            json!({"id": "k", "creationDate": ts, "keyDetails": "a2V5"}),
        );
        assert_twins::<beta::GetApplicationKeyRequest, v2::GetApplicationKeyRequest>(json!({"id": "k"}));
        assert_twins::<beta::GetApplicationKeyResponse, v2::GetApplicationKeyResponse>(
            json!({"id": "k", "creationDate": ts, "expirationDate": ts}),
        );
        assert_twins::<beta::ListApplicationKeysResponse, v2::ListApplicationKeysResponse>(json!({"keys": [{"id": "k",
            "applicationId": "a", "projectId": "p", "creationDate": ts, "organizationId": "o", "expirationDate": ts}],
            "pagination": page}));
        assert_twins::<beta::DeleteApplicationKeyResponse, v2::DeleteApplicationKeyResponse>(
            json!({"deletionDate": ts}),
        );
    }

    #[test]
    fn v2s_application_loses_only_its_project_id() {
        let v2: v2::Application = msg(json!({"applicationId": "a", "name": "n", "projectId": "p",
            "state": "APPLICATION_STATE_ACTIVE", "apiConfiguration": {"clientId": "c"}}));
        let beta: beta::Application = recode(&v2).unwrap();
        assert_eq!(
            serde_json::to_value(&beta).unwrap(),
            json!({"id": "a", "name": "n", "state": "APP_STATE_ACTIVE", "apiConfig": {"clientId": "c"}})
        );
    }

    #[test]
    fn app_only_filters_are_type_filters() {
        let of = |v: Value| serde_json::to_value(filter(&msg(v)).unwrap()).unwrap();
        assert_eq!(of(json!({"apiAppOnly": true})), json!({"typeFilter": "APPLICATION_TYPE_API"}));
        assert_eq!(of(json!({"oidcAppOnly": true})), json!({"typeFilter": "APPLICATION_TYPE_OIDC"}));
        assert_eq!(of(json!({"stateFilter": "APP_STATE_ACTIVE"})), json!({"stateFilter": "APPLICATION_STATE_ACTIVE"}));
        assert!(filter(&beta::ApplicationSearchFilter::default()).is_err());
    }
}
