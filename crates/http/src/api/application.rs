//! `zitadel.application.v2.ApplicationService`: API applications with their
//! client secrets and keys, in the request and response shapes of ZITADEL's
//! `application/v2/application_service.proto`.
//!
//! Tessera's differences: only API applications exist (`oidcConfiguration` and
//! `samlConfiguration` are refused; filters for other types match nothing);
//! ids are UUIDs and the `clientId` is the application id.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tessera_domain::application::{ApiAuthMethod, AppName, AppState};
use tessera_domain::repo::{AppFilter, AppKeyFilter, AppKeySort, AppKeyWithOwner, AppSort, AppWithOwner};
use tessera_domain::{AppKeyId, ApplicationId, OrgId, ProjectId, Timestamp};

use super::call::Call;
use super::v2::{
    ChangeDateResponse, DeletionDateResponse, ListQuery, PaginationResponse, TextFilterMethod, required_id, text_filter,
};
use super::wire;
use crate::error::{ApiError, ServiceError};
use crate::proto_enum;
use tessera_core::Ctx;
use tessera_core::applications::{self, AppStateChange, AppUpdate, NewApp};

proto_enum!(
    /// `zitadel.application.v2.ApplicationState`.
    WireAppState {
        #[default]
        Unspecified = 0 => "APPLICATION_STATE_UNSPECIFIED",
        Active = 1 => "APPLICATION_STATE_ACTIVE",
        Inactive = 2 => "APPLICATION_STATE_INACTIVE",
        Removed = 3 => "APPLICATION_STATE_REMOVED",
    }
);

impl From<AppState> for WireAppState {
    fn from(s: AppState) -> Self {
        match s {
            AppState::Active => Self::Active,
            AppState::Inactive => Self::Inactive,
        }
    }
}

proto_enum!(
    /// `zitadel.application.v2.APIAuthMethodType`.
    WireApiAuthMethod {
        #[default]
        Basic = 0 => "API_AUTH_METHOD_TYPE_BASIC",
        PrivateKeyJwt = 1 => "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT",
    }
);

impl From<WireApiAuthMethod> for ApiAuthMethod {
    fn from(m: WireApiAuthMethod) -> Self {
        match m {
            WireApiAuthMethod::Basic => Self::Basic,
            WireApiAuthMethod::PrivateKeyJwt => Self::PrivateKeyJwt,
        }
    }
}

impl From<ApiAuthMethod> for WireApiAuthMethod {
    fn from(m: ApiAuthMethod) -> Self {
        match m {
            ApiAuthMethod::Basic => Self::Basic,
            ApiAuthMethod::PrivateKeyJwt => Self::PrivateKeyJwt,
        }
    }
}

proto_enum!(
    /// `zitadel.application.v2.ApplicationType`.
    WireAppType {
        #[default]
        Unspecified = 0 => "APPLICATION_TYPE_UNSPECIFIED",
        Oidc = 1 => "APPLICATION_TYPE_OIDC",
        Api = 2 => "APPLICATION_TYPE_API",
        Saml = 3 => "APPLICATION_TYPE_SAML",
    }
);

proto_enum!(
    /// `zitadel.application.v2.ApplicationSorting`.
    AppSorting {
        #[default]
        Id = 0 => "APPLICATION_SORT_BY_ID",
        Name = 1 => "APPLICATION_SORT_BY_NAME",
        State = 2 => "APPLICATION_SORT_BY_STATE",
        CreationDate = 3 => "APPLICATION_SORT_BY_CREATION_DATE",
        ChangeDate = 4 => "APPLICATION_SORT_BY_CHANGE_DATE",
    }
);

proto_enum!(
    /// `zitadel.application.v2.ApplicationKeysSorting`.
    AppKeysSorting {
        #[default]
        Id = 0 => "APPLICATION_KEYS_SORT_BY_ID",
        ProjectId = 1 => "APPLICATION_KEYS_SORT_BY_PROJECT_ID",
        ApplicationId = 2 => "APPLICATION_KEYS_SORT_BY_APPLICATION_ID",
        CreationDate = 3 => "APPLICATION_KEYS_SORT_BY_CREATION_DATE",
        OrganizationId = 4 => "APPLICATION_KEYS_SORT_BY_ORGANIZATION_ID",
        Expiration = 5 => "APPLICATION_KEYS_SORT_BY_EXPIRATION",
        Type = 6 => "APPLICATION_KEYS_SORT_BY_TYPE",
    }
);

