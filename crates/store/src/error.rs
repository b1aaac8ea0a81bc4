use thiserror::Error;

/// What went wrong in the store. Messages name tables and fields, never stored values.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL scheme (use sqlite:PATH or postgres://…)")]
    UnsupportedUrl,
    /// No such row.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule would be broken (the thing already exists).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The id number is already enrolled, as the citizen with this opaque id (not personal
    /// data: the caller may show it, so that nobody enrols the same person twice).
    #[error("a citizen with this id number is already enrolled: {0}")]
    AlreadyEnrolled(String),
    /// The operation is not allowed in the row's current state.
    #[error("{0}")]
    InvalidState(&'static str),
    /// An argument is malformed (a digest that is not SHA-256 hex, a session with no documents,
    /// …); nothing was written.
    #[error("{0}")]
    Invalid(&'static str),
    /// A stored row does not parse (schema drift or manual edits).
    #[error("stored {0} is malformed")]
    Corrupt(&'static str),
    /// The caller's closure failed (signing, say); nothing was written.
    #[error("{0}")]
    Rejected(String),
    /// Applying migrations failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database cannot serve now, for a reason that passes without any change to the
    /// request: unreachable or every connection busy past the acquire timeout, locked by
    /// another writer past the busy timeout, full, or read-only. Nothing was written.
    #[error("database unavailable: {0}")]
    Unavailable(Unavailable),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    /// Opening the database failed: it does not exist, cannot be reached, refuses the login or
    /// its migrations fail. Says which database (host, port and name, or the file; never a
    /// password) once, and why, in the database's own words.
    #[error("cannot open the {database}: {reason}")]
    Open {
        /// Which database, e.g. `PostgreSQL database "qrid" on 10.0.0.5:5432`.
        database: String,
        /// Why, e.g. `database "qrid" does not exist`.
        reason: String,
    },
    /// Preparing the SQLite file or its directory failed.
    #[error("{0}: {1}")]
    Io(&'static str, #[source] std::io::Error),
}

/// Why the database is [`StoreError::Unavailable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unavailable {
    /// No connection within the acquire timeout (server down or unreachable, pool exhausted),
    /// or the connection broke.
    Unreachable,
    /// Another writer held the lock past the busy timeout.
    Busy,
    /// The disk or the configured size cap is full.
    Full,
    /// The database takes no writes (read-only file or server).
    ReadOnly,
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unavailable::Unreachable => "unreachable",
            Unavailable::Busy => "busy",
            Unavailable::Full => "full",
            Unavailable::ReadOnly => "read-only",
        })
    }
}

impl StoreError {
    /// The stable snake_case kind.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::UnsupportedUrl => "unsupported_database_url",
            StoreError::NotFound(_) => "not_found",
            StoreError::Conflict(_) | StoreError::AlreadyEnrolled(_) => "conflict",
            StoreError::InvalidState(_) => "invalid_state",
            StoreError::Invalid(_) => "invalid_input",
            StoreError::Corrupt(_) => "corrupt_row",
            StoreError::Rejected(_) => "rejected",
            StoreError::Migrate(_) => "migration_failed",
            StoreError::Unavailable(_) => "database_unavailable",
            StoreError::Database(_) => "database",
            StoreError::Io(..) => "database_file",
            StoreError::Open { .. } => "database_open",
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) => {
                if db.is_unique_violation() {
                    return StoreError::Conflict("row");
                }
                if let Some(why) = db.code().as_deref().and_then(unavailable_code) {
                    return StoreError::Unavailable(why);
                }
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                return StoreError::Unavailable(Unavailable::Unreachable)
            }
            _ => {}
        }
        StoreError::Database(e)
    }
}

/// Maps a SQLite result code (primary or extended) or a PostgreSQL SQLSTATE that means "not
/// now" to its reason.
fn unavailable_code(code: &str) -> Option<Unavailable> {
    if let Ok(n) = code.parse::<i32>() {
        // SQLite: the primary code is the low byte of an extended one.
        return match n & 0xff {
            5 | 6 => Some(Unavailable::Busy), // SQLITE_BUSY, SQLITE_LOCKED
            13 => Some(Unavailable::Full),    // SQLITE_FULL
            8 => Some(Unavailable::ReadOnly), // SQLITE_READONLY
            _ => None,
        };
    }
    match code {
        // disk_full, out_of_memory, insufficient_resources
        "53100" | "53200" | "53000" => Some(Unavailable::Full),
        // read_only_sql_transaction
        "25006" => Some(Unavailable::ReadOnly),
        // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
        "57P01" | "57P02" | "57P03" | "53300" => Some(Unavailable::Unreachable),
        _ => None,
    }
}
