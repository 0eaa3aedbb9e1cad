#!/usr/bin/env bash
# One benchmark run against a fresh database: create the bench user and webhook source,
# start `tributary serve` on a free loopback port, run tributary-bench with
# --events N, stop the server. The figures go to OUT.json (and stdout).
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
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
KEY="bench-webhook-key-0123456789abcdef"
cat >"$WORK/config.toml" <<CFG
[server]
listen = "127.0.0.1:$PORT"
[storage]
path = "bench.db"
[log]
level = "warn"
CFG
cd "$WORK"
printf 'bench-password\n' | "$BIN_DIR/tributary" --config config.toml user add bench >/dev/null
printf '%s\n' "$KEY" | "$BIN_DIR/tributary" --config config.toml source add m365-bench --user bench --api-key-stdin >/dev/null
"$BIN_DIR/tributary" --config config.toml serve 2>"$WORK/server.log" &
PID=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
"$BIN_DIR/tributary-bench" --url "http://127.0.0.1:$PORT/" --user bench --password bench-password \
    --events "$EVENTS" --pid "$PID" --db "$WORK/bench.db" \
    --webhook-key "$KEY" --webhook-source m365-bench --json "$OUT"
