//! One remote CalDAV source of the server under test and the calendar it mirrors on
//! the remote: setting both up (the remote calendar made and filled by the bench), the
//! timed `POST /api/sources/NAME/sync`, and the bench's own requests to the remote.

use super::answer::Answer;
use super::scheduler;
use crate::client::{BenchResult, Conn, ReqSpec, Target};
use crate::dataset::Event;
use crate::discover::{self, last_segment, status_error};
use crate::queries::{is_object, report, sync_spec};
use crate::workloads::{put_ok, run_pool, Calendar};
use crate::xml::{self, Multistatus, CALDAV};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, ETAG, IF_MATCH};
use hyper::Method;
use quick_xml::escape::escape;
use std::sync::Arc;
use std::time::Instant;

/// Workers filling the remote calendar.
const FILL_CONCURRENCY: usize = 8;

/// Hrefs per calendar-multiget when the bench reads the mirror.
const MULTIGET_BATCH: usize = 200;

/// Both servers and the management key, shared by the mirrors.
pub struct Servers {
    /// The server under test.
    pub local: Arc<Target>,
    /// Its calendar home.
    pub local_home: String,
    /// The remote CalDAV server.
    pub remote: Arc<Target>,
    /// The remote account's calendar home.
    pub remote_home: String,
    /// `X-API-Key` of the management API.
    pub key: HeaderValue,
}

/// A source, its remote calendar and the mirror here.
pub struct Mirror {
    /// The source id (also the segment of both calendars).
    pub source: String,
    /// The remote calendar; its objects are `UID.ics`.
    pub remote_cal: Calendar,
    /// The mirror's calendar here.
    pub local_path: String,
    /// The dataset events the remote holds, by index.
    pub events: Vec<Event>,
    /// The revision each event is at on the remote.
    pub revs: Vec<u32>,
    /// The mirror's href here of each event (after [`Mirror::map_local`]).
    pub local: Vec<String>,
    /// The bench's own position in the remote's change log.
    token: String,
    /// Keep-alive connection to the server under test (syncs and checks).
    conn: Conn,
    /// Keep-alive connection to the remote, for untimed requests.
    remote_conn: Conn,
    remote: Arc<Target>,
    sync_path: String,
    key: HeaderValue,
    /// Seconds spent keeping the server's scheduler away before the remote calendar
    /// was made.
    pub waited_secs: f64,
    /// Seconds the fill of the remote calendar took.
    pub fill_secs: f64,
}

impl Mirror {
    /// Makes the source's calendar on the remote (it must not exist) and fills it with
    /// `events` (`UID.ics`, UIDs `SOURCE-SEED-NNNN`), once the server's scheduler is not
    /// about to pull the source ([`scheduler::keep_away`]); `direction` is what the source must be (`pull` or
    /// `both`).
    pub async fn create(
        servers: &Servers,
        source: &str,
        direction: &str,
        events: Vec<Event>,
        seed: u64,
    ) -> BenchResult<Mirror> {
        let mut conn = Conn::new(Arc::clone(&servers.local));
        let waited_secs = scheduler::keep_away(&mut conn, &servers.key, source, direction).await?;
        let mut remote_conn = Conn::new(Arc::clone(&servers.remote));
        let path = discover::make_calendar(&mut remote_conn, &servers.remote_home, source).await?;
        if last_segment(&path) != source {
            let _ = discover::delete(&mut remote_conn, &path).await;
            return Err(format!(
                "the remote already has a calendar {}{source}/: the remote workloads need a fresh remote (runbench.sh starts one)",
                servers.remote_home
            ));
        }
        let remote_cal = Calendar {
            path,
            prefix: format!("{source}-{seed}"),
        };
        let started = Instant::now();
        let specs = events.iter().map(|e| remote_cal.put(e, 0)).collect();
        let (samples, _) = run_pool(&servers.remote, FILL_CONCURRENCY, specs, None, put_ok).await;
        if let Some(problem) = samples.first_problem {
            return Err(format!("filling the remote calendar: {problem}"));
        }
        let fill_secs = started.elapsed().as_secs_f64();
        let n = events.len();
        let mut mirror = Mirror {
            source: source.to_string(),
            remote_cal,
            local_path: format!("{}{source}/", servers.local_home),
            revs: vec![0; n],
            local: Vec::new(),
            events,
            token: String::new(),
            conn,
            remote_conn,
            remote: Arc::clone(&servers.remote),
            sync_path: format!("/api/sources/{source}/sync"),
            key: servers.key.clone(),
            waited_secs,
            fill_secs,
        };
        let listing = mirror.remote_sync_collection(true).await?.1;
        if listing.len() != n {
            return Err(format!(
                "the remote lists {} objects in {} after {n} PUTs",
                listing.len(),
                mirror.remote_cal.path
            ));
        }
        Ok(mirror)
    }

