//! The SSRF guard: which addresses a pulled feed may reach, and which URLs a user may type.
//!
//! A feed URL is typed by a user and fetched by the server, so without a guard any user
//! could make the server read its own admin pages, a cloud metadata service
//! (169.254.169.254) or anything else on the private network and store the answer in a
//! calendar. [`is_private`] classifies one address; the fetcher calls it on every address it
//! is about to dial, on every hop, after name resolution (so a DNS name pointing at
//! 127.0.0.1 is refused like the literal). [`parse_feed_url`] decides which URLs are feed
//! URLs at all, and [`redact`] is how a URL appears in logs and errors.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::Url;

/// Why a typed feed URL was not accepted. The messages never contain the URL's userinfo.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    /// Not a URL at all (the message is the URL parser's reason, which quotes no input).
    #[error("not a valid URL: {0}")]
    Invalid(#[from] url::ParseError),
    /// A scheme other than http, https, webcal or webcals.
    #[error("the scheme {0}: is not allowed; a feed URL starts with https://, http://, webcal:// or webcals://")]
    UnsupportedScheme(String),
    /// A URL such as `webcal:calendar.ics` that names no host.
    #[error("the URL has no host")]
    MissingHost,
}

/// True for every address a feed must not reach unless `allow_private_networks`: loopback
/// (127/8, ::1), unspecified (0.0.0.0/8, ::), RFC 1918, link-local (169.254/16 incl.
/// 169.254.169.254, fe80::/10), CGNAT 100.64/10, IPv6 ULA fc00::/7, multicast, broadcast,
/// 192.0.0.0/24, 198.18/15 benchmarking, 240/4 reserved, documentation ranges, and
/// IPv4-mapped / IPv4-compatible / NAT64 (64:ff9b::/96) IPv6 whose embedded v4 is private.
///
/// The ranges are the IANA special-purpose registries (RFC 6890):
/// <https://www.iana.org/assignments/iana-ipv4-special-registry/> and
/// <https://www.iana.org/assignments/iana-ipv6-special-registry/>.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => is_private_v6(v6),
    }
}

/// `(network, prefix length)` pairs that are not on the public internet.
const PRIVATE_V4: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network"; 0.0.0.0 dials the local host on Linux
    ([10, 0, 0, 0], 8),      // RFC 1918
    ([100, 64, 0, 0], 10),   // RFC 6598 carrier-grade NAT
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, cloud metadata at 169.254.169.254
    ([172, 16, 0, 0], 12),   // RFC 1918
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // TEST-NET-1 (RFC 5737)
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (RFC 7526)
    ([192, 168, 0, 0], 16),  // RFC 1918
    ([198, 18, 0, 0], 15),   // benchmarking (RFC 2544)
    ([198, 51, 100, 0], 24), // TEST-NET-2
    ([203, 0, 113, 0], 24),  // TEST-NET-3
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and 255.255.255.255 broadcast
];

fn is_private_v4(ip: Ipv4Addr) -> bool {
    let bits = u32::from(ip);
    PRIVATE_V4.iter().any(|&(network, prefix)| {
        let mask = u32::MAX << (32 - u32::from(prefix));
        bits & mask == u32::from(Ipv4Addr::from(network))
    })
}

/// `(network, prefix length)` pairs that are private outright, whatever follows the prefix.
const PRIVATE_V6: &[(u128, u8)] = &[
    (0x0100_0000_0000_0000 << 64, 64), // 100::/64 discard-only (RFC 6666)
    (0x0064_ff9b_0001 << 80, 48),      // 64:ff9b:1::/48 local-use NAT64 (RFC 8215)
    (0x2001_0000 << 96, 32),           // Teredo: tunnels to an obfuscated IPv4 address
    (0x2001_0db8 << 96, 32),           // documentation (RFC 3849)
    (0x3fff << 112, 20),               // documentation (RFC 9637)
    (0xfc00 << 112, 7),                // unique local (RFC 4193)
    (0xfe80 << 112, 10),               // link-local
    (0xfec0 << 112, 10),               // deprecated site-local (RFC 3879)
    (0xff00 << 112, 8),                // multicast
];

