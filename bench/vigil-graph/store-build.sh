#!/bin/sh
# Graph build from the store (issue 7): seed a synthetic operation of about
# 100k nodes / 1M edges, then time `Store::offender_graph` in a fresh process
# (wall, CPU of the process, peak RSS; on PostgreSQL also the CPU of the
# server processes). Run from the repository root.
# Usage: bench/vigil-graph/store-build.sh SQLITE_FILE|postgres://URL-of-an-empty-db [SCALE] [RUNS]
set -eu
DB=$1
SCALE=${2:-1}
RUNS=${3:-3}
BIN="${CARGO_TARGET_DIR:-target}/release/examples/graph_build_bench"
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --release -p vigil-store --example graph_build_bench
uptime
/usr/bin/time -v "$BIN" seed "$DB" "$SCALE" 2>&1 | grep -E 'seeded|Maximum resident|Elapsed|User time|System time'
uptime
/usr/bin/time -v "$BIN" build "$DB" "$RUNS" 2>&1 | grep -E 'run |nodes:|edges:|Maximum resident|Elapsed|User time|System time'
uptime
