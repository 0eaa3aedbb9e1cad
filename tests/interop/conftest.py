"""pytest fixtures for Tributary's interoperability tests.

See interop_support.py for the environment variables that point the suite at
a running server; tests/interop/run.sh sets them all.
"""

from __future__ import annotations

import uuid

import pytest

from interop_support import RawHttp, Server, caldav, env_server, make_client


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "reports: needs REPORT support (calendar-query, calendar-multiget, "
        "sync-collection); deselected with -m 'not reports' until the server has it",
    )
    config.addinivalue_line(
        "markers",
        "differential: the seeded differential test of time-range queries against "
        "recurring-ical-events (test_differential.py)",
    )


@pytest.fixture(scope="session")
def server() -> Server:
    srv = env_server()
    if srv is None:
        pytest.skip("TRIBUTARY_URL is not set; start a server (see tests/interop/run.sh)")
    if caldav is None:
        pytest.skip("the python 'caldav' package is not installed")
    return srv


@pytest.fixture(scope="session")
def http(server: Server) -> RawHttp:
    """Raw HTTP client authenticated as the test user."""
    return RawHttp(server, server.user, server.password)


@pytest.fixture(scope="session")
def anon_http(server: Server) -> RawHttp:
    """Raw HTTP client that sends no credentials."""
    return RawHttp(server, None, None)


@pytest.fixture
def client(server: Server):
    """A caldav.DAVClient pointed at the DAV root, closed after the test."""
    c = make_client(server)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def principal(client):
    return client.principal()


@pytest.fixture
def scratch_calendar(principal):
    """A fresh calendar created with MKCALENDAR, deleted afterwards."""
    cal_id = "interop-" + uuid.uuid4().hex[:12]
    cal = principal.make_calendar(name=f"Interop {cal_id}", cal_id=cal_id)
    try:
        yield cal
    finally:
        try:
            cal.delete(wipe=False)
        except Exception:  # cleanup must not mask the test's own result
            pass