/// `zitadel.application.v2.APIConfiguration`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiConfiguration {
    /// The OAuth client id.
    pub client_id: String,
    /// How it authenticates.
    pub auth_method_type: WireApiAuthMethod,
}

/// `zitadel.application.v2.Application`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireApplication {
    /// Id.
    pub application_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Last change.
    #[serde(with = "wire::ts")]
    pub change_date: Timestamp,
    /// State.
    pub state: WireAppState,
    /// Name.
    pub name: String,
    /// The project.
    pub project_id: String,
    /// API configuration (every Tessera application is an API application).
    pub api_configuration: ApiConfiguration,
}

impl WireApplication {
    fn from_domain(a: &AppWithOwner) -> Self {
        let app = &a.app;
        Self {
            application_id: app.id.to_string(),
            creation_date: app.created_at,
            change_date: app.updated_at,
            state: app.state.into(),
            name: app.name.to_string(),
            project_id: app.project_id.to_string(),
            api_configuration: ApiConfiguration {
                client_id: app.client_id.clone(),
                auth_method_type: app.auth_method.into(),
            },
        }
    }
}

fn app_id(v: &str) -> Result<ApplicationId, ServiceError> {
    required_id("applicationId", v, ApplicationId::parse)
}

/// An optional id: absent when empty.
fn opt_project(v: &str) -> Result<Option<ProjectId>, ServiceError> {
    if v.trim().is_empty() { Ok(None) } else { required_id("projectId", v, ProjectId::parse).map(Some) }
}

// ----------------------------------------------------------------------------
// Applications

/// `CreateAPIApplicationRequest` / `UpdateAPIApplicationConfigurationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ApiConfigInput {
    /// How it authenticates.
    pub auth_method_type: Option<WireApiAuthMethod>,
}

/// `CreateApplicationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateApplicationRequest {
    /// The project.
    pub project_id: String,
    /// Caller-chosen id (a UUID in Tessera).
    pub application_id: String,
    /// Name.
    pub name: String,
    /// API configuration (required).
    pub api_configuration: Option<ApiConfigInput>,
    /// Not supported.
    pub oidc_configuration: Option<Value>,
    /// Not supported.
    pub saml_configuration: Option<Value>,
}

/// `CreateAPIApplicationResponse`. The only time the secret is sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiConfiguration {
    /// The OAuth client id.
    pub client_id: String,
    /// The client secret (basic authentication only).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_secret: String,
}

/// `CreateApplicationResponse`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplicationResponse {
    /// Id.
    pub application_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Client id and secret.
    pub api_configuration: CreatedApiConfiguration,
}

fn only_api(oidc: bool, saml: bool) -> Result<(), ServiceError> {
    if oidc || saml {
        return Err(ServiceError::invalid("Tessera supports API applications only (apiConfiguration)"));
    }
    Ok(())
}

async fn create_application(ctx: Ctx, req: CreateApplicationRequest) -> Result<CreateApplicationResponse, ApiError> {
    only_api(req.oidc_configuration.is_some(), req.saml_configuration.is_some())?;
    let project_id = required_id("projectId", &req.project_id, ProjectId::parse)?;
    let config = req.api_configuration.ok_or_else(|| ServiceError::invalid("apiConfiguration is required"))?;
    let id = match req.application_id.trim() {
        "" => None,
        id => Some(
            ApplicationId::parse(id)
                .map_err(|_| ServiceError::invalid("applicationId must be a UUID in Tessera (or be left out)"))?,
        ),
    };
    let new = NewApp {
        project_id,
        id,
        name: AppName::parse(&req.name)?,
        auth_method: config.auth_method_type.unwrap_or_default().into(),
    };
    let (created, secret) = applications::create(&ctx, new).await?;
    Ok(CreateApplicationResponse {
        application_id: created.app.id.to_string(),
        creation_date: created.app.created_at,
        api_configuration: CreatedApiConfiguration {
            client_id: created.app.client_id.clone(),
            client_secret: secret.map(|s| s.expose_secret().to_owned()).unwrap_or_default(),
        },
    })
}

/// `GetApplicationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GetApplicationRequest {
    /// The application.
    pub application_id: String,
}

/// `GetApplicationResponse`.
#[derive(Debug, Serialize)]
pub struct GetApplicationResponse {
    /// The application.
    pub application: WireApplication,
}

async fn get_application(ctx: Ctx, req: GetApplicationRequest) -> Result<GetApplicationResponse, ApiError> {
    let found = applications::get(&ctx, app_id(&req.application_id)?).await?;
    Ok(GetApplicationResponse { application: WireApplication::from_domain(&found) })
}

