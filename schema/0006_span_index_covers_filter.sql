-- Tributary schema, version 6: the span index covers the whole time-range prefilter.
-- calendar-query's prefilter reads component, first_start, last_end and exact_span.
-- Without exact_span in the index SQLite walked the (collection_id, name) index and
-- looked up every member's row; with it, the filter runs on index entries alone and
-- only the matching rows are read (10,000 members, one month: 2.3 ms -> 1.1 ms for
-- the filter in the sqlite3 shell).
DROP INDEX resources_span;
CREATE INDEX resources_span ON resources (collection_id, component, first_start, last_end, exact_span);
