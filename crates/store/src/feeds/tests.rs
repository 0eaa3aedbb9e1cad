use super::*;
use crate::test_util::memory_store;
use crate::{CollectionKind, NewCollection};

fn setup() -> (Store, i64, i64, i64) {
    let s = memory_store();
    let u = s.put_user("alice", "h", false).unwrap();
    let a = s.get_collection(u.id, "default").unwrap();
    let b = s
        .put_collection(
            u.id,
            &NewCollection::new("work", CollectionKind::Calendar),
            &[],
        )
        .unwrap();
    (s, u.id, a.id, b.id)
}

fn new(owner: i64, cals: Vec<i64>) -> NewFeed {
    NewFeed {
        owner_id: owner,
        collection_ids: cals,
        label: None,
        busy_only: false,
        past_days: 30,
        future_days: 180,
    }
}

#[test]
fn secrets_are_long_random_base64url_and_only_their_digest_is_kept() {
    let a = new_feed_secret();
    assert_eq!(a.len(), 32);
    assert!(a
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_ne!(a, new_feed_secret());
    assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    assert_eq!(base64url(b"Man"), "TWFu");

    let (s, owner, cal, _) = setup();
    let (feed, secret) = s.create_feed(&new(owner, vec![cal])).unwrap();
    let stored: String = s
        .with_conn(|c| {
            Ok(c.query_row(
                "SELECT secret_hash FROM feeds WHERE id = ?1",
                [feed.id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    assert_eq!(stored, feed_secret_hash(&secret));
    assert!(!stored.contains(&secret));
}

#[test]
fn a_feed_opens_only_with_its_secret() {
    let (s, owner, a, b) = setup();
    let (feed, secret) = s.create_feed(&new(owner, vec![a, b])).unwrap();
    assert_eq!(feed.calendars.len(), 2);
    assert_eq!(feed.owner_name, "alice");
    assert_eq!(s.open_feed(feed.id, &secret).unwrap().id, feed.id);
    assert!(matches!(
        s.open_feed(feed.id, "wrong"),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        s.open_feed(feed.id + 1, &secret),
        Err(Error::NotFound)
    ));
    assert!(matches!(s.open_feed(feed.id, ""), Err(Error::NotFound)));
}

#[test]
fn rotation_retires_the_old_secret_and_moves_changed_at() {
    let (s, owner, a, _) = setup();
    let (feed, old) = s.create_feed(&new(owner, vec![a])).unwrap();
    let (rotated, fresh) = s.rotate_feed(feed.id).unwrap();
    assert!(rotated.changed_at > feed.changed_at);
    assert!(matches!(s.open_feed(feed.id, &old), Err(Error::NotFound)));
    assert!(s.open_feed(feed.id, &fresh).is_ok());
    s.delete_feed(feed.id).unwrap();
    assert!(matches!(s.open_feed(feed.id, &fresh), Err(Error::NotFound)));
    assert!(matches!(s.delete_feed(feed.id), Err(Error::NotFound)));
}

#[test]
fn feeds_publish_only_their_owners_calendars_within_bounds() {
    let (s, owner, a, _) = setup();
    let bob = s.put_user("bob", "h", false).unwrap();
    let bobs = s.get_collection(bob.id, "default").unwrap();
    let home = s.get_collection(owner, "").unwrap();
    assert!(matches!(
        s.create_feed(&new(owner, vec![bobs.id])),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.create_feed(&new(owner, vec![home.id])),
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        s.create_feed(&new(owner, vec![])),
        Err(Error::Conflict(_))
    ));
    let mut wide = new(owner, vec![a]);
    wide.future_days = MAX_WINDOW_DAYS + 1;
    assert!(matches!(s.create_feed(&wide), Err(Error::Conflict(_))));
    let mut numeric = new(owner, vec![a]);
    numeric.label = Some("42".into());
    assert!(matches!(s.create_feed(&numeric), Err(Error::Conflict(_))));
}

#[test]
fn labels_are_unique_and_find_takes_id_or_label() {
    let (s, owner, a, _) = setup();
    let mut n = new(owner, vec![a]);
    n.label = Some("for-bob".into());
    let (feed, _) = s.create_feed(&n).unwrap();
    assert!(matches!(s.create_feed(&n), Err(Error::AlreadyExists)));
    assert_eq!(s.find_feed("for-bob").unwrap().id, feed.id);
    assert_eq!(s.find_feed(&feed.id.to_string()).unwrap().id, feed.id);
    assert!(matches!(s.find_feed("nope"), Err(Error::NotFound)));
    assert_eq!(s.list_feeds(None).unwrap().len(), 1);
    assert_eq!(s.list_feeds(Some(owner + 100)).unwrap().len(), 0);
}

#[test]
fn fetch_counts_add_up_and_a_removed_calendar_leaves_the_feed() {
    let (s, owner, a, b) = setup();
    let (feed, _) = s.create_feed(&new(owner, vec![a, b])).unwrap();
    s.record_feed_fetches(&[(feed.id, 3, 100), (feed.id + 9, 1, 100)])
        .unwrap();
    s.record_feed_fetches(&[(feed.id, 2, 50)]).unwrap();
    let f = s.get_feed(feed.id).unwrap();
    assert_eq!((f.fetch_count, f.last_fetched_at), (5, Some(100)));
    s.delete_collection(owner, "work").unwrap();
    assert_eq!(s.get_feed(feed.id).unwrap().calendars.len(), 1);
}
