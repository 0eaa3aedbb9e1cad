//! One spelling per href. Servers percent-encode member names differently (`@` or
//! `%40`, `%7e` or `~`), and the same object may be named by its listing, a
//! multiget answer, a 201's Location or a URL built here for a push. Mappings are
//! keyed by the normalised path, so all of these meet.

use percent_encoding::percent_decode_str;
use tributary_dav_proto::href::encode;

/// The path of `href` (an absolute path or URL) with each segment decoded and
/// encoded again the one way. A segment that does not decode to UTF-8 is kept as
/// it was.
pub(crate) fn normalize_href(href: &str) -> String {
    let path = match url::Url::parse(href) {
        Ok(u) if u.has_host() => u.path().to_string(),
        _ => href
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    path.split('/')
        .map(|seg| match percent_decode_str(seg).decode_utf8() {
            Ok(text) => encode(&text),
            Err(_) => seg.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The href of member `name` of the collection at `collection_path`.
pub(crate) fn member_href(collection_path: &str, name: &str) -> String {
    let base = collection_path.trim_end_matches('/');
    format!("{base}/{}", encode(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_href_meet() {
        let a = normalize_href("/cal/alice/home/a%40b.ics");
        assert_eq!(a, normalize_href("/cal/alice/home/a@b.ics"));
        assert_eq!(
            a,
            normalize_href("https://p42-caldav.icloud.com:443/cal/alice/home/a%40b.ics")
        );
        assert_eq!(
            normalize_href("/c/%7Ex%20y.ics"),
            normalize_href("/c/~x y.ics")
        );
        assert_eq!(normalize_href("/c/x.ics?v=1"), "/c/x.ics");
    }

    #[test]
    fn a_member_href_is_its_collection_and_encoded_name() {
        assert_eq!(member_href("/cal/home/", "a b.ics"), "/cal/home/a%20b.ics");
        assert_eq!(member_href("/cal/home", "x.ics"), "/cal/home/x.ics");
        assert_eq!(
            normalize_href(&member_href("/cal/home/", "a b.ics")),
            "/cal/home/a%20b.ics"
        );
    }

    #[test]
    fn undecodable_segments_stay_as_they_were() {
        assert_eq!(normalize_href("/c/%FF.ics"), "/c/%FF.ics");
    }
}
