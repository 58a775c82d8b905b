//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3,
//! built with the `openidconnect` crate's provider-metadata types) and
//! `GET /oauth/v2/keys` (the JWKS, RFC 7517 §5).

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreJwsSigningAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, IntrospectionUrl, IssuerUrl, JsonWebKeySetUrl, ProviderMetadata,
    ResponseTypes, RevocationUrl, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};
use tessera_oauth::grant::{JWT_BEARER, TOKEN_EXCHANGE};
use tessera_oauth::scope;

use super::{AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH};
use crate::AppState;
use crate::error::OAuthError;

/// Discovery members beyond OpenID Connect Discovery's: RFC 8414 §2 names for
/// introspection (RFC 7662) and revocation (RFC 7009).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EndpointMetadata {
    /// RFC 8414 §2 `introspection_endpoint`.
    pub introspection_endpoint: IntrospectionUrl,
    /// RFC 8414 §2 `introspection_endpoint_auth_methods_supported`.
    pub introspection_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    /// RFC 8414 §2 `introspection_endpoint_auth_signing_alg_values_supported`.
    pub introspection_endpoint_auth_signing_alg_values_supported: Vec<CoreJwsSigningAlgorithm>,
    /// RFC 8414 §2 `revocation_endpoint`.
    pub revocation_endpoint: RevocationUrl,
    /// RFC 8414 §2 `revocation_endpoint_auth_methods_supported`.
    pub revocation_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    /// RFC 8414 §2 `revocation_endpoint_auth_signing_alg_values_supported`.
    pub revocation_endpoint_auth_signing_alg_values_supported: Vec<CoreJwsSigningAlgorithm>,
}

impl AdditionalProviderMetadata for EndpointMetadata {}

/// Tessera's provider metadata.
pub type TesseraProviderMetadata = ProviderMetadata<
    EndpointMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Algorithms a client assertion (`private_key_jwt`) may use: those of the key
/// types Tessera accepts for registration.
fn assertion_algs() -> Vec<CoreJwsSigningAlgorithm> {
    vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ]
}

/// Builds the discovery document for `issuer`.
///
/// # Errors
/// When `issuer` is not a URL (the server validated it at start).
pub fn metadata(
    issuer: &str,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
) -> Result<TesseraProviderMetadata, openidconnect::url::ParseError> {
    let url = |path: &str| format!("{issuer}{path}");
    let claims = [
        "sub",
        "aud",
        "exp",
        "iat",
        "iss",
        "auth_time",
        "azp",
        "client_id",
        "at_hash",
        "name",
        "preferred_username",
        "updated_at",
        "given_name",
        "family_name",
        "email",
        "email_verified",
    ];
    let scopes = [
        "openid",
        "profile",
        "email",
        scope::ZITADEL_API_AUDIENCE_SCOPE,
        scope::PROJECTS_ROLES,
        scope::RESOURCEOWNER,
        scope::METADATA,
    ];
    Ok(TesseraProviderMetadata::new(
        IssuerUrl::new(issuer.to_owned())?,
        // Tessera serves service users: the authorization endpoint exists only
        // because discovery requires it, and it supports no response type.
        AuthUrl::new(url(AUTHORIZE_PATH))?,
        JsonWebKeySetUrl::new(url(JWKS_PATH))?,
        Vec::<ResponseTypes<CoreResponseType>>::new(),
        vec![CoreSubjectIdentifierType::Public],
        signing_algs,
        EndpointMetadata {
            introspection_endpoint: IntrospectionUrl::new(url(INTROSPECT_PATH))?,
            introspection_endpoint_auth_methods_supported: vec![
                CoreClientAuthMethod::ClientSecretBasic,
                CoreClientAuthMethod::PrivateKeyJwt,
            ],
            introspection_endpoint_auth_signing_alg_values_supported: assertion_algs(),
            revocation_endpoint: RevocationUrl::new(url(REVOKE_PATH))?,
            revocation_endpoint_auth_methods_supported: vec![
                CoreClientAuthMethod::ClientSecretBasic,
                CoreClientAuthMethod::ClientSecretPost,
                CoreClientAuthMethod::PrivateKeyJwt,
            ],
            revocation_endpoint_auth_signing_alg_values_supported: assertion_algs(),
        },
    )
    .set_token_endpoint(Some(TokenUrl::new(url(TOKEN_PATH))?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(url(USERINFO_PATH))?))
    .set_scopes_supported(Some(scopes.iter().map(|s| Scope::new((*s).to_owned())).collect()))
    .set_grant_types_supported(Some(vec![
        CoreGrantType::ClientCredentials,
        CoreGrantType::Extension(JWT_BEARER.to_owned()),
        CoreGrantType::Extension(TOKEN_EXCHANGE.to_owned()),
    ]))
    .set_token_endpoint_auth_methods_supported(Some(vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
    ]))
    .set_claims_supported(Some(claims.iter().map(|c| CoreClaimName::new((*c).to_owned())).collect()))
    .set_request_uri_parameter_supported(Some(false)))
}

/// The algorithms of the published signing keys, in signing order (RS256 when
/// none is published, which only a broken key store would show): what
/// `id_token_signing_alg_values_supported` announces.
fn published_algs(state: &AppState) -> Vec<CoreJwsSigningAlgorithm> {
    use tessera_domain::signing_key::SigningAlgorithm as A;
    let now = state.core.clock.now();
    let mut algs = Vec::new();
    for key in state.tokens.keys().keys().iter().filter(|k| k.schedule.is_published(now)) {
        let alg = match key.algorithm {
            A::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            A::Rs384 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
            A::Rs512 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
            A::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            A::Es384 => CoreJwsSigningAlgorithm::EcdsaP384Sha384,
            A::EdDsa => CoreJwsSigningAlgorithm::EdDsa,
        };
        if !algs.contains(&alg) {
            algs.push(alg);
        }
    }
    if algs.is_empty() {
        algs.push(CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256);
    }
    algs
}

/// `GET /.well-known/openid-configuration`.
pub async fn openid_configuration(state: web::Data<AppState>) -> Result<HttpResponse, OAuthError> {
    let issuer = &state.tokens.config().issuer;
    let doc = metadata(issuer, published_algs(&state)).map_err(|e| OAuthError::server_error(&e))?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(300)]))
        .json(doc))
}

/// `GET /oauth/v2/keys`: the public signing keys, including the next key before
/// it signs and the previous one until its tokens expired. Caches may keep it
/// for half the pre-publication time (at most an hour), so they always know a
/// key before it signs.
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    let keys = state.tokens.keys();
    let max_age = u32::try_from(keys.policy().jwks_max_age().num_seconds()).unwrap_or(300);
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(max_age)]))
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .json(keys.jwks(state.core.clock.now()))
}

/// The authorization endpoint: Tessera issues tokens to service users only
/// (RFC 6749 §4.1.2.1 `unsupported_response_type`; without registered redirect
/// URIs the error is answered directly).
pub async fn authorize() -> HttpResponse {
    HttpResponse::BadRequest().json(serde_json::json!({
        "error": "unsupported_response_type",
        "error_description": "Tessera issues tokens to service users at the token endpoint only",
    }))
}