fn is_private_v6(ip: Ipv6Addr) -> bool {
    let bits = u128::from(ip);
    let in_prefix = |network: u128, prefix: u8| {
        let mask = u128::MAX << (128 - u32::from(prefix));
        bits & mask == network
    };
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, which also covers :: and ::1 as
    // 0.0.0.0 and 0.0.0.1): the socket layer dials the embedded IPv4 address.
    if in_prefix(0xffff << 32, 96) || in_prefix(0, 96) {
        return is_private_v4(Ipv4Addr::from(bits as u32));
    }
    // 64:ff9b::/96, the well-known NAT64 prefix (RFC 6052): the gateway dials the embedded v4.
    if in_prefix(0x0064_ff9b << 96, 96) {
        return is_private_v4(Ipv4Addr::from(bits as u32));
    }
    // 2002::/16, 6to4 (RFC 3056): the relay dials the IPv4 address in bits 16..48.
    if in_prefix(0x2002 << 112, 16) {
        return is_private_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    PRIVATE_V6
        .iter()
        .any(|&(network, prefix)| in_prefix(network, prefix))
}

/// Parses a feed URL as typed by a user: `http`, `https`, `webcal` (→ https), `webcals`
/// (→ https) only (file:, ftp:, gopher:, data:, anything else → Err), host required.
/// Returns the normalized URL (webcal rewritten to https, fragment dropped). Userinfo
/// (`user:pass@`) is allowed and kept: it becomes HTTP Basic credentials.
///
/// Hosts are parsed the WHATWG way, so `0x7f000001`, `2130706433` and `127.1` all come back
/// as `127.0.0.1`, the address a resolver would dial; the guard then sees the real address.
pub fn parse_feed_url(input: &str) -> Result<Url, UrlError> {
    let parsed = Url::parse(input.trim())?;
    let mut url = match parsed.scheme() {
        "http" | "https" => parsed,
        "webcal" | "webcals" => {
            // webcal is not a "special" scheme to the URL standard, so its host is opaque
            // and `set_scheme` cannot turn it into https; re-parse the text instead, which
            // also normalises the host as for https.
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(UrlError::MissingHost);
            }
            let rest = &parsed.as_str()[parsed.scheme().len()..];
            Url::parse(&format!("https{rest}"))?
        }
        other => return Err(UrlError::UnsupportedScheme(other.to_string())),
    };
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::MissingHost);
    }
    url.set_fragment(None);
    Ok(url)
}

/// The URL for logs and error messages: userinfo and fragment removed
/// (`https://host/path?query`).
pub fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    // Both only fail for URLs that cannot have userinfo, which then have none to remove.
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    shown.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn private(text: &str) -> bool {
        is_private(text.parse().expect("test address parses"))
    }

    #[test]
    fn private_v4_ranges_are_private() {
        for ip in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(private(ip), "{ip} must be private");
        }
    }

    #[test]
    fn range_edges_are_public() {
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "169.253.255.255",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert!(!private(ip), "{ip} must be public");
        }
    }

    #[test]
    fn private_v6_ranges_are_private() {
        for ip in [
            "::1",
            "::",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "2001::1",
            "64:ff9b:1::1",
        ] {
            assert!(private(ip), "{ip} must be private");
        }
    }

    #[test]
    fn embedded_private_v4_in_v6_is_private() {
        for ip in [
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
        ] {
            assert!(private(ip), "{ip} must be private");
        }
    }

    #[test]
    fn public_v6_and_embedded_public_v4_are_public() {
        for ip in [
            "2001:4860::8888",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(!private(ip), "{ip} must be public");
        }
    }

    #[test]
    fn webcal_becomes_https() {
        let url = parse_feed_url("webcal://example.com/cal.ics?x=1#frag").unwrap();
        assert_eq!(url.as_str(), "https://example.com/cal.ics?x=1");
        let url = parse_feed_url("WEBCALS://Example.COM:8443/a.ics").unwrap();
        assert_eq!(url.as_str(), "https://example.com:8443/a.ics");
    }

    #[test]
    fn webcal_host_is_normalised_like_https() {
        let url = parse_feed_url("webcal://0x7f000001/x.ics").unwrap();
        assert_eq!(url.host_str(), Some("127.0.0.1"));
    }

    #[test]
    fn http_and_https_are_kept_with_userinfo() {
        let url = parse_feed_url("  http://alice:s%40cret@example.com/feed  ").unwrap();
        assert_eq!(url.as_str(), "http://alice:s%40cret@example.com/feed");
        assert_eq!(url.username(), "alice");
        assert!(parse_feed_url("https://example.com/").is_ok());
    }

    #[test]
    fn numeric_hosts_are_normalised() {
        for typed in ["http://0x7f000001/", "http://2130706433/", "http://127.1/"] {
            let url = parse_feed_url(typed).unwrap();
            assert_eq!(url.host_str(), Some("127.0.0.1"), "{typed}");
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        for typed in [
            "file:///etc/passwd",
            "ftp://example.com/cal.ics",
            "gopher://example.com/",
            "javascript:alert(1)",
            "data:text/calendar,BEGIN:VCALENDAR",
            "ws://example.com/",
        ] {
            let err = parse_feed_url(typed).unwrap_err();
            assert!(
                matches!(err, UrlError::UnsupportedScheme(_)),
                "{typed}: {err}"
            );
        }
    }

    #[test]
    fn missing_host_is_refused() {
        assert_eq!(parse_feed_url("webcal:cal.ics"), Err(UrlError::MissingHost));
        assert_eq!(
            parse_feed_url("webcal:///cal.ics"),
            Err(UrlError::MissingHost)
        );
        assert_eq!(
            parse_feed_url("http://"),
            Err(UrlError::Invalid(url::ParseError::EmptyHost))
        );
        assert!(parse_feed_url("not a url").is_err());
    }

    #[test]
    fn redact_drops_userinfo_and_fragment() {
        let url = Url::parse("https://alice:secret@example.com/p/a.ics?k=v#f").unwrap();
        assert_eq!(redact(&url), "https://example.com/p/a.ics?k=v");
        let url = Url::parse("https://alice@example.com/").unwrap();
        assert_eq!(redact(&url), "https://example.com/");
    }
}
