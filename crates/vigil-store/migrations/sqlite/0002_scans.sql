-- Scans of seized devices: one row per scan run, one evidence item per file.
-- Only hashes and metadata are kept; never any byte of file content.

CREATE TABLE scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    device_id INTEGER NOT NULL REFERENCES devices(id),
    root TEXT NOT NULL,
    status TEXT NOT NULL,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    images INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    UNIQUE (device_id, root)
);

CREATE TABLE evidence_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    case_id INTEGER NOT NULL REFERENCES cases(id),
    device_id INTEGER NOT NULL REFERENCES devices(id),
    path TEXT NOT NULL,
    entry_type TEXT NOT NULL,
    link_target TEXT,
    size INTEGER,
    modified_at TEXT,
    created_at_fs TEXT,
    mime TEXT,
    md5 TEXT,
    sha1 TEXT,
    sha256 TEXT,
    pdq TEXT,
    pdq_quality INTEGER,
    pdq_dihedral TEXT,
    width INTEGER,
    height INTEGER,
    exif_orientation INTEGER,
    error TEXT,
    recorded_at TEXT NOT NULL,
    UNIQUE (scan_id, path)
);
CREATE INDEX evidence_md5 ON evidence_items(md5);
CREATE INDEX evidence_sha1 ON evidence_items(sha1);
CREATE INDEX evidence_sha256 ON evidence_items(sha256);
CREATE INDEX evidence_device ON evidence_items(device_id);
