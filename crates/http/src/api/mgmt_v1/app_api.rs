//! v1 API application and application key methods (Terraform's
//! `application_api` and `application_key`).

use super::*;

/// `zitadel.app.v1.App` of an API application.
pub(super) fn wire_app(a: &AppWithOwner) -> app_v1::App {
    app_v1::App {
        id: a.app.id.to_string(),
        details: Some(details(a.app.created_at, a.app.updated_at, a.org_id)),
        state: match a.app.state {
            AppState::Active => app_v1::AppState::Active,
            AppState::Inactive => app_v1::AppState::Inactive,
        }
        .into(),
        name: a.app.name.to_string(),
        config: Some(app_v1::app::Config::ApiConfig(app_v1::ApiConfig {
            client_id: a.app.client_id.clone(),
            auth_method_type: wire_auth_method(a.app.auth_method).into(),
        })),
    }
}

pub(super) fn wire_auth_method(m: ApiAuthMethod) -> app_v1::ApiAuthMethodType {
    match m {
        ApiAuthMethod::Basic => app_v1::ApiAuthMethodType::Basic,
        ApiAuthMethod::PrivateKeyJwt => app_v1::ApiAuthMethodType::PrivateKeyJwt,
    }
}

pub(super) fn auth_method(value: i32) -> Result<ApiAuthMethod, ApiError> {
    match app_v1::ApiAuthMethodType::try_from(value) {
        Ok(app_v1::ApiAuthMethodType::Basic) => Ok(ApiAuthMethod::Basic),
        Ok(app_v1::ApiAuthMethodType::PrivateKeyJwt) => Ok(ApiAuthMethod::PrivateKeyJwt),
        Err(_) => Err(ServiceError::invalid("authMethodType is not a known API auth method").into()),
    }
}

impl V1 {
    /// The application `app` of the project `project` (in the call's
    /// organization).
    pub(super) async fn app(&self, project: &str, app: &str) -> Result<AppWithOwner, ApiError> {
        let project = self.project("projectId", project).await?;
        let id = required_id("appId", app, ApplicationId::parse)?;
        let found = applications::get(&self.ctx, id).await?;
        if found.app.project_id != project.id {
            return Err(ServiceError::not_found("application not found").into());
        }
        Ok(found)
    }
}

pub(super) async fn add_api_app(v1: V1, req: mgmt::AddApiAppRequest) -> Result<mgmt::AddApiAppResponse, ApiError> {
    let project = v1.project("projectId", &req.project_id).await?;
    let new = applications::NewApp {
        project_id: project.id,
        id: None,
        name: AppName::parse(&req.name)?,
        auth_method: auth_method(req.auth_method_type)?,
    };
    let (app, secret) = applications::create(&v1.ctx, new).await?;
    Ok(mgmt::AddApiAppResponse {
        app_id: app.app.id.to_string(),
        details: Some(details(app.app.created_at, app.app.updated_at, app.org_id)),
        client_id: app.app.client_id.clone(),
        client_secret: secret.map(|s| s.expose_secret().to_owned()).unwrap_or_default(),
    })
}

pub(super) async fn get_app(v1: V1, req: mgmt::GetAppByIdRequest) -> Result<mgmt::GetAppByIdResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    Ok(mgmt::GetAppByIdResponse { app: Some(wire_app(&app)) })
}

pub(super) async fn list_apps(v1: V1, req: mgmt::ListAppsRequest) -> Result<mgmt::ListAppsResponse, ApiError> {
    use app_v1::app_query::Query;
    let project = v1.project("projectId", &req.project_id).await?;
    let mut filters = vec![AppFilter::Project(project.id)];
    for q in &req.queries {
        match &q.query {
            Some(Query::NameQuery(n)) => filters.push(AppFilter::Name(text(&n.name, n.method, "nameQuery")?)),
            None => return Err(ServiceError::invalid("queries: a query must name its type").into()),
        }
    }
    let listed = applications::list(&v1.ctx, filters, AppSort::default(), page(req.query.as_ref())?).await?;
    Ok(mgmt::ListAppsResponse {
        details: Some(object::ListDetails { total_result: listed.total, view_timestamp: Some(ts(v1.ctx.now())) }),
        result: listed.items.iter().map(wire_app).collect(),
    })
}

