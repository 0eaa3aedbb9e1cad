#!/usr/bin/env bash
# Interoperability run: start a throw-away Tributary server, then point the
# python-caldav pytest suite and the litmus WebDAV suites at it.
#
# usage: tests/interop/run.sh [PATH_TO_TRIBUTARY_BINARY]   (default target/debug/tributary)
#
# Environment knobs (all optional):
#   VENV                   python virtualenv holding tests/interop/requirements.txt
#                          (caldav, pytest, vdirsyncer; default .venv)
#   TRIBUTARY_PYTEST_MARK  pytest -m expression (default "not reports";
#                          "reports" runs only the REPORT tests, "" runs everything)
#   LITMUS_SUITES          litmus suites to run (default "basic copymove props")
#   SKIP_LITMUS=1          do not run litmus (e.g. locally without the package)
#   KEEP_TMP=1             keep the temp dir (config, database, logs) afterwards
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_ROOT"

BIN="${1:-target/debug/tributary}"
VENV="${VENV:-.venv}"
PYTEST_MARK="${TRIBUTARY_PYTEST_MARK-}"
LITMUS_SUITES="${LITMUS_SUITES:-basic copymove props}"
SKIP_LITMUS="${SKIP_LITMUS:-0}"

ALICE_PW='alice-secret-1'
OTHER_PW='other-secret-1'
LITMUS_PW='litmus-secret-1'

log() { printf '[interop] %s\n' "$*"; }
die() { printf '[interop] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x "$BIN" ]] || die "tributary binary not found or not executable: $BIN (run 'cargo build' first)"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

PY="$VENV/bin/python"
[[ -x "$PY" ]] || die "no python at $PY; create the venv: python3 -m venv $VENV && $VENV/bin/pip install -r tests/interop/requirements.txt"
if [[ "$SKIP_LITMUS" != 1 ]] && ! command -v litmus >/dev/null 2>&1; then
    die "litmus is not installed (apt-get install litmus), or set SKIP_LITMUS=1"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tributary-interop.XXXXXX")"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            log "server did not stop on SIGTERM; sending SIGKILL"
            kill -9 "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    if [[ $rc -ne 0 ]]; then
        if [[ -s "$SERVER_LOG" ]]; then
            log "---- last 80 lines of the server log ($SERVER_LOG) ----"
            tail -n 80 "$SERVER_LOG" || true
            log "---- end of server log ----"
        fi
    fi
    if [[ "${KEEP_TMP:-0}" == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- configuration ---------------------------------------------------------
PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE_URL="http://127.0.0.1:$PORT"
CONFIG="$WORK/config.toml"
cat >"$CONFIG" <<EOF
[server]
listen = "127.0.0.1:$PORT"

[storage]
path = "tributary.db"

[pull]
# test_pulled_feed.py serves its feed on 127.0.0.1.
allow_private_networks = true
EOF
log "work dir $WORK, port $PORT, binary $BIN"

# --- users -----------------------------------------------------------------
add_user() {
    local name="$1" pw="$2"
    if ! printf '%s\n' "$pw" | timeout 60 "$BIN" --config "$CONFIG" user add "$name" \
        >>"$WORK/user-add.log" 2>&1; then
        cat "$WORK/user-add.log" >&2
        die "'tributary user add $name' failed"
    fi
}
add_user alice "$ALICE_PW"
add_user other "$OTHER_PW"
add_user litmus "$LITMUS_PW"
log "created users alice, other, litmus"

# --- server ----------------------------------------------------------------
"$BIN" --config "$CONFIG" serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 100); do # ~10 s
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        die "server exited during start-up"
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ $ready == 1 ]] || die "server did not listen on port $PORT within 10 s"
log "server is up (pid $SERVER_PID)"

failures=()

