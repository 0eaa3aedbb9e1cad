//! The CalDAV client against in-process hyper servers on 127.0.0.1 that answer like real
//! ones. Every request in this file goes to loopback.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tributary_pull::caldav::{Condition, Remote, RemoteError, MULTIGET_BATCH};
use tributary_pull::{Client, FetchError, FetchOptions};
use url::Url;

const USER: &str = "alice@example.com";
const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HeaderMap,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn has_our_credentials(&self) -> bool {
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        self.header("authorization") == Some(&format!("Basic {expected}"))
    }
}

/// What the server answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

fn multistatus(body: &str) -> Reply {
    reply(207, body).with("content-type", "application/xml; charset=utf-8")
}

impl Reply {
    fn with(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A hyper server on 127.0.0.1 that records every request.
struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Server::serve(listener, Arc::new(handler))
    }

    fn serve(listener: TcpListener, handler: Arc<Handler>) -> Server {
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (handler, recorded) = (handler.clone(), recorded.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (handler, recorded) = (handler.clone(), recorded.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let seen = Seen {
                                method: parts.method.to_string(),
                                path: parts.uri.to_string(),
                                headers: parts.headers,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let answer = handler(&seen);
                            recorded.lock().unwrap().push(seen);
                            let mut response = Response::builder().status(answer.status);
                            for (name, value) in answer.headers {
                                response = response.header(name, value);
                            }
                            Ok::<_, Infallible>(
                                response.body(Full::new(Bytes::from(answer.body))).unwrap(),
                            )
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        Server { addr, seen }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn options() -> FetchOptions {
    FetchOptions {
        allow_private_networks: true,
        timeout: Duration::from_secs(5),
        ..FetchOptions::default()
    }
}

fn remote() -> Remote {
    Remote::new(Client::with_roots(options(), Vec::new()), USER, PASSWORD)
}

// ---------------------------------------------------------------------------------------
// iCloud discovery, replayed.
//
// The shapes follow public traces of iCloud's CalDAV answers:
// - the root answers 401 with `WWW-Authenticate: Basic realm="MMCalDav"` without
//   credentials, and `Server: AppleHttpServer` (pimutils/vdirsyncer#838, 2025 trace);
// - every element re-declares its namespace as the default (`<response xmlns="DAV:">`,
//   `<resourcetype xmlns="DAV:">`), no prefixes (dengste/org-caldav#269, #305);
// - the principal is `/<dsid>/principal/` and its calendar-home-set is an absolute URL on
//   the account's partition host, `https://pNN-caldav.icloud.com:443/<dsid>/calendars/`
//   (smarcet/CalDAVClient#8 "getRealCalDAVHost", python-caldav/caldav#3);
// - the home lists `inbox`, `outbox` and `notification` collections that are not calendars,
//   and Reminders as a VTODO-only calendar (python-caldav/caldav#3, vdirsyncer#95 for the
//   reminders collection); calendars carry CS:getctag and Apple's calendar-color.
// The second listener stands for the partition host.
// ---------------------------------------------------------------------------------------

const DSID: &str = "123456789";

fn icloud_front(partition: String) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen: &Seen| {
        if !seen.has_our_credentials() {
            return reply(401, "")
                .with("www-authenticate", "Basic realm=\"MMCalDav\"")
                .with("server", "AppleHttpServer/68565d4f92ea");
        }
        match (seen.method.as_str(), seen.path.as_str()) {
            ("PROPFIND", "/.well-known/caldav") => reply(301, "").with("location", "/"),
            ("PROPFIND", "/") => multistatus(&format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<multistatus xmlns="DAV:"><response xmlns="DAV:"><href>/</href><propstat><prop>
<current-user-principal xmlns="DAV:"><href xmlns="DAV:">/{DSID}/principal/</href></current-user-principal>
</prop><status>HTTP/1.1 200 OK</status></propstat><propstat><prop>
<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"/><displayname xmlns="DAV:"/>
</prop><status>HTTP/1.1 404 Not Found</status></propstat></response></multistatus>"#
            )),
            ("PROPFIND", path) if path == format!("/{DSID}/principal/") => multistatus(&format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<multistatus xmlns="DAV:"><response xmlns="DAV:"><href>/{DSID}/principal/</href><propstat><prop>
<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><href xmlns="DAV:">{partition}/{DSID}/calendars/</href></calendar-home-set>
</prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#
            )),
            _ => reply(404, ""),
        }
    }
}

fn icloud_member(name: &str, resourcetype: &str, props: &str) -> String {
    format!(
        r#"<response xmlns="DAV:"><href>/{DSID}/calendars/{name}</href><propstat><prop>
<resourcetype xmlns="DAV:">{resourcetype}</resourcetype>{props}
</prop><status>HTTP/1.1 200 OK</status></propstat><propstat><prop>
<sync-token xmlns="DAV:"/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>"#
    )
}

fn icloud_home() -> String {
    let reports = r#"<supported-report-set xmlns="DAV:"><supported-report><report><sync-collection/></report></supported-report><supported-report><report><calendar-multiget xmlns="urn:ietf:params:xml:ns:caldav"/></report></supported-report></supported-report-set>"#;
    let members = [
        icloud_member("", "<collection/>", ""),
        icloud_member(
            "home/",
            r#"<collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
            &format!(
                r#"<displayname xmlns="DAV:">Home</displayname><getctag xmlns="http://calendarserver.org/ns/">HwoQEgwAAKfJr5tn7AAAAAEYAhgAIhUIkqvA5Kq5k7yqARDOlKiDvtaXvMgBKAA=</getctag><calendar-color xmlns="http://apple.com/ns/ical/" symbolic-color="custom">#1BADF8FF</calendar-color><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VEVENT"/></supported-calendar-component-set>{reports}"#
            ),
        ),
        icloud_member(
            "tasks/",
            r#"<collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
            &format!(
                r#"<displayname xmlns="DAV:">Reminders ⚠️</displayname><getctag xmlns="http://calendarserver.org/ns/">HwoQEgwAAKfJr5tn7AAAAAEYAhgAIhUI</getctag><calendar-color xmlns="http://apple.com/ns/ical/" symbolic-color="orange">#FF9500FF</calendar-color><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VTODO"/></supported-calendar-component-set>{reports}"#
            ),
        ),
        icloud_member(
            "inbox/",
            r#"<collection/><schedule-inbox xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
            "",
        ),
        icloud_member(
            "outbox/",
            r#"<collection/><schedule-outbox xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
            "",
        ),
        icloud_member(
            "notification/",
            r#"<collection/><notification xmlns="http://calendarserver.org/ns/"/>"#,
            "",
        ),
    ];
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><multistatus xmlns="DAV:">{}</multistatus>"#,
        members.concat()
    )
}

fn icloud_partition(seen: &Seen) -> Reply {
    if !seen.has_our_credentials() {
        return reply(401, "").with("www-authenticate", "Basic realm=\"MMCalDav\"");
    }
    match (seen.method.as_str(), seen.path.as_str()) {
        ("PROPFIND", path) if path == format!("/{DSID}/calendars/") => {
            multistatus(&icloud_home()).with("x-apple-user-partition", "42")
        }
        _ => reply(404, ""),
    }
}

/// The front host and the partition host, each with its own listener.
async fn icloud() -> (Server, Server) {
    let partition = Server::start(icloud_partition).await;
    let front = Server::start(icloud_front(format!("http://{}", partition.addr))).await;
    (front, partition)
}

#[tokio::test]
async fn icloud_discovery_follows_the_home_to_the_partition_host() {
    let (front, partition) = icloud().await;
    let found = remote().discover(&front.url("/")).await.unwrap();

    assert_eq!(found.principal, Some(front.url("/123456789/principal/")));
    assert_eq!(found.home, Some(partition.url("/123456789/calendars/")));
    let names: Vec<_> = found
        .calendars
        .iter()
        .map(|c| {
            (
                c.href.as_str(),
                c.display_name.as_deref(),
                c.components.clone(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            (
                "/123456789/calendars/home/",
                Some("Home"),
                vec!["VEVENT".to_string()]
            ),
            (
                "/123456789/calendars/tasks/",
                Some("Reminders ⚠️"),
                vec!["VTODO".to_string()]
            ),
        ]
    );
    let home = &found.calendars[0];
    assert_eq!(home.url, partition.url("/123456789/calendars/home/"));
    assert_eq!(home.color.as_deref(), Some("#1BADF8FF"));
    assert!(home.supports_sync);
    assert!(home
        .ctag
        .as_deref()
        .is_some_and(|ctag| ctag.starts_with("HwoQ")));

    // The partition host got the account's credentials as Basic, and a Depth 1 listing.
    let there = partition.seen();
    assert_eq!(there.len(), 1);
    assert!(there[0].has_our_credentials(), "{:?}", there[0].headers);
    assert_eq!(there[0].header("depth"), Some("1"));
    assert!(front.seen().iter().all(Seen::has_our_credentials));
}

#[tokio::test]
async fn discovery_falls_back_to_well_known_and_follows_its_redirect() {
    let (front, partition) = icloud().await;
    // A path that answers 404: the principal comes from /.well-known/caldav → 301 → /.
    let found = remote()
        .discover(&front.url("/not/a/dav/path"))
        .await
        .unwrap();
    assert_eq!(found.home, Some(partition.url("/123456789/calendars/")));
    assert_eq!(found.calendars.len(), 2);
    let paths: Vec<_> = front.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/not/a/dav/path",
            "/.well-known/caldav",
            "/",
            "/123456789/principal/"
        ]
    );
    assert!(front.seen().iter().all(|s| s.method == "PROPFIND"));
}

#[tokio::test]
async fn discovery_of_a_calendar_url_returns_that_calendar() {
    let (_front, partition) = icloud().await;
    let calendar = Server::start(|seen: &Seen| {
        assert_eq!(seen.header("depth"), Some("0"));
        multistatus(
            r#"<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:response><D:href>/cal/work/</D:href><D:propstat><D:prop>
<D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Work</D:displayname>
<D:sync-token>http://radicale.org/ns/sync/1</D:sync-token></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>"#,
        )
    })
    .await;
    let found = remote()
        .discover(&calendar.url("/cal/work/"))
        .await
        .unwrap();
    assert_eq!(found.principal, None);
    assert_eq!(found.calendars.len(), 1);
    assert_eq!(found.calendars[0].url, calendar.url("/cal/work/"));
    assert_eq!(
        found.calendars[0].sync_token.as_deref(),
        Some("http://radicale.org/ns/sync/1")
    );
    assert!(partition.seen().is_empty());
}

#[tokio::test]
async fn wrong_password_is_unauthorized() {
    let (front, _partition) = icloud().await;
    let client = Client::with_roots(options(), Vec::new());
    let result = Remote::new(client, USER, "wrong")
        .discover(&front.url("/"))
        .await;
    assert!(
        matches!(
            result,
            Err(RemoteError::Unauthorized { digest_only: false })
        ),
        "{result:?}"
    );
    let message = result.unwrap_err().to_string();
    assert!(message.contains("app-specific password"), "{message}");
    assert!(!message.contains("wrong"), "{message}");
}

#[tokio::test]
async fn digest_only_servers_are_named_as_such() {
    let server = Server::start(|_: &Seen| {
        reply(401, "").with(
            "www-authenticate",
            "Digest realm=\"x\", nonce=\"abc\", qop=\"auth\"",
        )
    })
    .await;
    let result = remote().calendar(&server.url("/cal/")).await;
    let error = result.unwrap_err();
    assert!(
        matches!(error, RemoteError::Unauthorized { digest_only: true }),
        "{error:?}"
    );
    assert!(error.to_string().contains("Digest"), "{error}");
}

#[tokio::test]
async fn the_guard_still_refuses_loopback_by_default() {
    let server = Server::start(|_: &Seen| reply(207, "")).await;
    let client = Client::with_roots(FetchOptions::default(), Vec::new());
    let result = Remote::new(client, USER, PASSWORD)
        .list(&server.url("/cal/"))
        .await;
    assert!(
        matches!(result, Err(RemoteError::Fetch(FetchError::Refused(_)))),
        "{result:?}"
    );
    assert!(server.seen().is_empty());
}

#[path = "caldav/sync.rs"]
mod sync;
