-- The office in the browser (docs/office.md): the counter clerk role, staff sessions kept in the
-- database (so that a sign-out ends them on every node), citizens' photos, and the folded name
-- that the search by name reads. migrations/postgres/0006_office.sql is the same change.

-- officers.role gains 'clerk'. SQLite cannot change a CHECK constraint in place, so the table is
-- rebuilt; no other table references officers by foreign key.
CREATE TABLE officers_new (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'auditor', 'clerk')),
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    token_epoch   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO officers_new (id, username, password_hash, role, disabled, created_at, token_epoch)
    SELECT id, username, password_hash, role, disabled, created_at, token_epoch FROM officers;
DROP TABLE officers;
ALTER TABLE officers_new RENAME TO officers;

-- A browser session. The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- the database opens no session. `epoch` is the account's token_epoch at sign-in: disabling the
-- account or resetting its password ends the session as it ends bearer tokens.
CREATE TABLE web_sessions (
    token_sha256  BLOB PRIMARY KEY,
    app           TEXT NOT NULL CHECK (app IN ('office')),
    subject       TEXT NOT NULL,
    epoch         INTEGER NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX web_sessions_by_subject ON web_sessions (app, subject);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

-- The enrolment photo: re-encoded by the service (metadata stripped), one per citizen. Its
-- SHA-256 (hex) is the photo_sha256 of the citizen's claims from the time it was stored.
CREATE TABLE citizen_photos (
    citizen_id  TEXT PRIMARY KEY REFERENCES citizens (id),
    sha256      TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    width       INTEGER NOT NULL,
    height      INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

-- The full name folded for search: lower case, Vietnamese diacritics and đ removed, spaces
-- collapsed (qrid_credential::fold_name). NULL for rows enrolled before this migration until the
-- service fills them in at start.
ALTER TABLE citizens ADD COLUMN name_folded TEXT;
CREATE INDEX citizens_by_folded_name ON citizens (name_folded);