# --- python-caldav suite ---------------------------------------------------
log "==== pytest (python-caldav), -m \"$PYTEST_MARK\" ===="
pytest_args=(-m pytest tests/interop -v -ra --tb=short -p no:cacheprovider --color=no)
[[ -n "$PYTEST_MARK" ]] && pytest_args+=(-m "$PYTEST_MARK")
if TRIBUTARY_URL="$BASE_URL" TRIBUTARY_BIN="$BIN" TRIBUTARY_CONFIG="$CONFIG" \
    TRIBUTARY_USER=alice TRIBUTARY_PASSWORD="$ALICE_PW" \
    TRIBUTARY_OTHER_USER=other TRIBUTARY_OTHER_PASSWORD="$OTHER_PW" \
    timeout 300 "$PY" "${pytest_args[@]}"; then
    log "pytest: OK"
else
    rc=$?
    [[ $rc == 124 ]] && log "pytest timed out"
    log "pytest: FAILED (exit $rc)"
    failures+=("pytest")
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    failures+=("server-died")
    die "the server died during the pytest run"
fi

# --- load generator smoke run ------------------------------------------------
# The repository's own load generator (crates/bench) in --quick mode: it discovers
# the home like a client, creates calendars, loads a small dataset, runs every
# workload and checks each query's result count against the dataset's truth. It
# times nothing that CI judges; it only has to keep working.
BENCH_BIN="${BENCH:-$(dirname "$BIN")/tributary-bench}"
if [[ -x "$BENCH_BIN" ]]; then
    log "==== load generator (--quick) ===="
    add_user bench bench-secret-1
    if ! printf 'bench-webhook-key-0123456789\n' | timeout 60 "$BIN" --config "$CONFIG" \
            source add bench-source --user bench --calendar hooks --api-key-stdin >/dev/null; then
        failures+=("bench-setup")
    elif timeout 120 "$BENCH_BIN" --url "$BASE_URL/" --user bench --password bench-secret-1 --quick \
            --webhook-key bench-webhook-key-0123456789 --webhook-source bench-source; then
        log "load generator: OK"
    else
        log "load generator: FAILED"
        failures+=("bench")
    fi
else
    log "load generator not built ($BENCH_BIN): skipped"
fi

# --- litmus ----------------------------------------------------------------
# litmus (0.13) creates and removes the collection <URL>litmus/ itself.  Each
# suite runs on its own, without -k: the litmus wrapper then exits non-zero
# when the suite has a failure (with -k it always exits 0).  The summary line
# is checked as well, in case a suite stops early without saying so.
if [[ "$SKIP_LITMUS" == 1 ]]; then
    log "litmus skipped (SKIP_LITMUS=1)"
else
    LITMUS_URL="$BASE_URL/dav/calendars/litmus/"
    mkdir -p "$WORK/litmus"
    for suite in $LITMUS_SUITES; do
        log "==== litmus $suite ($LITMUS_URL) ===="
        out="$WORK/litmus/$suite.out"
        if (cd "$WORK/litmus" && TESTS="$suite" timeout 90 litmus "$LITMUS_URL" litmus "$LITMUS_PW") \
            >"$out" 2>&1; then
            rc=0
        else
            rc=$?
        fi
        cat "$out"
        summary="$(grep -E "^<- summary for \`$suite'" "$out" || true)"
        failed="$(printf '%s\n' "$summary" | sed -nE 's/.* ([0-9]+) failed.*/\1/p')"
        if [[ $rc -ne 0 || -z "$summary" || "$failed" != 0 ]]; then
            [[ $rc == 124 ]] && log "litmus $suite timed out"
            log "litmus $suite: FAILED (exit $rc, ${failed:-?} failed)"
            failures+=("litmus-$suite")
        else
            log "litmus $suite: OK"
        fi
    done
fi

# --- result ----------------------------------------------------------------
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    failures+=("server-died")
fi
if [[ ${#failures[@]} -gt 0 ]]; then
    log "FAILED: ${failures[*]}"
    exit 1
fi
log "all interop checks passed"
