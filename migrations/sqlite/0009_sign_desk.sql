-- The officials' signing desk (`/sign/`, issue 19; docs/sign.md). SQLite dialect;
-- migrations/postgres/0009_sign_desk.sql is the same change.

-- Officials' browser sessions beside the office's and the citizens'. SQLite cannot change a
-- CHECK constraint in place, so the table is rebuilt with its rows.
CREATE TABLE web_sessions_new (
    token_sha256  BLOB PRIMARY KEY,
    app           TEXT NOT NULL CHECK (app IN ('office', 'me', 'sign')),
    subject       TEXT NOT NULL,
    epoch         INTEGER NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
INSERT INTO web_sessions_new SELECT token_sha256, app, subject, epoch, csrf, created_at, last_seen, expires_at FROM web_sessions;
DROP TABLE web_sessions;
ALTER TABLE web_sessions_new RENAME TO web_sessions;
CREATE INDEX web_sessions_by_subject ON web_sessions (app, subject);
CREATE INDEX web_sessions_by_expiry ON web_sessions (expires_at);

-- A PDF an official uploaded to the desk: waiting for approval, then signed (the signed file
-- kept for download). Rows are the official's own; the service deletes them a day after upload.
-- `place_x`/`place_y` are where the stamp goes, in thousandths of the room the last page
-- leaves for it (NULL: bottom right). `seq` keeps the order of upload on the official's desk.
CREATE TABLE desk_documents (
    id            TEXT PRIMARY KEY,
    official_id   TEXT NOT NULL REFERENCES officials (id),
    seq           INTEGER NOT NULL,
    name          TEXT NOT NULL,
    bytes         BLOB NOT NULL,
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
    size          INTEGER NOT NULL,
    pages         INTEGER NOT NULL,
    page_width    INTEGER NOT NULL,
    page_height   INTEGER NOT NULL,
    place_x       INTEGER CHECK (place_x IS NULL OR place_x BETWEEN 0 AND 1000),
    place_y       INTEGER CHECK (place_y IS NULL OR place_y BETWEEN 0 AND 1000),
    signature_id  TEXT REFERENCES signatures (id),
    signed        BLOB,
    created_at    INTEGER NOT NULL
);
CREATE INDEX desk_documents_by_official ON desk_documents (official_id, seq);
