-- Tributary schema, version 3: index column for exact time-range decisions.
-- exact_span = 1 when [first_start, last_end) is exactly the single instance of a
-- non-recurring VEVENT with exact UTC times (see tributary_calendar::ObjectIndex), so
-- calendar-query can decide a time-range in SQL without parsing the object. Rows
-- written by older versions keep 0 and are matched by parsing, as before.
ALTER TABLE resources ADD COLUMN exact_span INTEGER NOT NULL DEFAULT 0;
