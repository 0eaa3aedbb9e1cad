-- Tributary schema, version 5: bodies apart from the resource rows.
-- A resources row was ~1.3 KB, almost all of it the body, so listings that read only
-- metadata (PROPFIND Depth 1, sync-collection, calendar-query decided on the index)
-- paged through every body. With the bodies in their own table a resources row is
-- ~150 bytes and a 10,000-member listing reads ~400 pages instead of ~3,300.
CREATE TABLE resource_bodies (
    resource_id INTEGER PRIMARY KEY REFERENCES resources(id) ON DELETE CASCADE,
    body        BLOB NOT NULL
);
INSERT INTO resource_bodies (resource_id, body) SELECT id, body FROM resources;
ALTER TABLE resources DROP COLUMN body;
