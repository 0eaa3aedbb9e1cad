//! The fetcher against small servers on 127.0.0.1 that write canned bytes, including
//! broken ones. Every request in this file goes to loopback; the private-address cases are
//! refused before any packet is sent.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tributary_pull::{parse_feed_url, Client, FetchError, FetchOptions, Fetched, Validators};
use url::Url;

const ICS: &[u8] = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n";

/// What the test server does with one request.
enum Reply {
    Bytes(Vec<u8>),
    /// Write these bytes (maybe none), then neither write nor close for a minute.
    Hang(Vec<u8>),
}

type Handler = dyn Fn(&str, &str) -> Reply + Send + Sync;

/// A one-request-per-connection server on 127.0.0.1 that records every request head.
struct Server {
    addr: SocketAddr,
    heads: Arc<Mutex<Vec<String>>>,
    /// TCP connections accepted, whether or not a request followed.
    accepted: Arc<AtomicUsize>,
    scheme: &'static str,
}

impl Server {
    /// `handler` gets the path and the lower-cased request head.
    async fn start(handler: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> Server {
        Server::start_with(None, Arc::new(handler)).await
    }

    async fn start_tls(
        acceptor: TlsAcceptor,
        handler: impl Fn(&str, &str) -> Reply + Send + Sync + 'static,
    ) -> Server {
        Server::start_with(Some(acceptor), Arc::new(handler)).await
    }

    async fn start_with(tls: Option<TlsAcceptor>, handler: Arc<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let scheme = if tls.is_some() { "https" } else { "http" };
        let accepted = Arc::new(AtomicUsize::new(0));
        let (recorded, counter) = (heads.clone(), accepted.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let (handler, heads, tls) = (handler.clone(), recorded.clone(), tls.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(tcp).await {
                                answer(stream, &*handler, &heads).await;
                            }
                        }
                        None => answer(tcp, &*handler, &heads).await,
                    }
                });
            }
        });
        Server {
            addr,
            heads,
            accepted,
            scheme,
        }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}://{}{path}", self.scheme, self.addr)).unwrap()
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

async fn answer<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    handler: &Handler,
    heads: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    heads.lock().unwrap().push(head.clone());
    match handler(&path, &head) {
        Reply::Bytes(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            let _ = stream.shutdown().await;
        }
        Reply::Hang(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    }
}

fn raw(bytes: impl AsRef<[u8]>) -> Reply {
    Reply::Bytes(bytes.as_ref().to_vec())
}

/// A complete answer with Content-Length.
fn respond(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Reply::Bytes(bytes)
}

fn redirect(status: &str, location: &str) -> Reply {
    respond(status, &[("Location", location)], b"")
}

fn ok(body: &[u8]) -> Reply {
    respond("200 OK", &[("Content-Type", "text/calendar")], body)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// `body` in chunked transfer coding, `size` bytes a chunk.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn options(allow_private_networks: bool) -> FetchOptions {
    FetchOptions {
        allow_private_networks,
        max_bytes: 1 << 20,
        timeout: Duration::from_secs(5),
        user_agent: "tributary-test/1".to_string(),
        max_redirects: 5,
    }
}

/// A client that may reach loopback, which every test server is on.
fn client() -> Client {
    Client::with_roots(options(true), Vec::new())
}

fn client_with(edit: impl FnOnce(&mut FetchOptions)) -> Client {
    let mut opts = options(true);
    edit(&mut opts);
    Client::with_roots(opts, Vec::new())
}

async fn fetch(client: &Client, url: &Url) -> Result<Fetched, FetchError> {
    client.fetch(url, &Validators::default()).await
}

async fn body_of(client: &Client, url: &Url) -> Vec<u8> {
    match fetch(client, url).await {
        Ok(Fetched::Body { body, .. }) => body,
        other => panic!("expected a body from {url}, got {other:?}"),
    }
}

