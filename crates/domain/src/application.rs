//! Applications of a project. Tessera has API applications only: the resource
//! servers that authenticate to the introspection endpoint, with a client secret
//! (`client_secret_basic`) or a registered public key (`private_key_jwt`). Only
//! the secret's digest and the key's public half are stored.

use crate::machine_key::PublicKeyType;
use crate::names::{MAX_NAME_LEN, single_line};
use crate::pat::SecretDigest;
use crate::user::TransitionError;
use crate::{AppKeyId, ApplicationId, ProjectId, Timestamp, ValidationError};

/// An application's name: 1–200 characters, trimmed, no control characters;
/// unique (case-insensitively) within its project.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct AppName(String);

impl AppName {
    /// Parses an application name.
    ///
    /// # Errors
    /// When the trimmed text is empty, too long or contains control characters.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        single_line("name", s, MAX_NAME_LEN).map(Self)
    }

    /// The validated text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness: lower case.
    #[must_use]
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl std::fmt::Display for AppName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether an application may authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppState {
    /// Normal operation.
    Active,
    /// Suspended: its secret and keys are refused until it is reactivated.
    Inactive,
}

impl AppState {
    /// Storage spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }

    /// Parses the storage spelling.
    ///
    /// # Errors
    /// On an unknown spelling (a corrupted row).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            _ => Err(ValidationError::new("state", "unknown application state")),
        }
    }
}

/// How an API application authenticates (ZITADEL's `APIAuthMethodType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiAuthMethod {
    /// `client_secret_basic` with a generated `tsr_cs_` secret.
    Basic,
    /// `private_key_jwt` with a registered key (RFC 7523 client assertion).
    PrivateKeyJwt,
}

impl ApiAuthMethod {
    /// Storage spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    /// Parses the storage spelling.
    ///
    /// # Errors
    /// On an unknown spelling (a corrupted row).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s {
            "basic" => Ok(Self::Basic),
            "private_key_jwt" => Ok(Self::PrivateKeyJwt),
            _ => Err(ValidationError::new("authMethodType", "unknown authentication method")),
        }
    }
}

/// An API application.
#[derive(Debug, Clone)]
pub struct Application {
    /// Stable id.
    pub id: ApplicationId,
    /// The project.
    pub project_id: ProjectId,
    /// Name, unique in the project.
    pub name: AppName,
    /// Active or suspended.
    pub state: AppState,
    /// How it authenticates.
    pub auth_method: ApiAuthMethod,
    /// The OAuth `client_id`, unique in the instance (Tessera: the application id
    /// in its text form).
    pub client_id: String,
    /// Digest of its current client secret; `None` when it has none (key
    /// authentication, or a secret never generated).
    pub secret_digest: Option<SecretDigest>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl Application {
    /// A new, active API application; its client id is its id.
    #[must_use]
    pub fn new(project_id: ProjectId, name: AppName, auth_method: ApiAuthMethod, now: Timestamp) -> Self {
        let id = ApplicationId::new();
        Self {
            id,
            project_id,
            name,
            state: AppState::Active,
            auth_method,
            client_id: id.to_string(),
            secret_digest: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Suspends the application.
    ///
    /// # Errors
    /// When it is already inactive; the application is left unchanged.
    pub fn deactivate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == AppState::Inactive {
            return Err(TransitionError("the application is already inactive"));
        }
        self.state = AppState::Inactive;
        self.updated_at = now;
        Ok(())
    }

    /// Ends a suspension.
    ///
    /// # Errors
    /// When it is already active; the application is left unchanged.
    pub fn reactivate(&mut self, now: Timestamp) -> Result<(), TransitionError> {
        if self.state == AppState::Active {
            return Err(TransitionError("the application is already active"));
        }
        self.state = AppState::Active;
        self.updated_at = now;
        Ok(())
    }
}

/// A public key of an API application (for `private_key_jwt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppKey {
    /// Stable id; the `keyId` of the key file and the `kid` of assertions.
    pub id: AppKeyId,
    /// The application.
    pub app_id: ApplicationId,
    /// Always RSA for generated keys.
    pub key_type: PublicKeyType,
    /// SubjectPublicKeyInfo PEM. Never a private key.
    pub public_key_pem: String,
    /// After this instant assertions signed with the key are rejected
    /// (9999-12-31 when none was given, as in ZITADEL).
    pub expires_at: Timestamp,
    /// Creation time.
    pub created_at: Timestamp,
}

impl AppKey {
    /// Whether the key is past its expiration at `now`.
    #[must_use]
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    #[test]
    fn spellings_round_trip() {
        for m in [ApiAuthMethod::Basic, ApiAuthMethod::PrivateKeyJwt] {
            assert_eq!(ApiAuthMethod::parse(m.as_str()), Ok(m));
        }
        for s in [AppState::Active, AppState::Inactive] {
            assert_eq!(AppState::parse(s.as_str()), Ok(s));
        }
    }

    #[test]
    fn the_client_id_is_the_application_id() {
        let app = Application::new(ProjectId::new(), AppName::parse("api").unwrap(), ApiAuthMethod::Basic, Utc::now());
        assert_eq!(app.client_id, app.id.to_string());
    }

    #[test]
    fn state_transitions_refuse_no_ops() {
        let now = Utc::now();
        let mut app = Application::new(ProjectId::new(), AppName::parse("api").unwrap(), ApiAuthMethod::Basic, now);
        assert!(app.reactivate(now).is_err());
        app.deactivate(now).unwrap();
        assert!(app.deactivate(now).is_err());
        app.reactivate(now).unwrap();
    }
}
