-- E-signatures by officials, PostgreSQL dialect. migrations/sqlite/0003_signatures.sql is the same
-- schema. Times are Unix seconds (UTC). The store never sees a plaintext secret: passwords arrive
-- as argon2id PHC strings, TOTP secrets and signing keys sealed (encrypted) by the caller, and
-- session tokens as SHA-256 hex.

CREATE TABLE officials (
    id              TEXT PRIMARY KEY,              -- opaque random id (16 hex digits)
    username        TEXT NOT NULL UNIQUE,
    full_name       TEXT NOT NULL,
    title           TEXT NOT NULL,
    agency          TEXT NOT NULL,
    password_hash   TEXT NOT NULL,                 -- argon2id, PHC string
    totp_sealed     BYTEA NOT NULL,                -- TOTP secret, encrypted under a key-encryption key
    totp_last_step  BIGINT NOT NULL DEFAULT 0,     -- highest accepted TOTP time step: each code once
    key_sealed      BYTEA NOT NULL,                -- Ed25519 signing key, encrypted under a key-encryption key
    public_key      BYTEA NOT NULL CHECK (length(public_key) = 32),
    kid             TEXT NOT NULL,                 -- RFC 7638 thumbprint of public_key
    disabled        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);

-- The credentials that certify an official's key. Same status rules as credentials, and the
-- same status lists: an index is allocated from status_lists for either kind, never reused.
CREATE TABLE signer_credentials (
    id              TEXT PRIMARY KEY,              -- the CWT cti, hex
    official_id     TEXT NOT NULL REFERENCES officials (id),
    kid             TEXT NOT NULL,                 -- the issuer key that signed it
    status_list     BIGINT NOT NULL REFERENCES status_lists (id),
    status_index    BIGINT NOT NULL,
    status          BIGINT NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),  -- valid, revoked, suspended
    status_reason   TEXT,
    status_changed_at BIGINT,
    payload         TEXT NOT NULL,
    issued_at       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    UNIQUE (status_list, status_index)
);
CREATE INDEX signer_credentials_by_official ON signer_credentials (official_id, issued_at);
CREATE INDEX signer_credentials_not_valid ON signer_credentials (status_list, status) WHERE status <> 0;

-- Every signature made. Append-only (qrid_append_only() is defined in 0001).
CREATE TABLE signatures (
    id                    TEXT PRIMARY KEY,
    official_id           TEXT NOT NULL REFERENCES officials (id),
    signer_credential_id  TEXT NOT NULL REFERENCES signer_credentials (id),
    digest                TEXT NOT NULL CHECK (length(digest) = 64),  -- SHA-256 of the document, hex
    document_name         TEXT NOT NULL,
    media_type            TEXT NOT NULL,
    signed_at             BIGINT NOT NULL,
    jws                   TEXT NOT NULL,
    stamp                 TEXT NOT NULL
);
CREATE INDEX signatures_by_official ON signatures (official_id, signed_at);

CREATE TRIGGER signatures_append_only BEFORE UPDATE OR DELETE ON signatures
    FOR EACH ROW EXECUTE FUNCTION qrid_append_only();
CREATE TRIGGER signatures_no_truncate BEFORE TRUNCATE ON signatures
    FOR EACH STATEMENT EXECUTE FUNCTION qrid_append_only();

-- A signing session: after password + TOTP, an official may sign up to documents_left documents
-- until expires_at. Only the SHA-256 of the session token is stored.
CREATE TABLE signing_sessions (
    token_sha256    TEXT PRIMARY KEY CHECK (length(token_sha256) = 64),
    official_id     TEXT NOT NULL REFERENCES officials (id),
    documents_left  BIGINT NOT NULL CHECK (documents_left >= 0),
    expires_at      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX signing_sessions_by_expiry ON signing_sessions (expires_at);
