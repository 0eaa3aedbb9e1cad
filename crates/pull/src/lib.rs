//! Pulling calendar feeds for Tributary: the outbound side.
//!
//! This crate owns:
//! - the SSRF guard ([`guard`]): [`is_private`] classifies an address, [`parse_feed_url`]
//!   accepts only http, https, webcal and webcals URLs with a host, [`redact`] is how a
//!   URL appears in logs and errors (never with its userinfo);
//! - the fetcher ([`fetch`]): [`Client::fetch`] does one conditional GET with
//!   [`Validators`], follows redirects under its own policy, checks every dialled address
//!   on every hop, caps the body on the wire and after gzip decoding, and returns
//!   [`Fetched`] or a [`FetchError`]; [`Client::send`] is one hop of any method with a
//!   body, no redirect followed, for the CalDAV client;
//! - the CalDAV client ([`caldav`]): [`Remote`] discovers an account's calendars, reads
//!   their properties, lists and syncs their members (RFC 6578), fetches objects in
//!   batches (calendar-multiget) and writes them back with conditional PUT and DELETE.
//!
//! It does not parse calendars or write to the store: what it fetched is handed to
//! `tributary-ingest`.
//!
//! # Why hyper's client and not reqwest
//!
//! The guard has to see the address that is actually dialled, after DNS resolution, on
//! every redirect hop, before the TCP connect; and the redirect policy is ours (no https →
//! http, credentials dropped on a change of origin, loop detection, only 301/308 chains
//! count as permanent). With `hyper::client::conn::http1` over a `tokio::net::TcpStream`
//! we resolve, check and dial ourselves, so there is no resolver hook or redirect callback
//! to get right, and hyper, tokio and rustls are already in the binary for the server.
//!
//! # Dependencies added for this crate
//!
//! - `url`: WHATWG URL parsing, the way browsers read what users paste; it normalises
//!   numeric hosts (`0x7f000001`, `2130706433`, `127.1` → `127.0.0.1`), so the guard sees
//!   the address a resolver would dial.
//! - `flate2`: gzip-encoded bodies, decoded incrementally under the size cap.
//! - `rustls-native-certs`: the system's CA roots, so real HTTPS feeds verify like they do
//!   for every other program on the host.

pub mod caldav;
pub mod fetch;
pub mod guard;

pub use caldav::{
    Condition, Discovery, Member, Remote, RemoteCalendar, RemoteError, RemoteObject, SyncPage,
    Written, MULTIGET_BATCH,
};
pub use fetch::{Answer, Client, FetchError, FetchOptions, Fetched, Validators};
pub use guard::{is_private, parse_feed_url, redact, UrlError};
pub mod metrics;
pub mod puller;
mod remote;
mod schedule;
pub mod timing;

pub use metrics::PullMetrics;
pub use puller::{
    display_url, PullError, PullReport, PullSettings, PullStatus, Puller, PushReport,
};
pub use remote::DEFAULT_REFRESH_SECS;
pub use schedule::POLL_SECS;
