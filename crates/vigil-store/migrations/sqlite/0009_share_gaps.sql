-- Dissemination gaps (issue 8): package state times, provenance of
-- received records as columns, and hash matches received from partners.

-- When a package was written out (sent), acknowledged by its recipient, and
-- answered with outcomes. NULL until it happens; `state` is the latest.
ALTER TABLE packages ADD COLUMN sent_at TEXT;
ALTER TABLE packages ADD COLUMN acknowledged_at TEXT;
ALTER TABLE packages ADD COLUMN outcomes_received_at TEXT;

-- Records stored by a package import: the agency they came from and the
-- package id, so "received from agency X, package P" is queryable rather
-- than only text in `source`. NULL for records entered here.
ALTER TABLE persons ADD COLUMN received_from_agency INTEGER REFERENCES agencies(id);
ALTER TABLE persons ADD COLUMN received_package TEXT;
ALTER TABLE identifiers ADD COLUMN received_from_agency INTEGER REFERENCES agencies(id);
ALTER TABLE identifiers ADD COLUMN received_package TEXT;
ALTER TABLE events ADD COLUMN received_from_agency INTEGER REFERENCES agencies(id);
ALTER TABLE events ADD COLUMN received_package TEXT;
ALTER TABLE chat_messages ADD COLUMN received_from_agency INTEGER REFERENCES agencies(id);
ALTER TABLE chat_messages ADD COLUMN received_package TEXT;

-- Hash matches a partner found on the devices of a person it sent us:
-- hashes and categories only (never media, never file paths). `uid` is the
-- sender's key of the match, so a second package carrying it adds nothing.
CREATE TABLE received_hash_matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    device TEXT NOT NULL,
    kind TEXT NOT NULL,
    distance INTEGER NOT NULL,
    md5 TEXT,
    sha1 TEXT,
    sha256 TEXT,
    pdq TEXT,
    hash_set TEXT NOT NULL,
    category TEXT NOT NULL,
    series TEXT,
    matched_at TEXT NOT NULL,
    received_from_agency INTEGER NOT NULL REFERENCES agencies(id),
    received_package TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX received_hash_matches_person ON received_hash_matches(person_id);
