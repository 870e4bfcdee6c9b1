#!/usr/bin/env bash
# Load test of a read endpoint: GET /api/cases?limit=50 with an API token,
# on loopback only, bounded in time (DURATION, default 15s).
# Usage: bench/web/wrk.sh   (needs wrk: apt-get install wrk)
source "$(dirname "$0")/common.sh"
DURATION="${DURATION:-15s}"
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }
echo "# $N_CASES cases, SQLite, $(nproc) CPUs, wrk -t2 -c16 -d$DURATION"
timeout 120 wrk -t2 -c16 -d"$DURATION" --latency \
  -H "Authorization: Bearer $TOKEN" \
  "http://127.0.0.1:$PORT/api/cases?limit=50"
