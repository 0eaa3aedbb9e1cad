//! Splitting a 20 MB feed of 10,000 events costs a fraction of the feed in heap: the
//! split keeps byte ranges, not copies, and builds one object text at a time.
//!
//! A test target of its own because it counts every allocation of the process with a
//! global allocator, which should not slow down (or be disturbed by) other tests.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use tributary_calendar::split;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const EVENTS: usize = 10_000;

/// About 2 KB: a folded DESCRIPTION of 24 physical lines, times in a VTIMEZONE.
fn event(i: usize, out: &mut String) {
    out.push_str(&format!(
        "BEGIN:VEVENT\r\nUID:feed-{i}@example.com\r\nDTSTAMP:20250101T000000Z\r\n\
         SEQUENCE:{}\r\nDTSTART;TZID=Europe/Paris:2025{:02}{:02}T100000\r\n\
         DTEND;TZID=Europe/Paris:2025{:02}{:02}T110000\r\nSUMMARY:Event {i}\r\nDESCRIPTION:",
        i % 3,
        i % 12 + 1,
        i % 28 + 1,
        i % 12 + 1,
        i % 28 + 1
    ));
    for _ in 0..24 {
        out.push_str(&"x".repeat(74));
        out.push_str("\r\n ");
    }
    out.push_str("end\r\nEND:VEVENT\r\n");
}

fn feed() -> String {
    let mut text = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//feed//EN\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Europe/Paris\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n\
         TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n\
         BEGIN:VTIMEZONE\r\nTZID:Unused/Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n\
         TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
    );
    for i in 0..EVENTS {
        event(i, &mut text);
    }
    text.push_str("END:VCALENDAR\r\n");
    text
}

#[test]
fn a_20_mb_feed_splits_into_10000_objects_without_copying_it() {
    let text = feed();
    assert!(text.len() > 20_000_000, "{} bytes", text.len());
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);

    let file = split::parse(&text).unwrap();
    assert_eq!(file.components.len(), EVENTS + 2);
    let (objects, skipped) = file.objects();
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(objects.len(), EVENTS);
    let (mut count, mut bytes) = (0, 0);
    for (i, object) in objects.enumerate() {
        assert_eq!(object.uid, format!("feed-{i}@example.com"));
        assert!(object.text.contains("TZID:Europe/Paris\r\n"));
        assert!(!object.text.contains("Unused/Zone"));
        count += 1;
        bytes += object.text.len();
    }
    drop(file);
    let peak = PEAK.load(Ordering::Relaxed) - before;

    assert_eq!(count, EVENTS);
    // Every object carries the zone: the texts add up to more than the feed.
    assert!(bytes > text.len(), "{bytes} bytes of objects");
    // Holding the objects, or a copy of the lines, would take at least the feed's size.
    eprintln!(
        "feed {} bytes, objects {bytes} bytes, peak extra heap {peak} bytes",
        text.len()
    );
    assert!(
        peak < text.len() / 2,
        "peak extra heap {peak} bytes for a feed of {} bytes",
        text.len()
    );
}
