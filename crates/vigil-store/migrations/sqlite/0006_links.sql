-- Identity resolution and de-confliction (SQLite).

-- Two identifiers with the same (kind, normalised value), recorded the
-- moment the second one is stored, so a person page can show "also held in
-- case X" without recomputing. identifier_id is the newer record.
CREATE TABLE exact_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier_id INTEGER NOT NULL REFERENCES identifiers(id),
    other_identifier_id INTEGER NOT NULL REFERENCES identifiers(id),
    kind TEXT NOT NULL,
    normalized TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (identifier_id, other_identifier_id)
);
CREATE INDEX exact_links_other ON exact_links(other_identifier_id);

-- Scored candidate links between persons (person_a < person_b), with the
-- linker's evidence as JSON text; status is open, accepted or rejected.
-- Re-running the linker updates score and evidence, never the decision.
CREATE TABLE link_candidates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_a INTEGER NOT NULL REFERENCES persons(id),
    person_b INTEGER NOT NULL REFERENCES persons(id),
    score REAL NOT NULL,
    certain INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    decided_by INTEGER REFERENCES users(id),
    decided_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (person_a, person_b)
);

-- One merge of merged_person into into_person: which rows were re-pointed
-- (JSON lists of ids per table) and the candidate's state before the
-- decision, so an unmerge can restore the prior state exactly.
CREATE TABLE person_merges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merged_person INTEGER NOT NULL REFERENCES persons(id),
    into_person INTEGER NOT NULL REFERENCES persons(id),
    candidate_id INTEGER REFERENCES link_candidates(id),
    moved TEXT NOT NULL,
    prior_candidate TEXT,
    merged_by INTEGER NOT NULL REFERENCES users(id),
    merged_at TEXT NOT NULL,
    undone_by INTEGER REFERENCES users(id),
    undone_at TEXT
);
CREATE INDEX person_merges_merged ON person_merges(merged_person);

-- De-confliction alerts: one per recipient side and matching pair
-- (pair_key), never duplicated. own_* is the recipient's record (or a
-- lookup), other_* the record another case or agency holds; whether the
-- recipient may see other_* is decided when the alert is read.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pair_key TEXT NOT NULL UNIQUE,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    case_id INTEGER REFERENCES cases(id),
    kind TEXT NOT NULL,
    normalized TEXT NOT NULL,
    own_type TEXT NOT NULL,
    own_id INTEGER,
    other_type TEXT NOT NULL,
    other_id INTEGER,
    other_agency_id INTEGER NOT NULL REFERENCES agencies(id),
    other_case_id INTEGER REFERENCES cases(id),
    created_at TEXT NOT NULL,
    read_at TEXT,
    read_by INTEGER REFERENCES users(id)
);
CREATE INDEX alerts_agency ON alerts(agency_id);
