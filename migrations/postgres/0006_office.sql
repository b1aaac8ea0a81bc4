-- The office in the browser (docs/office.md): the counter clerk role, staff sessions kept in the
-- database (so that a sign-out ends them on every node), citizens' photos, and the folded name
-- that the search by name reads. migrations/sqlite/0006_office.sql is the same change.

ALTER TABLE officers DROP CONSTRAINT officers_role_check;
ALTER TABLE officers ADD CONSTRAINT officers_role_check
    CHECK (role IN ('admin', 'issuer', 'auditor', 'clerk'));

-- A browser session. The cookie holds a random token; only its SHA-256 is stored, so a copy of
-- the database opens no session. `epoch` is the account's token_epoch at sign-in: disabling the
-- account or resetting its password ends the session as it ends bearer tokens.
CREATE TABLE web_sessions (
    token_sha256  BYTEA PRIMARY KEY,
    app           TEXT NOT NULL CHECK (app IN ('office')),
    subject       TEXT NOT NULL,
    epoch         BIGINT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_subject ON web_sessions (app, subject);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

-- The enrolment photo: re-encoded by the service (metadata stripped), one per citizen. Its
-- SHA-256 (hex) is the photo_sha256 of the citizen's claims from the time it was stored.
CREATE TABLE citizen_photos (
    citizen_id  TEXT PRIMARY KEY REFERENCES citizens (id),
    sha256      TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    bytes       BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

-- The full name folded for search: lower case, Vietnamese diacritics and đ removed, spaces
-- collapsed (qrid_credential::fold_name). NULL for rows enrolled before this migration until the
-- service fills them in at start. text_pattern_ops: `LIKE 'prefix%'` uses the index whatever
-- the database's collation.
ALTER TABLE citizens ADD COLUMN name_folded TEXT;
CREATE INDEX citizens_by_folded_name ON citizens (name_folded text_pattern_ops);
