-- Tributary schema, version 1.
-- Applied inside one transaction by the migration runner (crates/store/src/migrate.rs),
-- which then sets PRAGMA user_version = 1.

-- Accounts. password_hash is an argon2id PHC string; the password itself is never stored.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Collections in a user's calendar home, by path relative to the home ('' is the home
-- itself). kind: 'home', 'calendar' (RFC 4791 calendar collection) or 'plain' (an
-- ordinary WebDAV collection made by MKCOL).
CREATE TABLE collections (
    id             INTEGER PRIMARY KEY,
    owner_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('home', 'calendar', 'plain')),
    displayname    TEXT,
    description    TEXT,
    color          TEXT,
    calendar_order TEXT,
    timezone       TEXT,
    -- comma-separated component names (supported-calendar-component-set)
    components     TEXT NOT NULL DEFAULT 'VEVENT,VTODO',
    -- seq of the newest change-log row for this collection (getctag / sync-token)
    sync_seq       INTEGER NOT NULL DEFAULT 0,
    -- newest change-log seq pruned from this collection: older sync tokens are invalid
    pruned_seq     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    modified_at    INTEGER NOT NULL,
    UNIQUE (owner_id, path)
);

-- Resources: calendar objects (in calendar collections) and arbitrary WebDAV resources
-- (in plain collections). body holds the client's bytes exactly as sent.
CREATE TABLE resources (
    id             INTEGER PRIMARY KEY,
    collection_id  INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    etag           TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    body           BLOB NOT NULL,
    modified_at    INTEGER NOT NULL,
    -- index columns for calendar objects (NULL for other resources)
    uid            TEXT,
    component      TEXT,
    first_start    INTEGER,   -- UTC seconds; NULL: no dated instance (matches any range)
    last_end       INTEGER,   -- UTC seconds; NULL: open-ended
    has_recurrence INTEGER NOT NULL DEFAULT 0,
    UNIQUE (collection_id, name)
);
-- RFC 4791 §5.3.2.1 no-uid-conflict: one UID per calendar collection.
CREATE UNIQUE INDEX resources_uid ON resources (collection_id, uid) WHERE uid IS NOT NULL;
CREATE INDEX resources_span ON resources (collection_id, component, first_start, last_end);

-- Dead properties (RFC 4918 §4), stored as self-contained XML fragments.
CREATE TABLE dead_properties (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER REFERENCES collections(id) ON DELETE CASCADE,
    resource_id   INTEGER REFERENCES resources(id) ON DELETE CASCADE,
    namespace     TEXT NOT NULL,
    name          TEXT NOT NULL,
    value         TEXT NOT NULL,
    CHECK ((collection_id IS NULL) <> (resource_id IS NULL))
);
CREATE UNIQUE INDEX dead_properties_collection
    ON dead_properties (collection_id, namespace, name) WHERE collection_id IS NOT NULL;
CREATE UNIQUE INDEX dead_properties_resource
    ON dead_properties (resource_id, namespace, name) WHERE resource_id IS NOT NULL;

-- The change log (RFC 6578): one row per member change, written in the same transaction
-- as the change itself. seq is global and strictly increasing; a collection's sync token
-- is its newest seq. Rows of deleted members are the tombstones.
CREATE TABLE changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    deleted       INTEGER NOT NULL,
    changed_at    INTEGER NOT NULL
);
CREATE INDEX changes_collection ON changes (collection_id, seq);
