-- PDF signatures (PAdES; issue 19, docs/signature-format.md "PDF signatures (PAdES)"). PostgreSQL
-- dialect; migrations/sqlite/0008_pades.sql is the same change.

-- The X.509 certificate of an official's P-256 PDF signing key, issued by the authority's CA
-- for one signer credential: same validity, and revoked with it (the CRL lists the certificates
-- whose signer credential is revoked or suspended). The key is sealed under the KEK like the
-- Ed25519 one, bound to the username and the serial.
CREATE TABLE official_certificates (
    serial                TEXT PRIMARY KEY,            -- hex, as in the certificate
    official_id           TEXT NOT NULL REFERENCES officials (id),
    signer_credential_id  TEXT NOT NULL UNIQUE REFERENCES signer_credentials (id),
    key_sealed            BYTEA NOT NULL,
    certificate           BYTEA NOT NULL,               -- DER
    not_before            INTEGER NOT NULL,
    not_after             INTEGER NOT NULL,
    created_at            INTEGER NOT NULL
);
CREATE INDEX official_certificates_by_official ON official_certificates (official_id, created_at);

-- What kind of signature a record is: a detached JWS, or a signed PDF (then the JWS column is
-- empty, the record names the certificate, and keeps the SHA-256 of the signed file so that a
-- signed PDF finds its record).
ALTER TABLE signatures ADD COLUMN format TEXT NOT NULL DEFAULT 'jws' CHECK (format IN ('jws', 'pades'));
ALTER TABLE signatures ADD COLUMN certificate_serial TEXT REFERENCES official_certificates (serial);
ALTER TABLE signatures ADD COLUMN signed_sha256 TEXT CHECK (signed_sha256 IS NULL OR length(signed_sha256) = 64);
CREATE INDEX signatures_by_signed_sha256 ON signatures (signed_sha256) WHERE signed_sha256 IS NOT NULL;
