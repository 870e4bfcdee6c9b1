#!/usr/bin/env bash
# vigil-pdq benchmark: builds the corpus (if missing), the pdqhash oracle and
# the release bench binary, then reports img/CPU-s (1 and 2 threads), the
# stage breakdown and bit-exactness against the oracle.
#
#   bench/vigil-pdq/run.sh [CORPUS_DIR] [COUNT] [MIN_MP MAX_MP]
#
# Needs: python3 with `pip install pillow pdqhash==0.2.8 numpy`, apt-get
# (Debian wallpaper packages as photo sources), a C compiler. Nothing is
# written inside the repository; the corpus lives in a temp dir.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="${1:-${TMPDIR:-/tmp}/vigil-pdq-corpus}"
count="${2:-200}"
lo="${3:-1.0}"
hi="${4:-6.0}"
target="${CARGO_TARGET_DIR:-$root/target-vigil-pdq}"

if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
  python3 "$here/make_corpus.py" "$corpus" "$count" "$lo" "$hi"
fi
oracle="$corpus.oracle.tsv"
python3 "$here/oracle.py" "$corpus" "$oracle"
(cd "$root" && CARGO_TARGET_DIR="$target" CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" \
  cargo build --release -p vigil-pdq --example pdq_bench)
"$target/release/examples/pdq_bench" "$corpus" "$oracle" "${REPS:-2}"
