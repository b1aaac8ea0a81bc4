-- Every status change of a credential of either kind, append-only, so that a signature is
-- judged against the signer credential's status at its signing time, not only the latest one
-- (a signature made while suspended stays invalid after reinstatement).
CREATE TABLE status_history (
    seq BIGSERIAL PRIMARY KEY,
    credential_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    status BIGINT NOT NULL
);
CREATE INDEX status_history_by_credential ON status_history (credential_id, at);
CREATE TRIGGER status_history_append_only BEFORE UPDATE OR DELETE ON status_history
    FOR EACH ROW EXECUTE FUNCTION qrid_append_only();
-- What is known of changes made before this table: the latest one of each credential.
INSERT INTO status_history (credential_id, at, status)
    SELECT id, status_changed_at, status FROM credentials WHERE status_changed_at IS NOT NULL;
INSERT INTO status_history (credential_id, at, status)
    SELECT id, status_changed_at, status FROM signer_credentials WHERE status_changed_at IS NOT NULL;