    /// The timed `POST /api/sources/NAME/sync`: milliseconds from sending to having
    /// read the whole answer, and the answer.
    pub async fn sync(&mut self) -> BenchResult<(f64, Answer)> {
        let spec = ReqSpec::new(Method::POST, self.sync_path.as_str())
            .without_auth()
            .header(HeaderName::from_static("x-api-key"), self.key.clone());
        let started = Instant::now();
        let resp = self.conn.send(&spec).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if resp.status != 200 {
            return Err(status_error("POST", &spec.path, resp.status, &resp.body));
        }
        let answer = Answer::parse(&resp.body).map_err(|e| format!("POST {}: {e}", spec.path))?;
        Ok((ms, answer))
    }

    /// The remote's own time for what a sync asks of it: RFC 6578 sync-collection from
    /// the bench's token, on a new connection as the server's client opens one per
    /// request. Returns the milliseconds and the hrefs listed as changed; the bench's
    /// token moves on. `untimed` uses the keep-alive connection instead.
    pub async fn remote_sync_collection(
        &mut self,
        untimed: bool,
    ) -> BenchResult<(f64, Vec<String>)> {
        let spec = sync_spec(&self.remote_cal, &self.token);
        let (ms, found) = self.remote_multistatus(&spec, untimed).await?;
        self.token = found
            .sync_token
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                format!(
                    "the remote's sync-collection of {} has no sync-token",
                    self.remote_cal.path
                )
            })?;
        let hrefs = found
            .responses
            .iter()
            .filter(|r| is_object(r))
            .map(|r| r.href.clone())
            .collect();
        Ok((ms, hrefs))
    }

    /// calendar-multiget of `hrefs` on the remote, on a new connection: milliseconds
    /// and the calendar-data returned.
    pub async fn remote_multiget(&mut self, hrefs: &[String]) -> BenchResult<(f64, Vec<String>)> {
        let spec = multiget_spec(&self.remote_cal.path, hrefs);
        let (ms, found) = self.remote_multistatus(&spec, false).await?;
        Ok((ms, calendar_data(&found)))
    }

    /// GET of event `i` on the remote (untimed): its text.
    pub async fn remote_text(&mut self, i: usize) -> BenchResult<String> {
        let href = self.remote_cal.href(i);
        let resp = self
            .remote_conn
            .send(&ReqSpec::new(Method::GET, href.as_str()))
            .await?;
        if resp.status != 200 {
            return Err(status_error("GET", &href, resp.status, &resp.body));
        }
        Ok(String::from_utf8_lossy(&resp.body).into_owned())
    }

    /// PUT of event `i`'s next revision on the remote (untimed); returns the revision.
    pub async fn edit_remote(&mut self, i: usize) -> BenchResult<u32> {
        self.revs[i] += 1;
        let spec = self.remote_cal.put(&self.events[i], self.revs[i]);
        let resp = self.remote_conn.send(&spec).await?;
        if !put_ok(resp.status) {
            return Err(status_error("PUT", &spec.path, resp.status, &resp.body));
        }
        Ok(self.revs[i])
    }

    /// PUT of event `i`'s next revision into the mirror here, by a client (untimed),
    /// with If-Match of the stored ETag; returns the revision.
    pub async fn edit_local(&mut self, i: usize) -> BenchResult<u32> {
        let href = self.local[i].clone();
        let got = self
            .conn
            .send(&ReqSpec::new(Method::GET, href.as_str()))
            .await?;
        if got.status != 200 {
            return Err(status_error("GET", &href, got.status, &got.body));
        }
        self.revs[i] += 1;
        let mut spec = ReqSpec::new(Method::PUT, href.as_str())
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            )
            .body(self.events[i].to_ics(&self.remote_cal.uid(i), self.revs[i]));
        if let Some(etag) = got.headers.get(ETAG) {
            spec = spec.header(IF_MATCH, etag.clone());
        }
        let resp = self.conn.send(&spec).await?;
        if !put_ok(resp.status) {
            return Err(status_error("PUT", &href, resp.status, &resp.body));
        }
        Ok(self.revs[i])
    }

    /// GET of event `i` in the mirror here (untimed): its text.
    pub async fn local_text(&mut self, i: usize) -> BenchResult<String> {
        let href = self.local[i].clone();
        let resp = self
            .conn
            .send(&ReqSpec::new(Method::GET, href.as_str()))
            .await?;
        if resp.status != 200 {
            return Err(status_error("GET", &href, resp.status, &resp.body));
        }
        Ok(String::from_utf8_lossy(&resp.body).into_owned())
    }

    /// Reads the mirror here (sync-collection, then calendar-multiget of every
    /// object) and records where each event is; an error unless it holds exactly
    /// the remote's events, each once.
    pub async fn map_local(&mut self) -> BenchResult<()> {
        let listing = Calendar {
            path: self.local_path.clone(),
            prefix: String::new(),
        };
        let found = self.local_multistatus(&sync_spec(&listing, "")).await?;
        let hrefs: Vec<String> = found
            .responses
            .iter()
            .filter(|r| is_object(r))
            .map(|r| discover::href_to_path(&r.href, &self.local_path))
            .collect();
        let n = self.events.len();
        if hrefs.len() != n {
            return Err(format!(
                "the mirror {} lists {} objects, not {n}",
                self.local_path,
                hrefs.len()
            ));
        }
        let mut local = vec![String::new(); n];
        for batch in hrefs.chunks(MULTIGET_BATCH) {
            let found = self
                .local_multistatus(&multiget_spec(&self.local_path, batch))
                .await?;
            for r in found.responses.iter().filter(|r| is_object(r)) {
                let text = r
                    .prop(CALDAV, "calendar-data")
                    .map(|d| d.text.as_str())
                    .unwrap_or("");
                let (uid, _) = crate::pull::uid_and_summary(text);
                let index = self.index_of(&uid).ok_or_else(|| {
                    format!("the mirror {} holds an object with UID {uid:?}, which is not on the remote", self.local_path)
                })?;
                if !local[index].is_empty() {
                    return Err(format!("the mirror holds UID {uid} twice"));
                }
                local[index] = discover::href_to_path(&r.href, &self.local_path);
            }
        }
        if let Some(missing) = local.iter().position(String::is_empty) {
            return Err(format!(
                "the mirror {} has no object with UID {}",
                self.local_path,
                self.remote_cal.uid(missing)
            ));
        }
        self.local = local;
        Ok(())
    }

    /// The dataset index of one of the remote's UIDs.
    fn index_of(&self, uid: &str) -> Option<usize> {
        let index = uid
            .strip_prefix(self.remote_cal.prefix.as_str())?
            .strip_prefix('-')?;
        let index: usize = index.parse().ok()?;
        (index < self.events.len() && self.remote_cal.uid(index) == uid).then_some(index)
    }

    async fn remote_multistatus(
        &mut self,
        spec: &ReqSpec,
        untimed: bool,
    ) -> BenchResult<(f64, Multistatus)> {
        let mut fresh = Conn::new(Arc::clone(&self.remote));
        let conn = if untimed {
            &mut self.remote_conn
        } else {
            &mut fresh
        };
        let started = Instant::now();
        let resp = conn.send(spec).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok((ms, multistatus_of(spec, resp.status, &resp.body)?))
    }

    async fn local_multistatus(&mut self, spec: &ReqSpec) -> BenchResult<Multistatus> {
        let resp = self.conn.send(spec).await?;
        multistatus_of(spec, resp.status, &resp.body)
    }
}

fn multistatus_of(spec: &ReqSpec, status: u16, body: &[u8]) -> BenchResult<Multistatus> {
    if status != 207 {
        return Err(status_error(spec.method.as_str(), &spec.path, status, body));
    }
    xml::multistatus(body).map_err(|e| format!("{} {}: {e}", spec.method, spec.path))
}

/// RFC 4791 §7.9 calendar-multiget of `hrefs` in the collection at `path`, Depth 1.
fn multiget_spec(path: &str, hrefs: &[String]) -> ReqSpec {
    let mut body = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>"#,
    );
    for h in hrefs {
        body.push_str(&format!("<D:href>{}</D:href>", escape(h.as_str())));
    }
    body.push_str("</C:calendar-multiget>");
    report(path, Some("1"), body)
}

fn calendar_data(found: &Multistatus) -> Vec<String> {
    found
        .responses
        .iter()
        .filter(|r| is_object(r))
        .filter_map(|r| r.prop(CALDAV, "calendar-data"))
        .map(|d| d.text.clone())
        .collect()
}
