#!/bin/sh
# Store-level VICS import rate: `vigil hashset import` of a synthetic VICS
# 2.0 file (default 1 M entries, ~650 MB) into a fresh SQLite database and,
# when VIGIL_BENCH_PG is set to a PostgreSQL URL of an empty database, into
# PostgreSQL too. Prints wall time, CPU time, entries/s and peak RSS
# (GNU time's "Maximum resident set size") of the vigil process.
# Usage: bench/vigil-hashset/store-import.sh [ENTRIES] [WORKDIR]
set -eu
N=${1:-1000000}
DIR=${2:-/tmp}
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
cargo build --release -p vigil-cli
cargo build --release -p vigil-hashset --examples
V=$CARGO_TARGET_DIR/release/vigil
SET="$DIR/vics-store-bench.json"
[ -f "$SET" ] || "$CARGO_TARGET_DIR/release/examples/vics_synth" "$N" "$SET"
ls -l "$SET"

run() { # backend-name, then the environment for vigil
    name=$1
    echo "a long passphrase" | "$V" init --agency "Bench Unit" --country CA \
        --admin alice --password-stdin >/dev/null
    VIGIL_USER=alice "$V" user add erin --roles forensic-examiner >/dev/null
    /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
        env VIGIL_USER=erin "$V" --json hashset import "$SET" --name bench --format vics \
        > "$DIR/vics-store-bench.$name.out"
    tail -c 400 "$DIR/vics-store-bench.$name.out"; echo
}

DB="$DIR/vics-store-bench.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
VIGIL_DB=$DB; export VIGIL_DB
unset VIGIL_DATABASE_URL || true
run sqlite
ls -l "$DB"
rm -f "$DB" "$DB-wal" "$DB-shm"

if [ -n "${VIGIL_BENCH_PG:-}" ]; then
    VIGIL_DATABASE_URL=$VIGIL_BENCH_PG; export VIGIL_DATABASE_URL
    run postgres
fi
