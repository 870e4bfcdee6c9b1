-- Known-image hash sets (agency data), their entries, import provenance,
-- the PDQ generation stamp and stored scan matches. Hashes and metadata only.

CREATE TABLE hash_sets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL UNIQUE,
    scheme TEXT NOT NULL,
    format TEXT NOT NULL,
    source TEXT,
    max_distance INTEGER NOT NULL,
    meta TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    updated_at TEXT NOT NULL
);

CREATE TABLE hash_set_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    set_id INTEGER NOT NULL REFERENCES hash_sets(id),
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    format TEXT NOT NULL,
    source TEXT,
    replaced INTEGER NOT NULL,
    added INTEGER NOT NULL,
    already_present INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by INTEGER NOT NULL REFERENCES users(id)
);
CREATE INDEX hash_set_imports_set ON hash_set_imports(set_id);

CREATE TABLE hash_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    set_id INTEGER NOT NULL REFERENCES hash_sets(id),
    entry_key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    line INTEGER,
    case_index INTEGER,
    media_id TEXT,
    md5 TEXT,
    sha1 TEXT,
    sha256 TEXT,
    pdq TEXT,
    pdq_quality INTEGER,
    photodna TEXT,
    category_raw TEXT,
    category TEXT,
    series TEXT,
    victim_identified INTEGER,
    offender_identified INTEGER,
    is_distributed INTEGER,
    is_precategorized INTEGER,
    is_suspected INTEGER,
    media_size INTEGER,
    mime_type TEXT,
    date_updated TEXT,
    tags TEXT,
    comments TEXT,
    media_files TEXT,
    alternative_hashes TEXT,
    extra TEXT,
    UNIQUE (set_id, entry_key)
);
CREATE INDEX hash_entries_md5 ON hash_entries(md5);
CREATE INDEX hash_entries_sha1 ON hash_entries(sha1);
CREATE INDEX hash_entries_sha256 ON hash_entries(sha256);
CREATE INDEX hash_entries_set_seq ON hash_entries(set_id, seq);

-- One row (id = 1): a fresh random stamp on every change to any set's PDQ
-- entries, so a persisted PDQ index knows whether it is stale.
CREATE TABLE hash_set_state (
    id INTEGER PRIMARY KEY,
    pdq_generation TEXT NOT NULL,
    changed_at TEXT NOT NULL
);

CREATE TABLE scan_match_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    generation TEXT NOT NULL,
    max_distance INTEGER,
    dihedral INTEGER NOT NULL,
    matched_at TEXT NOT NULL,
    matched_by INTEGER NOT NULL REFERENCES users(id),
    UNIQUE (scan_id, agency_id)
);

CREATE TABLE scan_matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scan_id INTEGER NOT NULL REFERENCES scans(id),
    evidence_id INTEGER NOT NULL REFERENCES evidence_items(id),
    set_id INTEGER NOT NULL REFERENCES hash_sets(id),
    entry_id INTEGER NOT NULL REFERENCES hash_entries(id),
    kind TEXT NOT NULL,
    distance INTEGER NOT NULL,
    dihedral INTEGER NOT NULL,
    query_quality INTEGER,
    unreliable INTEGER NOT NULL,
    matched_at TEXT NOT NULL
);
CREATE INDEX scan_matches_scan ON scan_matches(scan_id);
CREATE INDEX scan_matches_entry ON scan_matches(entry_id);
CREATE INDEX scan_matches_set ON scan_matches(set_id);
