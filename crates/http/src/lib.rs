//! Tessera's HTTP surface: the ZITADEL-compatible management API, the OAuth and
//! OIDC endpoints, the console, and the one place where errors become responses.
//!
//! Nothing here holds a business rule: handlers translate the wire into calls of
//! the use cases in `tessera-core` and their results back, and the OAuth
//! endpoints call `tessera-oauth`.

pub mod api;
pub mod auth;
pub mod client_addr;
pub mod console;
pub mod error;
pub mod health;
pub mod leaks;
pub mod metrics;
pub mod oauth;
pub mod observe;
pub mod outbound;
pub mod ratelimit;
pub mod serve;
pub mod state;

use actix_web::web;

pub use state::AppState;

/// Registers every route and the shared state on an actix `App`.
pub fn configure(state: AppState) -> impl FnOnce(&mut web::ServiceConfig) + Clone {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(state))
            .configure(health::routes)
            .configure(oauth::routes)
            .configure(leaks::routes)
            .configure(console::routes)
            .configure(api::routes);
    }
}
