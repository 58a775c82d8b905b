//! Validation errors raised when raw input is parsed into domain types.

use std::borrow::Cow;

/// Input that does not satisfy a domain invariant.
///
/// `field` names the offending input (in the API's wire spelling where one exists,
/// e.g. `username`), `reason` says what is wrong with it. Neither ever contains the
/// rejected value itself, so the error is safe to log even when the input was a
/// credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct ValidationError {
    /// Which input was rejected.
    pub field: Cow<'static, str>,
    /// Why it was rejected.
    pub reason: Cow<'static, str>,
}

impl ValidationError {
    /// Creates an error for `field` with a human-readable `reason`.
    pub fn new(field: impl Into<Cow<'static, str>>, reason: impl Into<Cow<'static, str>>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}
