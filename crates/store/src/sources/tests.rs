use super::*;
use crate::source_keys::{new_source_key, source_key_hash};
use crate::test_util::memory_store;
use crate::{CollectionKind, NewCollection};

fn setup() -> (Store, i64, i64) {
    let s = memory_store();
    let u = s.put_user("owner", "h", false).unwrap();
    let c = s.get_collection(u.id, "default").unwrap();
    (s, u.id, c.id)
}

#[test]
fn put_get_list_and_replace_source() {
    let (s, owner, cal) = setup();
    let mut n = NewSource::new("m365-tenant1", owner, cal);
    let got = s.put_source(&n).unwrap();
    assert_eq!(got.owner_name, "owner");
    assert_eq!(got.collection_path, "default");
    assert_eq!(got.privacy, Privacy::Full);
    assert_eq!((got.window_past_days, got.window_future_days), (30, 365));
    n.priority = 2;
    n.privacy = Privacy::BusyOnly;
    s.put_source(&n).unwrap();
    let again = s.get_source("m365-tenant1").unwrap();
    assert_eq!(again.priority, 2);
    assert_eq!(again.privacy, Privacy::BusyOnly);
    assert_eq!(s.list_sources().unwrap().len(), 1);
    assert!(matches!(s.get_source("nope"), Err(Error::NotFound)));
}

#[test]
fn source_must_target_a_calendar_of_its_owner() {
    let (s, owner, cal) = setup();
    let other = s.put_user("other", "h", false).unwrap();
    let home = s.get_collection(owner, "").unwrap();
    assert!(matches!(
        s.put_source(&NewSource::new("a", other.id, cal)),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.put_source(&NewSource::new("a", owner, home.id)),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.put_source(&NewSource::new("bad id!", owner, cal)),
        Err(Error::Conflict(_))
    ));
    let plain = s
        .put_collection(owner, &NewCollection::new("p", CollectionKind::Plain), &[])
        .unwrap();
    assert!(matches!(
        s.put_source(&NewSource::new("a", owner, plain.id)),
        Err(Error::Conflict(_))
    ));
    assert!(s
        .put_source(&NewSource::new("tenant-a/work", owner, cal))
        .is_ok());
}

#[test]
fn keys_rotate_and_verify_in_constant_time() {
    let (s, owner, cal) = setup();
    s.put_source(&NewSource::new("src", owner, cal)).unwrap();
    let k1 = new_source_key();
    let k2 = new_source_key();
    assert_eq!(k1.len(), 64);
    assert_ne!(k1, k2);
    s.put_source_key("src", &k1).unwrap();
    assert!(s.verify_source_key("src", &k1).unwrap());
    assert!(!s.verify_source_key("src", &k2).unwrap());
    let second = s.put_source_key("src", &k2).unwrap();
    assert!(s.verify_source_key("src", &k1).unwrap());
    assert!(s.verify_source_key("src", &k2).unwrap());
    assert!(matches!(
        s.put_source_key("src", "third"),
        Err(Error::Conflict(_))
    ));
    let keys = s.list_source_keys("src").unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].hash_prefix.as_str(), &source_key_hash(&k2)[..8]);
    s.delete_source_key("src", keys[0].id).unwrap();
    assert!(!s.verify_source_key("src", &k1).unwrap());
    assert!(s.verify_source_key("src", &k2).unwrap());
    assert_eq!(second.id, keys[1].id);
    s.replace_source_keys("src", &k1).unwrap();
    assert!(s.verify_source_key("src", &k1).unwrap());
    assert!(!s.verify_source_key("src", &k2).unwrap());
    assert!(!s.verify_source_key("unknown", &k1).unwrap());
    assert!(!s.verify_source_key("src", "").unwrap());
}

#[test]
fn key_hash_is_sha256_hex() {
    assert_eq!(
        source_key_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
