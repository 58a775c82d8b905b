//! The OAuth 2.0 / OpenID Connect endpoints at ZITADEL's paths (DESIGN.md §3):
//! discovery, JWKS, the token endpoint, userinfo, introspection and revocation. Errors are RFC 6749 §5.2
//! bodies, rendered in `crate::error`.

mod discovery;
pub mod form;
mod resource;
mod token;
mod userinfo;

use actix_web::web;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/oauth/v2/token";
/// Path of the JWKS.
pub const JWKS_PATH: &str = "/oauth/v2/keys";
/// Path of the introspection endpoint.
pub const INTROSPECT_PATH: &str = "/oauth/v2/introspect";
/// Path of the revocation endpoint.
pub const REVOKE_PATH: &str = "/oauth/v2/revoke";
/// Path of the userinfo endpoint.
pub const USERINFO_PATH: &str = "/oidc/v1/userinfo";
/// Path of the (unsupported) authorization endpoint.
pub const AUTHORIZE_PATH: &str = "/oauth/v2/authorize";

/// Mounts the endpoints.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/.well-known/openid-configuration", web::get().to(discovery::openid_configuration))
        .route(JWKS_PATH, web::get().to(discovery::jwks))
        .route(AUTHORIZE_PATH, web::route().to(discovery::authorize))
        .route(TOKEN_PATH, web::post().to(token::token))
        .route(INTROSPECT_PATH, web::post().to(resource::introspect))
        .route(INTROSPECT_PATH, web::route().to(resource::post_only))
        .route(REVOKE_PATH, web::post().to(resource::revoke))
        .route(REVOKE_PATH, web::route().to(resource::post_only))
        .route(USERINFO_PATH, web::get().to(userinfo::userinfo))
        .route(USERINFO_PATH, web::post().to(userinfo::userinfo));
}
