//! The optional plain-HTTP listener that only redirects to HTTPS: every request gets
//! 308 to the same host and path on the TLS port, and nothing is served in clear text.

use crate::body::Body;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// The Location for a request: `https://HOST[:PORT]PATH?QUERY`, the port omitted when
/// it is 443. The Host header's own port (the plain one) is replaced.
pub fn location<B>(req: &Request<B>, https_port: u16) -> Option<String> {
    let host = req.headers().get("host")?.to_str().ok()?.trim();
    // IPv6 literals keep their brackets: "[::1]:80" -> "[::1]".
    let name = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    };
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == '@')
    {
        return None;
    }
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    Some(format!("https://{name}{port}{path}"))
}

fn answer<B>(req: Request<B>, https_port: u16) -> Response<Body> {
    let b = match location(&req, https_port) {
        Some(loc) => Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header("Location", loc),
        None => Response::builder().status(StatusCode::BAD_REQUEST),
    };
    b.header("Content-Length", "0")
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// Serve redirects on `listener` until `shutdown` completes.
pub async fn serve_redirect(
    listener: TcpListener,
    https_port: u16,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            r = listener.accept() => match r { Ok(x) => x, Err(_) => continue },
        };
        tokio::spawn(async move {
            let svc = service_fn(move |req| async move {
                Ok::<_, std::convert::Infallible>(answer(req, https_port))
            });
            let mut b = http1::Builder::new();
            b.timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .keep_alive(false);
            let _ = b.serve_connection(TokioIo::new(stream), svc).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(host: &str, path: &str) -> Request<()> {
        Request::builder()
            .uri(path)
            .header("host", host)
            .body(())
            .unwrap()
    }

    #[test]
    fn keeps_host_and_path_and_swaps_the_port() {
        assert_eq!(
            location(&req("cal.example.org", "/.well-known/caldav"), 443).as_deref(),
            Some("https://cal.example.org/.well-known/caldav")
        );
        assert_eq!(
            location(&req("cal.example.org:80", "/dav/?x=1"), 8443).as_deref(),
            Some("https://cal.example.org:8443/dav/?x=1")
        );
        assert_eq!(
            location(&req("[::1]:80", "/"), 443).as_deref(),
            Some("https://[::1]/")
        );
        assert_eq!(location(&req("evil.example/x", "/"), 443), None);
    }
}
