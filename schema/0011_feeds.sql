-- Tributary schema, version 11: published calendars (secret ICS links).
--
-- A feed publishes one or more calendars of one user, read by anyone who has its URL
-- /feeds/<id>/<secret>.ics. Only the SHA-256 (hex) of the secret is stored: the
-- secret is 128+ random bits, not a password, so a fast hash is right (as for source
-- API keys) and the secret itself never reaches the database. busy_only publishes
-- times only; the window is past_days back and future_days ahead of the fetch day.
-- changed_at moves whenever the settings or the secret change (it is part of the
-- feed's ETag). last_fetched_at and fetch_count are written by the server from
-- counts it keeps in memory, a few at a time, so anonymous fetches cannot make a
-- write each.
CREATE TABLE feeds (
    id              INTEGER PRIMARY KEY,
    owner_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    label           TEXT UNIQUE,
    secret_hash     TEXT NOT NULL,
    busy_only       INTEGER NOT NULL DEFAULT 0,
    past_days       INTEGER NOT NULL DEFAULT 30 CHECK (past_days >= 0 AND past_days <= 3660),
    future_days     INTEGER NOT NULL DEFAULT 180 CHECK (future_days >= 0 AND future_days <= 3660),
    created_at      INTEGER NOT NULL,
    changed_at      INTEGER NOT NULL,
    last_fetched_at INTEGER,
    fetch_count     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feeds_owner ON feeds (owner_id);

-- The calendars a feed merges, all of the feed owner's.
CREATE TABLE feed_calendars (
    feed_id       INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    PRIMARY KEY (feed_id, collection_id)
);
CREATE INDEX feed_calendars_collection ON feed_calendars (collection_id);
