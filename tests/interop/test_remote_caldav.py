"""Remote CalDAV accounts (issue 19) against real servers on loopback.

Each test starts its own Radicale (PyPI) and its own Tributary (the binary under
test, with `[pull] allow_private_networks = true`), or a second Tributary as the
remote, and drives Tributary only through its CLI contract:

    tributary source add NAME --user U [--calendar C] --caldav URL --remote-user R
        --password-stdin [--remote-calendar NAME_OR_HREF] [--direction pull|both]
        [--refresh DURATION]
    tributary source remote-calendars NAME   display name, href, components per line
    tributary source sync NAME               exit 0 on success, non-zero when failed
                                             or refused; outcome and counts
    tributary source list

Both sides are read and written with the python caldav library, as a user's calendar
app would. A source added without --calendar writes into the calendar named after
the source (/dav/calendars/alice/NAME/), as `source add --ics` does.

The two-way cases follow vdirsyncer's convergence cases: a create, an update and a
delete on each side, on both sides at once, delete against modify (the modification
wins), and a change on both sides (the remote's version wins by default, and a
conflict is recorded). Changes on the remote are made before the local ones, so the
cases mean the same whether Tributary pushes a local write at once or at the next
sync.
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import urlsplit

import requests

from remote_support import (
    RADICALE_PASSWORD,
    REMOTE_PASSWORD,
    add_caldav_source,
    delete,
    etags,
    event_ics,
    find_event,
    modify,
    new_uid,
    summaries,
    sync,
)

CALENDAR_ID = "work"
CALENDAR_NAME = "Work"


def source_name(prefix: str = "rad") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def seed(calendar, n: int, prefix: str = "r") -> list[str]:
    """`n` events put into a caldav Calendar; their UIDs."""
    uids = [new_uid(f"{prefix}{i}") for i in range(n)]
    for i, uid in enumerate(uids):
        calendar.add_event(event_ics(uid, f"Remote event {i}", day=i))
    return uids


def radicale_calendar(radicale, n: int):
    """The Radicale calendar /alice/work/ ("Work") with `n` events."""
    cal = radicale.make_calendar(CALENDAR_ID, CALENDAR_NAME)
    return cal, seed(cal, n)


def mirror(local, radicale, n: int, direction: str | None = None):
    """A Radicale calendar of `n` events, added as a source (by its href) and synced.
    Returns (source name, Radicale calendar, Tributary calendar, UIDs)."""
    rcal, uids = radicale_calendar(radicale, n)
    name = source_name()
    add_caldav_source(
        local, name, radicale.url, "alice", RADICALE_PASSWORD,
        remote_calendar=f"/alice/{CALENDAR_ID}/", direction=direction,
    )
    sync(local, name)
    lcal = local.calendar("alice", name)
    assert set(summaries(lcal)) == set(uids)
    return name, rcal, lcal, uids


def propfind_status(url: str, user: str, password: str) -> int:
    r = requests.request("PROPFIND", url, auth=(user, password), headers={"Depth": "0"}, timeout=15)
    return r.status_code


def href_of(calendar, uid: str) -> str:
    return urlsplit(str(find_event(calendar, uid).url)).path


def assert_converged(rcal, lcal, expected: dict[str, str]) -> None:
    assert summaries(rcal) == expected, "remote"
    assert summaries(lcal) == expected, "Tributary"


# --------------------------------------------------------------------------
# the fixtures themselves (these pass without remote CalDAV sources)


def test_radicale_fixture_serves_caldav(radicale_server):
    cal = radicale_server.make_calendar(CALENDAR_ID, CALENDAR_NAME)
    assert urlsplit(str(cal.url)).path == "/alice/work/"
    uids = seed(cal, 3)
    assert set(summaries(cal)) == set(uids)
    modify(cal, uids[0], "Changed")
    delete(cal, uids[1])
    assert summaries(cal) == {uids[0]: "Changed", uids[2]: "Remote event 2"}

    # Restarted on the same port with the same storage, it serves the same data.
    radicale_server.stop()
    radicale_server.start()
    again = radicale_server.calendar(CALENDAR_ID)
    assert summaries(again) == {uids[0]: "Changed", uids[2]: "Remote event 2"}

    # A changed password is in force at once; the old one is refused.
    old = radicale_server.users["alice"]
    radicale_server.set_password("alice", "new-secret-2")
    assert propfind_status(radicale_server.url, "alice", "new-secret-2") == 207
    assert propfind_status(radicale_server.url, "alice", old) == 401

    # Items are files in the storage folder, which test 9 empties behind its back.
    files = sorted(p.name for p in radicale_server.calendar_folder(CALENDAR_ID).glob("*.ics"))
    assert files == sorted([f"{uids[0]}.ics", f"{uids[2]}.ics"])


def test_second_tributary_fixture_serves_caldav(second_tributary):
    principal = second_tributary.client("bob").principal()
    cal = principal.make_calendar(name="Shared", cal_id="shared")
    uids = seed(cal, 3, prefix="t")
    assert set(summaries(cal)) == set(uids)
    http = second_tributary.http("bob")
    before = etags(http, "/dav/calendars/bob/shared/")
    assert len(before) == 3
    modify(cal, uids[0], "Changed")
    delete(cal, uids[2])
    after = etags(http, "/dav/calendars/bob/shared/")
    changed = href_of(cal, uids[0])
    assert after[changed] != before[changed] and len(after) == 2
    assert summaries(cal) == {uids[0]: "Changed", uids[1]: "Remote event 1"}
    # kill -9 and a restart keep what was written.
    second_tributary.kill9()
    second_tributary.start()
    assert summaries(second_tributary.calendar("bob", "shared")) == {
        uids[0]: "Changed", uids[1]: "Remote event 1",
    }
    assert second_tributary.api("/api/sources") == []
    assert second_tributary.api("/api/conflicts?all=true") == []


# --------------------------------------------------------------------------
# 1. discovery and the initial mirror


def test_discovery_and_initial_mirror_from_radicale(radicale_server, local_tributary):
    rcal, uids = radicale_calendar(radicale_server, 20)
    name = source_name()
    # The server root: Tributary discovers the principal and its calendars, and the
    # calendar is picked by its display name.
    add_caldav_source(
        local_tributary, name, radicale_server.url, "alice", RADICALE_PASSWORD,
        remote_calendar=CALENDAR_NAME,
    )
    sync(local_tributary, name)

    lcal = local_tributary.calendar("alice", name)
    assert summaries(lcal) == summaries(rcal)
    assert len(summaries(lcal)) == 20

    listed = local_tributary.cli("source", "remote-calendars", name).stdout
    line = next((l for l in listed.splitlines() if "/alice/work/" in l), None)
    assert line is not None, listed
    assert CALENDAR_NAME in line and "VEVENT" in line, listed

    listing = local_tributary.cli("source", "list").stdout
    assert name in listing, listing


# --------------------------------------------------------------------------
# 2. incremental pull


def test_incremental_pull_applies_exactly_the_remote_changes(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 20)
    http = local_tributary.http("alice")
    path = local_tributary.calendar_path("alice", name)
    before = etags(http, path)
    assert len(before) == 20
    changed_href = href_of(lcal, uids[3])
    deleted_href = href_of(lcal, uids[7])

    modify(rcal, uids[3], "Moved to Thursday")
    delete(rcal, uids[7])
    added = new_uid("added")
    rcal.add_event(event_ics(added, "Added on Radicale", day=30))

    out = sync(local_tributary, name).stdout
    for count in ("created 1", "updated 1", "deleted 1"):
        assert count in out, out

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[uids[3]] = "Moved to Thursday"
    del expected[uids[7]]
    expected[added] = "Added on Radicale"
    assert_converged(rcal, lcal, expected)

    after = etags(http, path)
    assert deleted_href not in after
    assert after[changed_href] != before[changed_href]
    untouched = {h: e for h, e in before.items() if h not in (changed_href, deleted_href)}
    assert {h: after.get(h) for h in untouched} == untouched, "unchanged objects kept their ETags"


# --------------------------------------------------------------------------
# 3. pull-only


def test_pull_only_calendar_refuses_client_writes(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 3)
    http = local_tributary.http("alice")
    path = local_tributary.calendar_path("alice", name)
    before = etags(http, path)
    ct = {"Content-Type": "text/calendar; charset=utf-8"}

    mine = new_uid("mine")
    r = http.put(f"{path}{mine}.ics", event_ics(mine, "Mine"), headers=ct)
    assert r.status == 403, r
    existing = href_of(lcal, uids[0])
    r = http.put(existing, event_ics(uids[0], "Overwritten"), headers=ct)
    assert r.status == 403, r
    assert http.delete(existing).status == 403

    assert etags(http, path) == before
    sync(local_tributary, name)
    assert_converged(rcal, lcal, {uid: f"Remote event {i}" for i, uid in enumerate(uids)})


# --------------------------------------------------------------------------
# 4. two-way convergence (vdirsyncer's cases)


def test_two_way_local_create_update_delete_reach_the_remote(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 4, direction="both")
    made = new_uid("local")
    lcal.add_event(event_ics(made, "Made in Tributary", day=10))
    modify(lcal, uids[0], "Changed in Tributary")
    delete(lcal, uids[1])

    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[made] = "Made in Tributary"
    expected[uids[0]] = "Changed in Tributary"
    del expected[uids[1]]
    assert_converged(rcal, lcal, expected)


def test_two_way_remote_create_update_delete_reach_tributary(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 4, direction="both")
    made = new_uid("remote")
    rcal.add_event(event_ics(made, "Made on Radicale", day=11))
    modify(rcal, uids[2], "Changed on Radicale")
    delete(rcal, uids[3])

    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[made] = "Made on Radicale"
    expected[uids[2]] = "Changed on Radicale"
    del expected[uids[3]]
    assert_converged(rcal, lcal, expected)


def test_two_way_changes_on_both_sides_at_once_converge(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 6, direction="both")
    remote_made, local_made = new_uid("remote"), new_uid("local")
    rcal.add_event(event_ics(remote_made, "Made on Radicale", day=12))
    modify(rcal, uids[0], "Changed on Radicale")
    delete(rcal, uids[1])
    lcal.add_event(event_ics(local_made, "Made in Tributary", day=13))
    modify(lcal, uids[2], "Changed in Tributary")
    delete(lcal, uids[3])

    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected.update({
        remote_made: "Made on Radicale",
        local_made: "Made in Tributary",
        uids[0]: "Changed on Radicale",
        uids[2]: "Changed in Tributary",
    })
    del expected[uids[1]]
    del expected[uids[3]]
    assert_converged(rcal, lcal, expected)

    # Converged means stable: another sync changes nothing on either side.
    sync(local_tributary, name)
    assert_converged(rcal, lcal, expected)


# --------------------------------------------------------------------------
# 5. delete against modify: the modification wins


def test_remote_modify_beats_local_delete(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 3, direction="both")
    modify(rcal, uids[0], "Kept: changed on Radicale")
    delete(lcal, uids[0])

    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[uids[0]] = "Kept: changed on Radicale"
    assert_converged(rcal, lcal, expected)


def test_local_modify_beats_remote_delete(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 3, direction="both")
    delete(rcal, uids[1])
    modify(lcal, uids[1], "Kept: changed in Tributary")

    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[uids[1]] = "Kept: changed in Tributary"
    assert_converged(rcal, lcal, expected)


# --------------------------------------------------------------------------
# 6. both sides modified: the remote wins, a conflict is recorded


def test_conflicting_edits_remote_wins_and_conflict_is_listed(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 3, direction="both")
    local_name = href_of(lcal, uids[0]).rstrip("/").rsplit("/", 1)[-1]
    modify(rcal, uids[0], "Radicale's version")
    modify(lcal, uids[0], "Tributary's version")

    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[uids[0]] = "Radicale's version"
    assert_converged(rcal, lcal, expected)

    conflicts = local_tributary.api("/api/conflicts?all=true")
    mine = [c for c in conflicts if c.get("source") == name]
    assert mine, conflicts
    assert any(
        c.get("resource") == local_name or uids[0] in json.dumps(c) for c in mine
    ), mine


# --------------------------------------------------------------------------
# 7. a refused password


def test_refused_password_fails_the_sync_and_deletes_nothing(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 5)
    # The account's password is revoked on the server (as with an app-specific
    # password removed at appleid.apple.com): the stored one is now refused with 401.
    radicale_server.set_password("alice", "revoked-and-replaced-9")
    modify(radicale_server.calendar(CALENDAR_ID), uids[0], "Unseen change")

    done = sync(local_tributary, name, expect_ok=False)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "password" in out.lower(), out

    line = next(l for l in local_tributary.cli("source", "list").stdout.splitlines() if name in l)
    assert "password" in line.lower() and "refused" in line.lower(), line
    entry = next(s for s in local_tributary.api("/api/sources") if s["id"] == name)
    text = json.dumps(entry).lower()
    assert "password" in text and "refused" in text, entry
    assert RADICALE_PASSWORD not in json.dumps(entry), "the stored password is never shown"

    assert summaries(lcal) == {uid: f"Remote event {i}" for i, uid in enumerate(uids)}


# --------------------------------------------------------------------------
# 8. kill -9 between the local write and its push


def test_local_write_is_pushed_after_kill_9_and_restart(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 3, direction="both")
    radicale_server.stop()
    made = new_uid("offline")
    # The remote is down: the write is stored (and queued) locally all the same.
    lcal.add_event(event_ics(made, "Written while Radicale was down", day=5))
    # No push can succeed while Radicale is down; the pause only keeps the kill out of
    # a push attempt in flight, whose lease would hold the source until it expired.
    time.sleep(0.5)
    local_tributary.kill9()

    radicale_server.start()
    local_tributary.start()
    sync(local_tributary, name)

    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    expected[made] = "Written while Radicale was down"
    assert_converged(radicale_server.calendar(CALENDAR_ID), local_tributary.calendar("alice", name), expected)


# --------------------------------------------------------------------------
# 9. a remote that suddenly lists nothing


def test_remote_that_suddenly_lists_nothing_is_refused(radicale_server, local_tributary):
    name, rcal, lcal, uids = mirror(local_tributary, radicale_server, 20)
    folder = radicale_server.calendar_folder(CALENDAR_ID)
    items = list(folder.glob("*.ics"))
    assert len(items) == 20
    for item in items:  # behind Radicale's back: its listing is now empty
        item.unlink()
    assert summaries(radicale_server.calendar(CALENDAR_ID)) == {}

    done = sync(local_tributary, name, expect_ok=False)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert "refused" in out, out
    assert summaries(lcal) == {uid: f"Remote event {i}" for i, uid in enumerate(uids)}


# --------------------------------------------------------------------------
# 10. another Tributary as the remote


def test_second_tributary_as_the_remote_two_way(second_tributary, local_tributary):
    remote_cal = second_tributary.client("bob").principal().make_calendar(
        name="Shared", cal_id="shared"
    )
    uids = seed(remote_cal, 5, prefix="t")
    name = source_name("trib")
    # The calendar's own URL, no discovery needed.
    add_caldav_source(
        local_tributary, name, f"{second_tributary.url}/dav/calendars/bob/shared/",
        "bob", REMOTE_PASSWORD, direction="both",
    )
    sync(local_tributary, name)
    rcal = second_tributary.calendar("bob", "shared")
    lcal = local_tributary.calendar("alice", name)
    expected = {uid: f"Remote event {i}" for i, uid in enumerate(uids)}
    assert_converged(rcal, lcal, expected)

    modify(rcal, uids[0], "Edited on the other Tributary")
    modify(lcal, uids[1], "Edited on this Tributary")
    sync(local_tributary, name)

    expected[uids[0]] = "Edited on the other Tributary"
    expected[uids[1]] = "Edited on this Tributary"
    assert_converged(rcal, lcal, expected)
