//! Health, readiness and metrics endpoints.

use super::support::*;

#[tokio::test]
async fn health_and_ready_need_no_auth() {
    let s = TestServer::start().await;
    s.req("GET", "/api/health")
        .send()
        .await
        .status(200)
        .contains("\"status\":\"ok\"")
        .contains("\"version\"");
    s.req("GET", "/api/ready")
        .send()
        .await
        .status(200)
        .contains("ready");
}

#[tokio::test]
async fn metrics_count_requests_and_store_sizes() {
    let s = TestServer::start().await;
    s.alice("PUT", &format!("{CAL}m.ics"))
        .ical(&event("m", "x"))
        .send()
        .await
        .status(201);
    s.alice("PROPFIND", CAL).depth("1").send().await.status(207);
    let r = s.req("GET", "/metrics").send().await;
    // OpenMetrics text (`_total` samples, `# EOF`) must not be labelled as the
    // Prometheus 0.0.4 text format.
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    r.status(200)
        .contains("# TYPE tributary_store_writes counter")
        .contains("tributary_store_writes_total ")
        .contains("tributary_store_commits_total ")
        .contains("tributary_http_requests_total{method=\"PUT\",status=\"201\"} 1")
        .contains("tributary_http_request_duration_seconds_bucket{le=")
        .contains("tributary_resources 1")
        .contains("tributary_users 2")
        .lacks("alice-password");
}

#[tokio::test]
async fn metrics_token_and_switch() {
    let settings = tributary_server::ServerSettings {
        metrics_token: Some("tok".into()),
        ..Default::default()
    };
    let s = TestServer::with_settings(settings).await;
    s.req("GET", "/metrics").send().await.status(401);
    s.req("GET", "/metrics")
        .header("Authorization", "Bearer nope")
        .send()
        .await
        .status(401);
    s.req("GET", "/metrics")
        .header("Authorization", "Bearer tok")
        .send()
        .await
        .status(200);
    let off = tributary_server::ServerSettings {
        metrics_enabled: false,
        ..Default::default()
    };
    let s = TestServer::with_settings(off).await;
    s.req("GET", "/metrics").send().await.status(404);
}

#[tokio::test]
async fn http2_prior_knowledge_is_served() {
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let s = TestServer::start().await;
    let stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    use base64::Engine;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", ALICE.0, ALICE.1))
    );
    // Two requests multiplexed on one connection.
    let mut answers = Vec::new();
    for path in [CAL, HOME] {
        let req = hyper::Request::builder()
            .method("PROPFIND")
            .uri(format!("http://{}{path}", s.addr))
            .header("Authorization", &auth)
            .header("Depth", "0")
            .body(Full::new(bytes::Bytes::from(propfind("<d:displayname/>"))))
            .unwrap();
        answers.push(sender.send_request(req));
    }
    for a in answers {
        let resp = a.await.unwrap();
        assert_eq!(resp.status(), 207);
        assert_eq!(resp.version(), hyper::Version::HTTP_2);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("<D:multistatus"));
    }
}
