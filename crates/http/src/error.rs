//! The one place where errors become responses (CONVENTIONS.md §3).
//!
//! - [`ServiceError`] is what the application services (used by the API and the
//!   console) return, independent of any protocol.
//! - [`ApiError`] is its Connect rendering: `{"code": "<connect code>", "message":
//!   "…"}` with the HTTP status of the Connect protocol's code table.
//! - [`GatewayError`] is the same error as ZITADEL's v1 REST gateway (grpc-gateway)
//!   renders it: `{"code": <numeric gRPC code>, "message": "…", "details": []}` with
//!   grpc-gateway's HTTP status for the code.
//!
//! Unexpected errors are logged with their whole cause chain and answered with an
//! opaque `internal` error; messages never contain credentials.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
pub use tessera_core::{RETRY_AFTER_SECS, ServiceError};
use tessera_domain::ValidationError;
use tessera_domain::repo::RepoError;

/// Connect error codes (<https://connectrpc.com/docs/protocol#error-codes>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectCode {
    /// 400
    InvalidArgument,
    /// 400
    FailedPrecondition,
    /// 400
    OutOfRange,
    /// 401
    Unauthenticated,
    /// 403
    PermissionDenied,
    /// 404
    NotFound,
    /// 404 for unknown methods (the choice; Connect clients read 404 as
    /// `unimplemented`).
    Unimplemented,
    /// 409
    AlreadyExists,
    /// 409
    Aborted,
    /// 429
    ResourceExhausted,
    /// 500
    Internal,
    /// 503
    Unavailable,
}

impl ConnectCode {
    /// The wire spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidArgument => "invalid_argument",
            Self::FailedPrecondition => "failed_precondition",
            Self::OutOfRange => "out_of_range",
            Self::Unauthenticated => "unauthenticated",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::Unimplemented => "unimplemented",
            Self::AlreadyExists => "already_exists",
            Self::Aborted => "aborted",
            Self::ResourceExhausted => "resource_exhausted",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
        }
    }

    /// The HTTP status of the Connect protocol for this code.
    #[must_use]
    pub const fn status(self) -> StatusCode {
        match self {
            Self::InvalidArgument | Self::FailedPrecondition | Self::OutOfRange => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::NotFound | Self::Unimplemented => StatusCode::NOT_FOUND,
            Self::AlreadyExists | Self::Aborted => StatusCode::CONFLICT,
            Self::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The numeric gRPC status code (`google.rpc.Code`), as the v1 gateway writes it.
    #[must_use]
    pub const fn grpc(self) -> u8 {
        match self {
            Self::InvalidArgument => 3,
            Self::NotFound => 5,
            Self::AlreadyExists => 6,
            Self::PermissionDenied => 7,
            Self::ResourceExhausted => 8,
            Self::FailedPrecondition => 9,
            Self::Aborted => 10,
            Self::OutOfRange => 11,
            Self::Unimplemented => 12,
            Self::Internal => 13,
            Self::Unavailable => 14,
            Self::Unauthenticated => 16,
        }
    }

    /// The HTTP status grpc-gateway answers for this code
    /// (`runtime.HTTPStatusFromCode`); it differs from Connect's only for
    /// `unimplemented` (501).
    #[must_use]
    pub const fn gateway_status(self) -> StatusCode {
        match self {
            Self::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            other => other.status(),
        }
    }
}

/// How a 401 tells the client what to do (RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    /// No credential was presented: `Bearer realm="tessera"`.
    Missing,
    /// The credential was refused: `Bearer error="invalid_token"`.
    InvalidToken,
}

/// A Connect error response.
#[derive(Debug)]
pub struct ApiError {
    /// The code.
    pub code: ConnectCode,
    /// A message for the client; never contains a credential.
    pub message: Cow<'static, str>,
    /// `WWW-Authenticate` challenge for 401s.
    pub challenge: Option<Challenge>,
    /// `Retry-After` seconds, for 503s and 429s.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `code` and `message`.
    pub fn new(code: ConnectCode, message: impl Into<Cow<'static, str>>) -> Self {
        let retry_after = (code == ConnectCode::Unavailable).then_some(RETRY_AFTER_SECS);
        Self { code, message: message.into(), challenge: None, retry_after }
    }

