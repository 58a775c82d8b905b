//! The console: server-rendered pages under `/ui/console` for administrators who
//! never touch the API (service users, their tokens, keys and secrets, and
//! administrator roles).
//!
//! Pages call the same application services as the API (`tessera_core`), so
//! every action checks the same permissions. Templates are compiled with the
//! crate (askama) and escape HTML by default; the only scripts are
//! `assets/console.js` (clipboard, the organization switcher, showing only the
//! fields of a chosen option), served by Tessera itself under a strict
//! `Content-Security-Policy`. Everything but the clipboard
//! works without JavaScript: dialogs are server-rendered pages.

mod credentials;
mod federation;
pub mod i18n;
mod pages;
mod pat_scope;
mod projects;
pub mod session;
pub mod throttle;
mod webhooks;

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};

use self::throttle::{LoginThrottle, ThrottlePolicy};

/// Where the console lives.
pub const CONSOLE_PATH: &str = "/ui/console";

/// No inline script or style, nothing from elsewhere, no framing, forms post only
/// to Tessera.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's settings and login throttle, shared by every worker.
#[derive(Debug)]
pub struct ConsoleSettings {
    /// Mark cookies `Secure` (the external URL is https).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_lifetime: chrono::Duration,
    /// Failed-login counters.
    pub throttle: LoginThrottle,
}

impl ConsoleSettings {
    /// Settings for a server whose external URL is `external_url`.
    #[must_use]
    pub fn new(external_url: &str, session_lifetime: chrono::Duration, throttle: ThrottlePolicy) -> Self {
        Self {
            secure_cookies: external_url.starts_with("https://"),
            session_lifetime,
            throttle: LoginThrottle::new(throttle),
        }
    }
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self::new("http://localhost", chrono::Duration::hours(8), ThrottlePolicy::default())
    }
}

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// `GET /`: a redirect (303) to the console.
async fn root() -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, format!("{CONSOLE_PATH}/"))).finish()
}

async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(CSS)
}

async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(JS)
}

/// Registers the console's routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // A person who opens the server's address in a browser lands on the console.
    cfg.route("/", web::get().to(root));
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
        .add((header::CACHE_CONTROL, "no-store"));
    cfg.service(
        web::scope(CONSOLE_PATH)
            .wrap(headers)
            .route("", web::get().to(pages::home))
            .route("/", web::get().to(pages::home))
            .route("/assets/console.css", web::get().to(css))
            .route("/assets/console.js", web::get().to(js))
            .route("/login", web::get().to(pages::login_page))
            .route("/login", web::post().to(pages::login_submit))
            .route("/logout", web::post().to(pages::logout))
            .route("/lang", web::get().to(pages::switch_lang))
            .route("/org", web::post().to(pages::switch_org))
            .route("/users", web::get().to(pages::users))
            .route("/users", web::post().to(pages::create_user))
            .route("/users/new", web::get().to(pages::new_user))
            .route("/users/{id}", web::get().to(pages::user))
            .route("/users/{id}/edit", web::post().to(pages::edit_user))
            .route("/users/{id}/state", web::post().to(pages::change_state))
            .route("/users/{id}/delete", web::post().to(pages::delete_user))
            .route("/users/{id}/pats", web::post().to(pages::add_pat))
            .route("/users/{id}/pats/{pat}/remove", web::post().to(pages::remove_pat))
            .route("/users/{id}/keys", web::post().to(credentials::add_key))
            .route("/users/{id}/keys/{key}/remove", web::post().to(credentials::remove_key))
            .route("/users/{id}/secret", web::post().to(credentials::add_secret))
            .route("/users/{id}/secret/remove", web::post().to(credentials::remove_secret))
            .route("/users/{id}/roles", web::post().to(pages::save_roles))
            .service(
                web::resource("/users/{id}/federation")
                    .app_data(web::FormConfig::default().limit(federation::FORM_LIMIT))
                    .route(web::post().to(federation::add)),
            )
            .service(
                web::resource("/users/{id}/federation/{credential}")
                    .app_data(web::FormConfig::default().limit(federation::FORM_LIMIT))
                    .route(web::post().to(federation::update)),
            )
            .route("/users/{id}/federation/{credential}/remove", web::post().to(federation::remove))
            .route("/webhooks", web::get().to(webhooks::list))
            .route("/webhooks", web::post().to(webhooks::create))
            .route("/webhooks/{id}", web::get().to(webhooks::show))
            .route("/webhooks/{id}/active", web::post().to(webhooks::set_active))
            .route("/webhooks/{id}/secret", web::post().to(webhooks::rotate))
            .route("/webhooks/{id}/delete", web::post().to(webhooks::delete))
            .route("/webhooks/{id}/deliveries/{delivery}/resend", web::post().to(webhooks::resend))
            .route("/projects", web::get().to(projects::list))
            .route("/projects", web::post().to(projects::create))
            .route("/projects/{id}", web::get().to(projects::show))
            .route("/projects/{id}/delete", web::post().to(projects::delete))
            .route("/projects/{id}/roles", web::post().to(projects::add_role))
            .route("/projects/{id}/roles/remove", web::post().to(projects::remove_role))
            .route("/projects/{id}/apps", web::post().to(projects::add_app))
            .route("/projects/{id}/apps/{app}/secret", web::post().to(projects::app_secret))
            .route("/projects/{id}/apps/{app}/keys", web::post().to(projects::app_key))
            .route("/projects/{id}/apps/{app}/delete", web::post().to(projects::delete_app))
            .route("/projects/{id}/authorizations", web::post().to(projects::add_authorization))
            .route(
                "/projects/{id}/authorizations/{authorization}/delete",
                web::post().to(projects::delete_authorization),
            ),
    );
}
