"""pytest fixtures for Tributary's interoperability tests.

See interop_support.py for the environment variables that point the suite at
a running server; tests/interop/run.sh sets them all.
"""

from __future__ import annotations

import os
import uuid

import pytest

from interop_support import RawHttp, Server, caldav, env_server, make_client
from remote_support import (
    ADMIN_PASSWORD,
    LOCAL_PASSWORD,
    RADICALE_PASSWORD,
    REMOTE_PASSWORD,
    RadicaleServer,
    TributaryInstance,
    tail,
)


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


# --------------------------------------------------------------------------
# Real servers started by the tests themselves (test_remote_caldav.py): Radicale and
# Tributary instances of their own. Each fixture records its log on the test item;
# a failed test's report ends with the tail of every such log.

@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for name, path in getattr(item, "service_logs", []):
            report.sections.append((f"{name} log ({path})", tail(path, 80)))
    return report


def _record_log(request, name: str, path) -> None:
    logs = getattr(request.node, "service_logs", None)
    if logs is None:
        logs = request.node.service_logs = []
    logs.append((name, path))


def _tributary_binary() -> str:
    binary = os.environ.get("TRIBUTARY_BIN")
    if not binary:
        pytest.skip("TRIBUTARY_BIN is not set (run.sh sets it)")
    if caldav is None:
        pytest.skip("the python 'caldav' package is not installed")
    return binary


@pytest.fixture
def radicale_server(tmp_path, request):
    """Radicale on a free loopback port: user alice (RADICALE_PASSWORD), htpasswd auth
    with plain passwords, storage under the test's tmp dir. `make_calendar(cal_id,
    name)` creates a calendar with MKCALENDAR; `stop()`/`start()` restart it on the
    same port with the same storage."""
    if caldav is None:
        pytest.skip("the python 'caldav' package is not installed")
    root = tmp_path / "radicale"
    root.mkdir()
    srv = RadicaleServer(root, {"alice": RADICALE_PASSWORD})
    _record_log(request, "radicale", srv.log)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _tributary(tmp_path, request, name: str, users: dict[str, str]):
    inst = TributaryInstance(_tributary_binary(), tmp_path / name)
    _record_log(request, name, inst.log)
    for user, password in users.items():
        inst.add_user(user, password)
    inst.add_user("admin", ADMIN_PASSWORD, admin=True)
    inst.start()
    return inst


@pytest.fixture
def local_tributary(tmp_path, request):
    """A Tributary of the test's own (not run.sh's server, so it may be killed),
    `[pull] allow_private_networks = true`, users alice (LOCAL_PASSWORD) and admin
    (ADMIN_PASSWORD, --admin) made with the binary's `user add`."""
    inst = _tributary(tmp_path, request, "tributary-local", {"alice": LOCAL_PASSWORD})
    try:
        yield inst
    finally:
        inst.stop()


@pytest.fixture
def second_tributary(tmp_path, request):
    """Another Tributary from the same binary, as a remote: user bob (REMOTE_PASSWORD)."""
    inst = _tributary(tmp_path, request, "tributary-remote", {"bob": REMOTE_PASSWORD})
    try:
        yield inst
    finally:
        inst.stop()
