-- Chat-log import (issue 5): rooms, messages keyed by the parser's stable
-- event key (UNIQUE per case, so re-importing a file or the same conversation
-- logged by another client adds nothing), participants linked to persons,
-- and room facts (operator grants, nick changes, file offers).

CREATE TABLE chat_rooms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    network TEXT NOT NULL DEFAULT '',
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (case_id, name, network)
);

CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    room_id INTEGER NOT NULL REFERENCES chat_rooms(id),
    event_key TEXT NOT NULL,
    sent_at TEXT,
    handle TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    addressed_to TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (case_id, event_key)
);
CREATE INDEX chat_messages_room ON chat_messages(room_id);

CREATE TABLE chat_participants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    room_id INTEGER NOT NULL REFERENCES chat_rooms(id),
    handle TEXT NOT NULL,
    person_id INTEGER REFERENCES persons(id),
    first_seen TEXT,
    last_seen TEXT,
    source TEXT NOT NULL,
    UNIQUE (room_id, handle)
);

-- kind: operator | nick_change | file_offer; detail is the parser's JSON.
CREATE TABLE chat_room_facts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    room_id INTEGER NOT NULL REFERENCES chat_rooms(id),
    kind TEXT NOT NULL,
    happened_at TEXT,
    detail TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (room_id, kind, detail)
);
