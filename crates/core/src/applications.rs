//! API applications of projects, with their client secrets and keys: create
//! (the secret is returned once), read, list, change, suspend, delete; new
//! secrets; key pairs generated here whose private half leaves only once, in a
//! ZITADEL application key file.
//!
//! Permissions as in ZITADEL: `project.app.read|write|delete` on the project;
//! secrets and keys are changes of the application (`project.app.write`).

use serde_json::json;
use tessera_domain::application::{ApiAuthMethod, AppKey, AppName, Application};
use tessera_domain::permission::perm;
use tessera_domain::repo::{
    AppFilter, AppKeyFilter, AppKeyQuery, AppKeySort, AppKeyWithOwner, AppQuery, AppSort, AppWithOwner, Listed, Page,
    RepoError, Transaction,
};
use tessera_domain::time::far_future;
use tessera_domain::{AppKeyId, ApplicationId, ProjectId, Timestamp};
use tessera_oauth::credential::{Credential, CredentialKind, IssuedCredential};
use tessera_oauth::keyfile::{GeneratedKeyPair, KeyFile};

use crate::ServiceError;
use crate::projects;
use crate::{Ctx, ServiceResult};

/// An API application to create.
#[derive(Debug, Clone)]
pub struct NewApp {
    /// The project.
    pub project_id: ProjectId,
    /// A caller-chosen id.
    pub id: Option<ApplicationId>,
    /// Name, unique in the project.
    pub name: AppName,
    /// How it authenticates.
    pub auth_method: ApiAuthMethod,
}

/// Changes to an application; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AppUpdate {
    /// New name.
    pub name: Option<AppName>,
    /// New authentication method.
    pub auth_method: Option<ApiAuthMethod>,
}

/// A change of an application's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppStateChange {
    /// Suspend it.
    Deactivate,
    /// End the suspension.
    Reactivate,
}

/// A generated key and its key file (the only copy of the private key).
pub struct CreatedKey {
    /// The stored key.
    pub key: AppKey,
    /// `{"type":"application","keyId","key","appId","clientId"}`.
    pub file: KeyFile,
}

fn target_of(a: &AppWithOwner) -> tessera_domain::permission::Target {
    tessera_domain::permission::Target::Project { org: a.org_id, project: a.app.project_id }
}

/// Loads an application and checks `permission` on its project. When the
/// request names a project, the application must belong to it.
pub(crate) async fn load_with(
    ctx: &Ctx,
    id: ApplicationId,
    project: Option<ProjectId>,
    permission: &'static str,
) -> ServiceResult<AppWithOwner> {
    let found = ctx
        .core
        .store
        .applications()
        .get(id)
        .await?
        .filter(|a| project.is_none_or(|p| p == a.app.project_id))
        .ok_or_else(|| ServiceError::not_found("application not found"))?;
    ctx.require(permission, target_of(&found))?;
    Ok(found)
}

/// [`load_with`] inside `tx`, under a lock on the application's row.
async fn lock_with(
    ctx: &Ctx,
    tx: &dyn Transaction,
    id: ApplicationId,
    project: Option<ProjectId>,
    permission: &'static str,
) -> ServiceResult<AppWithOwner> {
    let found = tx
        .applications()
        .lock(id)
        .await?
        .filter(|a| project.is_none_or(|p| p == a.app.project_id))
        .ok_or_else(|| ServiceError::not_found("application not found"))?;
    ctx.require(permission, target_of(&found))?;
    Ok(found)
}

/// A fresh `tsr_cs_` secret whose lookup id is the application id.
fn new_secret(ctx: &Ctx, app: &Application) -> (IssuedCredential, tessera_domain::pat::SecretDigest) {
    Credential::generate(CredentialKind::ClientSecret, *app.id.as_uuid(), &mut ctx.rng())
}

