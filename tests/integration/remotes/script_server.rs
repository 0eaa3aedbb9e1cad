//! A scripted CalDAV host on loopback for the run-level tests of remote accounts:
//! each listener answers what the test's script (a closure it may replace at any
//! time) says, and records every request it got. [`Calendar`] is a small calendar
//! collection with sync tokens and a ctag that a script can delegate to, and
//! [`icloud_front`] / [`icloud_partition`] replay iCloud's discovery over two
//! listeners, in the shapes of `crates/pull/tests/caldav.rs` (sources cited there).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The remote account the tests add (`--remote-user`, `--password-stdin`).
pub const USER: &str = "alice@icloud.example";
pub const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

/// One request as the host read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Basic credentials of [`USER`] and [`PASSWORD`] (RFC 7617).
    pub fn has_our_credentials(&self) -> bool {
        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
        self.header("authorization") == Some(&format!("Basic {pair}"))
    }

    /// The token of a sync-collection REPORT: `Some(None)` for the initial one
    /// (an empty DAV:sync-token), `None` when this is not a sync-collection.
    pub fn sync_token(&self) -> Option<Option<String>> {
        if self.method != "REPORT" || !self.body.contains("sync-collection") {
            return None;
        }
        if self.body.contains("<D:sync-token/>") {
            return Some(None);
        }
        let token = self
            .body
            .split("<D:sync-token>")
            .nth(1)?
            .split("</D:sync-token>")
            .next()?;
        Some(Some(token.to_string()))
    }

    pub fn is_multiget(&self) -> bool {
        self.method == "REPORT" && self.body.contains("calendar-multiget")
    }

    /// The hrefs a calendar-multiget asks for.
    pub fn hrefs(&self) -> Vec<String> {
        self.body
            .split("<D:href>")
            .skip(1)
            .filter_map(|t| t.split("</D:href>").next())
            .map(str::to_string)
            .collect()
    }

    /// A short form for assertions: `PROPFIND 0 /path`, `SYNC - /path` (initial),
    /// `SYNC <token> /path`, `MULTIGET a.ics,b.ics /path` (names sorted), else `METHOD /path`.
    pub fn kind(&self) -> String {
        if let Some(token) = self.sync_token() {
            return format!("SYNC {} {}", token.as_deref().unwrap_or("-"), self.path);
        }
        if self.is_multiget() {
            let mut names: Vec<String> = self
                .hrefs()
                .iter()
                .map(|h| h.rsplit('/').next().unwrap_or_default().to_string())
                .collect();
            names.sort();
            return format!("MULTIGET {} {}", names.join(","), self.path);
        }
        match self.header("depth") {
            Some(depth) if self.method == "PROPFIND" => {
                format!("PROPFIND {depth} {}", self.path)
            }
            _ => format!("{} {}", self.method, self.path),
        }
    }
}

/// What a script answers.
pub struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

pub fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_string(),
    }
}

pub fn multistatus(body: &str) -> Reply {
    reply(207, body).with("content-type", "application/xml; charset=utf-8")
}

