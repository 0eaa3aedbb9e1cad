//! A whole pull (lease, fetch, apply, record) on an in-memory store, against a feed
//! served on 127.0.0.1 by the test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tributary_pull::{PullSettings, PullStatus, Puller};
use tributary_store::{NewSource, SourceKind, Store};

const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n\
BEGIN:VEVENT\r\nUID:a@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270102T100000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b@x\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20270103T100000Z\r\nSUMMARY:B\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

/// Serves `FEED` after `delay`, counting requests.
async fn feed_server(delay: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed.ics", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = tcp.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    FEED.len()
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                let _ = tcp.write_all(FEED.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

fn setup(url: &str, allow_private: bool) -> Arc<Puller> {
    let store: Store = tributary_store::test_util::memory_store();
    let u = store.put_user("alice", "h", false).unwrap();
    let c = store.get_collection(u.id, "default").unwrap();
    let mut n = NewSource::new("feed", u.id, c.id);
    n.kind = SourceKind::Ics;
    store.put_pull_source(&n, url, None).unwrap();
    let settings = PullSettings {
        allow_private_networks: allow_private,
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    Puller::new(store, settings, "test")
}

#[tokio::test]
async fn a_pull_writes_the_feed_and_records_it() {
    let (url, _) = feed_server(Duration::ZERO).await;
    let puller = setup(&url, true);
    let r = puller.sync("feed", false).await.unwrap();
    assert_eq!(r.outcome, PullStatus::Updated, "{r:?}");
    assert_eq!(r.report.created, 2);
    let r = puller.sync("feed", false).await.unwrap();
    assert_eq!(r.outcome, PullStatus::Unchanged, "{r:?}");
    assert_eq!(r.report.unchanged, 2);
}

#[tokio::test]
async fn two_pulls_of_one_source_never_run_at_once() {
    let (url, hits) = feed_server(Duration::from_millis(400)).await;
    let puller = setup(&url, true);
    let (a, b) = tokio::join!(puller.sync("feed", false), puller.sync("feed", false));
    let mut outcomes = [a.unwrap().outcome, b.unwrap().outcome];
    outcomes.sort_by_key(|o| o.as_str());
    assert_eq!(outcomes, [PullStatus::Busy, PullStatus::Updated]);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    // The lease was given back: the next pull runs.
    let r = puller.sync("feed", false).await.unwrap();
    assert_eq!(r.outcome, PullStatus::Unchanged);
}

#[tokio::test]
async fn a_refused_address_is_a_failed_pull_that_backs_off() {
    let (url, hits) = feed_server(Duration::ZERO).await;
    let puller = setup(&url, false);
    let r = puller.sync("feed", false).await.unwrap();
    assert_eq!(r.outcome, PullStatus::Failed);
    assert!(r.error.as_deref().unwrap().contains("private"), "{r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let r2 = puller.sync("feed", false).await.unwrap();
    // The second failure waits twice as long as the first.
    let now = tributary_pull::timing::now();
    assert!(
        r.next_run - now <= 61 && r2.next_run - now >= 119,
        "{r:?} {r2:?}"
    );
}

#[tokio::test]
async fn unknown_and_webhook_sources_are_not_pulled() {
    let (url, _) = feed_server(Duration::ZERO).await;
    let puller = setup(&url, true);
    assert!(matches!(
        puller.sync("nope", false).await,
        Err(tributary_pull::PullError::NotFound(_))
    ));
}
