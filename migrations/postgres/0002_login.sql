-- OpenID Connect login (docs/login.md), PostgreSQL dialect. migrations/sqlite/0002_login.sql is the
-- same schema. Secrets (codes, access tokens, the browser cookie) are stored only as SHA-256 hex.

-- One row per /authorize: the login the QR page waits for.
-- status: 0 pending, 1 authenticated (the wallet answered), 2 complete (the code went to the
-- browser), 3 failed (too many refused answers).
CREATE TABLE login_transactions (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients (client_id),
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    state           TEXT,
    nonce           TEXT,
    code_challenge  TEXT NOT NULL,
    browser_sha256  TEXT NOT NULL,
    request_sha256  TEXT NOT NULL,
    status          BIGINT NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2, 3)),
    failures        BIGINT NOT NULL DEFAULT 0,
    citizen_id      TEXT REFERENCES citizens (id),
    credential_id   TEXT,
    auth_time       BIGINT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);
CREATE INDEX login_transactions_by_expiry ON login_transactions (expires_at);

-- Authorization codes: single use; redeemed_at set once.
CREATE TABLE auth_codes (
    code_sha256  TEXT PRIMARY KEY,
    tx_id        TEXT NOT NULL REFERENCES login_transactions (id),
    expires_at   BIGINT NOT NULL,
    redeemed_at  BIGINT
);
-- Pruning deletes codes and tokens by transaction: without these it scans both tables on
-- every /authorize, holding SQLite's one writer.
CREATE INDEX auth_codes_by_tx ON auth_codes (tx_id);

-- Access tokens for /userinfo; revoked when their code is replayed.
CREATE TABLE access_tokens (
    token_sha256 TEXT PRIMARY KEY,
    code_sha256  TEXT NOT NULL REFERENCES auth_codes (code_sha256),
    tx_id        TEXT NOT NULL REFERENCES login_transactions (id),
    expires_at   BIGINT NOT NULL,
    revoked      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_by_code ON access_tokens (code_sha256);
CREATE INDEX access_tokens_by_tx ON access_tokens (tx_id);

-- private_key_jwt client assertions seen (client_id, jti), kept until they expire: each is
-- accepted once.
CREATE TABLE client_assertions (
    client_id   TEXT NOT NULL,
    jti         TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
