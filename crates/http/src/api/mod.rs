//! The ZITADEL-compatible management API (DESIGN.md §3): Connect unary calls with
//! JSON at `POST /<package>.<Service>/<Method>`, and the same handlers at
//! ZITADEL's REST paths.

pub mod connect;
pub mod user;
pub mod wire;

use actix_web::web;

/// Mounts every API route. REST routes first: the Connect route matches any
/// `/<dotted service name>/<method>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    user::rest_routes(cfg);
    connect::routes(cfg);
}