/// `ApplicationNameFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AppNameFilter {
    /// The name.
    pub name: String,
    /// How to compare.
    pub method: TextFilterMethod,
}

/// `ClientIDFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClientIdFilter {
    /// The client id.
    pub client_id: String,
}

/// `ProjectIDFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ProjectIdFilter {
    /// The project.
    pub project_id: String,
}

/// `ApplicationSearchFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppSearchFilter {
    /// By client id.
    pub client_id_filter: Option<ClientIdFilter>,
    /// By SAML entity id (no SAML applications in Tessera).
    pub entity_id_filter: Option<Value>,
    /// By name.
    pub name_filter: Option<AppNameFilter>,
    /// By project.
    pub project_id_filter: Option<ProjectIdFilter>,
    /// By state.
    pub state_filter: Option<WireAppState>,
    /// By type.
    pub type_filter: Option<WireAppType>,
}

impl AppSearchFilter {
    fn to_domain(&self) -> Result<Option<AppFilter>, ServiceError> {
        let set = [
            self.client_id_filter.is_some(),
            self.entity_id_filter.is_some(),
            self.name_filter.is_some(),
            self.project_id_filter.is_some(),
            self.state_filter.is_some(),
            self.type_filter.is_some(),
        ];
        wire::exactly_one_filter(&set)?;
        Ok(Some(if let Some(f) = &self.client_id_filter {
            AppFilter::ClientId(f.client_id.clone())
        } else if self.entity_id_filter.is_some() {
            AppFilter::Nothing
        } else if let Some(f) = &self.name_filter {
            AppFilter::Name(text_filter(&f.name, f.method, "nameFilter.name")?)
        } else if let Some(f) = &self.project_id_filter {
            ProjectId::parse(&f.project_id).map_or(AppFilter::Nothing, AppFilter::Project)
        } else if let Some(s) = self.state_filter {
            match s {
                WireAppState::Active => AppFilter::State(AppState::Active),
                WireAppState::Inactive => AppFilter::State(AppState::Inactive),
                WireAppState::Removed | WireAppState::Unspecified => AppFilter::Nothing,
            }
        } else {
            match self.type_filter {
                Some(WireAppType::Api) => return Ok(None),
                _ => AppFilter::Nothing,
            }
        }))
    }
}

/// `ListApplicationsRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListApplicationsRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: AppSorting,
    /// Filters (all must match).
    pub filters: Vec<AppSearchFilter>,
}

/// `ListApplicationsResponse`.
#[derive(Debug, Serialize)]
pub struct ListApplicationsResponse {
    /// The applications.
    pub applications: Vec<WireApplication>,
    /// Totals.
    pub pagination: PaginationResponse,
}

async fn list_applications(ctx: Ctx, req: ListApplicationsRequest) -> Result<ListApplicationsResponse, ApiError> {
    let mut filters = Vec::new();
    for f in &req.filters {
        if let Some(f) = f.to_domain()? {
            filters.push(f);
        }
    }
    let sort = match req.sorting_column {
        AppSorting::Id => AppSort::Id,
        AppSorting::Name => AppSort::Name,
        AppSorting::State => AppSort::State,
        AppSorting::CreationDate => AppSort::CreatedAt,
        AppSorting::ChangeDate => AppSort::ChangedAt,
    };
    let page = req.pagination.page();
    let listed = applications::list(&ctx, filters, sort, page).await?;
    Ok(ListApplicationsResponse {
        applications: listed.items.iter().map(WireApplication::from_domain).collect(),
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
    })
}

/// `UpdateApplicationRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UpdateApplicationRequest {
    /// The application.
    pub application_id: String,
    /// Its project (checked when given).
    pub project_id: String,
    /// New name.
    pub name: Option<String>,
    /// New API configuration.
    pub api_configuration: Option<ApiConfigInput>,
    /// Not supported.
    pub oidc_configuration: Option<Value>,
    /// Not supported.
    pub saml_configuration: Option<Value>,
}

async fn update_application(ctx: Ctx, req: UpdateApplicationRequest) -> Result<ChangeDateResponse, ApiError> {
    only_api(req.oidc_configuration.is_some(), req.saml_configuration.is_some())?;
    let id = app_id(&req.application_id)?;
    let project = opt_project(&req.project_id)?;
    let change = AppUpdate {
        name: req.name.as_deref().filter(|n| !n.is_empty()).map(AppName::parse).transpose()?,
        auth_method: req.api_configuration.and_then(|c| c.auth_method_type).map(Into::into),
    };
    let found = applications::update(&ctx, id, project, change).await?;
    Ok(ChangeDateResponse { change_date: found.app.updated_at })
}

