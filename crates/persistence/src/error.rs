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
pub(crate) const FEDERATED_CREDENTIAL: Entity =
    Entity { name: "federated credential", unique: "the credential id is taken" };
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
pub(crate) const WEBHOOK: Entity = Entity { name: "webhook target", unique: "the webhook id is taken" };
pub(crate) const DELIVERY: Entity = Entity { name: "webhook delivery", unique: "the delivery id is taken" };
pub(crate) const NOTICE: Entity = Entity { name: "credential notice", unique: "the notice was sent" };
pub(crate) const AUDIT: Entity = Entity { name: "audit event", unique: "the event id is taken" };

/// Maps a database error raised while working on `entity`.
pub(crate) fn map(entity: Entity, err: DbErr) -> RepoError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            RepoError::AlreadyExists { entity: entity.name, detail: Cow::Borrowed(entity.unique) }
        }
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => RepoError::MissingReference { entity: entity.name },
        _ => db(err),
    }
}

/// Maps an error that cannot be a constraint violation (reads).
pub(crate) fn db(err: DbErr) -> RepoError {
    if is_unavailable(&err) { RepoError::Unavailable(Box::new(err)) } else { RepoError::Database(Box::new(err)) }
}

/// Whether `err` means the database cannot be used *now* (DESIGN.md §8): no
/// connection came free in time, the server is unreachable or went away
/// (PostgreSQL SQLSTATE class 08 and 57P01–57P03), or SQLite's storage is
/// read-only, full or failing (`SQLITE_READONLY`, `SQLITE_FULL`,
/// `SQLITE_IOERR`, `SQLITE_CANTOPEN`). Clients get 503 and retry; everything
/// else stays an internal error.
pub(crate) fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(r) | DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    let sea_orm::RuntimeErr::SqlxError(e) = runtime else { return false };
    match e.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_) => true,
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            let code = code.as_ref();
            // PostgreSQL SQLSTATEs are five characters; SQLite's are numbers
            // whose low byte is the primary result code.
            if code.len() == 5 && !code.bytes().all(|b| b.is_ascii_digit()) {
                code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53100" | "53300")
            } else {
                code.parse::<i64>().is_ok_and(|n| matches!(n & 0xff, 8 | 10 | 13 | 14))
            }
        }),
        _ => false,
    }
}

/// A stored value that does not parse back into its domain type.
pub(crate) fn corrupt(what: &str, err: impl std::fmt::Display) -> RepoError {
    RepoError::Corrupt(format!("{what}: {err}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, RuntimeErr};

    use super::*;

    fn sqlx(e: sea_orm::sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
    }

    /// Only "cannot be used now" errors become `Unavailable` (503); the rest
    /// stay `Database` (500).
    #[test]
    fn connection_failures_are_unavailable_and_others_are_not() {
        for unavailable in [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            sqlx(sea_orm::sqlx::Error::PoolTimedOut),
            sqlx(sea_orm::sqlx::Error::PoolClosed),
            sqlx(sea_orm::sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused))),
        ] {
            assert!(matches!(db(unavailable), RepoError::Unavailable(_)));
        }
        for other in [
            DbErr::Custom("x".into()),
            DbErr::RecordNotFound("x".into()),
            sqlx(sea_orm::sqlx::Error::RowNotFound),
            sqlx(sea_orm::sqlx::Error::ColumnNotFound("x".into())),
        ] {
            assert!(matches!(db(other), RepoError::Database(_)));
        }
    }
}
