//! Console sessions: the login, the session cookie, the caller of every page and
//! the CSRF tokens of its forms.
//!
//! The cookie holds a `tsr_sess_` credential (DESIGN.md §4: lookup id, 256 random
//! bits, checksum); the database holds its SHA-256 digest only. Each request costs
//! one point read of the session, one of the user's state and one of its roles, so
//! a removed role, a locked user or a logout takes effect on the next click.
//!
//! CSRF: every form carries a token derived from the session credential
//! (SHA-256 over a fixed label and the cookie), which a cross-site page can
//! neither read nor compute; the login form, which has no session yet, uses a
//! double-submit cookie. `SameSite=Strict` on both cookies is a second layer.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tessera_domain::audit::AuditEvent;
use tessera_domain::console_session::ConsoleSession;
use tessera_domain::permission::OrgFilter;
use tessera_domain::repo::{OrgQuery, OrgQueryFilter, OrgSort, Page, TextFilter, TextMethod};
use tessera_domain::user::User;
use tessera_domain::{ConsoleSessionId, OrgId};
use tessera_oauth::credential::{Credential, CredentialKind, ParsedCredential};
use tessera_oauth::validator::CredentialRef;

use super::ConsoleSettings;
use super::i18n::Lang;
use crate::AppState;
use crate::error::ServiceError;
use tessera_core::Ctx;
use tessera_core::{Actor, load_grants};

/// The session cookie.
pub const SESSION_COOKIE: &str = "tessera_console_session";
/// The login form's double-submit CSRF cookie.
pub const LOGIN_CSRF_COOKIE: &str = "tessera_console_login";
/// The remembered language.
pub const LANG_COOKIE: &str = "tessera_console_lang";
/// The selected organization.
pub const ORG_COOKIE: &str = "tessera_console_org";
/// Every console cookie is scoped to the console.
pub const COOKIE_PATH: &str = "/ui/console";

/// A logged-in administrator on a console page.
#[derive(Clone)]
pub struct ConsoleCaller {
    /// What the services need: the state and the caller with its roles.
    pub ctx: Ctx,
    /// The administrator.
    pub user: User,
    /// The session.
    pub session: ConsoleSessionId,
    /// The CSRF token every form of this session must carry.
    pub csrf: String,
}

/// A cookie scoped to the console with the common flags.
pub fn cookie(
    settings: &ConsoleSettings,
    name: &'static str,
    value: String,
    max_age: CookieDuration,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(settings.secure_cookies)
        .max_age(max_age)
        .finish()
}

