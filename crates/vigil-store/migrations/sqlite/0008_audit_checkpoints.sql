-- Signed audit checkpoints and retention as data (schema v8).
--
-- A checkpoint is the (seq, hash) of the audit chain's head at one moment,
-- signed with the local agency's minisign (Ed25519) key. Verification checks
-- the signature and that the chain still passes through (seq, hash), so
-- truncating the tail or rewriting the whole chain after a checkpoint is
-- detected even by someone who recomputes every hash. Append-only like the
-- log itself.
CREATE TABLE audit_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    key_fingerprint TEXT NOT NULL,
    message TEXT NOT NULL,
    signature TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id)
);
CREATE INDEX audit_checkpoints_seq ON audit_checkpoints(seq);

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;

-- Why a case's data may be kept until retention_until: the legal basis.
ALTER TABLE cases ADD COLUMN retention_basis TEXT;
