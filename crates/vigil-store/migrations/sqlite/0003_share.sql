-- Dissemination (issue 8): agency keys, partner keys, packages and the
-- records they carried. Secret keys are NOT encrypted at rest yet (see
-- share.rs); the database file must be protected like the key itself.

CREATE TABLE agency_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    fingerprint TEXT NOT NULL UNIQUE,
    public_bundle TEXT NOT NULL,
    secret TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);

CREATE TABLE partner_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    fingerprint TEXT NOT NULL UNIQUE,
    public_bundle TEXT NOT NULL,
    imported_by INTEGER NOT NULL REFERENCES users(id),
    imported_at TEXT NOT NULL
);
CREATE INDEX partner_keys_agency ON partner_keys(agency_id);

CREATE TABLE packages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    package_uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    direction TEXT NOT NULL,
    peer_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    operation TEXT,
    in_reply_to TEXT,
    case_id INTEGER REFERENCES cases(id),
    state TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE package_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    package_id INTEGER NOT NULL REFERENCES packages(id),
    record_kind TEXT NOT NULL,
    record_uid TEXT NOT NULL,
    local_id INTEGER,
    provenance TEXT NOT NULL
);
CREATE INDEX package_records_uid ON package_records(record_uid);
CREATE INDEX package_records_package ON package_records(package_id);