    /// A 401 with its challenge.
    pub fn unauthenticated(challenge: Challenge, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code: ConnectCode::Unauthenticated,
            message: message.into(),
            challenge: Some(challenge),
            retry_after: None,
        }
    }
}

impl From<crate::ratelimit::Limited> for ApiError {
    fn from(limited: crate::ratelimit::Limited) -> Self {
        Self {
            retry_after: Some(limited.retry_after_secs),
            ..Self::new(ConnectCode::ResourceExhausted, "too many failed authentications; retry later")
        }
    }
}

impl From<crate::ratelimit::Limited> for OAuthError {
    fn from(limited: crate::ratelimit::Limited) -> Self {
        Self::rate_limited(limited)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

/// Logs an unexpected error with its whole cause chain.
pub fn log_internal(err: &(dyn StdError + 'static)) {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    tracing::error!(error = %chain, "internal error");
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::InvalidArgument(m) => Self::new(ConnectCode::InvalidArgument, m),
            ServiceError::Unauthenticated(m) => Self::unauthenticated(Challenge::InvalidToken, m),
            ServiceError::PermissionDenied(m) => Self::new(ConnectCode::PermissionDenied, m),
            ServiceError::NotFound(m) => Self::new(ConnectCode::NotFound, m),
            ServiceError::AlreadyExists(m) => Self::new(ConnectCode::AlreadyExists, m),
            ServiceError::FailedPrecondition(m) => Self::new(ConnectCode::FailedPrecondition, m),
            ServiceError::Unavailable(m) => Self::new(ConnectCode::Unavailable, m),
            ServiceError::Internal(source) => {
                log_internal(source.as_ref());
                Self::new(ConnectCode::Internal, "internal error")
            }
        }
    }
}

/// How a console page shows a failed use case: the HTTP status and the message
/// (`None` for internal errors, which are logged here with their cause chain and
/// shown as the catalogue's opaque message).
#[must_use]
pub fn console_error(e: &ServiceError) -> (StatusCode, Option<String>) {
    match e {
        ServiceError::InvalidArgument(m) | ServiceError::FailedPrecondition(m) => {
            (StatusCode::BAD_REQUEST, Some(m.to_string()))
        }
        ServiceError::Unauthenticated(m) => (StatusCode::UNAUTHORIZED, Some(m.to_string())),
        ServiceError::PermissionDenied(m) => (StatusCode::FORBIDDEN, Some(m.to_string())),
        ServiceError::NotFound(m) => (StatusCode::NOT_FOUND, Some(m.to_string())),
        ServiceError::AlreadyExists(m) => (StatusCode::CONFLICT, Some(m.to_string())),
        ServiceError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, Some(m.to_string())),
        ServiceError::Internal(source) => {
            log_internal(source.as_ref());
            (StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        ServiceError::from(e).into()
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        error_head(self.status_code(), self.challenge, self.retry_after)
            .json(serde_json::json!({ "code": self.code.as_str(), "message": self.message }))
    }
}

/// The answer to a request whose handler panicked (the panic itself is logged
/// once, by the process's panic hook, inside the request's span): a 500 in the
/// shape the endpoint's clients parse — RFC 6749 §5.2 `server_error` on the
/// OAuth and OIDC endpoints, a Connect `internal` error everywhere else.
#[must_use]
pub fn panic_response(path: &str) -> HttpResponse {
    if path.starts_with("/oauth/") || path.starts_with("/oidc/") {
        OAuthError { status: StatusCode::INTERNAL_SERVER_ERROR, ..OAuthError::new("server_error", "internal error") }
            .error_response()
    } else {
        ApiError::new(ConnectCode::Internal, "internal error").error_response()
    }
}

/// The answer to a request whose body did not arrive within the configured
/// time (`limits.body_timeout_ms`): 408 Request Timeout, with an RFC 6749 §5.2
/// body on the OAuth and OIDC endpoints and a Connect error body elsewhere
/// (Connect's code for an expired deadline, `deadline_exceeded`).
#[must_use]
pub fn body_timeout_response(path: &str) -> HttpResponse {
    const MESSAGE: &str = "the request body did not arrive in time";
    let body = if path.starts_with("/oauth/") || path.starts_with("/oidc/") {
        serde_json::json!({ "error": "invalid_request", "error_description": MESSAGE })
    } else {
        serde_json::json!({ "code": "deadline_exceeded", "message": MESSAGE })
    };
    error_head(StatusCode::REQUEST_TIMEOUT, None, None).json(body)
}

/// Status, `WWW-Authenticate` challenge and `Cache-Control` of an error response,
/// the same for both renderings.
fn error_head(
    status: StatusCode,
    challenge: Option<Challenge>,
    retry_after: Option<u64>,
) -> actix_web::HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    if let Some(secs) = retry_after {
        res.insert_header((header::RETRY_AFTER, secs));
    }
    match challenge {
        Some(Challenge::Missing) => {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"tessera\"")));
        }
        Some(Challenge::InvalidToken) => {
            res.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"tessera\", error=\"invalid_token\""),
            ));
        }
        None => {}
    }
    res.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]));
    res
}

