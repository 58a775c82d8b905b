//! [`ServiceError`]: what a use case fails with, in protocol-neutral terms. Only
//! `tessera-http` renders it (as a Connect error, an OAuth error or a console
//! page), in one place.

use std::borrow::Cow;
use std::error::Error as StdError;

use tessera_domain::ValidationError;
use tessera_domain::repo::RepoError;

/// A failed use case, in protocol-neutral terms.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input is malformed or breaks a rule.
    #[error("{0}")]
    InvalidArgument(Cow<'static, str>),
    /// The caller presented no credential or an unusable one.
    #[error("{0}")]
    Unauthenticated(Cow<'static, str>),
    /// The caller lacks the permission.
    #[error("{0}")]
    PermissionDenied(Cow<'static, str>),
    /// The addressed object does not exist (or the caller may not know it does).
    #[error("{0}")]
    NotFound(Cow<'static, str>),
    /// The object to create exists already.
    #[error("{0}")]
    AlreadyExists(Cow<'static, str>),
    /// The object is in a state that does not allow the operation.
    #[error("{0}")]
    FailedPrecondition(Cow<'static, str>),
    /// The server cannot do this now but will soon: its bounded slots for
    /// heavy work are full, or the database is unreachable. Answered 503 with
    /// `Retry-After` (DESIGN.md §8).
    #[error("{0}")]
    Unavailable(Cow<'static, str>),
    /// Something that should not happen; details go to the log only.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

/// Seconds a client is asked to wait (`Retry-After`) after a 503.
pub const RETRY_AFTER_SECS: u64 = 1;

impl ServiceError {
    /// `invalid_argument` with a message.
    pub fn invalid(msg: impl Into<Cow<'static, str>>) -> Self {
        Self::InvalidArgument(msg.into())
    }
    /// `not_found` with a message.
    pub fn not_found(msg: impl Into<Cow<'static, str>>) -> Self {
        Self::NotFound(msg.into())
    }
    /// `permission_denied` with a message.
    pub fn denied(msg: impl Into<Cow<'static, str>>) -> Self {
        Self::PermissionDenied(msg.into())
    }
    /// `failed_precondition` with a message.
    pub fn precondition(msg: impl Into<Cow<'static, str>>) -> Self {
        Self::FailedPrecondition(msg.into())
    }
}

impl From<ValidationError> for ServiceError {
    fn from(e: ValidationError) -> Self {
        Self::InvalidArgument(e.to_string().into())
    }
}

impl From<RepoError> for ServiceError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound { entity } => Self::NotFound(format!("{entity} not found").into()),
            RepoError::AlreadyExists { detail, .. } => Self::AlreadyExists(detail),
            RepoError::MissingReference { entity } => {
                Self::FailedPrecondition(format!("{entity} refers to an object that does not exist").into())
            }
            RepoError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable");
                Self::Unavailable("the database is unavailable; try again shortly".into())
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<tessera_oauth::slots::SlotError> for ServiceError {
    fn from(e: tessera_oauth::slots::SlotError) -> Self {
        match e {
            tessera_oauth::slots::SlotError::Busy => Self::Unavailable("the server is busy; try again shortly".into()),
            other @ tessera_oauth::slots::SlotError::Interrupted => Self::Internal(Box::new(other)),
        }
    }
}

impl From<tessera_oauth::password::PasswordError> for ServiceError {
    fn from(e: tessera_oauth::password::PasswordError) -> Self {
        match e {
            tessera_oauth::password::PasswordError::Slots(e) => e.into(),
            other => Self::Internal(Box::new(other)),
        }
    }
}
