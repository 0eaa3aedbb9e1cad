#!/usr/bin/env bash
# One benchmark run against a fresh database: create the bench user, the webhook source
# and the ICS feed source, start `tributary serve` on a free loopback port, run
# tributary-bench with --events N (the feed it serves has N events too), stop the
# server. The figures go to OUT.json (and stdout).
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
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
# Two free ports, bound at once so they differ: the server's and the bench's feed.
read -r PORT FEED_PORT < <(python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])')
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
"$BIN_DIR/tributary" --config config.toml serve 2>"$WORK/server.log" &
PID=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
"$BIN_DIR/tributary-bench" --url "http://127.0.0.1:$PORT/" --user bench --password bench-password \
    --events "$EVENTS" --pid "$PID" --db "$WORK/bench.db" \
    --webhook-key "$KEY" --webhook-source m365-bench \
    --feed-listen "127.0.0.1:$FEED_PORT" --feed-source bench-feed --admin-key "$ADMIN_KEY" \
    --json "$OUT"
