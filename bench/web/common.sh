# Shared by wrk.sh and schemathesis.sh: the demo operation (`vigil demo`,
# full scale, in a throwaway folder), an API token of the demo officer, and
# the demo server on a loopback port. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VIGIL="${VIGIL:-$ROOT/target/release/vigil}"
if [ ! -x "$VIGIL" ]; then
  echo "building vigil (release)..." >&2
  (cd "$ROOT" && cargo build --release -p vigil-cli >&2)
fi
WORK="$(mktemp -d)"
PORT="${PORT:-18080}"
export VIGIL_DB="$WORK/demo.db"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$VIGIL" demo --no-serve --json --db "$VIGIL_DB" >"$WORK/demo.json"
DEMO_USER="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["demo"]["sign_in"]["user"])' "$WORK/demo.json")"
TOKEN="$("$VIGIL" --as "$DEMO_USER" token create --name bench)"
"$VIGIL" demo --db "$VIGIL_DB" --addr "127.0.0.1:$PORT" >/dev/null 2>"$WORK/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$PORT/api/openapi.json" >/dev/null; then break; fi
  sleep 0.1
done
