-- The officials' signing desk (`/sign/`, issue 19; docs/sign.md). PostgreSQL dialect;
-- migrations/sqlite/0009_sign_desk.sql is the same change.

-- Officials' browser sessions beside the office's and the citizens'.
ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_app_check;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_app_check CHECK (app IN ('office', 'me', 'sign'));

-- A PDF an official uploaded to the desk: waiting for approval, then signed (the signed file
-- kept for download). Rows are the official's own; the service deletes them a day after upload.
-- `place_x`/`place_y` are where the stamp goes, in thousandths of the room the last page
-- leaves for it (NULL: bottom right). `seq` keeps the order of upload on the official's desk.
CREATE TABLE desk_documents (
    id            TEXT PRIMARY KEY,
    official_id   TEXT NOT NULL REFERENCES officials (id),
    seq           BIGINT NOT NULL,
    name          TEXT NOT NULL,
    bytes         BYTEA NOT NULL,
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
    size          BIGINT NOT NULL,
    pages         BIGINT NOT NULL,
    page_width    BIGINT NOT NULL,
    page_height   BIGINT NOT NULL,
    place_x       BIGINT CHECK (place_x IS NULL OR place_x BETWEEN 0 AND 1000),
    place_y       BIGINT CHECK (place_y IS NULL OR place_y BETWEEN 0 AND 1000),
    signature_id  TEXT REFERENCES signatures (id),
    signed        BYTEA,
    created_at    BIGINT NOT NULL
);
CREATE INDEX desk_documents_by_official ON desk_documents (official_id, seq);

-- 0008 declared the certificates' times INTEGER (four bytes) where every other time is BIGINT:
-- reading a certificate back failed on PostgreSQL. SQLite's INTEGER is eight bytes already.
ALTER TABLE official_certificates
    ALTER COLUMN not_before TYPE BIGINT,
    ALTER COLUMN not_after TYPE BIGINT,
    ALTER COLUMN created_at TYPE BIGINT;
