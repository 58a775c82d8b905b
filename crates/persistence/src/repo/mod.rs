//! Implementations of the domain's repository traits over any sea-orm connection:
//! the pool (reads) or a transaction (reads and writes).

mod admin;
mod audit;
mod instance;
mod metadata;
mod org;
mod pat;
mod user;

use sea_orm::ConnectionTrait;
use tessera_domain::repo::{RepoError, RepoResult};

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

    /// The connection for bookkeeping writes that are not audited (last-used times).
    fn write_unaudited(&self) -> RepoResult<&'a C> {
        self.tx.ok_or(RepoError::Database("write outside a transaction".into()))?;
        Ok(self.conn)
    }

    /// The connection for an audit event.
    fn audit(&self) -> RepoResult<&'a C> {
        let state = self.tx.ok_or(RepoError::Database("audit event outside a transaction".into()))?;
        state.mark_audited();
        Ok(self.conn)
    }
}

/// Fails with `NotFound` when an update or delete touched no row.
fn expect_one(rows: u64, entity: &'static str) -> RepoResult<()> {
    if rows == 0 { Err(RepoError::NotFound { entity }) } else { Ok(()) }
}
