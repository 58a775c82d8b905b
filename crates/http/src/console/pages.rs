//! The console's page handlers: each authenticates the session, checks the CSRF
//! token of a form, calls an application service and renders a template.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveTime, TimeZone as _, Utc};
use secrecy::SecretString;
use serde::Deserialize;
use tessera_domain::names::{Description, DisplayName, Username};
use tessera_domain::permission::{Role, RoleLevel, Scope, Target, perm};
use tessera_domain::repo::{
    AdminFilter, AdminSort, KeyFilter, KeySort, OrgQueryFilter, OrgSort, Page, PatFilter, PatSort, TextFilter,
    TextMethod, UserFilter, UserSort, UserType,
};
use tessera_domain::user::{AccessTokenType, StateChange, User, UserState};
use tessera_domain::{KeyId, OrgId, PatId, Timestamp, UserId};

use super::i18n::{Catalog, Lang};
use super::session::{self, ConsoleCaller, LANG_COOKIE, LOGIN_CSRF_COOKIE, LoginError, ORG_COOKIE, SESSION_COOKIE};
use crate::AppState;
use crate::error::{ServiceError, console_error};
use tessera_core::{admins, keys, orgs, pats, users};

// ---------------------------------------------------------------------------
// Layout and errors

/// One entry of the organization switcher.
pub struct OrgOption {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) selected: bool,
}

/// What the top bar shows to a logged-in administrator.
pub struct Nav {
    pub(super) csrf: String,
    pub(super) username: String,
    pub(super) orgs: Vec<OrgOption>,
}

/// One entry of the language switcher.
pub struct LangLink {
    pub(super) tag: &'static str,
    pub(super) name: &'static str,
    pub(super) current: bool,
}

/// What every page shares.
pub struct Layout {
    pub(super) t: &'static Catalog,
    pub(super) langs: Vec<LangLink>,
    /// The current path, URL-encoded, for the language switcher's way back.
    pub(super) here: String,
    pub(super) nav: Option<Nav>,
}

pub(super) fn layout(req: &HttpRequest, nav: Option<Nav>) -> Layout {
    let lang = session::lang_of(req);
    let langs = Lang::ALL
        .iter()
        .map(|l| LangLink { tag: l.tag(), name: l.catalog().get("lang.name"), current: *l == lang })
        .collect();
    // A page rendered by a POST (a secret shown once) has no GET route of its
    // own: the way back is the page of the user or project it belongs to.
    let path = if req.method() == actix_web::http::Method::GET {
        req.path().to_owned()
    } else {
        req.path().split('/').take(5).collect::<Vec<_>>().join("/")
    };
    let here = form_urlencoded::byte_serialize(path.as_bytes()).collect();
    Layout { t: lang.catalog(), langs, here, nav }
}

/// The organization the pages work on: the switcher's choice when the caller may
/// read its users, else the caller's own.
pub(super) fn current_org(req: &HttpRequest, caller: &ConsoleCaller) -> OrgId {
    session::selected_org(req)
        .filter(|o| caller.ctx.actor.can(perm::USER_READ, Target::Org(*o)))
        .unwrap_or(caller.user.org_id)
}

pub(super) async fn nav(req: &HttpRequest, caller: &ConsoleCaller) -> Result<Nav, ServiceError> {
    let current = current_org(req, caller);
    let page = Page { offset: 0, limit: Page::MAX_LIMIT, asc: true };
    let mut listed = orgs::list(&caller.ctx, Vec::<OrgQueryFilter>::new(), OrgSort::default(), page).await?.items;
    if !listed.iter().any(|o| o.id == current)
        && let Some(org) = caller.ctx.core.store.orgs().get(current).await?
    {
        listed.insert(0, org);
    }
    let orgs = listed
        .into_iter()
        .map(|o| OrgOption { id: o.id.to_string(), name: o.name.to_string(), selected: o.id == current })
        .collect();
    Ok(Nav { csrf: caller.csrf.clone(), username: caller.user.username.to_string(), orgs })
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    l: Layout,
    message: String,
    back: String,
}

