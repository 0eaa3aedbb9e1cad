-- Tributary schema, version 12: the name a pulled feed gives itself (X-WR-CALNAME).
--
-- A calendar made for a pulled source takes the feed's name as its display name until
-- someone names it otherwise; feed_name is the last name the feed gave, so a later
-- pull can tell the feed's own name (renamed with the feed) from a user's.
ALTER TABLE source_pulls ADD COLUMN feed_name TEXT;