impl Reply {
    pub fn with(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    /// The same multistatus with `responses` added at its end (a remote that says
    /// more than it should).
    pub fn inject(mut self, responses: &str) -> Reply {
        if let Some(at) = self.body.rfind("</multistatus>") {
            self.body.insert_str(at, responses);
        }
        self
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

/// A hyper host on 127.0.0.1 answering by its current script; stops when dropped.
pub struct ScriptServer {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Mutex<Arc<Script>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl ScriptServer {
    pub async fn start(script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> ScriptServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let current: Arc<Script> = Arc::new(script);
        let script = Arc::new(Mutex::new(current));
        let (recorded, scripted) = (seen.clone(), script.clone());
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (recorded, scripted) = (recorded.clone(), scripted.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let (recorded, scripted) = (recorded.clone(), scripted.clone());
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes());
                            let seen = Seen {
                                method: parts.method.to_string(),
                                path: parts.uri.to_string(),
                                headers: parts.headers,
                                body: String::from_utf8_lossy(&body.unwrap_or_default())
                                    .into_owned(),
                            };
                            let script = scripted.lock().unwrap().clone();
                            let answer = script(&seen);
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
        ScriptServer {
            addr,
            seen,
            script,
            accept,
        }
    }

    /// What the host answers from now on.
    pub fn script(&self, script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) {
        *self.script.lock().unwrap() = Arc::new(script);
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests since the last [`ScriptServer::take`], oldest first.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.seen.lock().unwrap())
    }

    /// [`Seen::kind`] of each request since the last take.
    pub fn take_kinds(&self) -> Vec<String> {
        self.take().iter().map(Seen::kind).collect()
    }
}

impl Drop for ScriptServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// 401 unless the request carries the account's credentials.
fn unauthorized(seen: &Seen) -> Option<Reply> {
    (!seen.has_our_credentials())
        .then(|| reply(401, "").with("www-authenticate", "Basic realm=\"MMCalDav\""))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const SYNC_PREFIX: &str = "https://tributary.test/sync/";

/// One object of a [`Calendar`].
#[derive(Clone)]
struct Object {
    etag: String,
    data: String,
    /// The version of the collection that last changed it.
    changed: u64,
}

#[derive(Default)]
struct CalendarState {
    path: String,
    name: String,
    supports_sync: bool,
    /// Bumped by every change; the sync token and the ctag say it.
    version: u64,
    /// Tokens of older versions are answered 403 DAV:valid-sync-token.
    oldest_token: u64,
    /// By name.
    objects: BTreeMap<String, Object>,
    /// Removed names, with the version that removed them.
    removed: BTreeMap<String, u64>,
    /// Every listing comes back empty (a remote gone wrong).
    lists_nothing: bool,
    /// Names calendar-multiget leaves out of its answer.
    withheld: std::collections::BTreeSet<String>,
    /// The collection was deleted: everything under it answers 404.
    gone: bool,
}

/// A calendar collection on a scripted host: sync-collection (RFC 6578) with
/// tokens that can expire, CS:getctag, Depth 1 listings and calendar-multiget.
#[derive(Clone)]
pub struct Calendar(Arc<Mutex<CalendarState>>);

impl Calendar {
    /// An empty calendar at `path` (ending in `/`).
    pub fn new(path: &str, name: &str, supports_sync: bool) -> Calendar {
        Calendar(Arc::new(Mutex::new(CalendarState {
            path: path.to_string(),
            name: name.to_string(),
            supports_sync,
            version: 1,
            oldest_token: 1,
            ..Default::default()
        })))
    }

    /// Create or replace `uid` (at `<path><uid>.ics`) with a new ETag.
    pub fn put(&self, uid: &str, summary: &str) {
        let mut s = self.0.lock().unwrap();
        s.version += 1;
        let object = Object {
            etag: format!("\"{uid}-{}\"", s.version),
            data: crate::integration::support::event(uid, summary),
            changed: s.version,
        };
        let name = format!("{uid}.ics");
        s.removed.remove(&name);
        s.objects.insert(name, object);
    }

    pub fn delete(&self, uid: &str) {
        let mut s = self.0.lock().unwrap();
        s.version += 1;
        let name = format!("{uid}.ics");
        if s.objects.remove(&name).is_some() {
            let v = s.version;
            s.removed.insert(name, v);
        }
    }

    /// Every token handed out so far is refused from now on.
    pub fn expire_tokens(&self) {
        let mut s = self.0.lock().unwrap();
        s.version += 1;
        s.oldest_token = s.version;
    }

    /// Every listing (sync-collection, Depth 1) answers no members from now on,
    /// and the ctag changes.
    pub fn list_nothing(&self) {
        let mut s = self.0.lock().unwrap();
        s.version += 1;
        s.lists_nothing = true;
    }

    /// The collection is deleted: 404 for it and its members from now on.
    pub fn remove(&self) {
        self.0.lock().unwrap().gone = true;
    }

    pub fn is_gone(&self) -> bool {
        self.0.lock().unwrap().gone
    }

    /// The UIDs (object names without `.ics`) stored now.
    pub fn uids(&self) -> Vec<String> {
        let s = self.0.lock().unwrap();
        s.objects
            .keys()
            .map(|n| n.trim_end_matches(".ics").to_string())
            .collect()
    }

    /// calendar-multiget leaves `uid` out of its answers (`false`: no longer).
    pub fn withhold(&self, uid: &str, withhold: bool) {
        let mut s = self.0.lock().unwrap();
        let name = format!("{uid}.ics");
        if withhold {
            s.withheld.insert(name);
        } else {
            s.withheld.remove(&name);
        }
    }

    /// The sync token of the current version.
    pub fn token(&self) -> String {
        format!("{SYNC_PREFIX}{}", self.0.lock().unwrap().version)
    }

    /// The collection's own response in a Depth 0 or a home's Depth 1 PROPFIND.
    pub fn own_response(&self) -> String {
        let s = self.0.lock().unwrap();
        let (token, sync_report) = if s.supports_sync {
            (
                format!(
                    r#"<sync-token xmlns="DAV:">{SYNC_PREFIX}{}</sync-token>"#,
                    s.version
                ),
                r#"<supported-report><report><sync-collection/></report></supported-report>"#,
            )
        } else {
            (String::new(), "")
        };
        format!(
            r#"<response xmlns="DAV:"><href>{path}</href><propstat><prop>
<resourcetype xmlns="DAV:"><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype>
<displayname xmlns="DAV:">{name}</displayname><getctag xmlns="http://calendarserver.org/ns/">ctag-{version}</getctag>{token}
<supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VEVENT"/></supported-calendar-component-set>
<supported-report-set xmlns="DAV:">{sync_report}<supported-report><report><calendar-multiget xmlns="urn:ietf:params:xml:ns:caldav"/></report></supported-report></supported-report-set>
</prop><status>HTTP/1.1 200 OK</status></propstat></response>"#,
            path = s.path,
            name = escape(&s.name),
            version = s.version,
        )
    }

    /// The answer to a request for this collection or one of its members; None when
    /// the path is not this calendar's.
    pub fn answer(&self, seen: &Seen) -> Option<Reply> {
        let path = self.0.lock().unwrap().path.clone();
        if !seen.path.starts_with(&path) {
            return None;
        }
        if let Some(refused) = unauthorized(seen) {
            return Some(refused);
        }
        if self.is_gone() {
            return Some(reply(404, ""));
        }
        let member = &seen.path[path.len()..];
        Some(match (seen.method.as_str(), member) {
            ("PROPFIND", "") if seen.header("depth") == Some("0") => wrap(&self.own_response(), ""),
            ("PROPFIND", "") => self.depth_one(),
            ("REPORT", "") if seen.sync_token().is_some() => self.sync(seen),
            ("REPORT", "") if seen.is_multiget() => self.multiget(seen),
            ("GET", name) => match self.0.lock().unwrap().objects.get(name) {
                Some(o) => reply(200, &o.data)
                    .with("content-type", "text/calendar; charset=utf-8")
                    .with("etag", &o.etag),
                None => reply(404, ""),
            },
            ("PUT", name) if !name.is_empty() && !name.contains('/') => self.put_member(seen, name),
            _ => reply(404, ""),
        })
    }

    /// A client's PUT, with `If-None-Match: *` and `If-Match` (RFC 9110 §13.1.1-2).
    fn put_member(&self, seen: &Seen, name: &str) -> Reply {
        let mut s = self.0.lock().unwrap();
        let current = s.objects.get(name).map(|o| o.etag.clone());
        let refused = match (seen.header("if-none-match"), seen.header("if-match")) {
            (Some("*"), _) => current.is_some(),
            (_, Some(etag)) => current.as_deref() != Some(etag),
            _ => false,
        };
        if refused {
            return reply(412, "");
        }
        s.version += 1;
        let object = Object {
            etag: format!("\"{}-{}\"", name.trim_end_matches(".ics"), s.version),
            data: seen.body.clone(),
            changed: s.version,
        };
        let etag = object.etag.clone();
        s.removed.remove(name);
        s.objects.insert(name.to_string(), object);
        reply(if current.is_some() { 204 } else { 201 }, "").with("etag", &etag)
    }

    fn member_response(path: &str, name: &str, o: &Object) -> String {
        format!(
            r#"<response xmlns="DAV:"><href>{path}{name}</href><propstat><prop><getetag xmlns="DAV:">{etag}</getetag><getcontenttype xmlns="DAV:">text/calendar; charset=utf-8; component=VEVENT</getcontenttype><resourcetype xmlns="DAV:"/></prop><status>HTTP/1.1 200 OK</status></propstat></response>"#,
            etag = escape(&o.etag)
        )
    }

    fn depth_one(&self) -> Reply {
        let own = self.own_response();
        let s = self.0.lock().unwrap();
        let members: String = if s.lists_nothing {
            String::new()
        } else {
            s.objects
                .iter()
                .map(|(name, o)| Self::member_response(&s.path, name, o))
                .collect()
        };
        wrap(&format!("{own}{members}"), "")
    }

    /// RFC 6578 §3.2: everything for no token, the changes since a known token,
    /// 403 DAV:valid-sync-token for an unknown or expired one.
    fn sync(&self, seen: &Seen) -> Reply {
        let s = self.0.lock().unwrap();
        if !s.supports_sync {
            return reply(403, "");
        }
        let since = match seen.sync_token().flatten() {
            None => None,
            Some(token) => match token
                .strip_prefix(SYNC_PREFIX)
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| (s.oldest_token..=s.version).contains(n))
            {
                Some(n) => Some(n),
                None => {
                    return reply(
                        403,
                        r#"<?xml version="1.0" encoding="utf-8"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>"#,
                    )
                    .with("content-type", "application/xml; charset=utf-8")
                }
            },
        };
        let mut responses = String::new();
        if !s.lists_nothing {
            for (name, o) in &s.objects {
                if since.is_none_or(|n| o.changed > n) {
                    responses.push_str(&Self::member_response(&s.path, name, o));
                }
            }
            if let Some(n) = since {
                for (name, at) in &s.removed {
                    if *at > n {
                        responses.push_str(&format!(
                            r#"<response xmlns="DAV:"><href>{}{name}</href><status>HTTP/1.1 404 Not Found</status></response>"#,
                            s.path
                        ));
                    }
                }
            }
        }
        let token = format!(
            r#"<sync-token xmlns="DAV:">{SYNC_PREFIX}{}</sync-token>"#,
            s.version
        );
        wrap(&responses, &token)
    }

    /// RFC 4791 §7.9: the data of each asked href, 404 for the unknown ones.
    fn multiget(&self, seen: &Seen) -> Reply {
        let s = self.0.lock().unwrap();
        let mut responses = String::new();
        for href in seen.hrefs() {
            let name = href.strip_prefix(&s.path).unwrap_or_default();
            if s.withheld.contains(name) {
                continue;
            }
            responses.push_str(&match s.objects.get(name) {
                Some(o) => format!(
                    r#"<response xmlns="DAV:"><href>{href}</href><propstat><prop><getetag xmlns="DAV:">{}</getetag><calendar-data xmlns="urn:ietf:params:xml:ns:caldav">{}</calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response>"#,
                    escape(&o.etag),
                    escape(&o.data)
                ),
                None => format!(
                    r#"<response xmlns="DAV:"><href>{href}</href><status>HTTP/1.1 404 Not Found</status></response>"#
                ),
            });
        }
        wrap(&responses, "")
    }
}

/// A multistatus of `responses` (and `tail`, e.g. a sync-token), iCloud's way: the
/// default namespace re-declared on every element, no prefixes.
fn wrap(responses: &str, tail: &str) -> Reply {
    multistatus(&format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<multistatus xmlns="DAV:">{responses}{tail}</multistatus>"#
    ))
}

/// The account's dsid in iCloud's paths.
pub const DSID: &str = "123456789";

/// iCloud's front host (caldav.icloud.com): the root names the principal, and the
/// principal's calendar-home-set is on `partition` (`http://127.0.0.1:PORT`).
pub fn icloud_front(partition: String) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| {
        if let Some(refused) = unauthorized(seen) {
            return refused.with("server", "AppleHttpServer/68565d4f92ea");
        }
        match (seen.method.as_str(), seen.path.as_str()) {
            ("PROPFIND", "/.well-known/caldav") => reply(301, "").with("location", "/"),
            ("PROPFIND", "/") => wrap(
                &format!(
                    r#"<response xmlns="DAV:"><href>/</href><propstat><prop>
<current-user-principal xmlns="DAV:"><href xmlns="DAV:">/{DSID}/principal/</href></current-user-principal>
</prop><status>HTTP/1.1 200 OK</status></propstat><propstat><prop>
<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"/><displayname xmlns="DAV:"/>
</prop><status>HTTP/1.1 404 Not Found</status></propstat></response>"#
                ),
                "",
            ),
            ("PROPFIND", path) if path == format!("/{DSID}/principal/") => wrap(
                &format!(
                    r#"<response xmlns="DAV:"><href>/{DSID}/principal/</href><propstat><prop>
<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><href xmlns="DAV:">{partition}/{DSID}/calendars/</href></calendar-home-set>
</prop><status>HTTP/1.1 200 OK</status></propstat></response>"#
                ),
                "",
            ),
            _ => reply(404, ""),
        }
    }
}

/// A home member that is not `calendar` (the Reminders list, inbox, outbox,
/// notification).
fn other_member(name: &str, resourcetype: &str, props: &str) -> String {
    format!(
        r#"<response xmlns="DAV:"><href>/{DSID}/calendars/{name}</href><propstat><prop>
<resourcetype xmlns="DAV:">{resourcetype}</resourcetype>{props}
</prop><status>HTTP/1.1 200 OK</status></propstat></response>"#
    )
}

/// iCloud's partition host (pNN-caldav.icloud.com): the calendar home, with
/// `calendar` (at `/<dsid>/calendars/home/`), Reminders (VTODO only), inbox,
/// outbox and notification.
pub fn icloud_partition(calendar: Calendar) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| {
        if let Some(answer) = calendar.answer(seen) {
            return answer;
        }
        if let Some(refused) = unauthorized(seen) {
            return refused;
        }
        let home = format!("/{DSID}/calendars/");
        if seen.method != "PROPFIND" || seen.path != home {
            return reply(404, "");
        }
        let members = [
            other_member("", "<collection/>", ""),
            calendar.own_response(),
            other_member(
                "tasks/",
                r#"<collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
                r#"<displayname xmlns="DAV:">Reminders ⚠️</displayname><getctag xmlns="http://calendarserver.org/ns/">HwoQEgwAAKfJr5tn7AAAAAEYAhgAIhUI</getctag><supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VTODO"/></supported-calendar-component-set>"#,
            ),
            other_member(
                "inbox/",
                r#"<collection/><schedule-inbox xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
                "",
            ),
            other_member(
                "outbox/",
                r#"<collection/><schedule-outbox xmlns="urn:ietf:params:xml:ns:caldav"/>"#,
                "",
            ),
            other_member(
                "notification/",
                r#"<collection/><notification xmlns="http://calendarserver.org/ns/"/>"#,
                "",
            ),
        ];
        wrap(&members.concat(), "").with("x-apple-user-partition", "42")
    }
}

