-- Tributary schema, version 10: sources of every kind, and the state of pulled ones.
--
-- A source has a kind: 'webhook' (PowerAutomate deliveries, every source before this
-- version), 'ics' (a feed fetched on a schedule) or 'caldav' (a remote calendar).
-- owns_collection = 1 when the source's calendar was made for it (`source add`
-- created it): a calendar that only pulled sources own is read-only to clients.
ALTER TABLE sources ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook'
    CHECK (kind IN ('webhook', 'ics', 'caldav'));
ALTER TABLE sources ADD COLUMN owns_collection INTEGER NOT NULL DEFAULT 0;

-- Where a pulled source is fetched from and how its last pulls went. One row per
-- pulled source. refresh_secs is the interval the admin set (NULL: the feed's own
-- REFRESH-INTERVAL / X-PUBLISHED-TTL, kept in feed_refresh_secs). etag and
-- last_modified are the validators of the last 200, for a conditional GET.
-- lease_until / lease_holder keep two pulls of one source (server and CLI included)
-- from running at once: a pull takes the lease with a conditional UPDATE and gives it
-- back in the transaction that records its outcome; a crashed holder's lease expires.
-- changed_at moves when the admin changes the source, so a running scheduler picks it
-- up without a restart.
CREATE TABLE source_pulls (
    source_id            TEXT PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    refresh_secs         INTEGER CHECK (refresh_secs IS NULL OR refresh_secs >= 10),
    feed_refresh_secs    INTEGER,
    etag                 TEXT,
    last_modified        TEXT,
    last_attempt_at      INTEGER,
    last_success_at      INTEGER,
    last_error           TEXT,
    last_error_at        INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_run_at          INTEGER NOT NULL DEFAULT 0,
    lease_until          INTEGER NOT NULL DEFAULT 0,
    lease_holder         TEXT,
    changed_at           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX source_pulls_due ON source_pulls (next_run_at);

-- A pull is one history row; detail holds what it did as JSON (counts, skipped UIDs).
ALTER TABLE ingest_history ADD COLUMN detail TEXT;
