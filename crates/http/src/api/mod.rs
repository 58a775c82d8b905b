//! The ZITADEL-compatible management API (DESIGN.md §3): Connect unary calls with
//! JSON at `POST /<package>.<Service>/<Method>`, and the same handlers at
//! ZITADEL's REST paths, plus the two v1 management (grpc-gateway) methods that
//! set a machine user's access token type.

pub mod app_v2beta;
pub mod application;
pub mod authorization;
pub mod authorization_v2beta;
pub mod call;
pub mod connect;
pub mod federation;
pub mod human;
pub mod internal_permission;
pub mod mgmt_v1;
pub mod org;
pub mod policy;
pub mod project;
pub mod project_v2beta;
pub mod protocol;
pub mod user;
pub mod user_credentials;
pub mod v2;
pub mod web_key;
pub mod webhook;
pub mod wire;

use actix_web::web;

/// Mounts every API route: each method's static path, the REST paths, then the
/// pattern that answers any other `/<dotted service name>/<method>`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Every method's own path first: static, cheap to match.
    connect::routes(cfg);
    // Before the user routes: `/v2/users/keys/search` must not match `/v2/users/{userId}`.
    user_credentials::rest_routes(cfg);
    user::rest_routes(cfg);
    org::rest_routes(cfg);
    project_v2beta::rest_routes(cfg);
    app_v2beta::rest_routes(cfg);
    authorization_v2beta::rest_routes(cfg);
    web_key::rest_routes(cfg);
    mgmt_v1::routes(cfg);
    connect::fallback_routes(cfg);
}
