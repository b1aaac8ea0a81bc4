//! Connecting: the settings, opening either back end with its migrations, health checks and
//! shutdown. Its own file because it concerns the pools, not any aggregate the store holds.

use super::{BeginWrite, Pools, Store};
use crate::error::{StoreError, Unavailable};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// How the store connects. The defaults suit the service.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoreSettings {
    /// How long a request waits for a database connection before the store answers
    /// [`StoreError::Unavailable`] (PostgreSQL down, every connection busy).
    pub acquire_timeout: Duration,
    /// How long a SQLite writer waits for another process's write lock.
    pub sqlite_busy_timeout: Duration,
    /// A cap on the SQLite file's size; writes past it fail with [`StoreError::Unavailable`]
    /// (`database full`) and nothing else changes. `None`: only the disk limits it.
    pub sqlite_max_bytes: Option<u64>,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings {
            acquire_timeout: Duration::from_secs(3),
            sqlite_busy_timeout: Duration::from_secs(10),
            sqlite_max_bytes: None,
        }
    }
}

impl StoreSettings {
    /// Sets [`StoreSettings::acquire_timeout`].
    pub fn acquire_timeout(mut self, t: Duration) -> Self {
        self.acquire_timeout = t;
        self
    }
    /// Sets [`StoreSettings::sqlite_max_bytes`].
    pub fn sqlite_max_bytes(mut self, bytes: Option<u64>) -> Self {
        self.sqlite_max_bytes = bytes;
        self
    }
}

/// Makes the SQLite file owner-only before SQLite opens it: it holds citizens' claims, password
/// hashes and sealed keys. A missing directory is created 0700 and a missing file 0600 (SQLite
/// gives its -wal and -shm files the database file's mode); an existing file or side file
/// readable by others is tightened to 0600.
fn prepare_sqlite_file(path: &str) -> Result<(), StoreError> {
    let path = path.strip_prefix("//").unwrap_or(path);
    if path.is_empty() || path.starts_with(':') {
        return Ok(()); // :memory: and friends
    }
    let file = std::path::Path::new(path);
    let io = |what: &'static str| move |e: std::io::Error| StoreError::Io(what, e);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(io("cannot create the database directory"))?;
            }
        }
        if !file.exists() {
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(file)
                .map_err(io("cannot create the database file"))?;
        }
        for side in ["", "-wal", "-shm"] {
            let p = format!("{path}{side}");
            if let Ok(meta) = std::fs::metadata(&p) {
                if meta.permissions().mode() & 0o077 != 0 {
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                        .map_err(io("cannot make the database file owner-only"))?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io("cannot create the database directory"))?;
    }
    Ok(())
}

/// Whether a SQLite writer connection coming back to the pool is outside any transaction, as
/// SQLite sees it and as sqlx counts it. After `SQLITE_FULL` (or an I/O error) SQLite may have
/// rolled the transaction back by itself while sqlx still counts one open (its ROLLBACK then
/// fails), or the other way round; reusing such a connection turned every later commit into
/// a savepoint release inside a transaction that never commits. A plain `BEGIN` succeeds only
/// outside a transaction; it also waits, in order, for the ROLLBACK a dropped transaction
/// queued on the connection's worker.
fn sqlite_writer_is_clean(
    conn: &mut sqlx::SqliteConnection,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + '_>> {
    Box::pin(async move {
        use sqlx::{Connection, Executor};
        if conn.execute("BEGIN").await.is_err() {
            tracing::warn!(
                "a SQLite writer was left inside a transaction; replacing the connection"
            );
            return false;
        }
        if conn.execute("ROLLBACK").await.is_err() {
            return false;
        }
        if conn.is_in_transaction() {
            tracing::warn!("a SQLite writer's transaction count is off; replacing the connection");
            return false;
        }
        true
    })
}

/// Which database a URL names, for messages: PostgreSQL's host, port and database name, or
/// SQLite's file; never a user name or password.
fn describe_database(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let path = rest.split('?').next().unwrap_or(rest);
        return format!("SQLite database {path}");
    }
    match sqlx::postgres::PgConnectOptions::from_str(url) {
        Ok(o) => format!(
            "PostgreSQL database \"{}\" on {}:{}",
            o.get_database().unwrap_or("(the user's default)"),
            o.get_host(),
            o.get_port()
        ),
        Err(_) => "PostgreSQL database (the URL does not parse)".to_owned(),
    }
}

