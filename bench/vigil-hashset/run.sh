#!/bin/sh
# Import benchmark of vigil-hashset: generates a synthetic 1M-entry VICS 2.0
# file (~650 MB), parses it (entries per CPU-second, peak RSS), re-exports it,
# then converts it to CSV/TSV/ICSE/PDQ lists and parses those.
# Usage: bench/vigil-hashset/run.sh [ENTRIES] [WORKDIR]   (default 1000000 /tmp)
set -eu
N=${1:-1000000}
DIR=${2:-/tmp}
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target-vigil-hashset}
cargo build --release -p vigil-hashset --examples
B=$CARGO_TARGET_DIR/release/examples
"$B/vics_synth" "$N" "$DIR/vics-bench.json"
"$B/vics_import_bench" "$DIR/vics-bench.json" --export
for f in csv tsv icse pdq; do
    "$B/hashset_convert" "$DIR/vics-bench.json" "$DIR/vics-bench.$f" "$f"
    echo "== $f"
    "$B/vics_import_bench" "$DIR/vics-bench.$f"
done
rm -f "$DIR"/vics-bench.json "$DIR"/vics-bench.csv "$DIR"/vics-bench.tsv "$DIR"/vics-bench.icse "$DIR"/vics-bench.pdq
