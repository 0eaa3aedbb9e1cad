#!/usr/bin/env bash
# One benchmark run against a fresh database: create the bench user, the webhook source
# and the ICS feed source, start `tributary serve` on a free loopback port, run
# tributary-bench with --events N (the feed it serves has N events too), stop the
# server. The figures go to OUT.json (and stdout).
#
# The remote CalDAV workloads need a second CalDAV server: a second `tributary serve`
# (the same binary, its own folder, config, database and user) on another loopback
# port, which the server under test's two remote sources (pull-only and two-way) point
# at. It is started here, not by the bench, because the sources must be added with the
# CLI before the server starts, and so the bench stays a plain HTTP client that could
# measure against any remote.
#
#   crates/bench/runbench.sh target/release OUT.json [EVENTS]
#
# BIN_DIR holds both `tributary` and `tributary-bench` (a release build:
# `cargo build --release -p tributary -p tributary-bench`). To compare two commits,
# build each into its own target dir and run this script with each BIN_DIR in turn,
# alternating, in one session.
set -euo pipefail
BIN_DIR="$(cd "$1" && pwd)"
OUT="$(realpath -m "$2")"
EVENTS="${3:-10000}"
WORK="$(mktemp -d /tmp/tributary-bench.XXXXXX)"
PID=
REMOTE_PID=
stop() {
    for p in $PID $REMOTE_PID; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap stop EXIT
# Three free ports, bound at once so they differ: the server's, the bench's feed and
# the remote's.
read -r PORT FEED_PORT REMOTE_PORT < <(python3 -c 'import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
KEY="bench-webhook-key-0123456789abcdef"
ADMIN_KEY="bench-admin-key-0123456789abcdef"
cat >"$WORK/config.toml" <<CFG
[server]
listen = "127.0.0.1:$PORT"
[storage]
path = "bench.db"
[log]
level = "warn"
[ingest]
admin_api_key = "$ADMIN_KEY"
[pull]
allow_private_networks = true
CFG
wait_for() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
}
# The remote: its own folder and database, one user.
mkdir "$WORK/remote"
cat >"$WORK/remote/config.toml" <<CFG
[server]
listen = "127.0.0.1:$REMOTE_PORT"
[storage]
path = "remote.db"
[log]
level = "warn"
CFG
(cd "$WORK/remote" && printf 'remote-password\n' | "$BIN_DIR/tributary" --config config.toml user add remote >/dev/null)
(cd "$WORK/remote" && exec "$BIN_DIR/tributary" --config config.toml serve 2>"$WORK/remote.log") &
REMOTE_PID=$!
cd "$WORK"
printf 'bench-password\n' | "$BIN_DIR/tributary" --config config.toml user add bench >/dev/null
printf '%s\n' "$KEY" | "$BIN_DIR/tributary" --config config.toml source add m365-bench --user bench --api-key-stdin >/dev/null
# The feed source is added before the server starts, whose scheduler pulls it at once.
# Nothing listens on FEED_PORT yet: the bench binds it only when its pull workload
# starts, right before its own first pull. So the scheduler's early pulls fail
# (connection refused) and back off (1, 2, 4, … minutes) without reading the feed, and
# the bench's first pull is the first import. Its success sets the next scheduled pull
# a day (--refresh 1d) away, so the scheduler leaves the measured pulls alone. A retry
# that still lands in the instant between the bind and the bench's request shows as an
# extra fetch or a busy answer, and the bench fails the run instead of reporting it.
"$BIN_DIR/tributary" --config config.toml source add bench-feed --user bench \
    --ics "http://127.0.0.1:$FEED_PORT/feed.ics" --refresh 1d >/dev/null
# The remote sources: each mirrors the remote calendar named like itself, which the
# bench makes and fills when its remote workloads start. Until then the scheduler's
# pulls find no such calendar and back off; a retry that would fall into the bench's
# setup is pushed away by a sync the bench asks for first, which fails the same way
# (crates/bench/src/remote/scheduler.rs). `source add` stores the
# password sealed with secrets.key beside the database, which the server reads.
add_remote() {
    printf 'remote-password\n' | "$BIN_DIR/tributary" --config config.toml source add "$1" --user bench \
        --caldav "http://127.0.0.1:$REMOTE_PORT/" --remote-user remote --password-stdin \
        --remote-calendar "$1" --direction "$2" --refresh 1d >/dev/null
}
add_remote bench-remote pull
add_remote bench-remote-2way both
wait_for "$REMOTE_PORT"
"$BIN_DIR/tributary" --config config.toml serve 2>"$WORK/server.log" &
PID=$!
wait_for "$PORT"
"$BIN_DIR/tributary-bench" --url "http://127.0.0.1:$PORT/" --user bench --password bench-password \
    --events "$EVENTS" --pid "$PID" --db "$WORK/bench.db" \
    --webhook-key "$KEY" --webhook-source m365-bench \
    --feed-listen "127.0.0.1:$FEED_PORT" --feed-source bench-feed --admin-key "$ADMIN_KEY" \
    --remote-url "http://127.0.0.1:$REMOTE_PORT/" --remote-user remote --remote-password remote-password \
    --remote-source bench-remote --remote-push-source bench-remote-2way \
    --json "$OUT"