/// Why a page could not be shown.
pub enum PageError {
    /// No valid session: to the login page.
    Login,
    /// The form's CSRF token is missing or wrong.
    Csrf,
    /// The use case failed.
    Service(ServiceError),
}

impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        Self::Service(e)
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> Self {
        Self::Service(ServiceError::Internal(Box::new(e)))
    }
}

pub(super) type PageResult = Result<HttpResponse, PageError>;

pub(super) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_owned())).finish()
}

pub(super) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body)
}

/// Renders a failed page.
fn error_response(req: &HttpRequest, err: PageError) -> HttpResponse {
    let l = layout(req, None);
    let (status, message) = match err {
        PageError::Login => return see_other("/ui/console/login"),
        PageError::Csrf => (StatusCode::FORBIDDEN, l.t.get("error.csrf").to_owned()),
        PageError::Service(e) => {
            let (status, message) = console_error(&e);
            let fallback = match status {
                StatusCode::FORBIDDEN => "error.forbidden",
                StatusCode::NOT_FOUND => "error.not_found",
                _ => "error.internal",
            };
            (status, message.unwrap_or_else(|| l.t.get(fallback).to_owned()))
        }
    };
    // Back to where the form was, which is always a console page.
    let back = req
        .path()
        .rsplit_once("/users/")
        .and_then(|(_, rest)| rest.split('/').next())
        .filter(|id| UserId::parse(id).is_ok())
        .map_or_else(|| "/ui/console/users".to_owned(), |id| format!("/ui/console/users/{id}"));
    let mut res = match (ErrorPage { l, message, back }).render() {
        Ok(body) => html(status, body),
        Err(_) => HttpResponse::build(status).finish(),
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut().insert(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from(crate::error::RETRY_AFTER_SECS),
        );
    }
    res
}

/// Runs a page handler and turns its error into a page.
pub(super) async fn page<F>(req: &HttpRequest, f: F) -> HttpResponse
where
    F: Future<Output = PageResult>,
{
    match f.await {
        Ok(res) => res,
        Err(e) => error_response(req, e),
    }
}

pub(super) async fn caller(state: &AppState, req: &HttpRequest) -> Result<ConsoleCaller, PageError> {
    session::authenticate(state, req).await?.ok_or(PageError::Login)
}

/// Checks the CSRF token of a form.
pub(super) fn csrf(caller: &ConsoleCaller, presented: &str) -> Result<(), PageError> {
    if session::same_token(&caller.csrf, presented) { Ok(()) } else { Err(PageError::Csrf) }
}

