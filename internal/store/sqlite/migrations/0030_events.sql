-- Event indexes, events with an FTS5 full-text index, HTTP Event Collector
-- tokens, and the audit hash chain with its signed checkpoints.
-- Event times are integer nanoseconds since the Unix epoch (UTC).

CREATE TABLE event_indexes (
    name    TEXT PRIMARY KEY,
    builtin INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
INSERT INTO event_indexes(name, builtin, created) VALUES
    ('main', 1, strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now')),
    ('_internal', 1, strftime('%Y-%m-%dT%H:%M:%f000000Z', 'now'));

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    idx        TEXT NOT NULL REFERENCES event_indexes(name) ON DELETE CASCADE,
    time_ns    INTEGER NOT NULL,
    host       TEXT NOT NULL DEFAULT '',
    source     TEXT NOT NULL DEFAULT '',
    sourcetype TEXT NOT NULL DEFAULT '',
    raw        TEXT NOT NULL,
    fields     TEXT NOT NULL DEFAULT '' -- JSON object of indexed fields; '' for none
);
CREATE INDEX events_idx_time ON events(idx, time_ns);

-- External-content full-text index over _raw and the indexed fields. The
-- tokenizer's token characters are letters, digits and '_' (the index
-- package's term splitter must agree).
CREATE VIRTUAL TABLE events_fts USING fts5(
    raw, fields, content='events', content_rowid='id',
    tokenize="unicode61 remove_diacritics 2 tokenchars '_'", columnsize=0);

-- Inserts are indexed by the store in one INSERT ... SELECT per batch (a
-- trigger would make FTS5 flush a segment for every row); deletes and
-- updates keep the index in step through triggers.
CREATE TRIGGER events_fts_ad AFTER DELETE ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, raw, fields) VALUES ('delete', old.id, old.raw, old.fields);
END;
CREATE TRIGGER events_fts_au AFTER UPDATE ON events BEGIN
    INSERT INTO events_fts(events_fts, rowid, raw, fields) VALUES ('delete', old.id, old.raw, old.fields);
    INSERT INTO events_fts(rowid, raw, fields) VALUES (new.id, new.raw, new.fields);
END;

CREATE TABLE hec_tokens (
    name          TEXT PRIMARY KEY,
    hash          TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret
    last4         TEXT NOT NULL DEFAULT '',
    indexes       TEXT NOT NULL DEFAULT '[]',
    default_index TEXT NOT NULL DEFAULT '',
    disabled      INTEGER NOT NULL DEFAULT 0,
    creator       TEXT NOT NULL DEFAULT '',
    created       TEXT NOT NULL
);

-- The audit chain. event_id is the searchable copy in index _internal (no
-- foreign key on purpose: verify reports a missing copy).
CREATE TABLE audit_chain (
    seq       INTEGER PRIMARY KEY,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    body      TEXT NOT NULL,
    event_id  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    count     INTEGER NOT NULL,
    head      TEXT NOT NULL,
    time      TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
