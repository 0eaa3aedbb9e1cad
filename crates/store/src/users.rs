//! Users: accounts with an argon2 password hash, each with a calendar home and a
//! default calendar created in the same transaction.
//!
//! Names are stored in Unicode NFC and looked up the same way, so "café" typed
//! composed and "café" sent decomposed (NFD, as macOS produces) are one user. Two names
//! that differ only in normalisation or case are refused: each row keeps a
//! `name_key` (lower case, then NFC: the case mapping and normalisation steps of
//! RFC 8265 §3.4, UsernameCaseMapped) under a unique index (schema 9).

use crate::collections::{insert_collection, CollectionKind, NewCollection};
use crate::{now, Error, Result, Store};
use rusqlite::{params, OptionalExtension, Row};
use unicode_normalization::UnicodeNormalization;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name (may be an e-mail address).
    pub name: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// May use the management API.
    pub is_admin: bool,
}

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        name: r.get(1)?,
        password_hash: r.get(2)?,
        is_admin: r.get(3)?,
    })
}

const USER_COLUMNS: &str = "id, name, password_hash, is_admin";

/// The path segment of the default calendar every new user gets.
pub const DEFAULT_CALENDAR: &str = "default";

/// A user name as it is stored and looked up: Unicode NFC (UAX #15).
pub fn normalize_user_name(name: &str) -> String {
    name.nfc().collect()
}

/// What two user names must not share: NFC, lower case (Unicode default case mapping),
/// NFC again, because lower-casing can leave a string that is not in NFC.
pub(crate) fn user_name_key(name: &str) -> String {
    normalize_user_name(name).to_lowercase().nfc().collect()
}

impl Store {
    /// Create a user with its calendar home and default calendar ("Calendar", VEVENT
    /// only: Apple Reminders lists every VTODO-capable collection). The name is stored
    /// in NFC; `AlreadyExists` when a user's name equals it after normalisation and
    /// lower-casing.
    pub fn put_user(&self, name: &str, password_hash: &str, is_admin: bool) -> Result<User> {
        let name = normalize_user_name(name);
        let key = user_name_key(&name);
        self.write(|tx| {
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM users WHERE name_key = ?1 OR name = ?2",
                    params![key, name],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(Error::AlreadyExists);
            }
            tx.execute(
                "INSERT INTO users (name, name_key, password_hash, is_admin, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, key, password_hash, is_admin, now()],
            )?;
            let id = tx.last_insert_rowid();
            let home = insert_collection(tx, id, &NewCollection::new("", CollectionKind::Home))?;
            let mut cal = NewCollection::new(DEFAULT_CALENDAR, CollectionKind::Calendar);
            cal.props.displayname = Some("Calendar".into());
            cal.props.components = Some(vec![tributary_calendar::ComponentKind::Event]);
            insert_collection(tx, id, &cal)?;
            // The home's change log lists its calendars (sync-collection on the home).
            crate::changes::record_change_tx(tx, home, DEFAULT_CALENDAR, false)?;
            Ok(User { id, name: name.clone(), password_hash: password_hash.into(), is_admin })
        })
    }

    /// Look a user up by name, normalised as [`Store::put_user`] stores it (a client
    /// that sends the name in NFD finds the user).
    pub fn get_user(&self, name: &str) -> Result<User> {
        // Every signed-in request looks its user up: names already in NFC (all ASCII
        // ones) are used as they are, without building a copy.
        let composed;
        let name = if unicode_normalization::is_nfc(name) {
            name
        } else {
            composed = normalize_user_name(name);
            &composed
        };
        self.with_conn(|c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1");
            Ok(c.prepare_cached(&sql)?.query_row([name], user_from_row)?)
        })
    }

    /// All users, by name.
    pub fn list_users(&self) -> Result<Vec<User>> {
        self.with_conn(|c| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY name");
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], user_from_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
    }

    /// Replace a user's password hash.
    pub fn put_password(&self, name: &str, password_hash: &str) -> Result<()> {
        let name = normalize_user_name(name);
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE name = ?1",
                params![name, password_hash],
            )?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            Ok(())
        })
    }

    /// Delete a user and everything it owns.
    pub fn delete_user(&self, name: &str) -> Result<()> {
        let name = normalize_user_name(name);
        self.write(|tx| {
            let n = tx.execute("DELETE FROM users WHERE name = ?1", [&name])?;
            if n == 0 {
                return Err(Error::NotFound);
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::test_util::memory_store;
    use crate::{CollectionKind, Error};

    const CAFE_NFC: &str = "caf\u{e9}";
    const CAFE_NFD: &str = "cafe\u{301}";

    /// Issue 15: "café" in NFC and again in NFD made two users that look the same.
    #[test]
    fn names_equal_after_normalisation_or_case_are_one_user() {
        let s = memory_store();
        let u = s.put_user(CAFE_NFD, "h", false).unwrap();
        assert_eq!(u.name, CAFE_NFC, "stored in NFC");
        for twin in [CAFE_NFC, CAFE_NFD, "CAF\u{c9}", "CAFE\u{301}", "Caf\u{e9}"] {
            assert!(
                matches!(s.put_user(twin, "h", false), Err(Error::AlreadyExists)),
                "{twin:?}"
            );
        }
        assert_eq!(s.list_users().unwrap().len(), 1);
        // Looked up, re-keyed and deleted under either form.
        assert_eq!(s.get_user(CAFE_NFD).unwrap().id, u.id);
        assert_eq!(s.get_user(CAFE_NFC).unwrap().id, u.id);
        s.put_password(CAFE_NFD, "h2").unwrap();
        assert_eq!(s.get_user(CAFE_NFC).unwrap().password_hash, "h2");
        s.delete_user(CAFE_NFD).unwrap();
        assert!(s.list_users().unwrap().is_empty());
    }

    #[test]
    fn name_key_folds_case_and_normalisation() {
        use super::user_name_key;
        assert_eq!(user_name_key(CAFE_NFD), user_name_key("CAF\u{c9}"));
        assert_eq!(user_name_key("Alice@Example.com"), "alice@example.com");
        assert_ne!(user_name_key("alice"), user_name_key("alice2"));
    }

    #[test]
    fn new_user_gets_home_and_default_calendar() {
        let s = memory_store();
        let u = s.put_user("a@example.com", "h", false).unwrap();
        assert!(matches!(
            s.put_user("a@example.com", "h", false),
            Err(Error::AlreadyExists)
        ));
        let home = s.get_collection(u.id, "").unwrap();
        assert_eq!(home.kind, CollectionKind::Home);
        let cal = s.get_collection(u.id, "default").unwrap();
        assert_eq!(cal.props.displayname.as_deref(), Some("Calendar"));
        assert_eq!(s.list_users().unwrap().len(), 1);
        s.put_password("a@example.com", "h2").unwrap();
        assert_eq!(s.get_user("a@example.com").unwrap().password_hash, "h2");
        s.delete_user("a@example.com").unwrap();
        assert!(matches!(s.get_user("a@example.com"), Err(Error::NotFound)));
    }
}