/// An [`ApiError`] as ZITADEL's v1 REST gateway renders it (the `/management/v1`
/// endpoints): `{"code": <numeric gRPC code>, "message": "…", "details": []}`.
#[derive(Debug)]
pub struct GatewayError(pub ApiError);

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<ApiError> for GatewayError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<ServiceError> for GatewayError {
    fn from(e: ServiceError) -> Self {
        Self(e.into())
    }
}

impl From<ValidationError> for GatewayError {
    fn from(e: ValidationError) -> Self {
        Self(e.into())
    }
}

impl ResponseError for GatewayError {
    fn status_code(&self) -> StatusCode {
        self.0.code.gateway_status()
    }

    fn error_response(&self) -> HttpResponse {
        error_head(self.status_code(), self.0.challenge, self.0.retry_after).json(serde_json::json!({
            "code": self.0.code.grpc(),
            "message": self.0.message,
            "details": [],
        }))
    }
}

/// An OAuth 2.0 error response (RFC 6749 §5.2): `{"error", "error_description"}`
/// with `400`, or `401` and a `WWW-Authenticate` challenge for `invalid_client`
/// (RFC 6749 §5.2) and `invalid_token` (RFC 6750 §3.1). Descriptions never
/// contain a credential.
#[derive(Debug)]
pub struct OAuthError {
    /// The error code, e.g. `invalid_grant`.
    pub error: &'static str,
    /// A human-readable description.
    pub description: Cow<'static, str>,
    /// The HTTP status.
    pub status: StatusCode,
    /// The `WWW-Authenticate` value, for 401s.
    pub challenge: Option<&'static str>,
    /// The rule that refused, for the log line, when the description is
    /// deliberately vaguer; never contains a credential.
    pub rule: Option<Cow<'static, str>>,
    /// `Retry-After` seconds, for 503s and 429s.
    pub retry_after: Option<u64>,
}

