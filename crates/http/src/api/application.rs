//! `zitadel.application.v2.ApplicationService`: API applications with their
//! client secrets and keys, on the generated messages of
//! `proto/zitadel/application/v2`. The v2beta service maps its messages onto
//! these handlers (`app_v2beta`).
//!
//! Tessera's differences: only API applications exist (`oidcConfiguration` and
//! `samlConfiguration` are refused; filters for other types match nothing);
//! ids are UUIDs and the `clientId` is the application id.

use tessera_domain::application::{ApiAuthMethod, AppName, AppState};
use tessera_domain::repo::{AppFilter, AppKeyFilter, AppKeySort, AppKeyWithOwner, AppSort, AppWithOwner};
use tessera_domain::{AppKeyId, ApplicationId, OrgId, ProjectId};
use tessera_proto::zitadel::application::v2 as pb;

use super::call::{Answer, Call};
use super::v2::{from_ts, pagination, pagination_response, required_id, text_filter_of, ts};
use super::wire;
use crate::error::{ApiError, ServiceError};
use tessera_core::Ctx;
use tessera_core::applications::{self, AppStateChange, AppUpdate, NewApp};

fn auth_method(m: i32) -> Result<ApiAuthMethod, ServiceError> {
    match pb::ApiAuthMethodType::try_from(m) {
        Ok(pb::ApiAuthMethodType::Basic) => Ok(ApiAuthMethod::Basic),
        Ok(pb::ApiAuthMethodType::PrivateKeyJwt) => Ok(ApiAuthMethod::PrivateKeyJwt),
        Err(_) => Err(ServiceError::invalid("authMethodType is not an APIAuthMethodType")),
    }
}

fn wire_auth_method(m: ApiAuthMethod) -> pb::ApiAuthMethodType {
    match m {
        ApiAuthMethod::Basic => pb::ApiAuthMethodType::Basic,
        ApiAuthMethod::PrivateKeyJwt => pb::ApiAuthMethodType::PrivateKeyJwt,
    }
}

/// The wire form of an application (every Tessera application is an API
/// application).
#[must_use]
pub fn application(a: &AppWithOwner) -> pb::Application {
    let app = &a.app;
    let state = match app.state {
        AppState::Active => pb::ApplicationState::Active,
        AppState::Inactive => pb::ApplicationState::Inactive,
    };
    pb::Application {
        application_id: app.id.to_string(),
        creation_date: ts(app.created_at),
        change_date: ts(app.updated_at),
        state: state.into(),
        name: app.name.to_string(),
        configuration: Some(pb::application::Configuration::ApiConfiguration(pb::ApiConfiguration {
            client_id: app.client_id.clone(),
            auth_method_type: wire_auth_method(app.auth_method).into(),
        })),
        project_id: app.project_id.to_string(),
    }
}

fn app_id(v: &str) -> Result<ApplicationId, ServiceError> {
    required_id("applicationId", v, ApplicationId::parse)
}

fn opt_project(v: &str) -> Result<Option<ProjectId>, ServiceError> {
    if v.trim().is_empty() { Ok(None) } else { required_id("projectId", v, ProjectId::parse).map(Some) }
}

/// The refusal of an OIDC or SAML configuration.
fn only_api() -> ServiceError {
    ServiceError::invalid("Tessera supports API applications only (apiConfiguration)")
}

// ----------------------------------------------------------------------------
// Applications

/// `CreateApplication`; the secret of a `BASIC` application is in the
/// answer, once.
pub async fn create_application(
    ctx: Ctx,
    req: pb::CreateApplicationRequest,
) -> Result<pb::CreateApplicationResponse, ApiError> {
    use pb::create_application_request::ApplicationType as T;
    let config = match req.application_type {
        Some(T::ApiConfiguration(c)) => c,
        Some(T::OidcConfiguration(_) | T::SamlConfiguration(_)) => return Err(only_api().into()),
        None => return Err(ServiceError::invalid("apiConfiguration is required").into()),
    };
    let project_id = required_id("projectId", &req.project_id, ProjectId::parse)?;
    let id = match req.application_id.trim() {
        "" => None,
        id => Some(
            ApplicationId::parse(id)
                .map_err(|_| ServiceError::invalid("applicationId must be a UUID in Tessera (or be left out)"))?,
        ),
    };
    let new =
        NewApp { project_id, id, name: AppName::parse(&req.name)?, auth_method: auth_method(config.auth_method_type)? };
    let (created, secret) = applications::create(&ctx, new).await?;
    Ok(pb::CreateApplicationResponse {
        application_id: created.app.id.to_string(),
        creation_date: ts(created.app.created_at),
        application_type: Some(pb::create_application_response::ApplicationType::ApiConfiguration(
            pb::CreateApiApplicationResponse {
                client_id: created.app.client_id.clone(),
                client_secret: secret.map(|s| s.expose_secret().to_owned()).unwrap_or_default(),
            },
        )),
    })
}

