-- Tributary schema, version 4: pre-digested instance lists.
-- instances holds, for bounded recurring VEVENTs whose every instance has exact UTC
-- times, the UTC span of each instance (tributary_calendar::ObjectIndex::instances), so
-- calendar-query decides a time-range without parsing the object. NULL otherwise, and
-- for rows written by older versions (matched by parsing, as before).
ALTER TABLE resources ADD COLUMN instances BLOB;
