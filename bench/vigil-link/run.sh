#!/bin/sh
# Evaluation of vigil-link candidate links on the synthetic population.
# Weights were tuned on seed 1; the reported figures use seed 2.
# Usage: bench/vigil-link/run.sh [seed]
set -eu
seed="${1:-2}"
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target-link}"
cargo build --release -p vigil-link --example evaluate
for n in 3000 20000 100000; do
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" \
    "$CARGO_TARGET_DIR/release/examples/evaluate" "$n" "$seed" --sweep
done
