//! A scripted feed host on loopback for the pull tests: each path answers what the
//! test last set for it (a whole response, raw bytes for broken transfers, or
//! silence), with conditional GET done the way a real host does it, and every
//! connection and request recorded.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a path answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A complete response (Content-Length added). A 200 with an `ETag` or
    /// `Last-Modified` header answers 304 to a request whose `If-None-Match` or
    /// `If-Modified-Since` matches it.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// These bytes as the whole response, then the connection closes.
    Raw(Vec<u8>),
    /// Read the request and never answer (until the client leaves, or 60 s).
    Hang,
}

impl Reply {
    /// 200 with `text/calendar` and this body.
    pub fn calendar(body: &str) -> Reply {
        Reply::status(200, body.as_bytes()).header("Content-Type", "text/calendar; charset=utf-8")
    }

    /// `status` with this body and no headers.
    pub fn status(status: u16, body: &[u8]) -> Reply {
        Reply::Http {
            status,
            headers: Vec::new(),
            body: body.to_vec(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::status(status, b"").header("Location", location)
    }

    /// The same reply with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name.to_string(), value.to_string()));
        }
        self
    }
}

/// One request as the host read it: path and headers (names in lower case).
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The value of a header (`name` in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Reply>,
    connections: usize,
    requests: Vec<Seen>,
}

/// The host: listening on 127.0.0.1 (and [::1] on the same port when the machine has
/// IPv6 loopback) until dropped.
pub struct FeedServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    listeners: Vec<SocketAddr>,
}

impl FeedServer {
    pub fn start() -> FeedServer {
        let v4 = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = v4.local_addr().unwrap();
        let state: Arc<Mutex<State>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut listeners = vec![addr];
        let mut all = vec![v4];
        if let Ok(v6) = TcpListener::bind(("::1", addr.port())) {
            listeners.push(v6.local_addr().unwrap());
            all.push(v6);
        }
        for listener in all {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || accept(listener, state, stop));
        }
        FeedServer {
            addr,
            state,
            stop,
            listeners,
        }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What `path` answers from now on.
    pub fn set(&self, path: &str, reply: Reply) {
        self.state
            .lock()
            .unwrap()
            .routes
            .insert(path.to_string(), reply);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// Requests read so far, oldest first.
    pub fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The latest request.
    pub fn last_request(&self) -> Seen {
        self.requests()
            .pop()
            .expect("no request reached the feed host")
    }
}

impl Drop for FeedServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for addr in &self.listeners {
            // Wakes the accept loop so that it sees the flag.
            let _ = TcpStream::connect_timeout(addr, Duration::from_secs(1));
        }
    }
}

fn accept(listener: TcpListener, state: Arc<Mutex<State>>, stop: Arc<AtomicBool>) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(conn) = conn else { continue };
        state.lock().unwrap().connections += 1;
        let state = state.clone();
        std::thread::spawn(move || serve(conn, &state));
    }
}

fn serve(mut conn: TcpStream, state: &Mutex<State>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(60)));
    let Some(seen) = read_request(&mut conn) else {
        return;
    };
    let reply = {
        let mut st = state.lock().unwrap();
        st.requests.push(seen.clone());
        st.routes.get(&seen.path).cloned()
    };
    let bytes = match reply {
        None => response(404, &[], b"no such feed"),
        Some(Reply::Raw(bytes)) => bytes,
        Some(Reply::Hang) => {
            // Returns when the client gives up (EOF or reset) or after the timeout.
            let mut sink = [0u8; 256];
            while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
        Some(Reply::Http {
            status,
            headers,
            body,
        }) => {
            if status == 200 && not_modified(&seen, &headers) {
                let validators: Vec<(String, String)> = headers
                    .into_iter()
                    .filter(|(k, _)| {
                        k.eq_ignore_ascii_case("etag") || k.eq_ignore_ascii_case("last-modified")
                    })
                    .collect();
                response(304, &validators, b"")
            } else {
                response(status, &headers, &body)
            }
        }
    };
    let _ = conn.write_all(&bytes);
    let _ = conn.flush();
}

/// Whether the request's validators match the reply's (RFC 9110 §13.1.1-2; a weak
/// comparison is what hosts do for GET).
fn not_modified(seen: &Seen, headers: &[(String, String)]) -> bool {
    let ours = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if let (Some(etag), Some(sent)) = (ours("etag"), seen.header("if-none-match")) {
        return sent.split(',').any(|t| t.trim() == etag);
    }
    matches!((ours("last-modified"), seen.header("if-modified-since")), (Some(a), Some(b)) if a == b)
}

fn read_request(conn: &mut TcpStream) -> Option<Seen> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if conn.read(&mut byte).ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines.next()?.split(' ').nth(1)?.to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some(Seen { path, headers })
}

fn response(status: u16, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\n",
        reason(status)
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    if status != 304 {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        404 => "Not Found",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// `data` as a gzip member (RFC 1952) of stored deflate blocks (RFC 1951 §3.2.4):
/// valid for any decoder, with no compression library in the tests.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// CRC-32 (IEEE 802.3, reflected), bit by bit: the feeds here are small.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn crc32_of_the_check_string() {
    // The standard check value of CRC-32/ISO-HDLC.
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}
