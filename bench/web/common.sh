# Shared by wrk.sh and schemathesis.sh: a throwaway database with synthetic
# records, a token, and `vigil serve` on a loopback port. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VIGIL="${VIGIL:-$ROOT/target/release/vigil}"
if [ ! -x "$VIGIL" ]; then
  echo "building vigil (release)..." >&2
  (cd "$ROOT" && cargo build --release -p vigil-cli >&2)
fi
WORK="$(mktemp -d)"
PORT="${PORT:-18080}"
export VIGIL_DB="$WORK/vigil.db"
PW="bench password 1"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "$PW" | "$VIGIL" init --agency "Bench Agency" --country CA --admin admin --password-stdin >/dev/null
N_CASES="${N_CASES:-200}"
for i in $(seq 1 "$N_CASES"); do
  "$VIGIL" --as admin case create --title "Bench case $i" --operation "Op Bench" >/dev/null
done
TOKEN="$("$VIGIL" --as admin token create --name bench)"
"$VIGIL" serve --addr "127.0.0.1:$PORT" --insecure-cookies >/dev/null 2>"$WORK/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$PORT/api/openapi.json" >/dev/null; then break; fi
  sleep 0.1
done