pub(super) fn fmt_time(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn state_badge(state: UserState) -> (&'static str, &'static str) {
    match state {
        UserState::Active => ("state.active", "badge-active"),
        UserState::Inactive => ("state.inactive", "badge-inactive"),
        UserState::Locked => ("state.locked", "badge-locked"),
    }
}

// ---------------------------------------------------------------------------
// Home, login, logout, language, organization

/// `/ui/console`: the service users, or the login page.
pub async fn home() -> HttpResponse {
    see_other("/ui/console/users")
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    l: Layout,
    csrf: String,
    username: String,
    error: Option<&'static str>,
}

fn login_form(
    req: &HttpRequest,
    state: &AppState,
    status: StatusCode,
    username: String,
    error: Option<&'static str>,
) -> HttpResponse {
    let csrf = session::new_login_csrf();
    let cookie = session::cookie(&state.console, LOGIN_CSRF_COOKIE, csrf.clone(), CookieDuration::hours(1));
    match (LoginPage { l: layout(req, None), csrf, username, error }).render() {
        Ok(body) => {
            let mut res = html(status, body);
            let _ = res.add_cookie(&cookie);
            res
        }
        Err(e) => error_response(req, e.into()),
    }
}

/// `GET /login`.
pub async fn login_page(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    if let Ok(Some(_)) = session::authenticate(&state, &req).await {
        return see_other("/ui/console/users");
    }
    login_form(&req, &state, StatusCode::OK, String::new(), None)
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// `POST /login`.
pub async fn login_submit(req: HttpRequest, state: web::Data<AppState>, form: web::Form<LoginForm>) -> HttpResponse {
    let LoginForm { csrf, username, password } = form.into_inner();
    let password = SecretString::from(password);
    let expected = req.cookie(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    if !session::same_token(&expected, &csrf) {
        return error_response(&req, PageError::Csrf);
    }
    let settings = state.console.clone();
    match session::login(&state, &settings, &username, password, state.proxies.client_addr(&req)).await {
        Ok(value) => {
            let mut res = see_other("/ui/console/users");
            let _ = res.add_cookie(&session::session_cookie(&settings, &value));
            let _ = res.add_removal_cookie(&session::removal(&settings, LOGIN_CSRF_COOKIE));
            res
        }
        Err(LoginError::Invalid) => {
            tracing::info!("console login failed");
            login_form(&req, &state, StatusCode::UNAUTHORIZED, username, Some("login.failed"))
        }
        Err(LoginError::Throttled { retry_after_secs }) => {
            tracing::warn!("console login throttled");
            let mut res = login_form(&req, &state, StatusCode::TOO_MANY_REQUESTS, username, Some("login.throttled"));
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after_secs),
            );
            res
        }
        Err(LoginError::Service(e)) => error_response(&req, e.into()),
    }
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// `POST /logout`.
pub async fn logout(req: HttpRequest, state: web::Data<AppState>, form: web::Form<CsrfForm>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        session::logout(&caller).await?;
        let mut res = see_other("/ui/console/login");
        let _ = res.add_removal_cookie(&session::removal(&state.console, SESSION_COOKIE));
        Ok(res)
    })
    .await
}

/// The language switcher's query.
#[derive(Deserialize)]
pub struct LangQuery {
    l: String,
    #[serde(default)]
    next: String,
}

/// `GET /lang?l=de&next=/ui/console/...`: remembers the language in a cookie.
/// Only a preference changes, so a link suffices (no CSRF token); `next` must be
/// a console path, so the switcher cannot be used as an open redirect.
pub async fn switch_lang(state: web::Data<AppState>, q: web::Query<LangQuery>) -> HttpResponse {
    let next = if q.next.starts_with("/ui/console")
        && !q.next.contains("//")
        && !q.next.contains('\\')
        && q.next.chars().all(|c| c.is_ascii_graphic())
    {
        q.next.clone()
    } else {
        "/ui/console/users".to_owned()
    };
    let mut res = see_other(&next);
    if let Some(lang) = Lang::parse(&q.l) {
        let c = session::cookie(&state.console, LANG_COOKIE, lang.tag().to_owned(), CookieDuration::days(365));
        let _ = res.add_cookie(&c);
    }
    res
}

/// The organization switcher.
#[derive(Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    csrf: String,
    org: String,
}

/// `POST /org`.
pub async fn switch_org(req: HttpRequest, state: web::Data<AppState>, form: web::Form<OrgForm>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let org = OrgId::parse(&form.org).map_err(ServiceError::from)?;
        if !caller.ctx.actor.can(perm::USER_READ, Target::Org(org)) {
            return Err(ServiceError::denied("missing permission user.read").into());
        }
        let mut res = see_other("/ui/console/users");
        let c = session::cookie(&state.console, ORG_COOKIE, org.to_string(), CookieDuration::days(365));
        let _ = res.add_cookie(&c);
        Ok(res)
    })
    .await
}

// ---------------------------------------------------------------------------
// Service users

struct UserRow {
    id: String,
    username: String,
    name: String,
    state_key: &'static str,
    state_class: &'static str,
    created: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    l: Layout,
    query: String,
    rows: Vec<UserRow>,
    can_write: bool,
}

/// The list's search.
#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
}

