-- Vigil schema v1 (SQLite). Times are RFC 3339 UTC text, dates YYYY-MM-DD.
-- Every fact row carries provenance: created_by (officer, hence agency),
-- created_at, and source (document, import file and line, package).

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL,
    contact TEXT,
    is_local INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,
    password_hash TEXT,
    disabled INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id)
);

CREATE TABLE operations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL
);

CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    operation_id INTEGER REFERENCES operations(id),
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    release TEXT NOT NULL DEFAULT 'agency',
    retention_until TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL
);

CREATE TABLE case_members (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    added_by INTEGER NOT NULL REFERENCES users(id),
    added_at TEXT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);

CREATE TABLE persons (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    country TEXT,
    release TEXT,
    merged_into INTEGER REFERENCES persons(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX persons_case ON persons(case_id);

CREATE TABLE identifiers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    person_id INTEGER REFERENCES persons(id),
    kind TEXT NOT NULL,
    raw TEXT NOT NULL,
    normalized TEXT NOT NULL,
    network TEXT,
    port INTEGER,
    first_seen TEXT,
    last_seen TEXT,
    release TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX identifiers_lookup ON identifiers(normalized, kind);
CREATE INDEX identifiers_person ON identifiers(person_id);
CREATE INDEX identifiers_case ON identifiers(case_id);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    person_id INTEGER REFERENCES persons(id),
    label TEXT NOT NULL,
    description TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (case_id, label)
);

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    person_id INTEGER NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    country TEXT NOT NULL,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    details TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX events_person ON events(person_id);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    person_id INTEGER REFERENCES persons(id),
    body TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL
);

-- The audit log is append-only: seq is assigned by the writer holding the
-- chain head, and each row's hash covers the previous row's hash.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER,
    user_name TEXT NOT NULL,
    agency_id INTEGER,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    case_id INTEGER,
    origin TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_case ON audit_log(case_id);
CREATE INDEX audit_user ON audit_log(user_name);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