/// Creates an API application (`project.app.write`). With
/// `API_AUTH_METHOD_TYPE_BASIC` a client secret is generated and returned here,
/// and never again.
///
/// # Errors
/// `not_found` (project), `permission_denied`, `already_exists` (name or id).
pub async fn create(ctx: &Ctx, new: NewApp) -> ServiceResult<(AppWithOwner, Option<IssuedCredential>)> {
    let project = projects::load_with(ctx, new.project_id, perm::PROJECT_APP_WRITE).await?;
    let mut app = Application::new(project.id, new.name, new.auth_method, ctx.now());
    if let Some(id) = new.id
        && ctx.core.store.applications().get(id).await?.is_some()
    {
        return Err(ServiceError::AlreadyExists("an application with this id exists".into()));
    }
    let id = new.id.unwrap_or_else(|| ApplicationId::from_uuid(ctx.new_uuid()));
    app.id = id;
    app.client_id = id.to_string();
    let secret = match app.auth_method {
        ApiAuthMethod::Basic => {
            let (secret, digest) = new_secret(ctx, &app);
            app.secret_digest = Some(digest);
            Some(secret)
        }
        ApiAuthMethod::PrivateKeyJwt => None,
    };
    let tx = ctx.begin().await?;
    tx.applications().insert(&app).await?;
    tx.audit()
        .append(&ctx.event("application.created", "application", app.id, Some(project.org_id)).with_details(json!({
            "projectId": project.id,
            "name": app.name,
            "authMethod": app.auth_method.as_str(),
            "clientId": app.client_id,
        })))
        .await?;
    tx.commit().await?;
    Ok((AppWithOwner { app, org_id: project.org_id }, secret))
}

/// Reads an application (`project.app.read`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn get(ctx: &Ctx, id: ApplicationId) -> ServiceResult<AppWithOwner> {
    load_with(ctx, id, None, perm::PROJECT_APP_READ).await
}

/// Lists the applications the caller may read. Never `permission_denied`.
///
/// # Errors
/// Database errors only.
pub async fn list(
    ctx: &Ctx,
    filters: Vec<AppFilter>,
    sort: AppSort,
    page: Page,
) -> ServiceResult<Listed<AppWithOwner>> {
    let visibility = projects::visibility(ctx, perm::PROJECT_APP_READ, false);
    Ok(ctx.core.store.applications().list(&AppQuery { filters, visibility, sort, page }).await?)
}

