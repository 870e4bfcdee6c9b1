#!/usr/bin/env bash
# Chat search benchmark at scale (issue #5): builds a tantivy index of N
# generated chat messages with vigil-search's writer (one add_batch per 5,000
# messages and one commit per room log, as `vigil chat import` does), then
# runs a warm, single-threaded query mix and prints p50/p95/p99 per kind.
#
# Usage: bench/vigil-chat/search.sh [messages=10000000] [queries_per_kind=500]
# The index goes to a temporary directory under $TMPDIR (or /tmp) and is
# deleted at the end unless KEEP_INDEX=1. Copy the output into
# bench/results/vigil-chat.md together with the machine and load it prints.
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-10000000}"
PER="${2:-500}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release -q -p vigil-search --example search_bench
BIN="$CARGO_TARGET_DIR/release/examples/search_bench"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/vigil-search-bench.XXXXXX")"
if [ "${KEEP_INDEX:-0}" != 1 ]; then
  trap 'rm -rf "$WORK"' EXIT
fi
echo "== machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM"
echo "== kernel: $(uname -r); rustc: $(rustc --version)"
echo "== index: $WORK/index; load before build: $(cut -d' ' -f1-3 /proc/loadavg)"
TIMEFMT='process: %e s wall, %U s user, %S s system, peak RSS %M KiB'
/usr/bin/time -f "$TIMEFMT" "$BIN" build "$WORK/index" "$N"
echo "== load before queries: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -f "$TIMEFMT" "$BIN" query "$WORK/index" "$N" "$PER"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