pub(super) async fn update_app(v1: V1, req: mgmt::UpdateAppRequest) -> Result<mgmt::UpdateAppResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    let change = applications::AppUpdate { name: Some(AppName::parse(&req.name)?), auth_method: None };
    let app = applications::update(&v1.ctx, app.app.id, Some(app.app.project_id), change).await?;
    Ok(mgmt::UpdateAppResponse { details: Some(details(app.app.created_at, app.app.updated_at, app.org_id)) })
}

pub(super) async fn update_api_config(
    v1: V1,
    req: mgmt::UpdateApiAppConfigRequest,
) -> Result<mgmt::UpdateApiAppConfigResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    let change = applications::AppUpdate { name: None, auth_method: Some(auth_method(req.auth_method_type)?) };
    let app = applications::update(&v1.ctx, app.app.id, Some(app.app.project_id), change).await?;
    Ok(mgmt::UpdateApiAppConfigResponse { details: Some(details(app.app.created_at, app.app.updated_at, app.org_id)) })
}

pub(super) async fn remove_app(v1: V1, req: mgmt::RemoveAppRequest) -> Result<mgmt::RemoveAppResponse, ApiError> {
    let app = v1.app(&req.project_id, &req.app_id).await?;
    applications::delete(&v1.ctx, app.app.id, Some(app.app.project_id)).await?;
    Ok(mgmt::RemoveAppResponse { details: Some(changed_now(&v1.ctx, app.org_id)) })
}

pub(super) async fn add_app_key(v1: V1, req: mgmt::AddAppKeyRequest) -> Result<mgmt::AddAppKeyResponse, ApiError> {
    check_key_type(req.r#type)?;
    let app = v1.app(&req.project_id, &req.app_id).await?;
    let expires = from_ts(req.expiration_date, "expirationDate")?;
    let created = applications::create_key(&v1.ctx, app.app.id, Some(app.app.project_id), expires).await?;
    Ok(mgmt::AddAppKeyResponse {
        id: created.key.id.to_string(),
        details: Some(details(created.key.created_at, created.key.created_at, app.org_id)),
        key_details: created.file.as_bytes().to_vec(),
    })
}

/// The key `key` of the application, or `not_found`.
pub(super) async fn app_key(
    v1: &V1,
    project: &str,
    app: &str,
    key: &str,
) -> Result<(AppWithOwner, AppKeyId), ApiError> {
    let app = v1.app(project, app).await?;
    if key.trim().is_empty() {
        return Err(ServiceError::invalid("keyId is required").into());
    }
    let key = AppKeyId::parse(key).map_err(|_| ServiceError::not_found("key not found"))?;
    Ok((app, key))
}

pub(super) async fn get_app_key(v1: V1, req: mgmt::GetAppKeyRequest) -> Result<mgmt::GetAppKeyResponse, ApiError> {
    let (app, key) = app_key(&v1, &req.project_id, &req.app_id, &req.key_id).await?;
    let found = applications::get_key(&v1.ctx, key).await?;
    if found.key.app_id != app.app.id {
        return Err(ServiceError::not_found("key not found").into());
    }
    Ok(mgmt::GetAppKeyResponse {
        key: Some(authn::Key {
            id: found.key.id.to_string(),
            details: Some(details(found.key.created_at, found.key.created_at, found.org_id)),
            r#type: authn::KeyType::Json.into(),
            expiration_date: Some(ts(found.key.expires_at)),
        }),
    })
}

pub(super) async fn remove_app_key(
    v1: V1,
    req: mgmt::RemoveAppKeyRequest,
) -> Result<mgmt::RemoveAppKeyResponse, ApiError> {
    let (app, key) = app_key(&v1, &req.project_id, &req.app_id, &req.key_id).await?;
    applications::delete_key(&v1.ctx, key, Some(app.app.id), Some(app.app.project_id)).await?;
    Ok(mgmt::RemoveAppKeyResponse { details: Some(changed_now(&v1.ctx, app.org_id)) })
}
