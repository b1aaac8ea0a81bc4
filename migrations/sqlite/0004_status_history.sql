-- Every status change of a credential of either kind, append-only, so that a signature is
-- judged against the signer credential's status at its signing time, not only the latest one
-- (a signature made while suspended stays invalid after reinstatement).
CREATE TABLE status_history (
    credential_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    status INTEGER NOT NULL,
    seq INTEGER PRIMARY KEY AUTOINCREMENT
);
CREATE INDEX status_history_by_credential ON status_history (credential_id, at);
CREATE TRIGGER status_history_no_update BEFORE UPDATE ON status_history
BEGIN SELECT RAISE(ABORT, 'status_history is append-only'); END;
CREATE TRIGGER status_history_no_delete BEFORE DELETE ON status_history
BEGIN SELECT RAISE(ABORT, 'status_history is append-only'); END;
-- What is known of changes made before this table: the latest one of each credential.
INSERT INTO status_history (credential_id, at, status)
    SELECT id, status_changed_at, status FROM credentials WHERE status_changed_at IS NOT NULL;
INSERT INTO status_history (credential_id, at, status)
    SELECT id, status_changed_at, status FROM signer_credentials WHERE status_changed_at IS NOT NULL;
