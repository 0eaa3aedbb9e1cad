"""/metrics read by a parser nobody here wrote: the Prometheus project's python
client, whose OpenMetrics parser refuses text that breaks the OpenMetrics 1.0 text
format (a missing `# EOF`, counter samples without `_total`, bad escaping)."""

from __future__ import annotations

from prometheus_client.openmetrics.parser import text_string_to_metric_families

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def test_metrics_are_openmetrics_text(server, http, anon_http):
    # One authenticated request first, so the request counter has a sample.
    assert http.propfind(server.home_path()).status == 207
    r = anon_http.get("/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type") == OPENMETRICS
    families = {f.name: f for f in text_string_to_metric_families(r.text)}

    requests = families["tributary_http_requests"]
    assert requests.type == "counter"
    propfinds = [
        s
        for s in requests.samples
        if s.name == "tributary_http_requests_total"
        and s.labels == {"method": "PROPFIND", "status": "207"}
    ]
    assert propfinds and propfinds[0].value >= 1, requests.samples

    for name in ("tributary_store_writes", "tributary_store_commits"):
        family = families[name]
        assert family.type == "counter", family
        assert [s.name for s in family.samples] == [name + "_total"], family.samples
    assert families["tributary_users"].type == "gauge"
