//! The HTTP request path and the DAV request headers.
//!
//! Input: text (invalid UTF-8 replaced); each line is tried as a request path and as
//! the value of every header the server parses (Depth, If-Match / If-None-Match,
//! Overwrite, Destination, Authorization).
//!
//! Invariants:
//! - no parser panics;
//! - a path never names a segment that could step outside its tree: every decoded
//!   user and segment of `Target::Principal` / `Target::Home` is non-empty, not `.`
//!   or `..`, and holds no `/` or NUL;
//! - the hrefs the server writes for a target parse back to that target (encoding
//!   and decoding agree, so a client following an href reaches the same resource);
//! - a Destination header yields an absolute path without query or fragment, which
//!   then obeys the path invariants;
//! - header parsers only accept what they document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tributary_dav_proto::headers::{destination_path, parse_overwrite, Depth, EtagCondition};
use tributary_server::auth::parse_basic;
use tributary_server::path::{self, Target};

/// Most lines tried per input.
const MAX_LINES: usize = 64;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.split('\n').take(MAX_LINES) {
        check_path(line);
        check_headers(line);
    }
});

fn check_path(raw: &str) {
    match path::parse(raw) {
        Ok(Target::Principal(user)) => {
            assert_clean(&user);
            let href = path::principal_href(&user);
            assert_eq!(path::parse(&href), Ok(Target::Principal(user)), "{href}");
        }
        Ok(Target::Home { user, segments, .. }) => {
            assert_clean(&user);
            segments.iter().for_each(|s| assert_clean(s));
            let href = path::collection_href(&user, &segments.join("/"));
            let expected = Target::Home {
                user: user.clone(),
                segments: segments.clone(),
                trailing_slash: true,
            };
            assert_eq!(path::parse(&href), Ok(expected), "{href}");
            if let Some((name, parents)) = segments.split_last() {
                let href = path::resource_href(&user, &parents.join("/"), name);
                let expected = Target::Home {
                    user: user.clone(),
                    segments: segments.clone(),
                    trailing_slash: false,
                };
                assert_eq!(path::parse(&href), Ok(expected), "{href}");
            }
        }
        _ => {}
    }
}

/// A decoded segment that cannot step outside its tree.
fn assert_clean(segment: &str) {
    assert!(
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && !segment.contains('/')
            && !segment.contains('\0'),
        "unsafe path segment {segment:?}"
    );
}

fn check_headers(value: &str) {
    if let Ok(depth) = Depth::parse(Some(value), Depth::Zero) {
        let v = value.trim();
        let ok = match depth {
            Depth::Zero => v == "0",
            Depth::One => v == "1",
            Depth::Infinity => v.eq_ignore_ascii_case("infinity"),
        };
        assert!(ok, "Depth {value:?} read as {depth:?}");
    }
    let Some(condition) = EtagCondition::parse(Some(value)) else {
        panic!("a present If-Match header read as absent");
    };
    match &condition {
        EtagCondition::Any => assert_eq!(value.trim(), "*"),
        EtagCondition::Tags(tags) => {
            for tag in tags {
                assert!(!tag.is_empty() && !tag.contains(','), "tag {tag:?}");
                assert!(
                    condition.matches(Some(tag.as_str()))
                        && condition.matches_weak(Some(tag.as_str())),
                    "{condition:?} does not match its own tag {tag:?}"
                );
            }
        }
    }
    assert!(
        !condition.matches(None),
        "an ETag condition matched a missing resource"
    );
    let _ = parse_overwrite(Some(value));
    if let Ok(dest) = destination_path(value) {
        assert!(
            dest.starts_with('/') && !dest.contains(['?', '#']),
            "Destination {value:?} gave {dest:?}"
        );
        check_path(&dest);
    }
    if let Some((user, _)) = parse_basic(value) {
        assert!(
            !user.contains(':'),
            "user name {user:?} holds the separator"
        );
    }
}