/// `GET /users`: the service users of the selected organization.
pub async fn users(req: HttpRequest, state: web::Data<AppState>, q: web::Query<UsersQuery>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let org = current_org(&req, &caller);
        let mut filters = vec![UserFilter::Org(org), UserFilter::Type(UserType::Machine)];
        let query = q.q.trim().to_owned();
        if !query.is_empty() {
            filters.push(UserFilter::Username(TextFilter {
                value: query.clone(),
                method: TextMethod::ContainsIgnoreCase,
            }));
        }
        let page_spec = Page { offset: 0, limit: Page::MAX_LIMIT, asc: true };
        let listed = users::list(&caller.ctx, filters, UserSort::Username, page_spec).await?;
        let rows = listed
            .items
            .iter()
            .map(|u| {
                let (state_key, state_class) = state_badge(u.state);
                UserRow {
                    id: u.id.to_string(),
                    username: u.username.to_string(),
                    name: u.machine().map(|m| m.name.to_string()).unwrap_or_default(),
                    state_key,
                    state_class,
                    created: fmt_time(u.created_at),
                }
            })
            .collect();
        let can_write = caller.ctx.actor.can(perm::USER_WRITE, Target::Org(org));
        let l = layout(&req, Some(nav(&req, &caller).await?));
        Ok(html(StatusCode::OK, UsersPage { l, query, rows, can_write }.render()?))
    })
    .await
}

#[derive(Template)]
#[template(path = "console/user_new.html")]
struct NewUserPage {
    l: Layout,
    csrf: String,
    username: String,
    name: String,
    description: String,
    error: Option<String>,
}

/// `GET /users/new`.
pub async fn new_user(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let csrf = caller.csrf.clone();
        let l = layout(&req, Some(nav(&req, &caller).await?));
        let p = NewUserPage {
            l,
            csrf,
            username: String::new(),
            name: String::new(),
            description: String::new(),
            error: None,
        };
        Ok(html(StatusCode::OK, p.render()?))
    })
    .await
}

/// The new-user form.
#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    access_token_type: String,
}

fn token_type(s: &str) -> AccessTokenType {
    if s == "jwt" { AccessTokenType::Jwt } else { AccessTokenType::Bearer }
}

fn parse_new_user(org: OrgId, form: &NewUserForm) -> Result<users::NewMachine, ServiceError> {
    let username = Username::parse(form.username.trim())?;
    let name = if form.name.trim().is_empty() { username.to_string() } else { form.name.trim().to_owned() };
    Ok(users::NewMachine {
        org_id: Some(org),
        user_id: None,
        username: Some(username),
        name: DisplayName::parse("name", &name)?,
        description: Description::parse(&form.description)?,
        access_token_type: token_type(&form.access_token_type),
    })
}

