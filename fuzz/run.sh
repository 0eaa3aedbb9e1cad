#!/usr/bin/env bash
# Runs one fuzz target, or all of them in turn, for a given number of seconds each.
#
#   fuzz/run.sh TARGET SECONDS     e.g. fuzz/run.sh ical_parse_index 1800
#   fuzz/run.sh all SECONDS        every target, one after the other
#
# Installs cargo-fuzz if it is missing, builds the corpus with seeds.sh on the first
# run, and runs on the stable toolchain with RUSTC_BOOTSTRAP=1 (cargo-fuzz passes
# nightly-only flags such as -Zsanitizer=address). New inputs go to
# fuzz/corpus/TARGET, crashes to fuzz/artifacts/TARGET (both ignored by git).
#
# Environment:
#   FUZZ_BUILD_FLAGS  flags for `cargo fuzz run` (default: --debug-assertions, which
#                     also turns on integer overflow checks); e.g. "-a -s none" to
#                     drop AddressSanitizer for speed
#   FUZZ_JOBS         parallel libFuzzer processes per target (default 1; more uses
#                     libFuzzer's -fork mode)
#   FUZZ_EXTRA        extra libFuzzer flags, e.g. "-max_len=16384"
set -euo pipefail

usage() {
    echo "usage: fuzz/run.sh TARGET|all SECONDS" >&2
    echo "targets: ${targets[*]}" >&2
    exit 2
}

targets=(ical_parse_index recurrence_time_range dav_bodies webhook_json request_path ics_feed caldav_answers)
[ $# -eq 2 ] || usage
target="$1"
seconds="$2"
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
if [ "$target" != all ] && [[ " ${targets[*]} " != *" $target "* ]]; then
    usage
fi

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$fuzz_dir")"
cd "$repo"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "run.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
read -r -a build_flags <<<"${FUZZ_BUILD_FLAGS-"--debug-assertions"}"
read -r -a extra <<<"${FUZZ_EXTRA-}"
jobs="${FUZZ_JOBS:-1}"

run_one() {
    local t="$1"
    local corpus="$fuzz_dir/corpus/$t"
    local seeds="$fuzz_dir/seeds/$t"
    if [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
        "$fuzz_dir/seeds.sh"
    fi
    mkdir -p "$corpus" "$fuzz_dir/artifacts/$t"
    echo "run.sh: $t for ${seconds}s" >&2
    cargo fuzz run --fuzz-dir "$fuzz_dir" --jobs "$jobs" "${build_flags[@]}" \
        "$t" "$corpus" "$seeds" -- \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 "${extra[@]}"
}

if [ "$target" = all ]; then
    status=0
    for t in "${targets[@]}"; do
        run_one "$t" || status=$?
    done
    exit "$status"
fi
run_one "$target"