/// A cookie that removes `name`.
pub fn removal(settings: &ConsoleSettings, name: &'static str) -> Cookie<'static> {
    cookie(settings, name, String::new(), CookieDuration::ZERO)
}

/// The language of a request: the remembered choice, else `Accept-Language`.
pub fn lang_of(req: &HttpRequest) -> Lang {
    if let Some(lang) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return lang;
    }
    let header = req.headers().get(actix_web::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    Lang::negotiate(header)
}

/// The organization selected with the switcher, if any.
pub fn selected_org(req: &HttpRequest) -> Option<OrgId> {
    req.cookie(ORG_COOKIE).and_then(|c| OrgId::parse(c.value()).ok())
}

fn csrf_for(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tessera console csrf v1\0");
    h.update(secret.as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

/// Whether `presented` equals `expected`, in constant time.
pub fn same_token(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// A fresh random value for the login form's double-submit cookie.
pub fn new_login_csrf() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The caller of a console request, or `None` when there is no valid session
/// (no cookie, a malformed, unknown, expired or ended one, or a user that is no
/// longer active).
///
/// # Errors
/// Database errors only.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Option<ConsoleCaller>, ServiceError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    let value = cookie.value();
    let Ok(parsed) = ParsedCredential::parse(Some(CredentialKind::ConsoleSession), value) else { return Ok(None) };
    let id = ConsoleSessionId::from_uuid(parsed.id());
    let Some(session) = state.core.store.console_sessions().get(id).await? else { return Ok(None) };
    if !parsed.verify(&session.digest) || session.is_expired(state.core.clock.now()) {
        return Ok(None);
    }
    let Some(user) = state.core.store.users().get(session.user_id).await? else { return Ok(None) };
    let Some(owner) = state.core.store.users().owner(user.id).await? else { return Ok(None) };
    if !owner.is_active() || user.is_machine() {
        return Ok(None);
    }
    let grants = load_grants(state.core.store.as_ref(), user.id).await?;
    let actor =
        Actor { user_id: user.id, org_id: user.org_id, credential: Some(CredentialRef::ConsoleSession(id)), grants };
    Ok(Some(ConsoleCaller { ctx: state.ctx(actor), user, session: id, csrf: csrf_for(value) }))
}

/// Why a login did not succeed.
#[derive(Debug)]
pub enum LoginError {
    /// Unknown user, wrong password, or a user that may not use the console; the
    /// page does not say which.
    Invalid,
    /// Too many failures for this login name or address; come back after
    /// `retry_after_secs`.
    Throttled {
        /// Seconds to wait (`Retry-After`).
        retry_after_secs: u64,
    },
    /// Something that should not happen, or the server is busy.
    Service(ServiceError),
}

impl From<ServiceError> for LoginError {
    fn from(e: ServiceError) -> Self {
        Self::Service(e)
    }
}

/// Finds the human user a console login name names (docs/console.md#login-names).
///
/// `username@organization` names the user in the organization of that name
/// (case-insensitive; the last `@` separates them, since usernames may contain
/// `@`). When no organization has that name, or there is no `@`, the whole
/// name is a username in the instance's default organization, where the
/// bootstrap admin lives. Each login name names at most one user by
/// construction (usernames are unique per organization), so a user created in
/// one organization never makes a login in another ambiguous.
///
/// # Errors
/// Database errors.
pub async fn resolve_login_name(state: &AppState, login_name: &str) -> Result<Option<User>, ServiceError> {
    let login_name = login_name.trim();
    if login_name.is_empty() || login_name.chars().count() > MAX_LOGIN_NAME {
        return Ok(None);
    }
    if let Some((username, org_name)) = login_name.rsplit_once('@').filter(|(u, o)| !u.is_empty() && !o.is_empty()) {
        let org_key = org_name.to_lowercase();
        let orgs = state
            .core
            .store
            .orgs()
            .list(&OrgQuery {
                filters: vec![OrgQueryFilter::Name(TextFilter {
                    value: org_name.to_owned(),
                    method: TextMethod::EqualsIgnoreCase,
                })],
                visible: OrgFilter::All,
                sort: OrgSort::default(),
                page: Page { offset: 0, limit: 2, asc: true },
            })
            .await?;
        if let Some(org) = orgs.items.into_iter().find(|o| o.name.key() == org_key) {
            let user = state.core.store.users().find_by_username(org.id, username).await?;
            return Ok(user.filter(|u| !u.is_machine()));
        }
    }
    let Some(instance) = state.core.store.instance().get().await? else { return Ok(None) };
    let user = state.core.store.users().find_by_username(instance.default_org_id, login_name).await?;
    Ok(user.filter(|u| !u.is_machine()))
}

/// Longest login name looked up: a username and an organization name of 200
/// characters each and the `@`.
const MAX_LOGIN_NAME: usize = 401;

/// Checks a login name and password and opens a session; returns the cookie value.
///
/// The throttle takes its place before anything is checked (DESIGN.md §8).
/// argon2id runs in the hasher's bounded slots on the blocking pool (beyond
/// them: 503 at once); an unknown name is verified against a dummy hash so that
/// the answer takes as long (DESIGN.md §4). Only active human users of active
/// organizations with at least one administrator role get in.
///
/// # Errors
/// [`LoginError`].
pub async fn login(
    state: &AppState,
    settings: &ConsoleSettings,
    username: &str,
    password: SecretString,
    addr: Option<IpAddr>,
) -> Result<SecretString, LoginError> {
    let now = state.core.clock.now();
    let attempt = settings
        .throttle
        .begin(username, addr, now)
        .map_err(|r| LoginError::Throttled { retry_after_secs: r.retry_after_secs })?;
    // An attempt whose password was never checked (a database error, the
    // hashing slots full) guessed nothing: it gives its place back uncounted.
    let user = match resolve_login_name(state, username).await {
        Ok(user) => user,
        Err(e) => {
            attempt.abandon();
            return Err(e.into());
        }
    };
    let hash = user.as_ref().and_then(|u| u.human()).and_then(|h| h.password_hash.clone());
    let matches = match state.core.hasher.verify_async(password, hash).await {
        Ok(matches) => matches,
        Err(e) => {
            attempt.abandon();
            return Err(ServiceError::from(e).into());
        }
    };
    state.metrics.console_password_checks.inc();
    let user = match user {
        Some(u) if matches => u,
        _ => {
            attempt.failed();
            return Err(LoginError::Invalid);
        }
    };
    let owner = state.core.store.users().owner(user.id).await.map_err(ServiceError::from)?;
    let is_admin = !state.core.store.admins().list_for_user(user.id).await.map_err(ServiceError::from)?.is_empty();
    if !owner.is_some_and(|o| o.is_active()) || !is_admin {
        attempt.failed();
        return Err(LoginError::Invalid);
    }
    attempt.succeeded();

    let id = ConsoleSessionId::new();
    let (token, digest) = Credential::generate(CredentialKind::ConsoleSession, *id.as_uuid(), &mut rand::rngs::OsRng);
    let session =
        ConsoleSession { id, user_id: user.id, digest, created_at: now, expires_at: now + settings.session_lifetime };
    let tx = state.core.store.begin().await.map_err(ServiceError::from)?;
    // Housekeeping on the way: sessions past their lifetime are useless rows.
    tx.console_sessions().purge_expired(now).await.map_err(ServiceError::from)?;
    tx.console_sessions().insert(&session).await.map_err(ServiceError::from)?;
    tx.audit()
        .append(
            &AuditEvent::new(now, Some(user.id), "console.login", "console_session", id, Some(user.org_id))
                .with_details(json!({"expiresAt": session.expires_at})),
        )
        .await
        .map_err(ServiceError::from)?;
    tx.commit().await.map_err(ServiceError::from)?;
    Ok(SecretString::from(token.expose_secret().to_owned()))
}

/// Ends the caller's session.
///
/// # Errors
/// Database errors.
pub async fn logout(caller: &ConsoleCaller) -> Result<(), ServiceError> {
    let ctx = &caller.ctx;
    let tx = ctx.begin().await?;
    match tx.console_sessions().delete(caller.session).await {
        Ok(()) | Err(tessera_domain::repo::RepoError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    tx.audit()
        .append(&ctx.event("console.logout", "console_session", caller.session, Some(caller.user.org_id)))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The expose-once cookie value of a new session.
pub fn session_cookie(settings: &ConsoleSettings, value: &SecretString) -> Cookie<'static> {
    let secs = settings.session_lifetime.num_seconds();
    cookie(settings, SESSION_COOKIE, value.expose_secret().to_owned(), CookieDuration::seconds(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_tokens_differ_per_session_and_compare_exactly() {
        let a = csrf_for("tsr_sess_a");
        let b = csrf_for("tsr_sess_b");
        assert_ne!(a, b);
        assert!(same_token(&a, &a.clone()));
        assert!(!same_token(&a, &b));
        assert!(!same_token(&a, ""));
        assert!(!same_token("", ""));
    }
}