/// Changes name and authentication method (`project.app.write`). Switching to
/// `private_key_jwt` discards the client secret; switching to basic
/// authentication leaves the application without one until
/// `GenerateClientSecret` is called.
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (nothing changes),
/// `already_exists` (name).
pub async fn update(
    ctx: &Ctx,
    id: ApplicationId,
    project: Option<ProjectId>,
    change: AppUpdate,
) -> ServiceResult<AppWithOwner> {
    ctx.checkpoint("application.changed", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let mut found = lock_with(ctx, tx.as_ref(), id, project, perm::PROJECT_APP_WRITE).await?;
    let before = found.app.clone();
    let app = &mut found.app;
    let mut changed = false;
    if let Some(name) = change.name
        && name != app.name
    {
        app.name = name;
        changed = true;
    }
    if let Some(method) = change.auth_method
        && method != app.auth_method
    {
        app.auth_method = method;
        app.secret_digest = None;
        changed = true;
    }
    if !changed {
        return Err(ServiceError::precondition("the application is not changed"));
    }
    app.updated_at = ctx.now();
    tx.applications().update(&before, app).await?;
    tx.audit()
        .append(&ctx.event("application.changed", "application", app.id, Some(found.org_id)).with_details(json!({
            "projectId": app.project_id,
            "name": app.name,
            "authMethod": app.auth_method.as_str(),
        })))
        .await?;
    tx.commit().await?;
    Ok(found)
}

/// Deactivates or reactivates an application (`project.app.write`).
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (already in that state).
pub async fn change_state(
    ctx: &Ctx,
    id: ApplicationId,
    project: Option<ProjectId>,
    change: AppStateChange,
) -> ServiceResult<AppWithOwner> {
    ctx.checkpoint("application.state", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let mut found = lock_with(ctx, tx.as_ref(), id, project, perm::PROJECT_APP_WRITE).await?;
    let before = found.app.clone();
    let now = ctx.now();
    let (result, action) = match change {
        AppStateChange::Deactivate => (found.app.deactivate(now), "application.deactivated"),
        AppStateChange::Reactivate => (found.app.reactivate(now), "application.reactivated"),
    };
    result.map_err(|e| ServiceError::precondition(e.0))?;
    tx.applications().update(&before, &found.app).await?;
    tx.audit().append(&ctx.event(action, "application", found.app.id, Some(found.org_id))).await?;
    tx.commit().await?;
    Ok(found)
}

/// Deletes an application and its keys (`project.app.delete`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn delete(ctx: &Ctx, id: ApplicationId, project: Option<ProjectId>) -> ServiceResult<()> {
    ctx.checkpoint("application.deleted", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let found = lock_with(ctx, tx.as_ref(), id, project, perm::PROJECT_APP_DELETE).await?;
    tx.applications().delete(found.app.id).await?;
    tx.audit()
        .append(
            &ctx.event("application.deleted", "application", found.app.id, Some(found.org_id))
                .with_details(json!({"projectId": found.app.project_id, "name": found.app.name})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the client secret of a basic-auth application (`project.app.write`);
/// the old one stops working at once. The new one is returned here and never
/// again.
///
/// # Errors
/// `not_found`, `permission_denied`, `failed_precondition` (not a basic-auth
/// application).
pub async fn generate_secret(
    ctx: &Ctx,
    id: ApplicationId,
    project: Option<ProjectId>,
) -> ServiceResult<(AppWithOwner, IssuedCredential)> {
    ctx.checkpoint("application.secret.generated", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    let mut found = lock_with(ctx, tx.as_ref(), id, project, perm::PROJECT_APP_WRITE).await?;
    if found.app.auth_method != ApiAuthMethod::Basic {
        return Err(ServiceError::precondition("the application does not authenticate with a client secret"));
    }
    let before = found.app.clone();
    let (secret, digest) = new_secret(ctx, &found.app);
    found.app.secret_digest = Some(digest);
    found.app.updated_at = ctx.now();
    tx.applications().update(&before, &found.app).await?;
    tx.audit()
        .append(
            &ctx.event("application.secret.generated", "application", found.app.id, Some(found.org_id))
                .with_details(json!({"projectId": found.app.project_id})),
        )
        .await?;
    tx.commit().await?;
    Ok((found, secret))
}

/// Generates an RSA-2048 key pair for a `private_key_jwt` application
/// (`project.app.write`). Only the public key is stored; the key file is
/// returned here and never again.
///
/// # Errors
/// `not_found`, `permission_denied`, `invalid_argument` (expiration in the
/// past), `failed_precondition` (not a `private_key_jwt` application).
pub async fn create_key(
    ctx: &Ctx,
    id: ApplicationId,
    project: Option<ProjectId>,
    expires_at: Option<Timestamp>,
) -> ServiceResult<CreatedKey> {
    let found = load_with(ctx, id, project, perm::PROJECT_APP_WRITE).await?;
    if found.app.auth_method != ApiAuthMethod::PrivateKeyJwt {
        return Err(ServiceError::precondition("keys are for applications with API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"));
    }
    let now = ctx.now();
    if expires_at.is_some_and(|t| t <= now) {
        return Err(ServiceError::invalid("expirationDate must be in the future"));
    }
    // RSA key generation takes tens of milliseconds: off the async runtime.
    let mut rng = ctx.rng().fork();
    let pair = crate::blocking(ctx, move || GeneratedKeyPair::generate(&mut rng))
        .await?
        .map_err(|e| ServiceError::Internal(Box::new(e)))?;
    let key_id = AppKeyId::from_uuid(ctx.new_uuid());
    let file = pair
        .application_key_file(&key_id.to_string(), &found.app.client_id, &found.app.id.to_string())
        .map_err(|e| ServiceError::Internal(Box::new(e)))?;
    let (key_type, public_key_pem) = pair.public_key().clone().into_parts();
    let key = AppKey {
        id: key_id,
        app_id: found.app.id,
        key_type,
        public_key_pem,
        expires_at: expires_at.unwrap_or_else(far_future),
        created_at: now,
    };
    ctx.checkpoint("application.key.added", *id.as_uuid()).await;
    let tx = ctx.begin().await?;
    // The application may have been switched to a secret or deleted meanwhile.
    let current = lock_with(ctx, tx.as_ref(), id, project, perm::PROJECT_APP_WRITE).await?;
    if current.app.auth_method != ApiAuthMethod::PrivateKeyJwt {
        return Err(ServiceError::precondition("keys are for applications with API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"));
    }
    tx.applications().insert_key(&key).await?;
    tx.audit()
        .append(&ctx.event("application.key.added", "application_key", key.id, Some(found.org_id)).with_details(
            json!({"applicationId": found.app.id, "projectId": found.app.project_id, "expiresAt": key.expires_at}),
        ))
        .await?;
    tx.commit().await?;
    Ok(CreatedKey { key, file })
}

/// Reads a key's public data (`project.app.read`).
///
/// # Errors
/// `not_found`, `permission_denied`.
pub async fn get_key(ctx: &Ctx, id: AppKeyId) -> ServiceResult<AppKeyWithOwner> {
    let found = ctx
        .core
        .store
        .applications()
        .get_key(id)
        .await?
        .ok_or_else(|| ServiceError::not_found("application key not found"))?;
    ctx.require(
        perm::PROJECT_APP_READ,
        tessera_domain::permission::Target::Project { org: found.org_id, project: found.project_id },
    )?;
    Ok(found)
}

/// Lists the keys the caller may read. Never `permission_denied`.
///
/// # Errors
/// Database errors only.
pub async fn list_keys(
    ctx: &Ctx,
    filters: Vec<AppKeyFilter>,
    sort: AppKeySort,
    page: Page,
) -> ServiceResult<Listed<AppKeyWithOwner>> {
    let visibility = projects::visibility(ctx, perm::PROJECT_APP_READ, false);
    Ok(ctx.core.store.applications().list_keys(&AppKeyQuery { filters, visibility, sort, page }).await?)
}

/// Removes a key (`project.app.write`); assertions signed with it stop working
/// at once.
///
/// # Errors
/// `not_found` (also when the key belongs to another application than the one
/// named), `permission_denied`.
pub async fn delete_key(
    ctx: &Ctx,
    id: AppKeyId,
    app: Option<ApplicationId>,
    project: Option<ProjectId>,
) -> ServiceResult<()> {
    let found = ctx
        .core
        .store
        .applications()
        .get_key(id)
        .await?
        .filter(|k| app.is_none_or(|a| a == k.key.app_id) && project.is_none_or(|p| p == k.project_id))
        .ok_or_else(|| ServiceError::not_found("application key not found"))?;
    ctx.require(
        perm::PROJECT_APP_WRITE,
        tessera_domain::permission::Target::Project { org: found.org_id, project: found.project_id },
    )?;
    let tx = ctx.begin().await?;
    match tx.applications().delete_key(id).await {
        Ok(()) => {}
        Err(RepoError::NotFound { .. }) => return Err(ServiceError::not_found("application key not found")),
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(
            &ctx.event("application.key.removed", "application_key", id, Some(found.org_id))
                .with_details(json!({"applicationId": found.key.app_id, "projectId": found.project_id})),
        )
        .await?;
    tx.commit().await?;
    Ok(())
}
