-- qrid schema, PostgreSQL dialect. migrations/sqlite/0001_init.sql is the same schema.
-- Times are Unix seconds (UTC).

CREATE TABLE status_lists (
    id          BIGINT PRIMARY KEY,
    size        BIGINT NOT NULL CHECK (size > 0),
    next_index  BIGINT NOT NULL DEFAULT 0 CHECK (next_index >= 0 AND next_index <= size),
    created_at  BIGINT NOT NULL
);

CREATE TABLE citizens (
    id          TEXT PRIMARY KEY,
    id_number   TEXT NOT NULL UNIQUE,
    claims      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE credentials (
    id              TEXT PRIMARY KEY,
    citizen_id      TEXT NOT NULL REFERENCES citizens (id),
    kid             TEXT NOT NULL,
    status_list     BIGINT NOT NULL REFERENCES status_lists (id),
    status_index    BIGINT NOT NULL,
    status          BIGINT NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
    status_reason   TEXT,
    status_changed_at BIGINT,
    payload         TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    UNIQUE (status_list, status_index)
);
CREATE INDEX credentials_by_citizen ON credentials (citizen_id);
CREATE INDEX credentials_not_valid ON credentials (status_list, status) WHERE status <> 0;

CREATE TABLE officers (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'auditor')),
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE clients (
    client_id     TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    secret_sha256 BYTEA NOT NULL,
    settings      TEXT NOT NULL DEFAULT '{}',
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE issuer_keys (
    kid         TEXT PRIMARY KEY,
    jwk         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('current', 'previous', 'retired')),
    created_at  BIGINT NOT NULL
);

CREATE TABLE verifications (
    id            BIGSERIAL PRIMARY KEY,
    credential_id TEXT,
    client_id     TEXT NOT NULL,
    at            BIGINT NOT NULL,
    outcome       TEXT NOT NULL
);
CREATE INDEX verifications_by_credential ON verifications (credential_id, at);

CREATE TABLE audit_log (
    id       BIGSERIAL PRIMARY KEY,
    at       BIGINT NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT,
    detail   TEXT NOT NULL DEFAULT '{}'
);

CREATE FUNCTION qrid_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION qrid_append_only();
CREATE TRIGGER verifications_append_only BEFORE UPDATE OR DELETE ON verifications
    FOR EACH ROW EXECUTE FUNCTION qrid_append_only();
