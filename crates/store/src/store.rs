use crate::error::{StoreError, Unavailable};
use crate::model::*;
use qrid_credential::{Citizen, CitizenInput};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

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

/// Seconds after its expiry that a login transaction which produced no code is kept (so the
/// waiting page's next poll still learns "expired"), then deleted by the next opening.
pub const LOGIN_PRUNE_GRACE: i64 = 300;

/// The PostgreSQL advisory lock key that serialises openings of login transactions.
const LOGIN_OPEN_LOCK: i64 = 0x0071_7269_646c_6f67; // "qridlog"

/// Rows per multi-row INSERT in bulk issuance: 8 parameters a row stays far below the
/// parameter limits of SQLite (32766) and PostgreSQL (65535).
const BULK_ROWS: usize = 500;

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

fn random_id() -> String {
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    hex::encode(b)
}

fn citizen_from_json(json: &str) -> Result<Citizen, StoreError> {
    CitizenInput::from_json(json)
        .and_then(|i| i.to_citizen())
        .map_err(|_| StoreError::Corrupt("citizen claims"))
}

fn citizen_to_json(c: &Citizen) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// A row of `credentials` or `signer_credentials` (the same columns but the holder's).
type CredentialRow = (
    String,
    String,
    String,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    String,
    i64,
    i64,
);
const CREDENTIAL_COLUMNS: &str =
    "id, citizen_id, kid, status_list, status_index, status, status_reason, status_changed_at, payload, issued_at, expires_at";
const SIGNER_CREDENTIAL_COLUMNS: &str =
    "id, official_id, kid, status_list, status_index, status, status_reason, status_changed_at, payload, issued_at, expires_at";

type OfficialRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Vec<u8>,
    i64,
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    i64,
    i64,
);
const OFFICIAL_COLUMNS: &str = "id, username, full_name, title, agency, password_hash, totp_sealed, totp_last_step, key_sealed, public_key, kid, disabled, created_at, token_epoch";

fn official_from_row(r: OfficialRow) -> Result<OfficialRecord, StoreError> {
    Ok(OfficialRecord {
        id: r.0,
        username: r.1,
        full_name: r.2,
        title: r.3,
        agency: r.4,
        password_hash: r.5,
        totp_sealed: r.6,
        totp_last_step: r.7,
        key_sealed: r.8,
        public_key: r
            .9
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("official public key"))?,
        kid: r.10,
        disabled: r.11 != 0,
        created_at: r.12,
        token_epoch: r.13,
    })
}

fn signer_credential_from_row(r: CredentialRow) -> Result<SignerCredentialRecord, StoreError> {
    Ok(SignerCredentialRecord {
        id: r.0,
        official_id: r.1,
        kid: r.2,
        status_list: r.3,
        status_index: r.4,
        status: CredentialStatus::from_code(r.5)
            .ok_or(StoreError::Corrupt("signer credential status"))?,
        status_reason: r.6,
        status_changed_at: r.7,
        payload: r.8,
        issued_at: r.9,
        expires_at: r.10,
    })
}

type SignatureRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
);
const SIGNATURE_COLUMNS: &str = "id, official_id, signer_credential_id, digest, document_name, media_type, signed_at, jws, stamp";

fn signature_from_row(r: SignatureRow) -> SignatureRecord {
    SignatureRecord {
        id: r.0,
        official_id: r.1,
        signer_credential_id: r.2,
        digest: r.3,
        document_name: r.4,
        media_type: r.5,
        signed_at: r.6,
        jws: r.7,
        stamp: r.8,
    }
}

/// Whether `s` is a SHA-256 digest in lowercase hex (the one spelling stored).
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

type LoginRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
);
const LOGIN_COLUMNS: &str = "id, client_id, redirect_uri, scope, state, nonce, code_challenge, browser_sha256, request_sha256, status, failures, citizen_id, credential_id, auth_time, created_at, expires_at";

fn login_from_row(r: LoginRow) -> Result<LoginTx, StoreError> {
    Ok(LoginTx {
        new: NewLoginTx {
            id: r.0,
            client_id: r.1,
            redirect_uri: r.2,
            scope: r.3,
            state: r.4,
            nonce: r.5,
            code_challenge: r.6,
            browser_sha256: r.7,
            request_sha256: r.8,
            created_at: r.14,
            expires_at: r.15,
        },
        status: LoginStatus::from_code(r.9).ok_or(StoreError::Corrupt("login status"))?,
        failures: r.10,
        citizen_id: r.11,
        credential_id: r.12,
        auth_time: r.13,
    })
}