/// `POST /users`: creates a service user and opens it. Invalid input shows the
/// form again with the reason.
pub async fn create_user(req: HttpRequest, state: web::Data<AppState>, form: web::Form<NewUserForm>) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let org = current_org(&req, &caller);
        let result = match parse_new_user(org, &form) {
            Ok(new) => users::create_machine(&caller.ctx, new).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(user) => Ok(see_other(&format!("/ui/console/users/{}", user.id))),
            Err(e @ (ServiceError::InvalidArgument(_) | ServiceError::AlreadyExists(_))) => {
                let (status, message) = console_error(&e);
                let l = layout(&req, Some(nav(&req, &caller).await?));
                let p = NewUserPage {
                    l,
                    csrf: caller.csrf.clone(),
                    username: form.username.clone(),
                    name: form.name.clone(),
                    description: form.description.clone(),
                    error: message,
                };
                Ok(html(status, p.render()?))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

// ---------------------------------------------------------------------------
// Service user detail

struct UserView {
    id: String,
    username: String,
    name: String,
    description: String,
    jwt: bool,
    state_key: &'static str,
    state_class: &'static str,
}

struct PatRow {
    id: String,
    created: String,
    expires: Option<String>,
    last_used: Option<String>,
    /// What a fine-grained token reaches; `None`: full access.
    scope: Option<String>,
}

/// The dialog open on top of the detail page.
pub enum Dialog {
    /// None.
    None,
    /// Confirm deleting the user.
    Delete,
    /// The "+ New" access token form, with the scopes it offers.
    PatNew,
    /// The new token, shown once.
    PatCreated(String),
    /// Confirm removing a token.
    PatRemove(String),
    /// The "+ New" key form.
    KeyNew,
    /// Confirm removing a key.
    KeyRemove(String),
    /// The new client secret (client id, secret), shown once.
    SecretCreated(String, String),
    /// Confirm removing the client secret.
    SecretRemove,
    /// The add or edit form of a federated credential.
    Federation(Box<super::federation::FederationDialog>),
    /// Confirm removing a federated credential.
    FederationRemove(String),
}

struct KeyRow {
    id: String,
    key_type: &'static str,
    created: String,
    expires: Option<String>,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    l: Layout,
    csrf: String,
    u: UserView,
    state_actions: Vec<(&'static str, &'static str)>,
    pats: Vec<PatRow>,
    /// What the "+ New" access token dialog offers, when it is open.
    pat_choices: Option<super::pat_scope::PatScopeChoices>,
    keys: Vec<KeyRow>,
    federated: Vec<super::federation::FederationRow>,
    secret_created: Option<String>,
    roles: Vec<(&'static str, bool)>,
    dialog: Dialog,
    tomorrow: String,
    can_write: bool,
    can_delete: bool,
    can_credentials: bool,
    can_members: bool,
}

/// The detail page's query: which dialog to open.
#[derive(Deserialize)]
pub struct UserQuery {
    #[serde(default)]
    dialog: String,
    #[serde(default)]
    item: String,
}

pub(super) fn user_id(path: &str) -> Result<UserId, PageError> {
    UserId::parse(path).map_err(|_| ServiceError::not_found("user not found").into())
}

/// Loads a service user the caller may read (machine users only: the console's
/// pages are about service users).
pub(super) async fn service_user(caller: &ConsoleCaller, id: UserId) -> Result<User, PageError> {
    let user = users::get(&caller.ctx, id).await?;
    if !user.is_machine() {
        return Err(ServiceError::not_found("service user not found").into());
    }
    Ok(user)
}

pub(super) async fn render_user(req: &HttpRequest, caller: &ConsoleCaller, user: &User, dialog: Dialog) -> PageResult {
    let ctx = &caller.ctx;
    let org = user.org_id;
    let machine = user.machine().ok_or_else(|| ServiceError::not_found("service user not found"))?;
    let (state_key, state_class) = state_badge(user.state);
    let u = UserView {
        id: user.id.to_string(),
        username: user.username.to_string(),
        name: machine.name.to_string(),
        description: machine.description.to_string(),
        jwt: machine.access_token_type == AccessTokenType::Jwt,
        state_key,
        state_class,
    };
    let state_actions = match user.state {
        UserState::Active => vec![("deactivate", "detail.deactivate"), ("lock", "detail.lock")],
        UserState::Inactive => vec![("reactivate", "detail.reactivate")],
        UserState::Locked => vec![("unlock", "detail.unlock"), ("deactivate", "detail.deactivate")],
    };
    let page_spec = Page { offset: 0, limit: Page::MAX_LIMIT, asc: true };
    let far = chrono::Duration::days(365 * 1000);
    let now = ctx.now();
    let nav = nav(req, caller).await?;
    let pats = pats::list(ctx, vec![PatFilter::User(user.id)], PatSort::CreatedAt, page_spec)
        .await?
        .items
        .into_iter()
        .map(|p| PatRow {
            id: p.pat.id.to_string(),
            created: fmt_time(p.pat.created_at),
            expires: (p.pat.expires_at - now < far).then(|| fmt_time(p.pat.expires_at)),
            last_used: p.pat.last_used_at.map(fmt_time),
            scope: super::pat_scope::summary(p.pat.scope.as_ref(), &nav.orgs),
        })
        .collect();
    let pat_choices = match dialog {
        Dialog::PatNew => Some(super::pat_scope::choices(caller, user, &nav.orgs).await?),
        _ => None,
    };
    let keys = keys::list(ctx, vec![KeyFilter::User(user.id)], KeySort::CreatedAt, page_spec)
        .await?
        .items
        .into_iter()
        .map(|k| KeyRow {
            id: k.key.id.to_string(),
            key_type: k.key.key_type.as_str(),
            created: fmt_time(k.key.created_at),
            expires: (k.key.expires_at - now < far).then(|| fmt_time(k.key.expires_at)),
        })
        .collect();
    let federated =
        tessera_core::federation::list(ctx, user.id).await?.iter().map(super::federation::FederationRow::of).collect();
    // Shown only to callers who may read the user (checked by the caller of
    // this function); the digest never leaves the store.
    let secret_created = ctx
        .core
        .store
        .machine_secrets()
        .list_for_user(user.id)
        .await
        .map_err(ServiceError::from)?
        .into_iter()
        .find(|s| s.superseded_at.is_none())
        .map(|s| fmt_time(s.created_at));
    let held = admins::list(
        ctx,
        vec![AdminFilter::User(user.id), AdminFilter::Scope(Scope::Org(org))],
        AdminSort::default(),
        Page::default(),
    )
    .await?
    .items
    .into_iter()
    .flat_map(|a| a.admin.roles.iter().collect::<Vec<_>>())
    .collect::<Vec<Role>>();
    let roles = Role::ALL
        .iter()
        .filter(|r| r.level() == RoleLevel::Organization)
        .map(|r| (r.as_str(), held.contains(r)))
        .collect();
    let grants = &ctx.actor;
    let tomorrow = (now + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let p = UserPage {
        l: layout(req, Some(nav)),
        csrf: caller.csrf.clone(),
        u,
        state_actions,
        pats,
        pat_choices,
        keys,
        federated,
        secret_created,
        roles,
        dialog,
        tomorrow,
        can_write: grants.can(perm::USER_WRITE, Target::Org(org)),
        can_delete: grants.can(perm::USER_DELETE, Target::Org(org)),
        can_credentials: grants.can(perm::USER_CREDENTIAL_WRITE, Target::Org(org)),
        can_members: grants.can(perm::ORG_MEMBER_WRITE, Target::Org(org)),
    };
    Ok(html(StatusCode::OK, p.render()?))
}

/// `GET /users/{id}`, with `?dialog=` for the dialogs that need no JavaScript.
pub async fn user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    q: web::Query<UserQuery>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        let user = service_user(&caller, user_id(&path)?).await?;
        let item = || PatId::parse(&q.item).map(|id| id.to_string()).map_err(ServiceError::from);
        let dialog = match q.dialog.as_str() {
            "delete" => Dialog::Delete,
            "pat-new" => Dialog::PatNew,
            "pat-remove" => Dialog::PatRemove(item()?),
            "key-new" => Dialog::KeyNew,
            "key-remove" => Dialog::KeyRemove(KeyId::parse(&q.item).map_err(ServiceError::from)?.to_string()),
            "secret-remove" => Dialog::SecretRemove,
            "federation-new" => super::federation::dialog(&state, &caller, user.id, None).await?,
            "federation-edit" => super::federation::dialog(&state, &caller, user.id, Some(&q.item)).await?,
            "federation-remove" => super::federation::remove_dialog(&q.item)?,
            _ => Dialog::None,
        };
        render_user(&req, &caller, &user, dialog).await
    })
    .await
}

/// The details form.
#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    access_token_type: String,
}

