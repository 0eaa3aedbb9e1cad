-- Tributary schema, version 2: calendar ingestion (PowerAutomate / Microsoft 365).
-- Applied inside one transaction by the migration runner (crates/store/src/migrate.rs),
-- which then sets PRAGMA user_version = 2.

-- A source is a named sender (e.g. 'm365-tenant1') that writes into one calendar of one
-- user. Several sources may share a calendar; priority (1 is highest) and conflict_policy
-- decide what happens when two of them deliver the same meeting. The window says which
-- events the sender's trigger tracks: a delete for an event starting outside it is
-- recorded but not applied (the V3 trigger reports events leaving its window as deleted).
CREATE TABLE sources (
    id                 TEXT PRIMARY KEY,
    owner_id           INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    collection_id      INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    priority           INTEGER NOT NULL DEFAULT 10 CHECK (priority >= 1),
    privacy            TEXT NOT NULL DEFAULT 'full'
                       CHECK (privacy IN ('full', 'busy-only', 'skip-private')),
    conflict_policy    TEXT NOT NULL DEFAULT 'priority'
                       CHECK (conflict_policy IN ('priority', 'last-write-wins', 'manual')),
    window_past_days   INTEGER NOT NULL DEFAULT 30 CHECK (window_past_days >= 0),
    window_future_days INTEGER NOT NULL DEFAULT 365 CHECK (window_future_days >= 0),
    created_at         INTEGER NOT NULL
);
CREATE INDEX sources_collection ON sources (collection_id);

-- API keys of a source: at most two (the store enforces it) so a key can be rotated by
-- adding the new one and removing the old one later. key_hash is the lowercase hex
-- SHA-256 of the key. The keys are random 32-byte secrets, not passwords, so a fast
-- unsalted hash is right: nothing can be guessed from it, and every delivery verifies
-- a key without paying for argon2.
CREATE TABLE source_keys (
    id         INTEGER PRIMARY KEY,
    source_id  TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    key_hash   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (source_id, key_hash)
);

-- Which calendar object an event of a source became. Written in the same transaction as
-- the object and its change-log row. Rows are never removed by ingestion:
-- deleted = 1 is a tombstone, so a late update cannot resurrect a deleted event.
-- shadowed_by names the source whose copy of the same meeting (same iCalUId) is in the
-- calendar instead of this one. etag_at_ingest is the ETag the object had right after
-- ingestion wrote it (NULL when ingestion holds no copy); a different current ETag means
-- a CalDAV client edited the object. revision grows on every write of the row, so a
-- writer can check inside its transaction that what it planned from is still current.
CREATE TABLE source_mappings (
    id               INTEGER PRIMARY KEY,
    source_id        TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    source_event_id  TEXT NOT NULL,
    ical_uid         TEXT,
    organizer        TEXT,
    start_utc        INTEGER,
    last_modified    INTEGER,   -- source lastModifiedDateTime, UTC seconds; NULL if absent
    content_hash     TEXT NOT NULL,
    collection_id    INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    resource_name    TEXT NOT NULL,
    object_uid       TEXT NOT NULL,
    etag_at_ingest   TEXT,
    deleted          INTEGER NOT NULL DEFAULT 0,
    shadowed_by      TEXT,
    series_master_id TEXT,
    revision         INTEGER NOT NULL DEFAULT 1,
    updated_at       INTEGER NOT NULL,
    UNIQUE (source_id, source_event_id)
);
CREATE INDEX source_mappings_ical_uid ON source_mappings (collection_id, ical_uid);
CREATE INDEX source_mappings_resource ON source_mappings (collection_id, resource_name);

-- One row per delivery, for operators. Pruned by age.
CREATE TABLE ingest_history (
    id              INTEGER PRIMARY KEY,
    source_id       TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    received_at     INTEGER NOT NULL,
    action          TEXT NOT NULL,
    source_event_id TEXT,
    outcome         TEXT NOT NULL
                    CHECK (outcome IN ('created', 'updated', 'unchanged', 'deleted', 'ignored', 'error')),
    reason          TEXT,
    duration_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX ingest_history_received ON ingest_history (received_at);
CREATE INDEX ingest_history_source ON ingest_history (source_id, id);

-- Both versions of an object whenever ingestion met something it must not overwrite
-- silently: a CalDAV client's edit of an ingested object ('local-edit'), or the same
-- meeting from two sources ('two-sources'). ours is the calendar's version at the time
-- (empty when it was gone), theirs the incoming one (empty for a delete). Conflicts the
-- policy settled are stored already resolved; 'manual' leaves them open.
CREATE TABLE ingest_conflicts (
    id              INTEGER PRIMARY KEY,
    collection_id   INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    resource_name   TEXT NOT NULL,
    source_id       TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    other_source_id TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('local-edit', 'two-sources')),
    ours            TEXT NOT NULL,
    theirs          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    resolved_at     INTEGER,
    resolution      TEXT
);
CREATE INDEX ingest_conflicts_open ON ingest_conflicts (resolved_at, id);
