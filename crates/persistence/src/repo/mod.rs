//! Implementations of the domain's repository traits over any sea-orm connection:
//! the pool (reads) or a transaction (reads and writes).

mod access_token;
mod admin;
mod application;
mod audit;
mod authorization;
mod console_session;
mod federated_credential;
mod instance;
mod jti;
mod machine_key;
mod machine_secret;
mod metadata;
mod org;
mod pat;
mod project;
mod signing_key;
mod user;
mod webhook;

use sea_orm::{
    ActiveModelTrait, Condition, ConnectionTrait, EntityTrait, Iterable, PrimaryKeyTrait, QueryFilter, QuerySelect,
};
use tessera_domain::org::OrgState;
use tessera_domain::repo::{CredentialOwner, RepoError, RepoResult};
use tessera_domain::user::UserState;
use tessera_domain::{OrgId, UserId};
use uuid::Uuid;

use crate::store::TxState;

/// A connection plus, inside a transaction, the transaction's audit state.
pub(crate) struct Ctx<'a, C> {
    conn: &'a C,
    tx: Option<&'a TxState>,
}

impl<'a, C: ConnectionTrait> Ctx<'a, C> {
    /// Read-only access outside a transaction.
    pub(crate) fn read(conn: &'a C) -> Self {
        Self { conn, tx: None }
    }

    /// Access inside a transaction.
    pub(crate) fn tx(conn: &'a C, state: &'a TxState) -> Self {
        Self { conn, tx: Some(state) }
    }

    /// The connection for a change that must be audited.
    fn write(&self) -> RepoResult<&'a C> {
        let state = self.tx.ok_or(RepoError::Database("write outside a transaction".into()))?;
        state.mark_write();
        Ok(self.conn)
    }

    /// The connection for an audited insert of something no cache can hold
    /// yet (a newly issued token): it does not invalidate the caches.
    fn write_addition(&self) -> RepoResult<&'a C> {
        let state = self.tx.ok_or(RepoError::Database("write outside a transaction".into()))?;
        state.mark_addition();
        Ok(self.conn)
    }

    /// The connection for bookkeeping writes that are not audited (last-used times).
    fn write_unaudited(&self) -> RepoResult<&'a C> {
        self.tx.ok_or(RepoError::Database("write outside a transaction".into()))?;
        Ok(self.conn)
    }

    /// The connection for a read that locks what it reads until the
    /// transaction ends: `SELECT … FOR UPDATE` on PostgreSQL. SQLite has no row
    /// locks and needs none: every transaction runs on the one writer
    /// connection, so no other write interleaves (docs/architecture.md).
    fn locking(&self) -> RepoResult<&'a C> {
        self.tx.ok_or(RepoError::Database("a locking read outside a transaction".into()))?;
        Ok(self.conn)
    }

    /// Inside a transaction: the row of `E` whose key is `id`, locked until the
    /// transaction ends ([`Ctx::locking`]).
    async fn lock_row<E>(&self, id: Uuid) -> RepoResult<Option<E::Model>>
    where
        E: EntityTrait,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        E::find_by_id(id).lock_exclusive().one(self.locking()?).await.map_err(crate::error::db)
    }

    /// Writes the columns in which `after` differs from `before` (nothing when
    /// none does) to the one row `filter` matches: `NotFound` when none does.
    async fn write_changes<A>(
        &self,
        before: &A,
        after: A,
        filter: Condition,
        entity: crate::error::Entity,
    ) -> RepoResult<()>
    where
        A: ActiveModelTrait + Send,
    {
        let Some(changed) = changes(before, after) else { return Ok(()) };
        let res = A::Entity::update_many()
            .set(changed)
            .filter(filter)
            .exec(self.write()?)
            .await
            .map_err(|e| crate::error::map(entity, e))?;
        expect_one(res.rows_affected, entity.name)
    }

    /// The connection for an audit event.
    fn audit(&self) -> RepoResult<&'a C> {
        let state = self.tx.ok_or(RepoError::Database("audit event outside a transaction".into()))?;
        state.mark_audited();
        Ok(self.conn)
    }
}

/// `after` with only the columns that differ from `before` set, so an UPDATE
/// writes what a use case changed and nothing else (DESIGN.md §7); `None` when
/// nothing differs.
pub(crate) fn changes<A: ActiveModelTrait>(before: &A, mut after: A) -> Option<A> {
    let mut any = false;
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if before.get(column).into_value() == after.get(column).into_value() {
            after.not_set(column);
        } else {
            any = true;
        }
    }
    any.then_some(after)
}

/// Fails with `NotFound` when an update or delete touched no row.
fn expect_one(rows: u64, entity: &'static str) -> RepoResult<()> {
    if rows == 0 { Err(RepoError::NotFound { entity }) } else { Ok(()) }
}

/// The owner of a credential from the columns every `find_for_auth` join reads.
fn owner(
    user_id: Uuid,
    user_state: &str,
    user_kind: &str,
    org_id: Uuid,
    org_state: &str,
) -> RepoResult<CredentialOwner> {
    Ok(CredentialOwner {
        user_id: UserId::from_uuid(user_id),
        user_state: UserState::parse(user_state).map_err(|e| crate::error::corrupt("user state", e))?,
        is_machine: user_kind == "machine",
        org_id: OrgId::from_uuid(org_id),
        org_state: OrgState::parse(org_state).map_err(|e| crate::error::corrupt("organization state", e))?,
    })
}