/// `POST /users/{id}/edit`.
pub async fn edit_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<EditForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path)?;
        let change = users::UserUpdate {
            username: None,
            machine: Some(users::MachineUpdate {
                name: Some(DisplayName::parse("name", form.name.trim()).map_err(ServiceError::from)?),
                description: Some(Description::parse(&form.description).map_err(ServiceError::from)?),
                access_token_type: Some(token_type(&form.access_token_type)),
            }),
            human: None,
        };
        service_user(&caller, id).await?;
        users::update(&caller.ctx, id, change).await?;
        Ok(see_other(&format!("/ui/console/users/{id}")))
    })
    .await
}

/// The state buttons.
#[derive(Deserialize)]
pub struct StateForm {
    #[serde(default)]
    csrf: String,
    action: String,
}

/// `POST /users/{id}/state`: deactivate, reactivate, lock, unlock.
pub async fn change_state(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<StateForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path)?;
        let change = match form.action.as_str() {
            "deactivate" => StateChange::Deactivate,
            "reactivate" => StateChange::Reactivate,
            "lock" => StateChange::Lock,
            "unlock" => StateChange::Unlock,
            _ => return Err(ServiceError::invalid("unknown action").into()),
        };
        service_user(&caller, id).await?;
        users::change_state(&caller.ctx, id, change).await?;
        Ok(see_other(&format!("/ui/console/users/{id}")))
    })
    .await
}

