-- A counter per officer and official, raised whenever their access must end at once (disabled,
-- password or TOTP reset). Bearer tokens carry the epoch they were issued in, and every request
-- compares it with this column, so the change holds on every node at once.
ALTER TABLE officers ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE officials ADD COLUMN token_epoch INTEGER NOT NULL DEFAULT 0;
