-- Tributary schema, version 8: storage used per collection, for per-user quotas
-- (RFC 4331). A quota check must be cheap enough to run inside every write: summing
-- resources.size over a user's objects took 1.6 ms for 10,000 objects and 24.5 ms for
-- 100,000 (4.5 ms with a covering index), against 0.2 ms for a whole PUT. So each
-- collection keeps the bytes (body sizes) and the number of its members, and a user's
-- usage is the sum over their collections, a few rows read on the owner index.
-- Triggers keep the counters, so every write path (PUT, COPY, import, webhook
-- ingestion, deletes, cascades) updates them in its own transaction. A collection
-- removed takes its counters with it; a collection moved keeps them.
ALTER TABLE collections ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE collections ADD COLUMN used_objects INTEGER NOT NULL DEFAULT 0;
UPDATE collections SET
    used_bytes = (SELECT coalesce(sum(size), 0) FROM resources WHERE collection_id = collections.id),
    used_objects = (SELECT count(*) FROM resources WHERE collection_id = collections.id);
CREATE TRIGGER resources_usage_insert AFTER INSERT ON resources BEGIN
    UPDATE collections SET used_bytes = used_bytes + NEW.size, used_objects = used_objects + 1
        WHERE id = NEW.collection_id;
END;
CREATE TRIGGER resources_usage_delete AFTER DELETE ON resources BEGIN
    UPDATE collections SET used_bytes = used_bytes - OLD.size, used_objects = used_objects - 1
        WHERE id = OLD.collection_id;
END;
CREATE TRIGGER resources_usage_update AFTER UPDATE OF size, collection_id ON resources BEGIN
    UPDATE collections SET used_bytes = used_bytes - OLD.size, used_objects = used_objects - 1
        WHERE id = OLD.collection_id;
    UPDATE collections SET used_bytes = used_bytes + NEW.size, used_objects = used_objects + 1
        WHERE id = NEW.collection_id;
END;