#[tokio::test]
async fn plain_200_returns_body_type_validators_and_sends_the_request_headers() {
    let server = Server::start(|_, _| {
        respond(
            "200 OK",
            &[
                ("Content-Type", "text/calendar; charset=utf-8"),
                ("ETag", "\"v1\""),
                ("Last-Modified", "Sun, 06 Dec 2026 10:00:00 GMT"),
            ],
            ICS,
        )
    })
    .await;
    let url = server.url("/cal.ics?token=1");
    let Fetched::Body {
        body,
        content_type,
        validators,
        final_url,
        permanent_url,
    } = fetch(&client(), &url).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(body, ICS);
    assert_eq!(
        content_type.as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        validators.last_modified.as_deref(),
        Some("Sun, 06 Dec 2026 10:00:00 GMT")
    );
    assert_eq!(final_url, url);
    assert_eq!(permanent_url, None);

    let head = &server.heads()[0];
    assert!(
        head.starts_with("get /cal.ics?token=1 http/1.1\r\n"),
        "{head}"
    );
    assert!(
        head.contains(&format!("host: {}\r\n", server.addr)),
        "{head}"
    );
    assert!(head.contains("user-agent: tributary-test/1\r\n"), "{head}");
    assert!(
        head.contains("accept: text/calendar, */*;q=0.5\r\n"),
        "{head}"
    );
    assert!(head.contains("accept-encoding: gzip\r\n"), "{head}");
    assert!(!head.contains("if-none-match"), "{head}");
    assert!(!head.contains("authorization"), "{head}");
}

#[tokio::test]
async fn validators_are_sent_and_304_is_not_modified() {
    let server = Server::start(|_, head| {
        if head.contains("if-none-match: \"v1\"\r\n") {
            respond("304 Not Modified", &[("ETag", "\"v1\"")], b"")
        } else {
            ok(ICS)
        }
    })
    .await;
    let cond = Validators {
        etag: Some("\"v1\"".to_string()),
        last_modified: Some("Sun, 06 Dec 2026 10:00:00 GMT".to_string()),
    };
    let fetched = client().fetch(&server.url("/"), &cond).await.unwrap();
    assert!(
        matches!(
            fetched,
            Fetched::NotModified {
                permanent_url: None
            }
        ),
        "{fetched:?}"
    );
    let head = &server.heads()[0];
    assert!(
        head.contains("if-modified-since: sun, 06 dec 2026 10:00:00 gmt\r\n"),
        "{head}"
    );
}

#[tokio::test]
async fn gzip_body_is_decoded_with_and_without_chunking() {
    let big_ics = ICS.repeat(200);
    let compressed = gzip(&big_ics);
    let whole = compressed.clone();
    let server = Server::start(move |path, _| match path {
        "/length" => respond("200 OK", &[("Content-Encoding", "gzip")], &whole),
        _ => {
            let mut bytes =
                b"HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
                    .to_vec();
            bytes.extend(chunked(&whole, 7));
            raw(bytes)
        }
    })
    .await;
    assert_eq!(body_of(&client(), &server.url("/length")).await, big_ics);
    assert_eq!(body_of(&client(), &server.url("/chunked")).await, big_ics);
}

#[tokio::test]
async fn gzip_bomb_stops_at_max_bytes() {
    let bomb = gzip(&vec![0u8; 4 << 20]);
    assert!(bomb.len() < 64 * 1024, "the bomb is small on the wire");
    let server =
        Server::start(move |_, _| respond("200 OK", &[("Content-Encoding", "gzip")], &bomb)).await;
    let client = client_with(|o| o.max_bytes = 64 * 1024);
    let result = fetch(&client, &server.url("/")).await;
    assert!(
        matches!(result, Err(FetchError::TooLarge(65536))),
        "{result:?}"
    );
}

