-- Tributary schema, version 13: remote CalDAV accounts, pulled and pushed.
--
-- The remote side of a 'caldav' source: the account, where discovery led, and how far
-- the last pull read. password is sealed with XChaCha20-Poly1305 (crates/secrets) with
-- the source id as associated data; the key lives outside the database ([secrets]
-- key_file or TRIBUTARY_SECRETS_KEY), so a copy of the database alone cannot open it.
-- remote_calendar is what the admin chose (a display name or an href; NULL: the
-- account's only event calendar). calendar_url and home_url are what discovery found
-- (iCloud's home is on a partition host, pNN-caldav.icloud.com); NULL until then, and
-- again when the remote answers 3xx/404 there (re-discovered on the next pull).
-- sync_token (RFC 6578) or ctag (getctag) is the remote's state the stored objects
-- reflect; both are written in the transaction that writes those objects.
-- auth_failed_at: the remote refused the credentials (401); the scheduler leaves the
-- source alone until they change.
CREATE TABLE source_remotes (
    source_id       TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    remote_user     TEXT NOT NULL,
    password        BLOB NOT NULL,
    remote_calendar TEXT,
    calendar_url    TEXT,
    home_url        TEXT,
    sync_token      TEXT,
    ctag            TEXT,
    discovered_at   INTEGER,
    auth_failed_at  INTEGER
);

-- A two-way source (caldav with --direction both): clients may write its calendar, and
-- every such write is queued for the remote.
ALTER TABLE sources ADD COLUMN two_way INTEGER NOT NULL DEFAULT 0;

-- The ETag the remote gave the object at its href (source_event_id), for If-Match on a
-- push and to fetch only what changed on a pull. NULL: not known (the remote sent none
-- on a PUT; the next pull fetches the object).
ALTER TABLE source_mappings ADD COLUMN remote_etag TEXT;

-- Local writes waiting to be pushed to a two-way source's remote: one row per member
-- name, written in the transaction of the client's PUT, DELETE, COPY or MOVE, so a
-- write acknowledged to the client is never lost on the way (kill -9 included). The
-- push reads the object as it is then (present: PUT; gone: DELETE). revision grows
-- with every write of the name: a push removes the row only if no write came after
-- what it pushed.
CREATE TABLE source_outbox (
    source_id       TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    resource_name   TEXT NOT NULL,
    revision        INTEGER NOT NULL DEFAULT 1,
    queued_at       INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    PRIMARY KEY (source_id, resource_name)
) WITHOUT ROWID;

-- Conflicts gain a kind: 'remote-edit', an object changed both here and on the remote
-- before a push (SQLite cannot alter a CHECK constraint, so the table is rebuilt).
CREATE TABLE ingest_conflicts_v13 (
    id              INTEGER PRIMARY KEY,
    collection_id   INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    resource_name   TEXT NOT NULL,
    source_id       TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    other_source_id TEXT,
    kind            TEXT NOT NULL CHECK (kind IN ('local-edit', 'two-sources', 'remote-edit')),
    ours            TEXT NOT NULL,
    theirs          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    resolved_at     INTEGER,
    resolution      TEXT
);
INSERT INTO ingest_conflicts_v13 SELECT id, collection_id, resource_name, source_id, other_source_id,
    kind, ours, theirs, created_at, resolved_at, resolution FROM ingest_conflicts;
DROP TABLE ingest_conflicts;
ALTER TABLE ingest_conflicts_v13 RENAME TO ingest_conflicts;
CREATE INDEX ingest_conflicts_open ON ingest_conflicts (resolved_at, id);
