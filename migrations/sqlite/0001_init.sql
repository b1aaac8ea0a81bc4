-- qrid schema, SQLite dialect. migrations/postgres/0001_init.sql is the same schema.
-- Times are Unix seconds (UTC).

-- One row per status list. next_index only grows: an index handed out is never handed out again.
CREATE TABLE status_lists (
    id          INTEGER PRIMARY KEY,
    size        INTEGER NOT NULL CHECK (size > 0),
    next_index  INTEGER NOT NULL DEFAULT 0 CHECK (next_index >= 0 AND next_index <= size),
    created_at  INTEGER NOT NULL
);

CREATE TABLE citizens (
    id          TEXT PRIMARY KEY,          -- opaque random id used in URLs and logs
    id_number   TEXT NOT NULL UNIQUE,
    claims      TEXT NOT NULL,             -- the validated claims as JSON
    created_at  INTEGER NOT NULL
);

CREATE TABLE credentials (
    id              TEXT PRIMARY KEY,      -- the CWT cti, hex
    citizen_id      TEXT NOT NULL REFERENCES citizens (id),
    kid             TEXT NOT NULL,
    status_list     INTEGER NOT NULL REFERENCES status_lists (id),
    status_index    INTEGER NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),  -- valid, revoked, suspended
    status_reason   TEXT,
    status_changed_at INTEGER,
    payload         TEXT NOT NULL,
    issued_at       INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    UNIQUE (status_list, status_index)
);
CREATE INDEX credentials_by_citizen ON credentials (citizen_id);
CREATE INDEX credentials_not_valid ON credentials (status_list, status) WHERE status <> 0;

CREATE TABLE officers (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'auditor')),
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_sha256 BLOB NOT NULL,
    settings      TEXT NOT NULL DEFAULT '{}',
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE issuer_keys (
    kid         TEXT PRIMARY KEY,
    jwk         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('current', 'previous', 'retired')),
    created_at  INTEGER NOT NULL
);

-- Who checked whose identity: a citizen's access record. Append-only.
CREATE TABLE verifications (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    credential_id TEXT,
    client_id     TEXT NOT NULL,
    at            INTEGER NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX verifications_by_credential ON verifications (credential_id, at);

-- Every issuance, status change and officer action. Append-only.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT,
    detail   TEXT NOT NULL DEFAULT '{}'
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER verifications_no_update BEFORE UPDATE ON verifications
BEGIN SELECT RAISE(ABORT, 'verifications is append-only'); END;
CREATE TRIGGER verifications_no_delete BEFORE DELETE ON verifications
BEGIN SELECT RAISE(ABORT, 'verifications is append-only'); END;