#[tokio::test]
async fn plain_body_over_max_bytes_is_too_large_with_or_without_length() {
    let body = vec![b'x'; 5000];
    let server = Server::start(move |path, _| match path {
        "/length" => ok(&body),
        "/close" => {
            let mut bytes = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
            bytes.extend_from_slice(&body);
            raw(bytes)
        }
        _ => {
            let mut bytes = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            bytes.extend(chunked(&body, 500));
            raw(bytes)
        }
    })
    .await;
    let client = client_with(|o| o.max_bytes = 4000);
    for path in ["/length", "/close", "/chunked"] {
        let result = fetch(&client, &server.url(path)).await;
        assert!(
            matches!(result, Err(FetchError::TooLarge(4000))),
            "{path}: {result:?}"
        );
    }
    // The same bodies fit under a larger cap, so the cap is what refused them.
    let client = client_with(|o| o.max_bytes = 5000);
    for path in ["/length", "/close", "/chunked"] {
        assert_eq!(
            body_of(&client, &server.url(path)).await.len(),
            5000,
            "{path}"
        );
    }
}

#[tokio::test]
async fn short_content_length_is_truncated() {
    let server =
        Server::start(|_, _| raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b")).await;
    let result = fetch(&client(), &server.url("/")).await;
    assert!(
        matches!(result, Err(FetchError::Truncated(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn broken_chunked_body_is_truncated() {
    let server = Server::start(|path, _| {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        match path {
            "/garbage" => raw(format!("{head}5\r\nhello\r\nzz\r\nmore\r\n")),
            _ => raw(format!("{head}5\r\nhello\r\n10\r\nonly")),
        }
    })
    .await;
    for path in ["/garbage", "/cut"] {
        let result = fetch(&client(), &server.url(path)).await;
        assert!(
            matches!(result, Err(FetchError::Truncated(_))),
            "{path}: {result:?}"
        );
    }
}

#[tokio::test]
async fn gzip_stream_cut_short_is_truncated() {
    let compressed = gzip(&ICS.repeat(50));
    let half = compressed[..compressed.len() / 2].to_vec();
    let server =
        Server::start(move |_, _| respond("200 OK", &[("Content-Encoding", "gzip")], &half)).await;
    let result = fetch(&client(), &server.url("/")).await;
    assert!(
        matches!(result, Err(FetchError::Truncated(_))),
        "{result:?}"
    );
}

#[tokio::test]
async fn hanging_server_times_out() {
    let server = Server::start(|path, _| match path {
        "/body" => Reply::Hang(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nstarted".to_vec()),
        _ => Reply::Hang(Vec::new()),
    })
    .await;
    let client = client_with(|o| o.timeout = Duration::from_secs(1));
    // No answer at all, then a body that stops mid-way without closing.
    for path in ["/head", "/body"] {
        let started = Instant::now();
        let result = fetch(&client, &server.url(path)).await;
        assert!(
            matches!(result, Err(FetchError::Timeout)),
            "{path}: {result:?}"
        );
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3));
    }
}

#[tokio::test]
async fn permanent_redirect_chain_gives_permanent_url() {
    let server = Server::start(|path, _| match path {
        "/a" => redirect("301 Moved Permanently", "/b"),
        "/b" => redirect("308 Permanent Redirect", "c?x=1"),
        "/c?x=1" => ok(ICS),
        "/d" => redirect("301 Moved Permanently", "/e"),
        "/e" => redirect("302 Found", "/c?x=1"),
        _ => respond("404 Not Found", &[], b""),
    })
    .await;
    let Fetched::Body {
        final_url,
        permanent_url,
        ..
    } = fetch(&client(), &server.url("/a")).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(final_url, server.url("/c?x=1"));
    assert_eq!(permanent_url, Some(server.url("/c?x=1")));

    let Fetched::Body {
        final_url,
        permanent_url,
        ..
    } = fetch(&client(), &server.url("/d")).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert_eq!(final_url, server.url("/c?x=1"));
    assert_eq!(permanent_url, None);
}

#[tokio::test]
async fn five_redirects_are_followed_and_the_sixth_is_refused() {
    let server = Server::start(|path, _| {
        let n: u32 = path.trim_start_matches("/n/").parse().unwrap_or(0);
        if n == 0 {
            ok(ICS)
        } else {
            redirect("307 Temporary Redirect", &format!("/n/{}", n - 1))
        }
    })
    .await;
    assert_eq!(body_of(&client(), &server.url("/n/5")).await, ICS);
    let result = fetch(&client(), &server.url("/n/6")).await;
    match result {
        Err(FetchError::Redirect(why)) => assert!(why.contains("more than 5"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        server.heads().len(),
        6 + 6,
        "the seventh URL is never requested"
    );
}

#[tokio::test]
async fn redirect_loop_is_refused() {
    let server = Server::start(|path, _| match path {
        "/x" => redirect("302 Found", "/y"),
        _ => redirect("301 Moved Permanently", "/x"),
    })
    .await;
    let result = fetch(&client(), &server.url("/x")).await;
    match result {
        Err(FetchError::Redirect(why)) => assert!(why.contains("loop"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.heads().len(), 2);
}

#[tokio::test]
async fn bad_redirects_are_refused() {
    let server = Server::start(|path, _| match path {
        "/nowhere" => respond("302 Found", &[], b""),
        "/file" => redirect("302 Found", "file:///etc/passwd"),
        _ => redirect("302 Found", "http://[::1"),
    })
    .await;
    let result = fetch(&client(), &server.url("/nowhere")).await;
    assert!(matches!(result, Err(FetchError::Redirect(_))), "{result:?}");
    let result = fetch(&client(), &server.url("/file")).await;
    assert!(matches!(result, Err(FetchError::Refused(_))), "{result:?}");
    let result = fetch(&client(), &server.url("/bad")).await;
    assert!(matches!(result, Err(FetchError::Redirect(_))), "{result:?}");
}

#[tokio::test]
async fn not_found_is_status() {
    let server = Server::start(|_, _| respond("404 Not Found", &[], b"no such feed")).await;
    let result = fetch(&client(), &server.url("/")).await;
    assert!(matches!(result, Err(FetchError::Status(404))), "{result:?}");
}

fn tls_identity() -> (TlsAcceptor, rustls::pki_types::CertificateDer<'static>) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = made.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    (TlsAcceptor::from(Arc::new(config)), cert)
}

#[tokio::test]
async fn https_works_and_a_downgrade_to_http_is_refused() {
    let plain = Server::start(|_, _| ok(ICS)).await;
    let (acceptor, cert) = tls_identity();
    let target = plain.url("/ok").to_string();
    let secure = Server::start_tls(acceptor, move |path, _| match path {
        "/ok" => ok(ICS),
        _ => redirect("302 Found", &target),
    })
    .await;
    let client = Client::with_roots(options(true), vec![cert]);
    assert_eq!(body_of(&client, &secure.url("/ok")).await, ICS);

    let result = fetch(&client, &secure.url("/down")).await;
    assert!(matches!(result, Err(FetchError::Redirect(_))), "{result:?}");
    assert_eq!(
        plain.accepted.load(Ordering::SeqCst),
        0,
        "nothing went over plain HTTP"
    );

    // Without the root the handshake fails, and says so.
    let result = fetch(&self::client(), &secure.url("/ok")).await;
    match result {
        Err(FetchError::Connect(why)) => assert!(why.contains("TLS"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn userinfo_is_sent_as_basic_and_kept_on_the_same_origin_only() {
    let other = Server::start(|_, _| ok(ICS)).await;
    let elsewhere = other.url("/landed").to_string();
    let server = Server::start(move |path, _| match path {
        "/same" => redirect("301 Moved Permanently", "/auth"),
        "/away" => redirect("302 Found", &elsewhere),
        _ => ok(ICS),
    })
    .await;
    let with_password = |path: &str| {
        let mut url = server.url(path);
        url.set_username("alice").unwrap();
        url.set_password(Some("s:cret@x")).unwrap();
        url
    };
    let expected = format!(
        "authorization: basic {}\r\n",
        base64::engine::general_purpose::STANDARD
            .encode("alice:s:cret@x")
            .to_ascii_lowercase()
    );

    assert_eq!(body_of(&client(), &with_password("/auth")).await, ICS);
    assert!(
        server.heads()[0].contains(&expected),
        "{}",
        server.heads()[0]
    );

    let Fetched::Body { permanent_url, .. } =
        fetch(&client(), &with_password("/same")).await.unwrap()
    else {
        panic!("expected a body");
    };
    assert!(
        server.heads()[2].contains(&expected),
        "kept on the same origin"
    );
    assert_eq!(permanent_url, Some(with_password("/auth")));

    assert_eq!(body_of(&client(), &with_password("/away")).await, ICS);
    assert!(server.heads()[3].contains(&expected));
    assert!(
        !other.heads()[0].contains("authorization"),
        "dropped on a change of origin"
    );
}

/// Every error a URL with a password can produce, as text, with neither name nor secret.
#[tokio::test]
async fn userinfo_never_appears_in_errors() {
    let server = Server::start(|path, _| match path {
        "/loop" => redirect("302 Found", "/loop"),
        _ => respond("404 Not Found", &[], b""),
    })
    .await;
    let (acceptor, _) = tls_identity();
    let secure = Server::start_tls(acceptor, |_, _| ok(ICS)).await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let secret = |base: &str| parse_feed_url(&base.replace("://", "://alice:hunter2@")).unwrap();
    let cases = [
        (client(), secret(server.url("/loop").as_str())),
        (client(), secret(server.url("/missing").as_str())),
        (client(), secret(&format!("http://127.0.0.1:{closed}/"))),
        (
            Client::with_roots(options(false), Vec::new()),
            secret(server.url("/").as_str()),
        ),
        (client(), secret(secure.url("/").as_str())),
    ];
    for (client, url) in cases {
        let error = fetch(&client, &url).await.unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(
            !text.contains("alice") && !text.contains("hunter2"),
            "{text}"
        );
    }
}

const LOOPBACK_SPELLINGS: [&str; 8] = [
    "127.0.0.1",
    "localhost",
    "[::1]",
    "127.1",
    "0x7f000001",
    "2130706433",
    "[::ffff:127.0.0.1]",
    "0.0.0.0",
];

#[tokio::test]
async fn every_loopback_spelling_is_refused_without_allow_private_networks() {
    let server = Server::start(|_, _| ok(ICS)).await;
    let client = Client::with_roots(options(false), Vec::new());
    for host in LOOPBACK_SPELLINGS {
        let url = parse_feed_url(&format!("http://{host}:{}/cal.ics", server.addr.port())).unwrap();
        match fetch(&client, &url).await {
            Err(FetchError::Refused(why)) => {
                assert!(why.contains("private address"), "{host}: {why}");
                assert!(
                    why.contains("allow_private_networks = true"),
                    "{host}: {why}"
                );
            }
            other => panic!("{host}: expected Refused, got {other:?}"),
        }
    }
    assert_eq!(
        server.accepted.load(Ordering::SeqCst),
        0,
        "no connection reached the server"
    );
    let url = parse_feed_url(&format!("http://127.0.0.1:{}/", server.addr.port())).unwrap();
    let error = fetch(&client, &url).await.unwrap_err().to_string();
    assert_eq!(
        error,
        "127.0.0.1 is a private address; set [pull] allow_private_networks = true to allow it"
    );
}

#[tokio::test]
async fn loopback_spellings_reach_the_server_with_allow_private_networks() {
    let server = Server::start(|_, _| ok(ICS)).await;
    let reach_v4 = [
        "127.0.0.1",
        "localhost",
        "127.1",
        "0x7f000001",
        "2130706433",
        "[::ffff:127.0.0.1]",
    ];
    for host in reach_v4 {
        let url = parse_feed_url(&format!("http://{host}:{}/c.ics", server.addr.port())).unwrap();
        assert_eq!(body_of(&client(), &url).await, ICS, "{host}");
    }
    assert_eq!(server.heads().len(), reach_v4.len());
}

#[tokio::test]
async fn client_new_loads_system_roots_and_fetches() {
    let server = Server::start(|_, _| ok(ICS)).await;
    let client = Client::new(options(true));
    assert_eq!(body_of(&client, &server.url("/")).await, ICS);
}

/// The scheduler spawns fetches on the multi-threaded runtime.
#[test]
fn fetch_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = client();
    let url = Url::parse("http://127.0.0.1:9/").unwrap();
    let cond = Validators::default();
    let future = client.fetch(&url, &cond);
    assert_send(&future);
    assert_send(&client);
}
