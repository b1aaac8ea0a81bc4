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
    /// The database refused or failed.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl StoreError {
    /// The stable snake_case kind.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::UnsupportedUrl => "unsupported_database_url",
            StoreError::NotFound(_) => "not_found",
            StoreError::Conflict(_) => "conflict",
            StoreError::InvalidState(_) => "invalid_state",
            StoreError::Invalid(_) => "invalid_input",
            StoreError::Corrupt(_) => "corrupt_row",
            StoreError::Rejected(_) => "rejected",
            StoreError::Migrate(_) => "migration_failed",
            StoreError::Database(_) => "database",
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e {
            if db.is_unique_violation() {
                return StoreError::Conflict("row");
            }
        }
        StoreError::Database(e)
    }
}
