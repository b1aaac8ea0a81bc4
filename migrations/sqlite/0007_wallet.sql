-- The citizens' wallet (issue 18; docs/api.md "Credential delivery (OpenID4VCI)"): credential
-- offers and their nonces, the live QR's replay guard, and citizens' own browser sessions.
-- migrations/postgres/0007_wallet.sql is the same change.

-- A credential offer (OpenID4VCI 1.0, pre-authorized code flow) made by an officer for one
-- citizen. The code travels in the offer QR, the PIN (tx_code) is shown to the citizen apart
-- from it. Only digests are kept: the code's SHA-256, the PIN's SHA-256 salted with the code
-- (so a copy of the table does not give the PINs away: each would need its 256-bit code), and
-- the access token's SHA-256. A row is spent in steps: the code is redeemed once
-- (redeemed_at), its token asks for one credential (requested_at), which is then recorded.
CREATE TABLE credential_offers (
    id                TEXT PRIMARY KEY,
    code_sha256       TEXT NOT NULL UNIQUE,
    pin_sha256        TEXT NOT NULL,
    citizen_id        TEXT NOT NULL REFERENCES citizens (id),
    officer           TEXT NOT NULL,
    profile           TEXT NOT NULL CHECK (profile IN ('digest', 'photo')),
    valid_days        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER NOT NULL,
    pin_failures      INTEGER NOT NULL DEFAULT 0,
    redeemed_at       INTEGER,
    token_sha256      TEXT UNIQUE,
    token_expires_at  INTEGER,
    requested_at      INTEGER,
    credential_id     TEXT REFERENCES credentials (id)
);
CREATE INDEX credential_offers_by_citizen ON credential_offers (citizen_id);
CREATE INDEX credential_offers_by_expiry ON credential_offers (expires_at);

-- The c_nonces the nonce endpoint handed out and no proof has used yet (SHA-256, hex).
CREATE TABLE vci_nonces (
    nonce_sha256  TEXT PRIMARY KEY,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX vci_nonces_by_expiry ON vci_nonces (expires_at);

-- Live QR presentations a counter has accepted, kept until they could no longer be accepted
-- anyway, so that the same presentation shown twice is refused as a replay.
CREATE TABLE presentations_seen (
    sha256      TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX presentations_seen_by_expiry ON presentations_seen (expires_at);

-- Sessions of the citizens' own page ('me') beside the office's. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with its rows.
CREATE TABLE web_sessions_new (
    token_sha256  BLOB PRIMARY KEY,
    app           TEXT NOT NULL CHECK (app IN ('office', 'me')),
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

-- What a portal login shared (its scopes), on the citizen's access record beside the login.
ALTER TABLE verifications ADD COLUMN detail TEXT;
