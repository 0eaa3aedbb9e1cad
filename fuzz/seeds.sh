#!/usr/bin/env bash
# Builds the seed corpora fuzz/corpus/<target>/ from the repository's test data:
#   - crates/ingest/tests/fixtures/* (webhook payloads A-F)        -> webhook_json
#   - string literals in the Rust tests and sources: iCalendar text -> ical_parse_index
#     (and recurrence_time_range, with query headers), XML bodies -> dav_bodies (with the
#     selector byte their root element calls for), JSON objects -> webhook_json, request
#     paths -> request_path
#   - the builders of tests/interop/ical_samples.py                -> ical_parse_index
# File names are content hashes, so running it again adds only what is new. The
# hand-written seeds in fuzz/seeds/<target>/ are not copied: run.sh passes that
# directory to libFuzzer beside the corpus, and fuzzing never depends on this script
# having parsed anything.
#
# Usage: fuzz/seeds.sh            (needs python3 for the extraction; without it only
#                                  the fixture files are copied)
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$fuzz_dir")"
corpus="$fuzz_dir/corpus"
targets=(ical_parse_index recurrence_time_range dav_bodies webhook_json request_path)

for t in "${targets[@]}"; do
    mkdir -p "$corpus/$t"
done

# Fixture files as they are (e_broken_template.txt is invalid JSON on purpose).
for f in "$repo"/crates/ingest/tests/fixtures/*.json "$repo"/crates/ingest/tests/fixtures/*.txt; do
    [ -f "$f" ] || continue
    sum="$(sha1sum "$f" | cut -d' ' -f1)"
    cp "$f" "$corpus/webhook_json/$sum"
done

if ! command -v python3 >/dev/null 2>&1; then
    echo "seeds.sh: python3 not found; only the webhook fixtures were copied" >&2
    exit 0
fi

python3 - "$repo" "$corpus" <<'PY'
"""Extract seeds from Rust string literals and the interop iCalendar builders."""
import datetime
import hashlib
import inspect
import os
import re
import struct
import sys

repo, corpus = sys.argv[1], sys.argv[2]
counts = {}


def save(target, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not data or len(data) > 64 * 1024:
        return
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(corpus, target, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1


# ---- Rust string literals -------------------------------------------------------

ESCAPE = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "0": "\0", "'": "'", '"': '"'}


def unescape(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in ESCAPE:
            out.append(ESCAPE[n])
            i += 2
        elif n == "x":
            out.append(chr(int(body[i + 2:i + 4], 16)))
            i += 4
        elif n == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3:end], 16)))
            i = end + 1
        elif n == "\n":  # line continuation: skip the newline and leading blanks
            i += 2
            while i < len(body) and body[i] in " \t\r\n":
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


CHAR = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'")
RAW = re.compile(r'b?r(#*)"')
PLAIN = re.compile(r'b?"')


def literals(src):
    """Yield the string literals of Rust source text, escapes resolved."""
    i = 0
    while i < len(src):
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = len(src) if j < 0 else j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = len(src) if j < 0 else j + 2
            continue
        prev = src[i - 1] if i else " "
        ident_before = prev.isalnum() or prev == "_"
        m = CHAR.match(src, i)
        if m:  # a lifetime is never followed by a quote, so `'a'` is always a char
            i = m.end()
            continue
        m = RAW.match(src, i)
        if m and not ident_before:
            close = '"' + m.group(1)
            j = src.find(close, m.end())
            if j < 0:
                return
            yield src[m.end():j]
            i = j + len(close)
            continue
        m = PLAIN.match(src, i)
        if m and not ident_before:
            j = m.end()
            while j < len(src) and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            yield unescape(src[m.end():j])
            i = j + 1
            continue
        i += 1


PLACEHOLDER = re.compile(r"\{[A-Za-z0-9_.]*(?::[^{}]*)?\}")


def fill(text, value):
    """Replace format! placeholders; `{{`/`}}` become braces."""
    text = PLACEHOLDER.sub(value, text.replace("{{", "\x01").replace("}}", "\x02"))
    return text.replace("\x01", "{").replace("\x02", "}")


def crlf_lines(text):
    """What the tests' calendar()/crlf() helpers do: trim lines, drop empty ones."""
    lines = [l.strip() for l in text.replace("\r\n", "\n").split("\n")]
    return "".join(l + "\r\n" for l in lines if l)


COMPONENTS = ("BEGIN:VEVENT", "BEGIN:VTODO", "BEGIN:VJOURNAL", "BEGIN:VFREEBUSY")
HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Tributary//Fuzz seeds//EN\r\n"


def calendars(text, zones):
    if "\r\n" not in text:
        text = crlf_lines(text)
    if "BEGIN:VCALENDAR" in text:
        return [text]
    if not any(c in text for c in COMPONENTS):
        return []
    plain = HEAD + text + "END:VCALENDAR\r\n"
    if "TZID=" in text and zones:
        return [plain, HEAD + "".join(zones) + text + "END:VCALENDAR\r\n"]
    return [plain]


# recurrence_time_range headers (see the target's doc comment for the layout)
BASE = 1136073600
KINDS = {"VEVENT": 0, "VTODO": 1, "VJOURNAL": 2, "VFREEBUSY": 3}
DTSTART = re.compile(r"(?:DTSTART|DUE)[^:\r\n]*:(\d{8})")


def enc_len(n):
    n, exp = max(n - 1, 0), 0
    while n >> exp > 0xFFFF:
        exp += 1
    return struct.pack(">HB", n >> exp, exp)


def headers(ics):
    kind = next((k for c, k in KINDS.items() if "BEGIN:" + c in ics), 0)
    m = DTSTART.search(ics)
    start = BASE
    if m:
        try:
            day = datetime.datetime.strptime(m.group(1), "%Y%m%d")
            start = int(day.replace(tzinfo=datetime.timezone.utc).timestamp()) - 86400
        except ValueError:
            pass
    minutes = max(min((start - BASE) // 60, 2**31 - 1), -(2**31))
    week = enc_len(7 * 86400)
    plain = struct.pack(">BBi", kind, 0x02, minutes) + week + struct.pack(">i", 0) + week
    alarm = struct.pack(">BBi", kind | 0x04 | (2 << 5), 0x00, minutes) + week
    alarm += struct.pack(">i", 0) + week
    return [plain, alarm]


SELECTOR = {
    "propfind": "0", "propertyupdate": "1", "mkcalendar": "2", "mkcol": "3",
    "calendar-query": "4", "calendar-multiget": "4", "free-busy-query": "4",
    "sync-collection": "4", "expand-property": "4",
}
ROOT = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def xml_root(text):
    for m in ROOT.finditer(text):
        before = text[m.start() + 1:m.start() + 2]
        if before not in ("?", "!"):
            return m.group(1)
    return None


PATH = re.compile(r"^/(?:dav|\.well-known)[^\s\"<>]*$")
SKIP = ("/target/", "/fuzz/", "/.venv/", "/.git/")

for root, dirs, files in os.walk(repo):
    if any(s in root + "/" for s in SKIP):
        continue
    for name in files:
        if not name.endswith(".rs"):
            continue
        with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
            src = f.read()
        found = list(literals(src))
        zones = [crlf_lines(t) for t in found
                 if "BEGIN:VTIMEZONE" in t and not any(c in t for c in COMPONENTS)
                 and "BEGIN:VCALENDAR" not in t]
        for lit in found:
            text = lit.strip()
            if text.startswith("<") and ("xmlns" in text or text.startswith("<?xml")):
                body = fill(text, "x")
                root_name = xml_root(body)
                save("dav_bodies", SELECTOR.get(root_name, "5") + body)
                save("dav_bodies", "5" + body)
            elif "BEGIN:V" in lit:
                for ics in calendars(fill(lit, "fuzz"), zones):
                    save("ical_parse_index", ics)
                    for head in headers(ics):
                        save("recurrence_time_range", head + ics.encode("utf-8"))
            elif text.startswith("{") and text.endswith("}") and '"' in text and (
                '"id"' in text or "ActionType" in text or '"subject"' in text
            ):
                save("webhook_json", fill(text, "x") if "{{" in text else text)
            elif PATH.match(text):
                save("request_path", text)

# ---- tests/interop/ical_samples.py builders -------------------------------------
interop = os.path.join(repo, "tests", "interop")
if os.path.exists(os.path.join(interop, "ical_samples.py")):
    sys.path.insert(0, interop)
    try:
        import ical_samples
    except Exception as e:  # noqa: BLE001 - seeding must not fail on a helper module
        print(f"seeds.sh: skipping ical_samples.py: {e}", file=sys.stderr)
    else:
        for fname, fn in inspect.getmembers(ical_samples, inspect.isfunction):
            if fname.startswith("_") or fn.__module__ != ical_samples.__name__:
                continue
            try:
                text = fn(f"fuzz-{fname}@example.com")
            except Exception:  # noqa: BLE001 - builders with other signatures
                continue
            if isinstance(text, str) and "BEGIN:VCALENDAR" in text:
                save("ical_parse_index", text)
                for head in headers(text):
                    save("recurrence_time_range", head + text.encode("utf-8"))

for target in sorted(counts):
    print(f"seeds.sh: {counts[target]:4d} new seeds for {target}")
PY

for t in "${targets[@]}"; do
    printf 'seeds.sh: %-22s %5d files in fuzz/corpus/%s\n' "$t" "$(ls "$corpus/$t" | wc -l)" "$t"
done