/// Why opening failed, in the database's own words and without sqlx's wrapping.
fn open_failure(e: &StoreError, settings: &StoreSettings) -> String {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => db.message().to_owned(),
        StoreError::Database(sqlx::Error::Configuration(c)) => format!("the URL is not valid: {c}"),
        StoreError::Database(other) => other.to_string(),
        StoreError::Unavailable(Unavailable::Unreachable) => format!(
            "no connection (refused, or no answer within {} s): is the server running, and are the host and port right?",
            settings.acquire_timeout.as_secs()
        ),
        other => other.to_string(),
    }
}

impl Store {
    /// Connects to `sqlite:PATH` (created if missing; WAL) or `postgres://…`, and applies the
    /// migrations of that dialect, with default [`StoreSettings`].
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, &StoreSettings::default()).await
    }

    /// [`Store::connect`] with explicit settings.
    ///
    /// Guarantees, whatever a write's fate: a connection that comes back to the pool with a
    /// transaction still open (SQLite rolls back by itself on `SQLITE_FULL` or an I/O error
    /// while sqlx may still count the transaction as open) is closed and replaced, never
    /// reused, so a later "commit" can never be a savepoint release inside a dead transaction.
    /// SQLite write transactions begin `IMMEDIATE`, so a writer waits for another process's
    /// write (up to the busy timeout) instead of failing with "database is locked".
    ///
    /// A failure to open names the database once, with its host (or file) and the reason:
    /// [`StoreError::Open`].
    pub async fn connect_with(url: &str, settings: &StoreSettings) -> Result<Store, StoreError> {
        Store::open(url, settings).await.map_err(|e| match e {
            StoreError::UnsupportedUrl | StoreError::Io(..) | StoreError::Open { .. } => e,
            other => StoreError::Open {
                database: describe_database(url),
                reason: open_failure(&other, settings),
            },
        })
    }

    async fn open(url: &str, settings: &StoreSettings) -> Result<Store, StoreError> {
        let pools = if let Some(rest) = url.strip_prefix("sqlite:") {
            prepare_sqlite_file(rest.split('?').next().unwrap_or(rest))?;
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(settings.sqlite_busy_timeout);
            // The writer gets a 32 MiB page cache (SQLite's default is 2 MiB): inserts land at
            // random places in the id and id-number indexes, and with a million citizens a small
            // cache turns each insert into page reads. 64 MiB bulk-issued a million ~3% faster
            // but took the loader's peak RSS over 150 MiB (docs/benchmarks.md, 2026-12-04).
            // Readers keep the default.
            let mut write_opts = opts.clone().pragma("cache_size", "-32768");
            if let Some(bytes) = settings.sqlite_max_bytes {
                // The database file's size cap, in pages of SQLite's default 4096 bytes (the
                // pragma is per connection, so every writer connection gets it).
                write_opts = write_opts.pragma("max_page_count", (bytes / 4096).max(1).to_string());
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(settings.acquire_timeout.max(settings.sqlite_busy_timeout))
                .after_release(|conn, _| {
                    Box::pin(async move { Ok(sqlite_writer_is_clean(conn).await) })
                })
                .connect_with(write_opts)
                .await?;
            sqlx::migrate!("../../migrations/sqlite")
                .run(&write)
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(settings.acquire_timeout)
                .connect_with(opts.read_only(true))
                .await?;
            Pools::Sqlite { read, write }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let opts = sqlx::postgres::PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // A database that is down must not hold every request for long: the caller
                // answers 503 with Retry-After once this passes. A PostgreSQL restart is still
                // survived: the pool reconnects on the next acquire.
                .acquire_timeout(settings.acquire_timeout)
                .after_release(|conn, _| {
                    Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
                })
                .connect_with(opts)
                .await?;
            sqlx::migrate!("../../migrations/postgres")
                .run(&pool)
                .await?;
            Pools::Postgres(pool)
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        Ok(Store { pools })
    }

    /// Whether the database answers a read.
    pub async fn ping(&self) -> Result<(), StoreError> {
        reading!(self, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Whether the database takes a write now: on SQLite a write transaction that needs a new
    /// page (so a full database or a size cap shows), on PostgreSQL a transaction that gets a
    /// transaction id (so a read-only server shows). Nothing is kept: both roll back.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { write, .. } => {
                let mut tx = write.begin_write().await?;
                sqlx::query("CREATE TABLE qrid_write_probe (pad BLOB)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO qrid_write_probe VALUES (zeroblob(8192))")
                    .execute(&mut *tx)
                    .await?;
                tx.rollback().await?;
            }
            Pools::Postgres(p) => {
                let mut tx = p.begin_write().await?;
                sqlx::query("SELECT txid_current()")
                    .execute(&mut *tx)
                    .await?;
                tx.rollback().await?;
            }
        }
        Ok(())
    }

    /// Closes every connection (for graceful shutdown).
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(p) => p.close().await,
        }
    }
}
