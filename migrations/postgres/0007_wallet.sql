-- The citizens' wallet (issue 18): see migrations/sqlite/0007_wallet.sql for what each table
-- is; this is the same change for PostgreSQL.

CREATE TABLE credential_offers (
    id                TEXT PRIMARY KEY,
    code_sha256       TEXT NOT NULL UNIQUE,
    pin_sha256        TEXT NOT NULL,
    citizen_id        TEXT NOT NULL REFERENCES citizens (id),
    officer           TEXT NOT NULL,
    profile           TEXT NOT NULL CHECK (profile IN ('digest', 'photo')),
    valid_days        BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    pin_failures      BIGINT NOT NULL DEFAULT 0,
    redeemed_at       BIGINT,
    token_sha256      TEXT UNIQUE,
    token_expires_at  BIGINT,
    requested_at      BIGINT,
    credential_id     TEXT REFERENCES credentials (id)
);
CREATE INDEX credential_offers_by_citizen ON credential_offers (citizen_id);
CREATE INDEX credential_offers_by_expiry ON credential_offers (expires_at);

CREATE TABLE vci_nonces (
    nonce_sha256  TEXT PRIMARY KEY,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX vci_nonces_by_expiry ON vci_nonces (expires_at);

CREATE TABLE presentations_seen (
    sha256      TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX presentations_seen_by_expiry ON presentations_seen (expires_at);

ALTER TABLE web_sessions DROP CONSTRAINT web_sessions_app_check;
ALTER TABLE web_sessions ADD CONSTRAINT web_sessions_app_check CHECK (app IN ('office', 'me'));

-- What a portal login shared (its scopes), on the citizen's access record beside the login.
ALTER TABLE verifications ADD COLUMN detail TEXT;