/// `POST /users/{id}/delete` (after the confirmation dialog).
pub async fn delete_user(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path)?;
        service_user(&caller, id).await?;
        users::delete(&caller.ctx, id).await?;
        Ok(see_other("/ui/console/users"))
    })
    .await
}

// ---------------------------------------------------------------------------
// Access tokens

/// A date from the picker as the end of that day in UTC (the token works through
/// the whole chosen day); `None` for an empty field.
pub(super) fn end_of_day(date: &str) -> Result<Option<Timestamp>, ServiceError> {
    let date = date.trim();
    if date.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| ServiceError::invalid("the expiration date is not a date (YYYY-MM-DD)"))?;
    let end = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default();
    Ok(Some(Utc.from_utc_datetime(&day.and_time(end))))
}

/// `POST /users/{id}/pats`: issues a token and shows it once. The answer is this
/// response (no redirect), so the token is in no URL and no history entry, and
/// `Cache-Control: no-store` keeps it out of caches.
pub async fn add_pat(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        // The CSRF check comes first, whatever else the form holds.
        let presented = form_urlencoded::parse(&body).find(|(k, _)| k == "csrf").map(|(_, v)| v.into_owned());
        csrf(&caller, &presented.unwrap_or_default())?;
        let form = super::pat_scope::parse(&body)?;
        let id = user_id(&path)?;
        let user = service_user(&caller, id).await?;
        let expires = end_of_day(&form.expiration)?;
        let (_, token) = pats::add(&caller.ctx, id, expires, form.scope).await?;
        render_user(&req, &caller, &user, Dialog::PatCreated(token.expose_secret().to_owned())).await
    })
    .await
}

/// `POST /users/{id}/pats/{pat}/remove` (after the confirmation dialog).
pub async fn remove_pat(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        csrf(&caller, &form.csrf)?;
        let id = user_id(&path.0)?;
        let pat = PatId::parse(&path.1).map_err(ServiceError::from)?;
        service_user(&caller, id).await?;
        pats::remove(&caller.ctx, id, pat).await?;
        Ok(see_other(&format!("/ui/console/users/{id}#pats")))
    })
    .await
}

// ---------------------------------------------------------------------------
// Administrator roles

/// `POST /users/{id}/roles`: the checked organization roles become the user's
/// roles on the user's organization (none checked removes the membership).
pub async fn save_roles(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    page(&req, async {
        let caller = caller(&state, &req).await?;
        // Repeated `role` fields: parsed pair by pair.
        let mut presented = String::new();
        let mut roles = Vec::new();
        for (k, v) in form_urlencoded::parse(&body) {
            match k.as_ref() {
                "csrf" => presented = v.into_owned(),
                "role" => roles.push(Role::parse(&v).map_err(ServiceError::from)?),
                _ => {}
            }
        }
        csrf(&caller, &presented)?;
        let id = user_id(&path)?;
        let user = service_user(&caller, id).await?;
        let scope = Scope::Org(user.org_id);
        admins::set(&caller.ctx, id, scope, roles).await?;
        Ok(see_other(&format!("/ui/console/users/{id}#roles")))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiration_dates_mean_the_end_of_the_day_in_utc() {
        assert_eq!(end_of_day("").ok(), Some(None));
        let t = end_of_day("2030-01-31").ok().flatten().map(|t| t.to_rfc3339());
        assert_eq!(t.as_deref(), Some("2030-01-31T23:59:59+00:00"));
        assert!(end_of_day("31.01.2030").is_err());
    }
}
