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
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use tessera_core::sessions::{self, Login};
use tessera_domain::user::User;
use tessera_domain::{ConsoleSessionId, OrgId};

use super::ConsoleSettings;
use super::i18n::Lang;
use crate::AppState;
use crate::error::ServiceError;
use tessera_core::Ctx;

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
/// longer active): `tessera_core::sessions::authenticate` on the cookie.
///
/// # Errors
/// Database errors only.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Option<ConsoleCaller>, ServiceError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    let value = cookie.value();
    let Some(session) = sessions::authenticate(&state.core, value).await? else { return Ok(None) };
    Ok(Some(ConsoleCaller {
        ctx: state.ctx(session.actor),
        user: session.user,
        session: session.id,
        csrf: csrf_for(value),
    }))
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

/// Checks a login name and password and opens a session
/// (`tessera_core::sessions::login`); returns the cookie value.
///
/// The throttle takes its place before anything is checked (DESIGN.md §8). An
/// attempt whose password was never checked (a database error, the hashing
/// slots full: 503 at once) guessed nothing and gives its place back uncounted.
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
    let attempt = settings
        .throttle
        .begin(username, addr, state.core.clock.now())
        .map_err(|r| LoginError::Throttled { retry_after_secs: r.retry_after_secs })?;
    match sessions::login(&state.core, username, password, settings.session_lifetime).await {
        Ok(Login::Opened { credential, .. }) => {
            state.metrics.console_password_checks.inc();
            attempt.succeeded();
            Ok(SecretString::from(credential.expose_secret().to_owned()))
        }
        Ok(Login::Refused) => {
            state.metrics.console_password_checks.inc();
            attempt.failed();
            Err(LoginError::Invalid)
        }
        Err(e) => {
            attempt.abandon();
            Err(e.into())
        }
    }
}

/// Ends the caller's session.
///
/// # Errors
/// Database errors.
pub async fn logout(caller: &ConsoleCaller) -> Result<(), ServiceError> {
    sessions::logout(&caller.ctx, caller.session, caller.user.org_id).await
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