/// `GetApplication`.
pub async fn get_application(ctx: Ctx, req: pb::GetApplicationRequest) -> Result<pb::GetApplicationResponse, ApiError> {
    let found = applications::get(&ctx, app_id(&req.application_id)?).await?;
    Ok(pb::GetApplicationResponse { application: Some(application(&found)) })
}

/// One filter; `None` for one every Tessera application passes (API type).
fn app_filter(f: &pb::ApplicationSearchFilter) -> Result<Option<AppFilter>, ServiceError> {
    use pb::application_search_filter::Filter;
    Ok(Some(match &f.filter {
        None => return Err(wire::one_filter_error()),
        Some(Filter::ClientIdFilter(f)) => AppFilter::ClientId(f.client_id.clone()),
        // SAML entity ids belong to SAML applications, which Tessera has none of.
        Some(Filter::EntityIdFilter(_)) => AppFilter::Nothing,
        Some(Filter::NameFilter(f)) => AppFilter::Name(text_filter_of(&f.name, f.method, "nameFilter.name")?),
        Some(Filter::ProjectIdFilter(f)) => {
            ProjectId::parse(&f.project_id).map_or(AppFilter::Nothing, AppFilter::Project)
        }
        Some(Filter::StateFilter(s)) => match pb::ApplicationState::try_from(*s) {
            Ok(pb::ApplicationState::Active) => AppFilter::State(AppState::Active),
            Ok(pb::ApplicationState::Inactive) => AppFilter::State(AppState::Inactive),
            Ok(pb::ApplicationState::Removed | pb::ApplicationState::Unspecified) => AppFilter::Nothing,
            Err(_) => return Err(ServiceError::invalid("stateFilter is not an ApplicationState")),
        },
        Some(Filter::TypeFilter(t)) => match pb::ApplicationType::try_from(*t) {
            Ok(pb::ApplicationType::Api) => return Ok(None),
            Ok(_) => AppFilter::Nothing,
            Err(_) => return Err(ServiceError::invalid("typeFilter is not an ApplicationType")),
        },
    }))
}