/// A request naming one application.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppIdRequest {
    /// The application.
    pub application_id: String,
    /// Its project (checked when given).
    pub project_id: String,
}

/// `DeactivateApplicationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivateResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub deactivation_date: Timestamp,
}

/// `ReactivateApplicationResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReactivateResponse {
    /// When.
    #[serde(with = "wire::ts")]
    pub reactivation_date: Timestamp,
}

async fn deactivate_application(ctx: Ctx, req: AppIdRequest) -> Result<DeactivateResponse, ApiError> {
    let found = applications::change_state(
        &ctx,
        app_id(&req.application_id)?,
        opt_project(&req.project_id)?,
        AppStateChange::Deactivate,
    )
    .await?;
    Ok(DeactivateResponse { deactivation_date: found.app.updated_at })
}

async fn reactivate_application(ctx: Ctx, req: AppIdRequest) -> Result<ReactivateResponse, ApiError> {
    let found = applications::change_state(
        &ctx,
        app_id(&req.application_id)?,
        opt_project(&req.project_id)?,
        AppStateChange::Reactivate,
    )
    .await?;
    Ok(ReactivateResponse { reactivation_date: found.app.updated_at })
}

async fn delete_application(ctx: Ctx, req: AppIdRequest) -> Result<DeletionDateResponse, ApiError> {
    applications::delete(&ctx, app_id(&req.application_id)?, opt_project(&req.project_id)?).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

/// `GenerateClientSecretResponse`. The only time the secret is sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateClientSecretResponse {
    /// The new secret.
    pub client_secret: String,
    /// When.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
}

async fn generate_client_secret(ctx: Ctx, req: AppIdRequest) -> Result<GenerateClientSecretResponse, ApiError> {
    let (found, secret) =
        applications::generate_secret(&ctx, app_id(&req.application_id)?, opt_project(&req.project_id)?).await?;
    Ok(GenerateClientSecretResponse {
        client_secret: secret.expose_secret().to_owned(),
        creation_date: found.app.updated_at,
    })
}

// ----------------------------------------------------------------------------
// Keys

/// `CreateApplicationKeyRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateApplicationKeyRequest {
    /// The application.
    pub application_id: String,
    /// Its project (checked when given).
    pub project_id: String,
    /// Expiration; 9999-12-31 when absent.
    #[serde(with = "wire::opt_ts")]
    pub expiration_date: Option<Timestamp>,
}

/// `CreateApplicationKeyResponse`. The only time the private key is sent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApplicationKeyResponse {
    /// The key id.
    pub key_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// The key file, base64 (proto `bytes`).
    pub key_details: String,
}

async fn create_application_key(
    ctx: Ctx,
    req: CreateApplicationKeyRequest,
) -> Result<CreateApplicationKeyResponse, ApiError> {
    let created = applications::create_key(
        &ctx,
        app_id(&req.application_id)?,
        opt_project(&req.project_id)?,
        req.expiration_date,
    )
    .await?;
    Ok(CreateApplicationKeyResponse {
        key_id: created.key.id.to_string(),
        creation_date: created.key.created_at,
        key_details: B64.encode(created.file.as_bytes()),
    })
}

fn key_id(v: &str) -> Result<AppKeyId, ServiceError> {
    required_id("keyId", v, AppKeyId::parse)
}

/// `GetApplicationKeyRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GetApplicationKeyRequest {
    /// The key.
    pub key_id: String,
}

/// `GetApplicationKeyResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetApplicationKeyResponse {
    /// The key id.
    pub key_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// Expiration.
    #[serde(with = "wire::ts")]
    pub expiration_date: Timestamp,
}

async fn get_application_key(ctx: Ctx, req: GetApplicationKeyRequest) -> Result<GetApplicationKeyResponse, ApiError> {
    let found = applications::get_key(&ctx, key_id(&req.key_id)?).await?;
    Ok(GetApplicationKeyResponse {
        key_id: found.key.id.to_string(),
        creation_date: found.key.created_at,
        expiration_date: found.key.expires_at,
    })
}

