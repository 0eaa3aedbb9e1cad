"""Interoperability tests: the python `caldav` client (and a raw HTTP client)
against a running Tributary server.

Only what Tributary supports today is exercised here: discovery, PROPFIND,
PROPPATCH, MKCALENDAR, MKCOL, GET/HEAD/PUT/DELETE with preconditions, and
authentication.  Anything that needs REPORT lives in test_caldav_reports.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urljoin, urlsplit

import caldav
import pytest
from caldav.elements import dav
from caldav.elements.ical import CalendarColor
from caldav.lib import error as caldav_error

import ical_samples
from interop_support import make_client, unique

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
APPLE_ICAL = "http://apple.com/ns/ical/"


# --------------------------------------------------------------------------
# helpers


def path_of(url) -> str:
    return urlsplit(str(url)).path


def multistatus(resp) -> dict[str, dict[str, tuple[str, ET.Element]]]:
    """Parse a 207 body into {href path: {"{ns}name": (status, element)}}."""
    assert resp.status == 207, resp
    root = ET.fromstring(resp.body)
    assert root.tag == f"{{{DAV}}}multistatus", resp
    out: dict[str, dict[str, tuple[str, ET.Element]]] = {}
    for r in root.findall(f"{{{DAV}}}response"):
        href = path_of(r.findtext(f"{{{DAV}}}href", "").strip())
        props = out.setdefault(href, {})
        for ps in r.findall(f"{{{DAV}}}propstat"):
            status = ps.findtext(f"{{{DAV}}}status", "")
            prop_el = ps.find(f"{{{DAV}}}prop")
            if prop_el is None:
                continue
            for prop in prop_el:
                props[prop.tag] = (status, prop)
    return out


def props_for(resp, path: str) -> dict[str, tuple[str, ET.Element]]:
    ms = multistatus(resp)
    for key in (path, path.rstrip("/"), path.rstrip("/") + "/"):
        if key in ms:
            return ms[key]
    raise AssertionError(f"{path} not in multistatus hrefs {list(ms)}")


def is_ok(status_line: str) -> bool:
    return " 200 " in f"{status_line} "


PROPFIND_TYPE_NAME = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:displayname/></d:prop></d:propfind>'
)


def resourcetypes(http, path: str) -> set[str]:
    props = props_for(http.propfind(path, PROPFIND_TYPE_NAME, depth="0"), path)
    status, elem = props[f"{{{DAV}}}resourcetype"]
    assert is_ok(status), status
    return {child.tag for child in elem}


def event_path(calendar, uid: str) -> str:
    return path_of(calendar.url).rstrip("/") + "/" + uid + ".ics"


# --------------------------------------------------------------------------
# server basics


def test_options_advertises_caldav(http, server):
    resp = http.request("OPTIONS", server.dav_root)
    assert resp.status in (200, 204), resp
    dav_header = resp.header("DAV") or ""
    tokens = {t.strip() for t in dav_header.split(",")}
    for needed in ("1", "3", "calendar-access", "extended-mkcol"):
        assert needed in tokens, f"DAV header {dav_header!r} lacks {needed}"


@pytest.mark.parametrize("method", ["GET", "PROPFIND"])
@pytest.mark.parametrize("authenticated", [True, False], ids=["auth", "anon"])
def test_well_known_caldav_redirects_to_dav_root(http, anon_http, server, method, authenticated):
    client = http if authenticated else anon_http
    headers = {"Depth": "0"} if method == "PROPFIND" else {}
    resp = client.request(method, "/.well-known/caldav", headers=headers)
    assert resp.status == 301, resp
    location = resp.header("Location")
    assert location, "301 without a Location header"
    target = urljoin(server.abs("/.well-known/caldav"), location)
    assert path_of(target) == server.dav_root


# --------------------------------------------------------------------------
# discovery with the caldav client


@pytest.mark.parametrize("start", ["dav_root", "/", "/.well-known/caldav"])
def test_discovery_finds_principal_home_and_default_calendar(server, start):
    # Note for the /.well-known/caldav case: python-caldav (niquests, like
    # requests) follows the 301 but drops the body, so the server sees a
    # body-less PROPFIND (= allprop, RFC 4918 9.1) on the DAV root.  Discovery
    # only works if that answer includes DAV:current-user-principal.
    start_path = server.dav_root if start == "dav_root" else start
    with make_client(server, start_path) as client:
        principal = client.principal()
        assert path_of(principal.url) == server.principal_path(), (
            "principal not found; for /.well-known/caldav the server must return "
            "DAV:current-user-principal to the body-less (allprop) PROPFIND that "
            "follows the redirect"
        )

        home = principal.calendar_home_set
        assert path_of(home.url) == server.home_path()

        calendars = principal.get_calendars()
        by_path = {path_of(c.url): c for c in calendars}
        default_path = server.default_calendar_path()
        assert default_path in by_path, f"default calendar not listed: {sorted(by_path)}"
        assert by_path[default_path].get_display_name() == "Calendar"


def test_default_calendar_is_a_vevent_calendar(principal, http, server):
    cal = principal.calendar(cal_url=server.abs(server.default_calendar_path()))
    assert cal.get_supported_components(with_fallback=False) == ["VEVENT"]
    types = resourcetypes(http, server.default_calendar_path())
    assert f"{{{DAV}}}collection" in types
    assert f"{{{CALDAV}}}calendar" in types


def test_principal_reports_calendar_home_set(http, server):
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">'
        "<d:prop><d:current-user-principal/><c:calendar-home-set/><d:resourcetype/></d:prop>"
        "</d:propfind>"
    )
    path = server.principal_path()
    props = props_for(http.propfind(path, body), path)
    status, cup = props[f"{{{DAV}}}current-user-principal"]
    assert is_ok(status)
    assert path_of(cup.findtext(f"{{{DAV}}}href", "").strip()) == path
    status, chs = props[f"{{{CALDAV}}}calendar-home-set"]
    assert is_ok(status)
    assert path_of(chs.findtext(f"{{{DAV}}}href", "").strip()) == server.home_path()
    status, rt = props[f"{{{DAV}}}resourcetype"]
    assert f"{{{DAV}}}principal" in {c.tag for c in rt}


# --------------------------------------------------------------------------
# calendar collections


def test_make_calendar_then_delete(principal, http, server):
    cal_id = "interop-mk-" + uuid.uuid4().hex[:8]
    name = f"Interop {cal_id}"
    cal = principal.make_calendar(name=name, cal_id=cal_id)
    try:
        assert path_of(cal.url) == server.home_path() + cal_id + "/"
        listed = {path_of(c.url): c for c in principal.get_calendars()}
        assert path_of(cal.url) in listed
        assert listed[path_of(cal.url)].get_display_name() == name
        types = resourcetypes(http, path_of(cal.url))
        assert f"{{{CALDAV}}}calendar" in types
    finally:
        cal.delete(wipe=False)
    resp = http.propfind(path_of(cal.url), PROPFIND_TYPE_NAME)
    assert resp.status == 404, resp


def test_mkcalendar_on_existing_collection_fails(principal, scratch_calendar):
    cal_id = path_of(scratch_calendar.url).rstrip("/").rsplit("/", 1)[-1]
    with pytest.raises(caldav_error.DAVError):
        principal.make_calendar(name="duplicate", cal_id=cal_id)


def test_calendar_color_proppatch_roundtrip(scratch_calendar, server):
    scratch_calendar.set_properties([CalendarColor("#FF5733FF")])
    # Read back through a fresh client so no client-side cache is involved.
    with make_client(server) as fresh:
        cal = caldav.Calendar(client=fresh, url=scratch_calendar.url)
        assert cal.get_property(CalendarColor()) == "#FF5733FF"
        assert any(
            path_of(c.url) == path_of(scratch_calendar.url)
            and c.get_property(CalendarColor(), use_cached=True) == "#FF5733FF"
            for c in fresh.principal().get_calendars()
        )


def test_calendar_color_raw_proppatch(scratch_calendar, http):
    path = path_of(scratch_calendar.url)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:propertyupdate xmlns:d="DAV:" xmlns:i="http://apple.com/ns/ical/">'
        "<d:set><d:prop><i:calendar-color>#00AA11FF</i:calendar-color></d:prop></d:set>"
        "</d:propertyupdate>"
    )
    resp = http.request(
        "PROPPATCH", path, body=body, headers={"Content-Type": "application/xml; charset=utf-8"}
    )
    props = props_for(resp, path)
    assert is_ok(props[f"{{{APPLE_ICAL}}}calendar-color"][0]), resp
    query = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:propfind xmlns:d="DAV:" xmlns:i="http://apple.com/ns/ical/">'
        "<d:prop><i:calendar-color/></d:prop></d:propfind>"
    )
    status, elem = props_for(http.propfind(path, query), path)[f"{{{APPLE_ICAL}}}calendar-color"]
    assert is_ok(status)
    assert (elem.text or "").strip() == "#00AA11FF"


def test_rename_calendar_with_proppatch(scratch_calendar, server):
    scratch_calendar.set_properties([dav.DisplayName("Renamed ✓ calendar")])
    with make_client(server) as fresh:
        cal = caldav.Calendar(client=fresh, url=scratch_calendar.url)
        assert cal.get_property(dav.DisplayName()) == "Renamed ✓ calendar"


def test_dead_property_on_calendar(scratch_calendar, http):
    path = path_of(scratch_calendar.url)
    ns = "http://example.com/ns/tributary-interop"
    set_body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propertyupdate xmlns:d="DAV:" xmlns:x="{ns}">'
        "<d:set><d:prop><x:flavour>stracciatella &amp; more</x:flavour></d:prop></d:set>"
        "</d:propertyupdate>"
    )
    resp = http.request(
        "PROPPATCH", path, body=set_body, headers={"Content-Type": "application/xml"}
    )
    assert is_ok(props_for(resp, path)[f"{{{ns}}}flavour"][0]), resp
    query = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propfind xmlns:d="DAV:" xmlns:x="{ns}"><d:prop><x:flavour/></d:prop></d:propfind>'
    )
    status, elem = props_for(http.propfind(path, query), path)[f"{{{ns}}}flavour"]
    assert is_ok(status)
    assert elem.text == "stracciatella & more"

    remove_body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<d:propertyupdate xmlns:d="DAV:" xmlns:x="{ns}">'
        "<d:remove><d:prop><x:flavour/></d:prop></d:remove></d:propertyupdate>"
    )
    resp = http.request(
        "PROPPATCH", path, body=remove_body, headers={"Content-Type": "application/xml"}
    )
    assert resp.status == 207, resp
    status, _ = props_for(http.propfind(path, query), path)[f"{{{ns}}}flavour"]
    assert " 404 " in f"{status} "


def test_plain_mkcol_in_home_is_not_a_calendar(http, server):
    path = server.home_path() + unique("plain") + "/"
    resp = http.request("MKCOL", path)
    assert resp.status == 201, resp
    try:
        types = resourcetypes(http, path)
        assert f"{{{DAV}}}collection" in types
        assert f"{{{CALDAV}}}calendar" not in types
    finally:
        resp = http.delete(path)
    assert resp.status in (200, 204), resp


def test_depth1_propfind_lists_calendar_members(scratch_calendar, http):
    cal_path = path_of(scratch_calendar.url)
    uid = unique("member")
    assert (
        http.put(
            event_path(scratch_calendar, uid),
            ical_samples.utc_event(uid),
            headers={"Content-Type": "text/calendar; charset=utf-8"},
        ).status
        == 201
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><d:getcontenttype/></d:prop></d:propfind>'
    )
    ms = multistatus(http.propfind(cal_path, body, depth="1"))
    member = event_path(scratch_calendar, uid)
    assert member in ms, list(ms)
    status, etag = ms[member][f"{{{DAV}}}getetag"]
    assert is_ok(status) and (etag.text or "").strip().startswith('"')
    status, ctype = ms[member][f"{{{DAV}}}getcontenttype"]
    assert is_ok(status) and (ctype.text or "").startswith("text/calendar")


# --------------------------------------------------------------------------
# events through the caldav client


def _check_component(kind: str, comp, uid: str, summary: str):
    assert str(comp["UID"]) == uid
    assert str(comp["SUMMARY"]) == summary
    start = comp.decoded("DTSTART")
    if kind == "all_day":
        assert type(start) is dt.date, start
        assert start == dt.date(2025, 3, 15)
    elif kind == "tzid":
        assert comp["DTSTART"].params.get("TZID") == "Europe/Berlin"
        assert start.utcoffset() == dt.timedelta(hours=2)  # CEST in June
        assert start.astimezone(dt.timezone.utc) == dt.datetime(
            2025, 6, 12, 12, 0, tzinfo=dt.timezone.utc
        )
    elif kind == "weekly":
        rrule = comp["RRULE"]
        assert rrule["FREQ"] == ["WEEKLY"]
        assert sorted(rrule["BYDAY"]) == ["MO", "WE"]
    else:
        assert start == dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("kind", list(ical_samples.SAMPLES))
def test_event_put_get_delete(scratch_calendar, http, kind):
    uid = unique(kind)
    ics = ical_samples.SAMPLES[kind](uid)
    summary = next(
        line.split(":", 1)[1] for line in ics.splitlines() if line.startswith("SUMMARY:")
    )

    event = scratch_calendar.add_event(ics)
    assert event.url is not None
    assert path_of(event.url) == event_path(scratch_calendar, uid)

    fetched = scratch_calendar.event_by_url(event.url)
    _check_component(kind, fetched.get_icalendar_component(), uid, summary)
    if kind == "tzid":
        tzids = [str(tz["TZID"]) for tz in fetched.get_icalendar_instance().walk("VTIMEZONE")]
        assert tzids == ["Europe/Berlin"]

    resp = http.get(path_of(event.url))
    assert resp.status == 200, resp
    assert (resp.header("Content-Type") or "").startswith("text/calendar")
    assert uid in resp.text

    event.delete()
    resp = http.get(path_of(event.url))
    assert resp.status == 404, resp


def test_event_update_through_client_uses_etag(scratch_calendar, http):
    uid = unique("update")
    event = scratch_calendar.add_event(ical_samples.utc_event(uid, summary="Before"))
    fetched = scratch_calendar.event_by_url(event.url)
    old_etag = fetched.etag
    assert old_etag, "GET returned no ETag"

    fetched.data = ical_samples.utc_event(uid, summary="After")
    fetched.save()  # sends If-Match with the ETag from the GET
    assert fetched.etag and fetched.etag != old_etag

    again = scratch_calendar.event_by_url(event.url)
    assert str(again.get_icalendar_component()["SUMMARY"]) == "After"

    # The stale copy must now be refused.
    event.props[dav.GetEtag.tag] = old_etag
    event.data = ical_samples.utc_event(uid, summary="Stale write")
    with pytest.raises(caldav_error.DAVError):
        event.save()
    again = scratch_calendar.event_by_url(event.url)
    assert str(again.get_icalendar_component()["SUMMARY"]) == "After"


# --------------------------------------------------------------------------
# conditional requests with the raw client

ICAL_CT = {"Content-Type": "text/calendar; charset=utf-8"}


def _put(http, path, body, **extra):
    return http.put(path, body.encode("utf-8"), headers={**ICAL_CT, **extra})


def test_put_new_object_returns_201_with_etag(scratch_calendar, http):
    uid = unique("create")
    resp = _put(http, event_path(scratch_calendar, uid), ical_samples.utc_event(uid))
    assert resp.status == 201, resp
    assert (resp.header("ETag") or "").startswith('"'), resp.headers


def test_get_returns_exact_bytes_and_same_etag(scratch_calendar, http):
    uid = unique("exact")
    body = ical_samples.byte_exact_event(uid).encode("utf-8")
    path = event_path(scratch_calendar, uid)
    put = http.put(path, body, headers=ICAL_CT)
    assert put.status == 201, put
    put_etag = put.header("ETag")
    assert put_etag, "PUT of unmodified data must return the ETag"

    got = http.get(path)
    assert got.status == 200, got
    assert got.body == body
    assert got.header("ETag") == put_etag

    head = http.request("HEAD", path)
    assert head.status == 200, head
    assert head.header("ETag") == put_etag
    assert head.body == b""

    # The caldav client sees the same bytes and ETag.
    fetched = scratch_calendar.event_by_url(scratch_calendar.url.join(uid + ".ics"))
    assert fetched.raw_data == body
    assert fetched.etag == put_etag


def test_if_none_match_star_on_existing_is_412(scratch_calendar, http):
    uid = unique("inm")
    path = event_path(scratch_calendar, uid)
    first = _put(http, path, ical_samples.utc_event(uid), **{"If-None-Match": "*"})
    assert first.status == 201, first

    second = _put(
        http, path, ical_samples.utc_event(uid, summary="Overwritten?"), **{"If-None-Match": "*"}
    )
    assert second.status == 412, second
    assert b"Overwritten?" not in http.get(path).body


def test_wrong_if_match_is_412(scratch_calendar, http):
    uid = unique("wrong-if-match")
    path = event_path(scratch_calendar, uid)
    created = _put(http, path, ical_samples.utc_event(uid))
    assert created.status == 201, created

    resp = _put(
        http,
        path,
        ical_samples.utc_event(uid, summary="Should not land"),
        **{"If-Match": '"definitely-not-the-etag"'},
    )
    assert resp.status == 412, resp
    after = http.get(path)
    assert b"Should not land" not in after.body
    assert after.header("ETag") == created.header("ETag")


def test_if_match_on_missing_object_is_412(scratch_calendar, http):
    uid = unique("missing")
    path = event_path(scratch_calendar, uid)
    resp = _put(http, path, ical_samples.utc_event(uid), **{"If-Match": '"whatever"'})
    assert resp.status == 412, resp
    assert http.get(path).status == 404


def test_correct_if_match_updates(scratch_calendar, http):
    uid = unique("if-match")
    path = event_path(scratch_calendar, uid)
    created = _put(http, path, ical_samples.utc_event(uid))
    assert created.status == 201, created
    etag = created.header("ETag")
    assert etag

    new_body = ical_samples.utc_event(uid, summary="Updated with If-Match")
    updated = _put(http, path, new_body, **{"If-Match": etag})
    assert updated.status in (200, 201, 204), updated
    new_etag = updated.header("ETag")
    assert new_etag and new_etag != etag

    got = http.get(path)
    assert got.body == new_body.encode("utf-8")
    assert got.header("ETag") == new_etag

    # The old ETag is stale now.
    stale = _put(http, path, ical_samples.utc_event(uid, summary="stale"), **{"If-Match": etag})
    assert stale.status == 412, stale


def test_get_with_matching_if_none_match_is_304(scratch_calendar, http):
    uid = unique("304")
    path = event_path(scratch_calendar, uid)
    etag = _put(http, path, ical_samples.utc_event(uid)).header("ETag")
    assert etag
    resp = http.get(path, headers={"If-None-Match": etag})
    assert resp.status == 304, resp
    assert resp.body == b""
    resp = http.get(path, headers={"If-None-Match": '"other"'})
    assert resp.status == 200, resp


def test_delete_honours_if_match(scratch_calendar, http):
    uid = unique("delete")
    path = event_path(scratch_calendar, uid)
    etag = _put(http, path, ical_samples.utc_event(uid)).header("ETag")
    assert etag
    resp = http.delete(path, headers={"If-Match": '"nope"'})
    assert resp.status == 412, resp
    assert http.get(path).status == 200
    resp = http.delete(path, headers={"If-Match": etag})
    assert resp.status in (200, 204), resp
    assert http.get(path).status == 404
    assert http.delete(path).status == 404


def test_put_of_non_calendar_data_is_rejected(scratch_calendar, http):
    path = event_path(scratch_calendar, unique("garbage"))
    resp = http.put(path, b"this is not iCalendar\r\n", headers=ICAL_CT)
    assert 400 <= resp.status < 500, resp
    assert http.get(path).status == 404


# --------------------------------------------------------------------------
# authentication and authorisation


@pytest.mark.parametrize("where", ["dav_root", "principal", "home"])
def test_wrong_password_is_401_with_basic_challenge(http, server, where):
    path = {
        "dav_root": server.dav_root,
        "principal": server.principal_path(),
        "home": server.home_path(),
    }[where]
    bad = http.with_auth(server.user, server.password + "-wrong")
    resp = bad.propfind(path, PROPFIND_TYPE_NAME)
    assert resp.status == 401, resp
    challenge = resp.header("WWW-Authenticate") or ""
    assert challenge.lower().startswith("basic"), f"WWW-Authenticate: {challenge!r}"


def test_no_credentials_is_401(anon_http, server):
    resp = anon_http.propfind(server.home_path(), PROPFIND_TYPE_NAME)
    assert resp.status == 401, resp
    assert (resp.header("WWW-Authenticate") or "").lower().startswith("basic")
    resp = anon_http.get(server.default_calendar_path())
    assert resp.status == 401, resp


def test_unknown_user_is_401(http, server):
    resp = http.with_auth("no-such-user-" + uuid.uuid4().hex[:6], "x").propfind(
        server.dav_root, PROPFIND_TYPE_NAME
    )
    assert resp.status == 401, resp


def test_caldav_client_with_wrong_password_fails(server):
    with make_client(server, password=server.password + "-wrong") as client:
        with pytest.raises(caldav_error.AuthorizationError):
            client.principal()


@pytest.fixture
def other_user(server):
    return server.other_user or "other"


def test_other_users_home_is_not_accessible(http, server, other_user):
    home = server.home_path(other_user)
    for depth in ("0", "1"):
        resp = http.propfind(home, PROPFIND_TYPE_NAME, depth=depth)
        assert resp.status in (403, 404), resp
    resp = http.propfind(server.default_calendar_path(other_user), PROPFIND_TYPE_NAME)
    assert resp.status in (403, 404), resp


def test_cannot_write_into_other_users_calendar(http, server, other_user):
    uid = unique("intruder")
    path = server.default_calendar_path(other_user) + uid + ".ics"
    resp = _put(http, path, ical_samples.utc_event(uid))
    assert resp.status in (403, 404), resp
    resp = http.request("MKCALENDAR", server.home_path(other_user) + unique("intrude") + "/")
    assert resp.status in (403, 404), resp
    if server.other_password:
        owner = http.with_auth(other_user, server.other_password)
        assert owner.get(path).status == 404


def test_other_user_sees_own_home_but_not_alices(http, server, other_user):
    if not server.other_password:
        pytest.skip("TRIBUTARY_OTHER_PASSWORD not set")
    owner = http.with_auth(other_user, server.other_password)
    resp = owner.propfind(server.home_path(other_user), PROPFIND_TYPE_NAME, depth="1")
    ms = multistatus(resp)
    assert server.default_calendar_path(other_user) in ms
    resp = owner.propfind(server.home_path(), PROPFIND_TYPE_NAME)
    assert resp.status in (403, 404), resp