/// `ListApplications`.
pub async fn list_applications(
    ctx: Ctx,
    req: pb::ListApplicationsRequest,
) -> Result<pb::ListApplicationsResponse, ApiError> {
    use pb::ApplicationSorting as S;
    let mut filters = Vec::new();
    for f in &req.filters {
        filters.extend(app_filter(f)?);
    }
    let sort = match S::try_from(req.sorting_column) {
        Ok(S::ApplicationSortById) => AppSort::Id,
        Ok(S::ApplicationSortByName) => AppSort::Name,
        Ok(S::ApplicationSortByState) => AppSort::State,
        Ok(S::ApplicationSortByCreationDate) => AppSort::CreatedAt,
        Ok(S::ApplicationSortByChangeDate) => AppSort::ChangedAt,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not an ApplicationSorting").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = applications::list(&ctx, filters, sort, page).await?;
    Ok(pb::ListApplicationsResponse {
        applications: listed.items.iter().map(application).collect(),
        pagination: pagination_response(listed.total, page),
    })
}

/// `UpdateApplication`: an empty name keeps the name; an API configuration
/// sets the authentication method.
pub async fn update_application(
    ctx: Ctx,
    req: pb::UpdateApplicationRequest,
) -> Result<pb::UpdateApplicationResponse, ApiError> {
    use pb::update_application_request::ApplicationType as T;
    let auth = match &req.application_type {
        Some(T::ApiConfiguration(c)) => Some(auth_method(c.auth_method_type)?),
        Some(T::OidcConfiguration(_) | T::SamlConfiguration(_)) => return Err(only_api().into()),
        None => None,
    };
    let id = app_id(&req.application_id)?;
    let project = opt_project(&req.project_id)?;
    let change = AppUpdate {
        name: Some(req.name.as_str()).filter(|n| !n.is_empty()).map(AppName::parse).transpose()?,
        auth_method: auth,
    };
    let found = applications::update(&ctx, id, project, change).await?;
    Ok(pb::UpdateApplicationResponse { change_date: ts(found.app.updated_at) })
}

/// `DeactivateApplication`.
pub async fn deactivate_application(
    ctx: Ctx,
    req: pb::DeactivateApplicationRequest,
) -> Result<pb::DeactivateApplicationResponse, ApiError> {
    let (id, project) = (app_id(&req.application_id)?, opt_project(&req.project_id)?);
    let found = applications::change_state(&ctx, id, project, AppStateChange::Deactivate).await?;
    Ok(pb::DeactivateApplicationResponse { deactivation_date: ts(found.app.updated_at) })
}

/// `ReactivateApplication`.
pub async fn reactivate_application(
    ctx: Ctx,
    req: pb::ReactivateApplicationRequest,
) -> Result<pb::ReactivateApplicationResponse, ApiError> {
    let (id, project) = (app_id(&req.application_id)?, opt_project(&req.project_id)?);
    let found = applications::change_state(&ctx, id, project, AppStateChange::Reactivate).await?;
    Ok(pb::ReactivateApplicationResponse { reactivation_date: ts(found.app.updated_at) })
}

/// `DeleteApplication` (with its keys).
pub async fn delete_application(
    ctx: Ctx,
    req: pb::DeleteApplicationRequest,
) -> Result<pb::DeleteApplicationResponse, ApiError> {
    applications::delete(&ctx, app_id(&req.application_id)?, opt_project(&req.project_id)?).await?;
    Ok(pb::DeleteApplicationResponse { deletion_date: ts(ctx.now()) })
}

/// `GenerateClientSecret`: the new secret, once.
pub async fn generate_client_secret(
    ctx: Ctx,
    req: pb::GenerateClientSecretRequest,
) -> Result<pb::GenerateClientSecretResponse, ApiError> {
    let (found, secret) =
        applications::generate_secret(&ctx, app_id(&req.application_id)?, opt_project(&req.project_id)?).await?;
    Ok(pb::GenerateClientSecretResponse {
        client_secret: secret.expose_secret().to_owned(),
        creation_date: ts(found.app.updated_at),
    })
}

// ----------------------------------------------------------------------------
// Keys

/// `CreateApplicationKey`: the key file, once, as `keyDetails`.
pub async fn create_application_key(
    ctx: Ctx,
    req: pb::CreateApplicationKeyRequest,
) -> Result<pb::CreateApplicationKeyResponse, ApiError> {
    let expires = match req.expiration_date {
        None => None,
        some => Some(from_ts(some).ok_or_else(|| ServiceError::invalid("expirationDate is not a valid time"))?),
    };
    let created =
        applications::create_key(&ctx, app_id(&req.application_id)?, opt_project(&req.project_id)?, expires).await?;
    Ok(pb::CreateApplicationKeyResponse {
        key_id: created.key.id.to_string(),
        creation_date: ts(created.key.created_at),
        key_details: created.file.as_bytes().to_vec(),
    })
}

fn key_id(v: &str) -> Result<AppKeyId, ServiceError> {
    required_id("keyId", v, AppKeyId::parse)
}

/// `GetApplicationKey`.
pub async fn get_application_key(
    ctx: Ctx,
    req: pb::GetApplicationKeyRequest,
) -> Result<pb::GetApplicationKeyResponse, ApiError> {
    let found = applications::get_key(&ctx, key_id(&req.key_id)?).await?;
    Ok(pb::GetApplicationKeyResponse {
        key_id: found.key.id.to_string(),
        creation_date: ts(found.key.created_at),
        expiration_date: ts(found.key.expires_at),
    })
}

fn key_filter(f: &pb::ApplicationKeySearchFilter) -> Result<AppKeyFilter, ServiceError> {
    use pb::application_key_search_filter::Filter;
    let parsed = match &f.filter {
        None => return Err(wire::one_filter_error()),
        Some(Filter::ApplicationIdFilter(f)) => ApplicationId::parse(&f.application_id).ok().map(AppKeyFilter::App),
        Some(Filter::OrganizationIdFilter(f)) => OrgId::parse(&f.organization_id).ok().map(AppKeyFilter::Org),
        Some(Filter::ProjectIdFilter(f)) => ProjectId::parse(&f.project_id).ok().map(AppKeyFilter::Project),
    };
    // An id that is not a UUID matches no key: a fresh application id has none.
    Ok(parsed.unwrap_or_else(|| AppKeyFilter::App(ApplicationId::new())))
}

fn app_key(k: &AppKeyWithOwner) -> pb::ApplicationKey {
    pb::ApplicationKey {
        key_id: k.key.id.to_string(),
        application_id: k.key.app_id.to_string(),
        project_id: k.project_id.to_string(),
        creation_date: ts(k.key.created_at),
        organization_id: k.org_id.to_string(),
        expiration_date: ts(k.key.expires_at),
    }
}

/// `ListApplicationKeys`.
pub async fn list_application_keys(
    ctx: Ctx,
    req: pb::ListApplicationKeysRequest,
) -> Result<pb::ListApplicationKeysResponse, ApiError> {
    use pb::ApplicationKeysSorting as S;
    let filters = req.filters.iter().map(key_filter).collect::<Result<Vec<_>, _>>()?;
    let sort = match S::try_from(req.sorting_column) {
        Ok(S::ApplicationKeysSortById | S::ApplicationKeysSortByType) => AppKeySort::Id,
        Ok(S::ApplicationKeysSortByProjectId) => AppKeySort::Project,
        Ok(S::ApplicationKeysSortByApplicationId) => AppKeySort::App,
        Ok(S::ApplicationKeysSortByCreationDate) => AppKeySort::CreatedAt,
        Ok(S::ApplicationKeysSortByOrganizationId) => AppKeySort::Org,
        Ok(S::ApplicationKeysSortByExpiration) => AppKeySort::ExpiresAt,
        Err(_) => return Err(ServiceError::invalid("sortingColumn is not an ApplicationKeysSorting").into()),
    };
    let page = pagination(req.pagination.as_ref())?;
    let listed = applications::list_keys(&ctx, filters, sort, page).await?;
    Ok(pb::ListApplicationKeysResponse {
        keys: listed.items.iter().map(app_key).collect(),
        pagination: pagination_response(listed.total, page),
    })
}

/// `DeleteApplicationKey`: `applicationId` and `projectId`, when sent, must be
/// the key's.
pub async fn delete_application_key(
    ctx: Ctx,
    req: pb::DeleteApplicationKeyRequest,
) -> Result<pb::DeleteApplicationKeyResponse, ApiError> {
    let app = if req.application_id.trim().is_empty() { None } else { Some(app_id(&req.application_id)?) };
    applications::delete_key(&ctx, key_id(&req.key_id)?, app, opt_project(&req.project_id)?).await?;
    Ok(pb::DeleteApplicationKeyResponse { deletion_date: ts(ctx.now()) })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Answer, ApiError>> {
    Some(match method {
        "CreateApplication" => call.run(create_application).await,
        "GetApplication" => call.run(get_application).await,
        "ListApplications" => call.run(list_applications).await,
        "UpdateApplication" => call.run(update_application).await,
        "DeactivateApplication" => call.run(deactivate_application).await,
        "ReactivateApplication" => call.run(reactivate_application).await,
        "DeleteApplication" => call.run(delete_application).await,
        "GenerateClientSecret" => call.run(generate_client_secret).await,
        "CreateApplicationKey" => call.run(create_application_key).await,
        "GetApplicationKey" => call.run(get_application_key).await,
        "ListApplicationKeys" => call.run(list_application_keys).await,
        "DeleteApplicationKey" => call.run(delete_application_key).await,
        _ => return None,
    })
}
