//! The [`Store`] and what its aggregate modules share: the pools, the `reading!`/`writing!`
//! macros, write transactions and ids. Each aggregate's methods live in a submodule of its own.

use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;

/// Which database the store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file (the embedded default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

#[derive(Clone)]
enum Pools {
    // SQLite allows one writer at a time; a one-connection write pool makes writers queue in
    // the pool instead of failing with SQLITE_BUSY, while reads go on in parallel (WAL).
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// The store: cheap to clone, safe to share between tasks.
#[derive(Clone)]
pub struct Store {
    pools: Pools,
}

/// Runs the same body against whichever pool is in use; the SQL is written once, with `$n`
/// placeholders that both SQLite and PostgreSQL accept.
macro_rules! reading {
    ($self:expr, |$p:ident| $body:expr) => {
        match &$self.pools {
            Pools::Sqlite { read: $p, .. } => $body,
            Pools::Postgres($p) => $body,
        }
    };
}
macro_rules! writing {
    ($self:expr, |$p:ident| $body:expr) => {
        match &$self.pools {
            Pools::Sqlite { write: $p, .. } => $body,
            Pools::Postgres($p) => $body,
        }
    };
}

/// Rows per multi-row INSERT in bulk issuance: 8 parameters a row stays far below the
/// parameter limits of SQLite (32766) and PostgreSQL (65535).
const BULK_ROWS: usize = 500;

/// Starts write transactions. On SQLite it is `BEGIN IMMEDIATE`: a deferred transaction that
/// has read cannot wait for another process's writer (SQLite answers `SQLITE_BUSY` at once
/// when a stale read snapshot would have to become a write), which made the service fail
/// with "database is locked" while a CLI command wrote.
trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

fn random_id() -> String {
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    hex::encode(b)
}

impl Store {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }
}

mod accounts;
mod credentials;
mod desk;
mod issuer_keys;
mod login;
mod me;
mod office;
mod officers;
mod officials;
mod pki;
mod pool;
mod records;
mod status_lists;
mod vci;

pub use accounts::ACCOUNT_PAGE;
pub use desk::{DeskDocument, DeskFile, DeskFull, NewDeskDocument};
pub use login::LOGIN_PRUNE_GRACE;
pub use office::SEARCH_LIMIT;
pub use pool::StoreSettings;
