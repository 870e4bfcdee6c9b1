#!/bin/sh
# vigil-graph benchmark: 100k-node / 1M-edge synthetic offender network,
# vigil-graph vs python-igraph on the same edge list and betweenness sources.
# Usage: bench/vigil-graph/run.sh [OUT_DIR] [PIVOTS] [SCALE]
# Needs: python3 with `pip install igraph`. Run from the repository root.
set -eu
OUT=${1:-/tmp/vigil-graph-bench}
PIVOTS=${2:-500}
SCALE=${3:-1}
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --release -p vigil-graph --example graph_bench
"${CARGO_TARGET_DIR:-target}/release/examples/graph_bench" "$OUT" "$PIVOTS" "$SCALE" > "$OUT.vigil.md"
# Single-threaded vigil run, for a like-for-like comparison with igraph
# (which is single-threaded).
RAYON_NUM_THREADS=1 "${CARGO_TARGET_DIR:-target}/release/examples/graph_bench" "$OUT-1t" "$PIVOTS" "$SCALE"
python3 "$(dirname "$0")/igraph_bench.py" "$OUT"
