#!/usr/bin/env bash
# Chat import-parse throughput and search latency benchmarks.
# Usage: bench/vigil-chat/run.sh [parse_lines] [search_messages]
# Results are printed; copy them into bench/results/vigil-chat.md with the
# machine description and the load at the time (see that file).
set -euo pipefail
cd "$(dirname "$0")/../.."
LINES="${1:-1000000}"
MSGS="${2:-10000000}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target-vigil-chat}"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo run --release -q -p vigil-chat --example parse_bench -- "$LINES" irssi
cargo run --release -q -p vigil-chat --example parse_bench -- "$LINES" weechat
echo "== load before search: $(cut -d' ' -f1-3 /proc/loadavg)"
bench/vigil-chat/search.sh "$MSGS"