impl OAuthError {
    fn new(error: &'static str, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            error,
            description: description.into(),
            status: StatusCode::BAD_REQUEST,
            challenge: None,
            rule: None,
            retry_after: None,
        }
    }

    /// Sets the rule logged for this refusal.
    #[must_use]
    pub fn with_rule(mut self, rule: impl Into<Cow<'static, str>>) -> Self {
        self.rule = Some(rule.into());
        self
    }

    /// Whether this answers a failed client authentication (`invalid_client`,
    /// or `invalid_grant` for a refused assertion): what the rate limits count.
    #[must_use]
    pub fn is_authentication_failure(&self) -> bool {
        self.error == "invalid_client" || self.error == "invalid_grant"
    }

    /// 429 with `Retry-After` and a `temporarily_unavailable` body: too many
    /// failed client authentications from this address or for this client.
    pub fn rate_limited(limited: crate::ratelimit::Limited) -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(limited.retry_after_secs),
            ..Self::new("temporarily_unavailable", "too many failed client authentications; retry later")
        }
    }

    /// `temporarily_unavailable` (503 with `Retry-After`; RFC 6749 §4.1.2.1
    /// defines the code): the database is unreachable or the server's slots
    /// for heavy work are full.
    pub fn temporarily_unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new("temporarily_unavailable", description)
        }
    }

    /// `invalid_request` (400).
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new("invalid_request", description)
    }

    /// `invalid_client` (401 with a `Basic` challenge: RFC 6749 §5.2 requires it
    /// when the client used Basic and allows it otherwise).
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            challenge: Some("Basic realm=\"tessera\""),
            ..Self::new("invalid_client", description)
        }
    }

    /// `invalid_grant` (400).
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// `invalid_scope` (400).
    pub fn invalid_scope(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new("invalid_scope", description)
    }

    /// `unsupported_grant_type` (400).
    pub fn unsupported_grant_type() -> Self {
        Self::new("unsupported_grant_type", "the grant type is not supported")
    }

    /// `invalid_token` (401, RFC 6750 §3.1) for protected resources such as userinfo.
    pub fn invalid_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            challenge: Some("Bearer realm=\"tessera\", error=\"invalid_token\""),
            ..Self::new("invalid_token", "the access token is unknown, expired or revoked")
        }
    }

    /// A missing bearer token at a protected resource (RFC 6750 §3.1: no error code).
    pub fn missing_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            challenge: Some("Bearer realm=\"tessera\""),
            ..Self::new("invalid_request", "authentication required: send the token as `Authorization: Bearer <token>`")
        }
    }

    /// `invalid_request` with 405: the endpoint takes POST only.
    pub fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..Self::new("invalid_request", "this endpoint accepts POST with a form body only")
        }
    }

    /// `server_error` (500); the cause goes to the log only.
    pub fn server_error(cause: &(dyn StdError + 'static)) -> Self {
        log_internal(cause);
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, ..Self::new("server_error", "internal error") }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error, self.description)
    }
}

impl From<tessera_oauth::grant::GrantError> for OAuthError {
    fn from(e: tessera_oauth::grant::GrantError) -> Self {
        use tessera_oauth::grant::GrantError as G;
        match e {
            G::InvalidRequest(m) => Self::invalid_request(m),
            G::InvalidClient(r) => Self::invalid_client(r.description).with_rule(r.rule),
            G::InvalidGrant(r) => Self::invalid_grant(r.description).with_rule(r.rule),
            G::InvalidScope(m) => Self::invalid_scope(m),
            G::UnsupportedGrantType => Self::unsupported_grant_type(),
            G::Server(cause) => match cause.downcast::<RepoError>() {
                Ok(repo) => (*repo).into(),
                Err(cause) => Self::server_error(cause.as_ref()),
            },
        }
    }
}

impl From<RepoError> for OAuthError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Self::temporarily_unavailable("the database is unavailable; try again shortly")
            }
            other => Self::server_error(&other),
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        // One line per refusal, naming the rule (never the credential), so an
        // operator sees why at the default level; server errors were logged
        // with their cause already.
        if self.status.is_client_error() {
            let rule = self.rule.as_deref().unwrap_or(&self.description);
            tracing::info!(error = self.error, rule = %rule, "OAuth request refused");
        }
        let mut res = HttpResponse::build(self.status);
        if let Some(challenge) = self.challenge {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge)));
        }
        if let Some(secs) = self.retry_after {
            res.insert_header((header::RETRY_AFTER, secs));
        }
        res.insert_header(header::CacheControl(vec![header::CacheDirective::NoStore]))
            .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
            .json(serde_json::json!({ "error": self.error, "error_description": self.description }))
    }
}
