"""Support code for Tributary's interoperability tests (used by conftest.py).

The tests talk to an already running server.  Where it is and who to log in as
comes from the environment (tests/interop/run.sh sets all of it):

    TRIBUTARY_URL             base URL, e.g. http://127.0.0.1:5232
    TRIBUTARY_USER            user the tests run as (e.g. alice)
    TRIBUTARY_PASSWORD        that user's password
    TRIBUTARY_OTHER_USER      a second user whose data must stay invisible (optional)
    TRIBUTARY_OTHER_PASSWORD  the second user's password (optional)

The URL layout defaults to Tributary's (DAV root /dav/, /dav/principals/{user}/,
/dav/calendars/{user}/, default calendar "default" named "Calendar").
TRIBUTARY_DAV_ROOT, TRIBUTARY_PRINCIPAL_PATH, TRIBUTARY_HOME_PATH and
TRIBUTARY_DEFAULT_CALENDAR override it, so the suite itself can be
sanity-checked against another server.
"""

from __future__ import annotations

import base64
import http.client
import os
import uuid
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

try:
    import caldav
except ImportError:  # pragma: no cover - reported as a clear skip instead
    caldav = None

# Every socket operation of the raw client is bounded.
HTTP_TIMEOUT = float(os.environ.get("TRIBUTARY_HTTP_TIMEOUT", "15"))


@dataclass(frozen=True)
class Server:
    url: str  # base URL without trailing slash
    user: str
    password: str
    other_user: str | None
    other_password: str | None
    dav_root: str
    principal_tmpl: str
    home_tmpl: str
    default_calendar: str

    def abs(self, path_or_url: str) -> str:
        """Absolute URL for a path (or pass an absolute URL through)."""
        return urljoin(self.url + "/", str(path_or_url))

    def principal_path(self, user: str | None = None) -> str:
        return self.principal_tmpl.format(user=user or self.user)

    def home_path(self, user: str | None = None) -> str:
        return self.home_tmpl.format(user=user or self.user)

    def default_calendar_path(self, user: str | None = None) -> str:
        return self.home_path(user) + self.default_calendar + "/"


@dataclass
class Response:
    status: int
    reason: str
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def __repr__(self) -> str:  # shows up in assertion messages
        return f"<Response {self.status} {self.reason} {self.text[:300]!r}>"


class RawHttp:
    """A tiny HTTP client that sends exactly what it is given.

    No redirects are followed, nothing is re-encoded, and each request uses a
    fresh connection, so the tests see precisely what the server answers.
    """

    def __init__(self, server: Server, user: str | None, password: str | None):
        self.server = server
        self.user = user
        self.password = password

    def with_auth(self, user: str | None, password: str | None) -> "RawHttp":
        return RawHttp(self.server, user, password)

    def request(
        self,
        method: str,
        path_or_url: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        url = urlsplit(self.server.abs(path_or_url))
        target = url.path or "/"
        if url.query:
            target += "?" + url.query
        hdrs = {"User-Agent": "tributary-interop-tests"}
        if self.user is not None:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            hdrs["Authorization"] = "Basic " + token
        hdrs.update(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=HTTP_TIMEOUT)
        try:
            conn.request(method, target, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = b"" if method == "HEAD" else resp.read()
            return Response(resp.status, resp.reason, resp.msg, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def propfind(self, path, body=None, depth="0", headers=None):
        hdrs = {"Depth": depth}
        if body is not None:
            hdrs["Content-Type"] = "application/xml; charset=utf-8"
        hdrs.update(headers or {})
        return self.request("PROPFIND", path, body=body, headers=hdrs)


def env_server() -> Server | None:
    url = os.environ.get("TRIBUTARY_URL")
    if not url:
        return None
    return Server(
        url=url.rstrip("/"),
        user=os.environ.get("TRIBUTARY_USER", "alice"),
        password=os.environ.get("TRIBUTARY_PASSWORD", ""),
        other_user=os.environ.get("TRIBUTARY_OTHER_USER") or None,
        other_password=os.environ.get("TRIBUTARY_OTHER_PASSWORD") or None,
        dav_root=os.environ.get("TRIBUTARY_DAV_ROOT", "/dav/"),
        principal_tmpl=os.environ.get("TRIBUTARY_PRINCIPAL_PATH", "/dav/principals/{user}/"),
        home_tmpl=os.environ.get("TRIBUTARY_HOME_PATH", "/dav/calendars/{user}/"),
        default_calendar=os.environ.get("TRIBUTARY_DEFAULT_CALENDAR", "default"),
    )


def make_client(server: Server, path: str | None = None, **kw) -> "caldav.DAVClient":
    return caldav.DAVClient(
        url=server.abs(server.dav_root if path is None else path),
        username=kw.pop("username", server.user),
        password=kw.pop("password", server.password),
        timeout=int(HTTP_TIMEOUT),
        **kw,
    )


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"
