#!/usr/bin/env bash
# Load test of read endpoints of the demo server with an API token, on
# loopback only, bounded in time (DURATION, default 15s each):
# GET /api/cases?limit=50 and GET /api/dashboard (the outcomes numbers).
# Every request is authorised and audited, as in production.
# Usage: bench/web/wrk.sh   (needs wrk: apt-get install wrk)
source "$(dirname "$0")/common.sh"
DURATION="${DURATION:-15s}"
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)" >&2; exit 1; }
for path in "/api/cases?limit=50" "/api/dashboard"; do
  echo "# demo operation, SQLite, $(nproc) CPUs, wrk -t2 -c16 -d$DURATION $path"
  timeout 120 wrk -t2 -c16 -d"$DURATION" --latency \
    -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT$path"
done