/// `ApplicationKeySearchFilter`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct AppKeySearchFilter {
    /// By application.
    pub application_id_filter: Option<Value>,
    /// By organization.
    pub organization_id_filter: Option<Value>,
    /// By project.
    pub project_id_filter: Option<Value>,
}

impl AppKeySearchFilter {
    fn to_domain(&self) -> Result<AppKeyFilter, ServiceError> {
        let id = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        let parsed = match (&self.application_id_filter, &self.organization_id_filter, &self.project_id_filter) {
            (Some(f), None, None) => ApplicationId::parse(&id(f, "applicationId")).ok().map(AppKeyFilter::App),
            (None, Some(f), None) => OrgId::parse(&id(f, "organizationId")).ok().map(AppKeyFilter::Org),
            (None, None, Some(f)) => ProjectId::parse(&id(f, "projectId")).ok().map(AppKeyFilter::Project),
            _ => return Err(wire::one_filter_error()),
        };
        // An id that is not a UUID matches no key: a fresh application id has none.
        Ok(parsed.unwrap_or_else(|| AppKeyFilter::App(ApplicationId::new())))
    }
}

/// `ListApplicationKeysRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ListApplicationKeysRequest {
    /// Paging.
    pub pagination: ListQuery,
    /// Order.
    pub sorting_column: AppKeysSorting,
    /// Filters (all must match).
    pub filters: Vec<AppKeySearchFilter>,
}

/// `zitadel.application.v2.ApplicationKey`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WireAppKey {
    /// The key id.
    pub key_id: String,
    /// The application.
    pub application_id: String,
    /// The project.
    pub project_id: String,
    /// Creation.
    #[serde(with = "wire::ts")]
    pub creation_date: Timestamp,
    /// The organization owning the project.
    pub organization_id: String,
    /// Expiration.
    #[serde(with = "wire::ts")]
    pub expiration_date: Timestamp,
}

impl WireAppKey {
    fn from_domain(k: &AppKeyWithOwner) -> Self {
        Self {
            key_id: k.key.id.to_string(),
            application_id: k.key.app_id.to_string(),
            project_id: k.project_id.to_string(),
            creation_date: k.key.created_at,
            organization_id: k.org_id.to_string(),
            expiration_date: k.key.expires_at,
        }
    }
}

/// `ListApplicationKeysResponse`.
#[derive(Debug, Serialize)]
pub struct ListApplicationKeysResponse {
    /// The keys.
    pub keys: Vec<WireAppKey>,
    /// Totals.
    pub pagination: PaginationResponse,
}

async fn list_application_keys(
    ctx: Ctx,
    req: ListApplicationKeysRequest,
) -> Result<ListApplicationKeysResponse, ApiError> {
    let filters = req.filters.iter().map(AppKeySearchFilter::to_domain).collect::<Result<Vec<_>, _>>()?;
    let sort = match req.sorting_column {
        AppKeysSorting::Id | AppKeysSorting::Type => AppKeySort::Id,
        AppKeysSorting::ProjectId => AppKeySort::Project,
        AppKeysSorting::ApplicationId => AppKeySort::App,
        AppKeysSorting::CreationDate => AppKeySort::CreatedAt,
        AppKeysSorting::OrganizationId => AppKeySort::Org,
        AppKeysSorting::Expiration => AppKeySort::ExpiresAt,
    };
    let page = req.pagination.page();
    let listed = applications::list_keys(&ctx, filters, sort, page).await?;
    Ok(ListApplicationKeysResponse {
        keys: listed.items.iter().map(WireAppKey::from_domain).collect(),
        pagination: PaginationResponse { total_result: listed.total, applied_limit: page.limit },
    })
}

/// `DeleteApplicationKeyRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeleteApplicationKeyRequest {
    /// The key.
    pub key_id: String,
    /// Its application (checked when given).
    pub application_id: String,
    /// Its project (checked when given).
    pub project_id: String,
}

async fn delete_application_key(ctx: Ctx, req: DeleteApplicationKeyRequest) -> Result<DeletionDateResponse, ApiError> {
    let app = if req.application_id.trim().is_empty() { None } else { Some(app_id(&req.application_id)?) };
    applications::delete_key(&ctx, key_id(&req.key_id)?, app, opt_project(&req.project_id)?).await?;
    Ok(DeletionDateResponse { deletion_date: ctx.now() })
}

// ----------------------------------------------------------------------------
// Routing

/// Dispatches a Connect call; `None` for an unknown method.
pub async fn dispatch(method: &str, call: &Call) -> Option<Result<Value, ApiError>> {
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