/// A host holding just `calendar` (a server without discovery, reached by the
/// calendar's own URL).
pub fn plain(calendar: Calendar) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| calendar.answer(seen).unwrap_or_else(|| reply(404, ""))
}

/// A server with discovery and several calendars under one home: `/` names the home
/// `/cal/` (CALDAV:calendar-home-set), `/.well-known/caldav` redirects to `/`, and
/// the home lists every calendar not removed.
pub fn account(calendars: Vec<Calendar>) -> impl Fn(&Seen) -> Reply + Send + Sync + 'static {
    move |seen: &Seen| {
        if let Some(answer) = calendars.iter().find_map(|c| c.answer(seen)) {
            return answer;
        }
        if let Some(refused) = unauthorized(seen) {
            return refused;
        }
        match (seen.method.as_str(), seen.path.as_str()) {
            ("PROPFIND", "/.well-known/caldav") => reply(301, "").with("location", "/"),
            ("PROPFIND", "/") => wrap(
                r#"<response xmlns="DAV:"><href>/</href><propstat><prop>
<calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><href xmlns="DAV:">/cal/</href></calendar-home-set>
</prop><status>HTTP/1.1 200 OK</status></propstat></response>"#,
                "",
            ),
            ("PROPFIND", "/cal/") => {
                let listed: String = calendars
                    .iter()
                    .filter(|c| !c.is_gone())
                    .map(Calendar::own_response)
                    .collect();
                let home = r#"<response xmlns="DAV:"><href>/cal/</href><propstat><prop><resourcetype xmlns="DAV:"><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>"#;
                wrap(&format!("{home}{listed}"), "")
            }
            _ => reply(404, ""),
        }
    }
}
