-- Tributary schema, version 9: one user per name up to Unicode normalisation and case.
--
-- User names are stored in NFC, and name_key (NFC, lower case, NFC) is unique, so
-- "café" sent composed and decomposed, or "Alice" and "alice", cannot be two users.
-- tributary_nfc() and tributary_name_key() are the store's own functions
-- (crates/store/src/users.rs), registered by the migration runner.
--
-- Existing names are brought to NFC where no other user has that name already, and
-- each row gets its key unless an earlier row has it (two look-alike users made
-- before this version): that row keeps a NULL key. No account is renamed onto
-- another's name or lost.

UPDATE OR IGNORE users SET name = tributary_nfc(name);
ALTER TABLE users ADD COLUMN name_key TEXT;
CREATE UNIQUE INDEX users_name_key ON users (name_key);
UPDATE OR IGNORE users SET name_key = tributary_name_key(name);
