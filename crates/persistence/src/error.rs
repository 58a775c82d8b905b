//! Mapping of sea-orm errors to the domain's [`RepoError`].

use std::borrow::Cow;

use sea_orm::{DbErr, SqlErr};
use tessera_domain::repo::RepoError;

/// What a uniqueness violation on a table means to a client.
#[derive(Clone, Copy)]
pub(crate) struct Entity {
    /// Entity name, e.g. `user`.
    pub name: &'static str,
    /// The uniqueness rule in words.
    pub unique: &'static str,
}

pub(crate) const ORG: Entity = Entity { name: "organization", unique: "an organization with this name exists" };
pub(crate) const INSTANCE: Entity = Entity { name: "instance", unique: "the instance is already set up" };
pub(crate) const USER: Entity = Entity { name: "user", unique: "a user with this username exists in the organization" };
pub(crate) const ADMIN: Entity =
    Entity { name: "administrator", unique: "the user is already an administrator of this resource" };
pub(crate) const PAT: Entity = Entity { name: "personal access token", unique: "the token id is taken" };
pub(crate) const METADATA: Entity = Entity { name: "metadata", unique: "the key exists" };
pub(crate) const MACHINE_KEY: Entity = Entity { name: "machine key", unique: "the key id is taken" };
pub(crate) const MACHINE_SECRET: Entity =
    Entity { name: "machine secret", unique: "the user already has a current secret" };
pub(crate) const SIGNING_KEY: Entity =
    Entity { name: "signing key", unique: "a signing key for this signing period exists" };
pub(crate) const ACCESS_TOKEN: Entity = Entity { name: "access token", unique: "the token id is taken" };
pub(crate) const REVOKED_JWT: Entity = Entity { name: "revoked token", unique: "the token is already revoked" };
pub(crate) const USED_JTI: Entity = Entity { name: "assertion id", unique: "the assertion was already used" };
pub(crate) const CONSOLE_SESSION: Entity = Entity { name: "console session", unique: "the session id is taken" };
pub(crate) const PROJECT: Entity =
    Entity { name: "project", unique: "a project with this name exists in the organization" };
pub(crate) const PROJECT_ROLE: Entity =
    Entity { name: "project role", unique: "a role with this key exists in the project" };
pub(crate) const APPLICATION: Entity =
    Entity { name: "application", unique: "an application with this name exists in the project" };
pub(crate) const APP_KEY: Entity = Entity { name: "application key", unique: "the key id is taken" };
pub(crate) const AUTHORIZATION: Entity =
    Entity { name: "authorization", unique: "the user already has an authorization on this project" };
pub(crate) const AUDIT: Entity = Entity { name: "audit event", unique: "the event id is taken" };

/// Maps a database error raised while working on `entity`.
pub(crate) fn map(entity: Entity, err: DbErr) -> RepoError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            RepoError::AlreadyExists { entity: entity.name, detail: Cow::Borrowed(entity.unique) }
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => RepoError::MissingReference { entity: entity.name },
        _ => RepoError::Database(Box::new(err)),
    }
}

/// Maps an error that cannot be a constraint violation (reads).
pub(crate) fn db(err: DbErr) -> RepoError {
    RepoError::Database(Box::new(err))
}

/// A stored value that does not parse back into its domain type.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> RepoError {
    RepoError::Corrupt(format!("{what}: {err}"))
}
