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
    r.status(200)
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
