#!/usr/bin/env bash
# Vigil's scan against hashdeep on the same folder, warm page cache.
#
#   bench/scan/scan-vs-peers.sh FOLDER [RUNS] [WARMUP]
#
# FOLDER: e.g. made by `python3 bench/scan/make_seized.py /tmp/seized`.
# Needs: hashdeep (Debian package), python3. Builds the release examples of
# vigil-media in its own target dir. Prints a markdown report on stdout.
set -euo pipefail
folder=${1:?usage: scan-vs-peers.sh FOLDER [RUNS] [WARMUP]}
runs=${2:-3}
warmup=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target-vigil-media}
command -v hashdeep >/dev/null || { echo "hashdeep not installed (apt-get install hashdeep)" >&2; exit 1; }
(cd "$repo" && CARGO_TARGET_DIR="$target" CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} \
    cargo build --release -q -p vigil-media --example scan --example hash_limit)
echo "# scan-vs-peers, $(date -u +%Y-%m-%dT%H:%MZ), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
python3 "$here/scan_vs_peers.py" "$folder" --runs "$runs" --warmup "$warmup" \
    --scan "$target/release/examples/scan" --limit "$target/release/examples/hash_limit"