fn credential_from_row(r: CredentialRow) -> Result<CredentialRecord, StoreError> {
    Ok(CredentialRecord {
        id: r.0,
        citizen_id: r.1,
        kid: r.2,
        status_list: r.3,
        status_index: r.4,
        status: CredentialStatus::from_code(r.5).ok_or(StoreError::Corrupt("credential status"))?,
        status_reason: r.6,
        status_changed_at: r.7,
        payload: r.8,
        issued_at: r.9,
        expires_at: r.10,
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

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
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

    // ----- citizens -----

    /// Enrols a citizen; [`StoreError::AlreadyEnrolled`] with the existing citizen's id if the
    /// id number is already enrolled.
    pub async fn insert_citizen(
        &self,
        c: &NewCitizen,
        actor: &str,
        now: i64,
    ) -> Result<CitizenRecord, StoreError> {
        let id = random_id();
        let json = citizen_to_json(&c.citizen);
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO citizens (id, id_number, claims, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(c.citizen.id_number.as_str())
            .bind(&json)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
            if let Err(StoreError::Conflict(_)) = inserted {
                // The failed statement ends the transaction on PostgreSQL: look up the existing
                // citizen outside it.
                tx.rollback().await?;
                let existing: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM citizens WHERE id_number = $1")
                        .bind(c.citizen.id_number.as_str())
                        .fetch_optional(p)
                        .await?;
                return Err(match existing {
                    Some((id,)) => StoreError::AlreadyEnrolled(id),
                    None => StoreError::Conflict("citizen with this id number"),
                });
            }
            inserted?;
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'citizen.enrol', $3, '{}')")
                .bind(now)
                .bind(actor)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(CitizenRecord {
            id,
            citizen: c.citizen.clone(),
            created_at: now,
        })
    }

    /// A citizen by opaque id.
    pub async fn get_citizen(&self, id: &str) -> Result<Option<CitizenRecord>, StoreError> {
        let row: Option<(String, String, i64)> = reading!(self, |p| {
            sqlx::query_as("SELECT id, claims, created_at FROM citizens WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.map(|(id, claims, created_at)| {
            Ok(CitizenRecord {
                id,
                citizen: citizen_from_json(&claims)?,
                created_at,
            })
        })
        .transpose()
    }

    // ----- credentials -----

    /// Issues a credential to an enrolled citizen: allocates a status slot, calls `sign` with it,
    /// stores the result and an audit entry, all in one transaction. If `sign` fails nothing is
    /// written and the slot is not consumed.
    pub async fn issue_credential<F>(
        &self,
        citizen_id: &str,
        list_size: u32,
        actor: &str,
        now: i64,
        sign: F,
    ) -> Result<CredentialRecord, StoreError>
    where
        F: FnOnce(StatusSlot) -> Result<NewCredential, String>,
    {
        let backend = self.backend();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM citizens WHERE id = $1")
                .bind(citizen_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("citizen"));
            }
            let slot = allocate!(backend, &mut tx, 1, list_size, now)?
                .into_iter()
                .next()
                .ok_or(StoreError::InvalidState("no status slot allocated"))?;
            let cred = sign(slot).map_err(StoreError::Rejected)?;
            insert_credential!(&mut tx, &cred, citizen_id, slot, actor, now)?;
            tx.commit().await?;
            Ok(CredentialRecord {
                id: cred.id,
                citizen_id: citizen_id.to_owned(),
                kid: cred.kid,
                status_list: slot.list,
                status_index: i64::from(slot.index),
                status: CredentialStatus::Valid,
                status_reason: None,
                status_changed_at: None,
                payload: cred.payload,
                issued_at: cred.issued_at,
                expires_at: cred.expires_at,
            })
        })
    }

    /// Enrols citizens and issues each one credential, in one transaction: citizens whose id
    /// number is already enrolled are skipped (so a re-run after a crash issues only the rest),
    /// the others get slots, `sign` signs them all (it may use every core), and everything is
    /// stored together or not at all.
    pub async fn enrol_and_issue<F>(
        &self,
        citizens: Vec<NewCitizen>,
        list_size: u32,
        actor: &str,
        now: i64,
        sign: F,
    ) -> Result<BatchOutcome, StoreError>
    where
        F: FnOnce(&[(NewCitizen, StatusSlot)]) -> Result<Vec<NewCredential>, String>,
    {
        let backend = self.backend();
        let total = citizens.len();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let fresh = not_enrolled!(&mut *tx, citizens)?;
            let slots = allocate!(backend, &mut tx, fresh.len(), list_size, now)?;
            let work: Vec<(NewCitizen, StatusSlot)> = fresh.into_iter().zip(slots).collect();
            let creds = sign(&work).map_err(StoreError::Rejected)?;
            if creds.len() != work.len() {
                return Err(StoreError::Rejected(
                    "signer returned the wrong number of credentials".into(),
                ));
            }
            let rows: Vec<IssuedRow> = work
                .into_iter()
                .zip(creds)
                .map(|((citizen, slot), credential)| IssuedRow {
                    citizen,
                    slot,
                    credential,
                })
                .collect();
            insert_issued_rows!(&mut tx, &rows, actor, now)?;
            tx.commit().await?;
            Ok(BatchOutcome {
                issued: rows.len(),
                skipped: total - rows.len(),
            })
        })
    }

    /// The citizens of `citizens` whose id number is not enrolled yet, first occurrence only, in
    /// order. The first step of pipelined bulk issuance: [`Store::not_enrolled`], then
    /// [`Store::reserve_slots`], sign, then [`Store::insert_issued`].
    pub async fn not_enrolled(
        &self,
        citizens: Vec<NewCitizen>,
    ) -> Result<Vec<NewCitizen>, StoreError> {
        reading!(self, |p| {
            let mut conn = p.acquire().await?;
            not_enrolled!(&mut *conn, citizens)
        })
    }

    /// Spends `count` status-list slots in a transaction of their own and returns them.
    ///
    /// Unlike [`Store::enrol_and_issue`], the slots are committed before any credential uses
    /// them, so that signing can proceed while the previous batch is written. A crash between
    /// this and [`Store::insert_issued`] leaves the slots unused: never handed out again, and
    /// referenced by no credential, which costs a few bits of a status list and nothing else.
    pub async fn reserve_slots(
        &self,
        count: usize,
        list_size: u32,
        now: i64,
    ) -> Result<Vec<StatusSlot>, StoreError> {
        let backend = self.backend();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let slots = allocate!(backend, &mut tx, count, list_size, now)?;
            tx.commit().await?;
            Ok(slots)
        })
    }

    /// Stores citizens with their signed credentials (on slots from [`Store::reserve_slots`])
    /// and the audit entries, all in one transaction. `Conflict` (and nothing stored) if one of
    /// the id numbers was enrolled since [`Store::not_enrolled`] looked.
    pub async fn insert_issued(
        &self,
        rows: &[IssuedRow],
        actor: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            insert_issued_rows!(&mut tx, rows, actor, now)?;
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Counts citizens and credentials (a full scan: for operators and checks, not requests).
    pub async fn census(&self) -> Result<Census, StoreError> {
        let sql = "SELECT \
            (SELECT COUNT(*) FROM citizens), \
            (SELECT COUNT(*) FROM credentials), \
            (SELECT COUNT(*) FROM citizens c WHERE NOT EXISTS \
                (SELECT 1 FROM credentials r WHERE r.citizen_id = c.id)), \
            (SELECT COUNT(*) FROM (SELECT citizen_id FROM credentials \
                GROUP BY citizen_id HAVING COUNT(*) > 1) s)";
        let (citizens, credentials, citizens_without_credential, citizens_with_several): (
            i64,
            i64,
            i64,
            i64,
        ) = reading!(self, |p| sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(Census {
            citizens,
            credentials,
            citizens_without_credential,
            citizens_with_several,
        })
    }

    /// A credential by id.
    pub async fn get_credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1");
        let row: Option<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(credential_from_row).transpose()
    }

    /// A citizen's credentials, newest first.
    pub async fn credentials_of(
        &self,
        citizen_id: &str,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE citizen_id = $1 ORDER BY issued_at DESC, id");
        let rows: Vec<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(citizen_id)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(credential_from_row).collect()
    }

    /// Changes the status of a credential of either kind (an identity credential in
    /// `credentials`, else a signer credential in `signer_credentials`) with a reason, audited
    /// in the same transaction (`credential.revoke`, `credential.suspend`,
    /// `credential.reinstate` for both kinds; the detail names the kind).
    ///
    /// Allowed: valid → revoked or suspended; suspended → valid (reinstate) or revoked.
    /// Revoked is final. `NotFound` if neither table holds the id; `InvalidState` for a
    /// transition not allowed, or if another change of the same credential won a race.
    /// The time of the change is recorded as `status_changed_at`.
    pub async fn set_status(
        &self,
        id: &str,
        to: CredentialStatus,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<StatusChange, StoreError> {
        let action = match to {
            CredentialStatus::Valid => "credential.reinstate",
            CredentialStatus::Revoked => "credential.revoke",
            CredentialStatus::Suspended => "credential.suspend",
        };
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let identity: Option<(String, i64, i64, i64)> = sqlx::query_as(
                "SELECT citizen_id, status_list, status_index, status FROM credentials WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (kind, table, row) = match identity {
                Some(row) => (CredentialKind::Identity, "credentials", row),
                None => {
                    let signer: Option<(String, i64, i64, i64)> = sqlx::query_as(
                        "SELECT official_id, status_list, status_index, status FROM signer_credentials WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    match signer {
                        Some(row) => (CredentialKind::Signer, "signer_credentials", row),
                        None => return Err(StoreError::NotFound("credential")),
                    }
                }
            };
            let (holder_id, status_list, status_index, code) = row;
            let from = CredentialStatus::from_code(code)
                .ok_or(StoreError::Corrupt("credential status"))?;
            use CredentialStatus::*;
            match (from, to) {
                (Valid, Revoked | Suspended) | (Suspended, Valid | Revoked) => {}
                (Revoked, _) => {
                    return Err(StoreError::InvalidState("credential is revoked for good"))
                }
                (Valid, Valid) => {
                    return Err(StoreError::InvalidState("credential is already valid"))
                }
                (Suspended, Suspended) => {
                    return Err(StoreError::InvalidState("credential is already suspended"))
                }
            }
            // `AND status = $5`: of two changes racing from the same status, one applies.
            let changed = sqlx::query(&format!(
                "UPDATE {table} SET status = $1, status_reason = $2, status_changed_at = $3 WHERE id = $4 AND status = $5"
            ))
            .bind(to.code())
            .bind(reason)
            .bind(now)
            .bind(id)
            .bind(code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                return Err(StoreError::InvalidState(
                    "credential status changed concurrently",
                ));
            }
            sqlx::query(
                "INSERT INTO status_history (credential_id, at, status) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(now)
            .bind(to.code())
            .execute(&mut *tx)
            .await?;
            let detail =
                serde_json::json!({"reason": reason, "from": from, "to": to, "kind": kind})
                    .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(now)
                .bind(actor)
                .bind(action)
                .bind(id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(StatusChange {
                id: id.to_owned(),
                kind,
                holder_id,
                status_list,
                status_index,
                previous: from,
                status: to,
                status_reason: Some(reason.to_owned()),
                status_changed_at: now,
            })
        })
    }

    /// Every status change of a credential (identity or signer), oldest first: `(at, status)`.
    /// Empty if it never changed. Changes made before the history was kept (migration 0004)
    /// are represented by the latest one only.
    pub async fn status_history(
        &self,
        credential_id: &str,
    ) -> Result<Vec<(i64, CredentialStatus)>, StoreError> {
        let rows: Vec<(i64, i64)> = reading!(self, |p| {
            sqlx::query_as(
            "SELECT at, status FROM status_history WHERE credential_id = $1 ORDER BY at, seq LIMIT 10000"
        )
        .bind(credential_id)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(at, s)| {
                Ok((
                    at,
                    CredentialStatus::from_code(s)
                        .ok_or(StoreError::Corrupt("credential status"))?,
                ))
            })
            .collect()
    }

    /// A status list's size and every entry that is not valid, identity and signer credentials
    /// alike (they share the lists); `None` if the list does not exist.
    pub async fn status_list(
        &self,
        list: i64,
    ) -> Result<Option<(u32, Vec<(u32, CredentialStatus)>)>, StoreError> {
        let size: Option<(i64,)> = reading!(self, |p| sqlx::query_as(
            "SELECT size FROM status_lists WHERE id = $1"
        )
        .bind(list)
        .fetch_optional(p)
        .await)?;
        let Some((size,)) = size else { return Ok(None) };
        let rows: Vec<(i64, i64)> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT status_index, status FROM credentials WHERE status_list = $1 AND status <> 0 \
                 UNION ALL \
                 SELECT status_index, status FROM signer_credentials WHERE status_list = $1 AND status <> 0",
            )
                .bind(list)
                .fetch_all(p)
                .await
        })?;
        let entries = rows
            .into_iter()
            .map(|(i, s)| {
                Ok((
                    u32::try_from(i).map_err(|_| StoreError::Corrupt("status index"))?,
                    CredentialStatus::from_code(s)
                        .ok_or(StoreError::Corrupt("credential status"))?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some((
            u32::try_from(size).map_err(|_| StoreError::Corrupt("status list size"))?,
            entries,
        )))
    }

    // ----- officers -----

    /// Creates an officer; `Conflict` if the username exists.
    pub async fn create_officer(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        actor: &str,
        now: i64,
    ) -> Result<OfficerRecord, StoreError> {
        let id = random_id();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO officers (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&id)
                .bind(username)
                .bind(password_hash)
                .bind(role.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("officer with this username"),
                    other => other,
                })?;
            let detail = serde_json::json!({"role": role}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'officer.create', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(username)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(OfficerRecord {
            id,
            username: username.to_owned(),
            password_hash: password_hash.to_owned(),
            role,
            disabled: false,
            token_epoch: 0,
        })
    }

    /// An officer by username.
    pub async fn officer(&self, username: &str) -> Result<Option<OfficerRecord>, StoreError> {
        let row: Option<(String, String, String, String, i64, i64)> = reading!(self, |p| {
            sqlx::query_as("SELECT id, username, password_hash, role, disabled, token_epoch FROM officers WHERE username = $1")
                .bind(username)
                .fetch_optional(p)
                .await
        })?;
        row.map(
            |(id, username, password_hash, role, disabled, token_epoch)| {
                Ok(OfficerRecord {
                    id,
                    username,
                    password_hash,
                    role: role
                        .parse()
                        .map_err(|_| StoreError::Corrupt("officer role"))?,
                    disabled: disabled != 0,
                    token_epoch,
                })
            },
        )
        .transpose()
    }

    // ----- clients -----

    /// Registers a client with the SHA-256 of its secret.
    pub async fn create_client(
        &self,
        client_id: &str,
        name: &str,
        secret_sha256: &[u8],
        settings: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO clients (client_id, name, secret_sha256, settings, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(client_id)
                .bind(name)
                .bind(secret_sha256)
                .bind(settings)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'client.create', $3, '{}')")
                .bind(now)
                .bind(actor)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// A client by id.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let row: Option<(String, String, Vec<u8>, String, i64)> = reading!(self, |p| {
            sqlx::query_as("SELECT client_id, name, secret_sha256, settings, disabled FROM clients WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(
            |(client_id, name, secret_sha256, settings, disabled)| ClientRecord {
                client_id,
                name,
                secret_sha256,
                settings,
                disabled: disabled != 0,
            },
        ))
    }

    // ----- login (OpenID Connect) -----

    /// Opens a login transaction, unless that would put more than `bounds` login transactions
    /// in the pending state (waiting for the wallet, unexpired): then nothing is written and the
    /// answer says which bound was reached. The count and the insert are one transaction,
    /// serialised with every other opening (SQLite's one writer; a transaction-scoped advisory
    /// lock on PostgreSQL), so concurrent openings on any number of nodes cannot pass a bound.
    ///
    /// Also prunes: transactions that never produced a code are deleted
    /// [`LOGIN_PRUNE_GRACE`] seconds after they expire (the grace lets a waiting page still
    /// learn that its login expired); completed ones, whose codes and tokens it deletes
    /// first, a day after.
    pub async fn create_login_tx(
        &self,
        t: &NewLoginTx,
        bounds: PendingLoginBounds,
    ) -> Result<LoginOpened, StoreError> {
        let postgres = matches!(self.pools, Pools::Postgres(_));
        writing!(self, |p| {
            let now = t.created_at;
            let horizon = now - 86_400;
            let mut tx = p.begin_write().await?;
            if postgres {
                // Serialises openings across nodes: without it two transactions could each
                // count one below the bound and both insert.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOGIN_OPEN_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            // Never completed: no code or token refers to them.
            sqlx::query("DELETE FROM login_transactions WHERE status <> 2 AND expires_at < $1")
                .bind(now - LOGIN_PRUNE_GRACE)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM access_tokens WHERE tx_id IN (SELECT id FROM login_transactions WHERE expires_at < $1)")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM auth_codes WHERE tx_id IN (SELECT id FROM login_transactions WHERE expires_at < $1)")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM login_transactions WHERE expires_at < $1")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            let (mine, all): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN client_id = $1 THEN 1 ELSE 0 END), 0), COUNT(*) \
                 FROM login_transactions WHERE status = 0 AND expires_at >= $2",
            )
            .bind(&t.client_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if mine >= bounds.per_client {
                tx.commit().await?;
                return Ok(LoginOpened::ClientAtLimit);
            }
            if all >= bounds.total {
                tx.commit().await?;
                return Ok(LoginOpened::AllAtLimit);
            }
            sqlx::query("INSERT INTO login_transactions (id, client_id, redirect_uri, scope, state, nonce, code_challenge, browser_sha256, request_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                .bind(&t.id)
                .bind(&t.client_id)
                .bind(&t.redirect_uri)
                .bind(&t.scope)
                .bind(&t.state)
                .bind(&t.nonce)
                .bind(&t.code_challenge)
                .bind(&t.browser_sha256)
                .bind(&t.request_sha256)
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(LoginOpened::Opened)
        })
    }

    /// A login transaction by id.
    pub async fn login_tx(&self, id: &str) -> Result<Option<LoginTx>, StoreError> {
        let row: Option<LoginRow> = reading!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT {LOGIN_COLUMNS} FROM login_transactions WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.map(login_from_row).transpose()
    }

    /// Marks a pending, unexpired transaction authenticated by `citizen_id` with
    /// `credential_id`, and records the login in the citizen's access record, together.
    /// `InvalidState` if the transaction was not pending or has expired: each wallet answer
    /// is accepted once.
    pub async fn authenticate_login(
        &self,
        id: &str,
        citizen_id: &str,
        credential_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let client: Option<(String,)> = sqlx::query_as("UPDATE login_transactions SET status = 1, citizen_id = $2, credential_id = $3, auth_time = $4 WHERE id = $1 AND status = 0 AND expires_at >= $4 RETURNING client_id")
                .bind(id)
                .bind(citizen_id)
                .bind(credential_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((client_id,)) = client else {
                return Err(StoreError::InvalidState("login transaction is not open"));
            };
            sqlx::query("INSERT INTO verifications (credential_id, client_id, at, outcome) VALUES ($1, $2, $3, 'login')")
                .bind(credential_id)
                .bind(client_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Counts a refused wallet answer; at `max` the transaction fails. Returns whether it has
    /// failed.
    pub async fn fail_login(&self, id: &str, max: i64) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = writing!(self, |p| {
            sqlx::query_as("UPDATE login_transactions SET failures = failures + 1, status = CASE WHEN failures + 1 >= $2 AND status = 0 THEN 3 ELSE status END WHERE id = $1 RETURNING status")
                .bind(id)
                .bind(max)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.is_some_and(|(s,)| s == 3))
    }

    /// Turns an authenticated transaction into an authorization code, for the browser that
    /// opened it (`browser_sha256`). `false` if the transaction is not authenticated or the
    /// browser is another one; nothing is written then.
    pub async fn complete_login(
        &self,
        id: &str,
        browser_sha256: &str,
        code_sha256: &str,
        code_expires_at: i64,
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query("UPDATE login_transactions SET status = 2 WHERE id = $1 AND status = 1 AND browser_sha256 = $2")
                .bind(id)
                .bind(browser_sha256)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done != 1 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO auth_codes (code_sha256, tx_id, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(code_sha256)
            .bind(id)
            .bind(code_expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The login behind an unredeemed, unexpired code, without redeeming it (so the caller can
    /// check client, redirect URI and PKCE first). A code used before counts as a replay: its
    /// tokens are revoked here.
    pub async fn code_login(&self, code_sha256: &str, now: i64) -> Result<Redemption, StoreError> {
        let row: Option<(String, i64, Option<i64>)> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT tx_id, expires_at, redeemed_at FROM auth_codes WHERE code_sha256 = $1",
            )
            .bind(code_sha256)
            .fetch_optional(p)
            .await
        })?;
        match row {
            None => Ok(Redemption::Unknown),
            Some((_, _, Some(_))) => {
                self.revoke_tokens_of(code_sha256).await?;
                Ok(Redemption::Replayed)
            }
            Some((_, expires_at, None)) if expires_at < now => Ok(Redemption::Unknown),
            Some((tx_id, _, None)) => match self.login_tx(&tx_id).await? {
                Some(t) => Ok(Redemption::Redeemed(Box::new(t))),
                None => Err(StoreError::Corrupt("authorization code")),
            },
        }
    }

    /// Redeems a code and stores the access token issued for it, together. `Replayed` if
    /// another redemption won the race (its tokens are revoked), `Unknown` if expired or if the
    /// credential the citizen logged in with is no longer valid (revoked or suspended).
    pub async fn redeem_code(
        &self,
        code_sha256: &str,
        token_sha256: &str,
        token_expires_at: i64,
        now: i64,
    ) -> Result<Redemption, StoreError> {
        let won: Option<String> = writing!(self, |p| {
            async {
            let mut tx = p.begin_write().await?;
            // A code answered just before a revocation of the login's credential yields nothing.
            let row: Option<(String,)> = sqlx::query_as(
                "UPDATE auth_codes SET redeemed_at = $2 \
                 WHERE code_sha256 = $1 AND redeemed_at IS NULL AND expires_at >= $2 \
                 AND EXISTS (SELECT 1 FROM login_transactions l JOIN credentials c ON c.id = l.credential_id \
                             WHERE l.id = auth_codes.tx_id AND c.status = 0) \
                 RETURNING tx_id",
            )
                .bind(code_sha256)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((tx_id,)) = row else {
                return Ok::<_, StoreError>(None);
            };
            sqlx::query("INSERT INTO access_tokens (token_sha256, code_sha256, tx_id, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(token_sha256)
                .bind(code_sha256)
                .bind(&tx_id)
                .bind(token_expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(tx_id))
            }
            .await
        })?;
        match won {
            Some(tx_id) => match self.login_tx(&tx_id).await? {
                Some(t) => Ok(Redemption::Redeemed(Box::new(t))),
                None => Err(StoreError::Corrupt("authorization code")),
            },
            None => self.code_login(code_sha256, now).await.map(|r| match r {
                Redemption::Redeemed(_) => Redemption::Unknown,
                other => other,
            }),
        }
    }

    async fn revoke_tokens_of(&self, code_sha256: &str) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("UPDATE access_tokens SET revoked = 1 WHERE code_sha256 = $1")
                .bind(code_sha256)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// The login behind a live access token: unexpired, unrevoked, and issued for a login whose
    /// credential is still valid.
    pub async fn token_login(
        &self,
        token_sha256: &str,
        now: i64,
    ) -> Result<Option<LoginTx>, StoreError> {
        let row: Option<(String,)> = reading!(self, |p| {
            // Only while the credential the citizen logged in with is valid: a revocation or
            // suspension ends the sessions it opened.
            sqlx::query_as(
                "SELECT a.tx_id FROM access_tokens a \
                 JOIN login_transactions l ON l.id = a.tx_id \
                 JOIN credentials c ON c.id = l.credential_id \
                 WHERE a.token_sha256 = $1 AND a.revoked = 0 AND a.expires_at >= $2 AND c.status = 0",
            )
                .bind(token_sha256)
                .bind(now)
                .fetch_optional(p)
                .await
        })?;
        match row {
            Some((tx_id,)) => self.login_tx(&tx_id).await,
            None => Ok(None),
        }
    }

    /// Records a client assertion's `jti`; `false` if it was seen before (a replay). The `jti`
    /// is refused through `expires_at` (the last second the caller would accept the assertion)
    /// and forgotten after it.
    pub async fn use_client_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM client_assertions WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let r = sqlx::query(
                "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(client_id)
            .bind(jti)
            .bind(expires_at)
            .execute(&mut *tx)
            .await;
            match r.map_err(StoreError::from) {
                Ok(_) => {
                    tx.commit().await?;
                    Ok(true)
                }
                Err(StoreError::Conflict(_)) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    // ----- officials and signatures -----

    /// Creates an official and issues the first signer credential for their key, in one
    /// transaction: inserts the official (a fresh random id; `Conflict("official")` if the
    /// username exists), allocates a status slot from the lists shared with identity
    /// credentials (an index is never reused), calls `certify` with the new official's id and
    /// the slot, stores the signer credential, and audits `official.create` (detail: the
    /// username only, never a secret) and `signer_credential.issue`. If `certify` fails,
    /// nothing is written and no slot is consumed.
    pub async fn create_official<F>(
        &self,
        o: &NewOfficial,
        list_size: u32,
        actor: &str,
        now: i64,
        certify: F,
    ) -> Result<(OfficialRecord, SignerCredentialRecord), StoreError>
    where
        F: FnOnce(&str, StatusSlot) -> Result<NewCredential, String>,
    {
        if o.username.trim().is_empty() {
            return Err(StoreError::Invalid("official username is empty"));
        }
        if o.kid.is_empty() {
            return Err(StoreError::Invalid("official key thumbprint is empty"));
        }
        if o.totp_sealed.is_empty() || o.key_sealed.is_empty() {
            return Err(StoreError::Invalid("official secrets must be sealed"));
        }
        let id = random_id();
        let backend = self.backend();
        let credential = writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO officials (id, username, full_name, title, agency, password_hash, totp_sealed, key_sealed, public_key, kid, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&id)
            .bind(&o.username)
            .bind(&o.full_name)
            .bind(&o.title)
            .bind(&o.agency)
            .bind(&o.password_hash)
            .bind(&o.totp_sealed)
            .bind(&o.key_sealed)
            .bind(&o.public_key[..])
            .bind(&o.kid)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("official"),
                other => other,
            })?;
            let detail = serde_json::json!({"username": o.username}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'official.create', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(&id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            let credential = certify_in_tx!(backend, &mut tx, &id, list_size, actor, now, certify)?;
            tx.commit().await?;
            Ok::<_, StoreError>(credential)
        })?;
        let official = OfficialRecord {
            id,
            username: o.username.clone(),
            full_name: o.full_name.clone(),
            title: o.title.clone(),
            agency: o.agency.clone(),
            password_hash: o.password_hash.clone(),
            totp_sealed: o.totp_sealed.clone(),
            totp_last_step: 0,
            key_sealed: o.key_sealed.clone(),
            public_key: o.public_key,
            kid: o.kid.clone(),
            disabled: false,
            created_at: now,
            token_epoch: 0,
        };
        Ok((official, credential))
    }

    /// Issues a further signer credential to an existing official (after a revocation, say),
    /// with the same rules as [`Store::create_official`]: one transaction, a fresh slot,
    /// nothing written and no slot consumed if `certify` fails, audited
    /// `signer_credential.issue`. `NotFound` for an unknown official, `InvalidState` for a
    /// disabled one. Whether the official's other signer credentials are still valid is the
    /// caller's business; [`Store::current_signer_credential`] returns the newest.
    pub async fn certify_official<F>(
        &self,
        official_id: &str,
        list_size: u32,
        actor: &str,
        now: i64,
        certify: F,
    ) -> Result<SignerCredentialRecord, StoreError>
    where
        F: FnOnce(&str, StatusSlot) -> Result<NewCredential, String>,
    {
        let backend = self.backend();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let official: Option<(i64,)> =
                sqlx::query_as("SELECT disabled FROM officials WHERE id = $1")
                    .bind(official_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match official {
                None => return Err(StoreError::NotFound("official")),
                Some((disabled,)) if disabled != 0 => {
                    return Err(StoreError::InvalidState("official is disabled"))
                }
                Some(_) => {}
            }
            let credential = certify_in_tx!(
                backend,
                &mut tx,
                official_id,
                list_size,
                actor,
                now,
                certify
            )?;
            tx.commit().await?;
            Ok(credential)
        })
    }

    /// An official by username.
    pub async fn official_by_username(
        &self,
        username: &str,
    ) -> Result<Option<OfficialRecord>, StoreError> {
        let sql = format!("SELECT {OFFICIAL_COLUMNS} FROM officials WHERE username = $1");
        let row: Option<OfficialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(p)
            .await)?;
        row.map(official_from_row).transpose()
    }

    /// An official by id.
    pub async fn official(&self, id: &str) -> Result<Option<OfficialRecord>, StoreError> {
        let sql = format!("SELECT {OFFICIAL_COLUMNS} FROM officials WHERE id = $1");
        let row: Option<OfficialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(official_from_row).transpose()
    }

    /// Records TOTP time step `step` as used by the official, iff it is greater than every
    /// step accepted before: `true` if accepted. One conditional UPDATE, so of concurrent
    /// requests with the same code exactly one wins, and a code of an older step is refused
    /// once a newer one was accepted. `false` also for an unknown official. The caller checks
    /// the code itself first.
    pub async fn accept_totp_step(&self, official_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = writing!(self, |p| sqlx::query(
            "UPDATE officials SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2"
        )
        .bind(official_id)
        .bind(step)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The official's newest signer credential (by `issued_at`, then id), whatever its status:
    /// the caller decides what a revoked or suspended one means.
    pub async fn current_signer_credential(
        &self,
        official_id: &str,
    ) -> Result<Option<SignerCredentialRecord>, StoreError> {
        let sql = format!(
            "SELECT {SIGNER_CREDENTIAL_COLUMNS} FROM signer_credentials WHERE official_id = $1 \
             ORDER BY issued_at DESC, id DESC LIMIT 1"
        );
        let row: Option<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(official_id)
            .fetch_optional(p)
            .await)?;
        row.map(signer_credential_from_row).transpose()
    }

    /// A signer credential by id (with `status_changed_at`, to tell whether a revocation came
    /// before or after a signature).
    pub async fn signer_credential(
        &self,
        id: &str,
    ) -> Result<Option<SignerCredentialRecord>, StoreError> {
        let sql =
            format!("SELECT {SIGNER_CREDENTIAL_COLUMNS} FROM signer_credentials WHERE id = $1");
        let row: Option<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(signer_credential_from_row).transpose()
    }

    /// Opens a signing session: the official may sign up to `documents` documents with the
    /// session token whose SHA-256 (lowercase hex) is `token_sha256` until `expires_at`. The
    /// token itself is never stored, and neither it nor its digest goes into the audit entry
    /// (`signing_session.open`, subject the official id). Sessions expired more than a day ago
    /// are pruned here. `Invalid` for a malformed digest, fewer than one document or an
    /// expiry not after `now`; `NotFound` for an unknown official; `InvalidState` for a
    /// disabled one; `Conflict` if the digest is in use.
    pub async fn open_signing_session(
        &self,
        token_sha256: &str,
        official_id: &str,
        documents: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        if !is_sha256_hex(token_sha256) {
            return Err(StoreError::Invalid(
                "session token digest must be 64 lowercase hex digits",
            ));
        }
        if documents < 1 {
            return Err(StoreError::Invalid(
                "a signing session allows at least one document",
            ));
        }
        if expires_at <= now {
            return Err(StoreError::Invalid("a signing session must expire later"));
        }
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM signing_sessions WHERE expires_at < $1")
                .bind(now - 86_400)
                .execute(&mut *tx)
                .await?;
            let official: Option<(String, i64)> =
                sqlx::query_as("SELECT username, disabled FROM officials WHERE id = $1")
                    .bind(official_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let username = match official {
                None => return Err(StoreError::NotFound("official")),
                Some((_, disabled)) if disabled != 0 => {
                    return Err(StoreError::InvalidState("official is disabled"))
                }
                Some((username, _)) => username,
            };
            sqlx::query("INSERT INTO signing_sessions (token_sha256, official_id, documents_left, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_sha256)
                .bind(official_id)
                .bind(documents)
                .bind(expires_at)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("signing session"),
                    other => other,
                })?;
            let detail =
                serde_json::json!({"documents": documents, "expires_at": expires_at}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'signing_session.open', $3, $4)")
                .bind(now)
                .bind(username)
                .bind(official_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Uses one document of a signing session: atomically decrements its count iff the session
    /// belongs to `official_id`, has documents left, `expires_at > now` and the official is not
    /// disabled. Returns the documents left after this use, `None` if refused (unknown token,
    /// another official's, used up, expired).
    pub async fn use_signing_session(
        &self,
        token_sha256: &str,
        official_id: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = writing!(self, |p| {
            sqlx::query_as(
            "UPDATE signing_sessions SET documents_left = documents_left - 1 \
             WHERE token_sha256 = $1 AND official_id = $2 AND documents_left > 0 AND expires_at > $3 \
             AND EXISTS (SELECT 1 FROM officials WHERE id = $2 AND disabled = 0) \
             RETURNING documents_left"
        )
        .bind(token_sha256)
        .bind(official_id)
        .bind(now)
        .fetch_optional(p)
        .await
        })?;
        Ok(row.map(|(n,)| n))
    }

    /// Records a signature and its audit entry (`signature.create`, subject the signature id,
    /// detail the official, digest and signer credential) in one transaction. `Invalid` for a
    /// digest that is not lowercase SHA-256 hex or an empty id; `NotFound` if the signer
    /// credential does not exist; `InvalidState` if it certifies another official; `Conflict`
    /// if the id is taken. Signatures are never changed or deleted afterwards.
    pub async fn record_signature(
        &self,
        s: &NewSignature,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        if s.id.is_empty() {
            return Err(StoreError::Invalid("signature id is empty"));
        }
        if !is_sha256_hex(&s.digest) {
            return Err(StoreError::Invalid(
                "document digest must be 64 lowercase hex digits",
            ));
        }
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let owner: Option<(String,)> =
                sqlx::query_as("SELECT official_id FROM signer_credentials WHERE id = $1")
                    .bind(&s.signer_credential_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match owner {
                None => return Err(StoreError::NotFound("signer credential")),
                Some((owner,)) if owner != s.official_id => {
                    return Err(StoreError::InvalidState(
                        "signer credential certifies another official",
                    ))
                }
                Some(_) => {}
            }
            sqlx::query(&format!(
                "INSERT INTO signatures ({SIGNATURE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&s.id)
            .bind(&s.official_id)
            .bind(&s.signer_credential_id)
            .bind(&s.digest)
            .bind(&s.document_name)
            .bind(&s.media_type)
            .bind(s.signed_at)
            .bind(&s.jws)
            .bind(&s.stamp)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("signature"),
                other => other,
            })?;
            let detail = serde_json::json!({
                "official_id": s.official_id,
                "digest": s.digest,
                "signer_credential_id": s.signer_credential_id,
            })
            .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'signature.create', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(&s.id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// A signature by id.
    pub async fn signature(&self, id: &str) -> Result<Option<SignatureRecord>, StoreError> {
        let sql = format!("SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE id = $1");
        let row: Option<SignatureRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(signature_from_row))
    }

    /// An official's signatures, newest first (by `signed_at`, then id), at most `limit`
    /// (clamped to 1..=1000), only those signed strictly before `before` if given. To page,
    /// pass the last `signed_at` seen; signatures sharing that second with the last one seen
    /// are then skipped, so a caller that needs every one of them asks for a larger page.
    pub async fn signatures_of(
        &self,
        official_id: &str,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<SignatureRecord>, StoreError> {
        let sql = format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE official_id = $1 AND signed_at < $2 \
             ORDER BY signed_at DESC, id DESC LIMIT $3"
        );
        let rows: Vec<SignatureRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(official_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, 1000))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(signature_from_row).collect())
    }

    /// Tries to change or delete a signature; the database must refuse. Exposed for the test
    /// suite that proves append-only holds on both back ends.
    #[doc(hidden)]
    pub async fn try_tamper_signature(&self, id: &str, delete: bool) -> Result<(), StoreError> {
        let sql = if delete {
            "DELETE FROM signatures WHERE id = $1"
        } else {
            "UPDATE signatures SET digest = 'ff' WHERE id = $1"
        };
        writing!(self, |p| sqlx::query(sql)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    // ----- issuer keys -----

    /// Records a new current key; the old current one becomes previous (still published).
    ///
    /// With `replaces`, the change applies only if that kid is the current key when the
    /// transaction runs: of two rotations racing from the same key, one wins and the other gets
    /// `InvalidState` and writes nothing. `None` (first start) replaces whatever is current.
    pub async fn rotate_key(
        &self,
        kid: &str,
        jwk: &str,
        replaces: Option<&str>,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let demoted = sqlx::query(
                "UPDATE issuer_keys SET state = 'previous' WHERE state = 'current' AND ($1 IS NULL OR kid = $1)",
            )
            .bind(replaces)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if replaces.is_some() && demoted != 1 {
                return Err(StoreError::InvalidState(
                    "the key to replace is no longer the current key (another rotation won)",
                ));
            }
            sqlx::query("INSERT INTO issuer_keys (kid, jwk, state, created_at) VALUES ($1, $2, 'current', $3)")
                .bind(kid)
                .bind(jwk)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("issuer key"),
                    other => other,
                })?;
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'key.rotate', $3, '{}')")
                .bind(now)
                .bind(actor)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every key not retired, current first.
    pub async fn issuer_keys(&self) -> Result<Vec<IssuerKeyRecord>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT kid, jwk, state, created_at FROM issuer_keys WHERE state <> 'retired' \
                 ORDER BY CASE state WHEN 'current' THEN 0 ELSE 1 END, created_at DESC",
            )
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|(kid, jwk, state, created_at)| {
                Ok(IssuerKeyRecord {
                    kid,
                    jwk,
                    state: KeyState::parse(&state).ok_or(StoreError::Corrupt("key state"))?,
                    created_at,
                })
            })
            .collect()
    }

    // ----- records -----

    /// Appends verifications in one transaction (the service batches them).
    pub async fn record_verifications(&self, items: &[Verification]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            for chunk in items.chunks(BULK_ROWS) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO verifications (credential_id, client_id, at, outcome) ",
                );
                q.push_values(chunk, |mut b, v| {
                    b.push_bind(v.credential_id.as_deref())
                        .push_bind(v.client_id.as_str())
                        .push_bind(v.at)
                        .push_bind(v.outcome.as_str());
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Who checked a credential, newest first.
    pub async fn verifications_of(
        &self,
        credential_id: &str,
    ) -> Result<Vec<Verification>, StoreError> {
        let rows: Vec<(Option<String>, String, i64, String)> = reading!(self, |p| {
            sqlx::query_as("SELECT credential_id, client_id, at, outcome FROM verifications WHERE credential_id = $1 ORDER BY at DESC, id DESC")
                .bind(credential_id)
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(credential_id, client_id, at, outcome)| Verification {
                credential_id,
                client_id,
                at,
                outcome,
            })
            .collect())
    }

    /// Appends an audit entry.
    pub async fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(e.at)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.subject)
                .bind(&e.detail)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Audit entries about a subject, oldest first.
    pub async fn audit_of(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<(i64, String, String, Option<String>, String)> = reading!(self, |p| {
            sqlx::query_as("SELECT at, actor, action, subject, detail FROM audit_log WHERE subject = $1 ORDER BY id")
                .bind(subject)
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, subject, detail)| AuditEntry {
                at,
                actor,
                action,
                subject,
                detail,
            })
            .collect())
    }

    /// Tries to change an audit entry; the database must refuse. Exposed for the test suite
    /// that proves append-only holds on both back ends.
    #[doc(hidden)]
    pub async fn try_tamper_audit(&self) -> Result<(), StoreError> {
        writing!(self, |p| sqlx::query("UPDATE audit_log SET actor = 'x'")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Allocates `count` status slots inside the caller's transaction, opening new lists of
/// `list_size` entries when the newest one is full. A macro because the transaction type
/// differs per back end.
/// Filters a batch down to citizens not enrolled yet (and not repeated in the batch), with
/// one `IN (…)` query per 500 id numbers on the given connection or transaction.
macro_rules! not_enrolled {
    ($conn:expr, $citizens:expr) => {{
        let citizens: Vec<NewCitizen> = $citizens;
        let mut fresh = Vec::with_capacity(citizens.len());
        let mut seen = std::collections::HashSet::with_capacity(citizens.len());
        let mut failure: Option<StoreError> = None;
        for chunk in citizens.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id_number FROM citizens WHERE id_number IN ({})",
                placeholders.join(",")
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for c in chunk {
                q = q.bind(c.citizen.id_number.as_str());
            }
            let existing: std::collections::HashSet<String> = match q.fetch_all($conn).await {
                Ok(rows) => rows.into_iter().map(|(s,)| s).collect(),
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            };
            for c in chunk {
                let n = c.citizen.id_number.as_str();
                // Duplicates inside one batch count as already enrolled too.
                if !existing.contains(n) && seen.insert(n.to_owned()) {
                    fresh.push(c.clone());
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(fresh),
        }
    }};
}
use not_enrolled;

/// Multi-row INSERTs of citizens, credentials and audit entries: one statement per table per
/// [`BULK_ROWS`] rows instead of three per citizen, which is what lets a million citizens go in
/// at signing speed.
macro_rules! insert_issued_rows {
    ($tx:expr, $rows:expr, $actor:expr, $now:expr) => {{
        let rows: &[IssuedRow] = $rows;
        let actor: &str = $actor;
        let now: i64 = $now;
        let ids: Vec<String> = rows.iter().map(|_| random_id()).collect();
        let res = async {
            for (chunk, ids) in rows.chunks(BULK_ROWS).zip(ids.chunks(BULK_ROWS)) {
                let pairs: Vec<(&String, &IssuedRow)> = ids.iter().zip(chunk).collect();
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO citizens (id, id_number, claims, created_at) ",
                );
                q.push_values(&pairs, |mut b, (id, r)| {
                    b.push_bind(id.as_str())
                        .push_bind(r.citizen.citizen.id_number.as_str())
                        .push_bind(citizen_to_json(&r.citizen.citizen))
                        .push_bind(now);
                });
                q.build().execute(&mut **$tx).await?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO credentials (id, citizen_id, kid, status_list, status_index, payload, issued_at, expires_at) ",
                );
                q.push_values(&pairs, |mut b, (id, r)| {
                    b.push_bind(r.credential.id.as_str())
                        .push_bind(id.as_str())
                        .push_bind(r.credential.kid.as_str())
                        .push_bind(r.slot.list)
                        .push_bind(i64::from(r.slot.index))
                        .push_bind(r.credential.payload.as_str())
                        .push_bind(r.credential.issued_at)
                        .push_bind(r.credential.expires_at);
                });
                q.build().execute(&mut **$tx).await?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (at, actor, action, subject, detail) ",
                );
                q.push_values(&pairs, |mut b, (_, r)| {
                    b.push_bind(now)
                        .push_bind(actor)
                        .push_bind("credential.issue")
                        .push_bind(r.credential.id.as_str())
                        .push_bind(format!(
                            r#"{{"status_list":{},"status_index":{},"kid":"{}"}}"#,
                            r.slot.list, r.slot.index, r.credential.kid
                        ));
                });
                q.build().execute(&mut **$tx).await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        res.map_err(StoreError::from)
    }};
}
use insert_issued_rows;

macro_rules! allocate {
    ($backend:expr, $tx:expr, $count:expr, $list_size:expr, $now:expr) => {{
        let mut slots: Vec<StatusSlot> = Vec::with_capacity($count);
        let mut remaining: i64 = $count as i64;
        let lock = if $backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let select = format!("SELECT id, size, next_index FROM status_lists ORDER BY id DESC LIMIT 1{lock}");
        let mut failure: Option<StoreError> = None;
        while remaining > 0 {
            let newest: Option<(i64, i64, i64)> = match sqlx::query_as(&select).fetch_optional(&mut **$tx).await {
                Ok(r) => r,
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            };
            let (list, size, next) = match newest {
                Some((id, size, next)) if next < size => (id, size, next),
                other => {
                    let id = other.map_or(1, |(id, _, _)| id + 1);
                    let size = i64::from($list_size);
                    if let Err(e) = sqlx::query("INSERT INTO status_lists (id, size, next_index, created_at) VALUES ($1, $2, 0, $3)")
                        .bind(id)
                        .bind(size)
                        .bind($now)
                        .execute(&mut **$tx)
                        .await
                    {
                        failure = Some(e.into());
                        break;
                    }
                    (id, size, 0)
                }
            };
            let take = remaining.min(size - next);
            match sqlx::query("UPDATE status_lists SET next_index = next_index + $1 WHERE id = $2 AND next_index = $3")
                .bind(take)
                .bind(list)
                .bind(next)
                .execute(&mut **$tx)
                .await
            {
                Ok(r) if r.rows_affected() == 1 => {}
                Ok(_) => {
                    failure = Some(StoreError::Conflict("status list allocation"));
                    break;
                }
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            }
            for i in next..next + take {
                match u32::try_from(i) {
                    Ok(index) => slots.push(StatusSlot { list, index }),
                    Err(_) => failure = Some(StoreError::InvalidState("status index beyond 32 bits")),
                }
            }
            remaining -= take;
        }
        match failure {
            Some(e) => Err::<Vec<StatusSlot>, StoreError>(e),
            None => Ok(slots),
        }
    }};
}
use allocate;

macro_rules! insert_credential {
    ($tx:expr, $cred:expr, $citizen_id:expr, $slot:expr, $actor:expr, $now:expr) => {{
        let cred: &NewCredential = $cred;
        let slot: StatusSlot = $slot;
        let res = async {
            sqlx::query(
                "INSERT INTO credentials (id, citizen_id, kid, status_list, status_index, payload, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&cred.id)
            .bind($citizen_id)
            .bind(&cred.kid)
            .bind(slot.list)
            .bind(i64::from(slot.index))
            .bind(&cred.payload)
            .bind(cred.issued_at)
            .bind(cred.expires_at)
            .execute(&mut **$tx)
            .await?;
            let detail = format!(r#"{{"status_list":{},"status_index":{},"kid":"{}"}}"#, slot.list, slot.index, cred.kid);
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'credential.issue', $3, $4)")
                .bind($now)
                .bind($actor)
                .bind(&cred.id)
                .bind(detail)
                .execute(&mut **$tx)
                .await?;
            Ok::<(), sqlx::Error>(())
        }
        .await;
        res.map_err(StoreError::from)
    }};
}
use insert_credential;

/// Inside the caller's transaction: allocates a status slot, has `certify` sign a signer
/// credential for official `$official_id` on it, stores it and audits
/// `signer_credential.issue`. Evaluates to `Result<SignerCredentialRecord, StoreError>`; on an
/// error the caller drops the transaction, which gives the slot back.
macro_rules! certify_in_tx {
    ($backend:expr, $tx:expr, $official_id:expr, $list_size:expr, $actor:expr, $now:expr, $certify:expr) => {{
        let official_id: &str = $official_id;
        let actor: &str = $actor;
        let now: i64 = $now;
        let res: Result<SignerCredentialRecord, StoreError> = async {
            let slot = allocate!($backend, $tx, 1, $list_size, now)?
                .into_iter()
                .next()
                .ok_or(StoreError::InvalidState("no status slot allocated"))?;
            let cred: NewCredential = ($certify)(official_id, slot).map_err(StoreError::Rejected)?;
            // set_status looks an id up in credentials first: one id names one credential.
            let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM credentials WHERE id = $1")
                .bind(&cred.id)
                .fetch_optional(&mut **$tx)
                .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict("credential with this id"));
            }
            sqlx::query(
                "INSERT INTO signer_credentials (id, official_id, kid, status_list, status_index, payload, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&cred.id)
            .bind(official_id)
            .bind(&cred.kid)
            .bind(slot.list)
            .bind(i64::from(slot.index))
            .bind(&cred.payload)
            .bind(cred.issued_at)
            .bind(cred.expires_at)
            .execute(&mut **$tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("credential with this id"),
                other => other,
            })?;
            let detail = serde_json::json!({
                "official_id": official_id,
                "status_list": slot.list,
                "status_index": slot.index,
                "kid": cred.kid,
            })
            .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'signer_credential.issue', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(&cred.id)
                .bind(detail)
                .execute(&mut **$tx)
                .await?;
            Ok(SignerCredentialRecord {
                id: cred.id,
                official_id: official_id.to_owned(),
                kid: cred.kid,
                status_list: slot.list,
                status_index: i64::from(slot.index),
                status: CredentialStatus::Valid,
                status_reason: None,
                status_changed_at: None,
                payload: cred.payload,
                issued_at: cred.issued_at,
                expires_at: cred.expires_at,
            })
        }
        .await;
        res
    }};
}
use certify_in_tx;

mod accounts;
pub use accounts::ACCOUNT_PAGE;
