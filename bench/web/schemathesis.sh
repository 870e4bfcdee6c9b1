#!/usr/bin/env bash
# Property-based API testing against the served OpenAPI document, on
# loopback only, bounded (MAX_EXAMPLES per operation, overall timeout).
# Usage: bench/web/schemathesis.sh   (needs `schemathesis` on PATH or
# ST=/path/to/st; pip install schemathesis)
# Revoking tokens is left out: the run would revoke its own token by id and
# spend the rest of it on 401s.
source "$(dirname "$0")/common.sh"
ST="${ST:-$(command -v st || command -v schemathesis || true)}"
[ -n "$ST" ] || { echo "schemathesis not installed (pip install schemathesis)" >&2; exit 1; }

timeout "${TIMEOUT:-600}" "$ST" run "http://127.0.0.1:$PORT/api/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --exclude-path '/api/tokens/{id}' \
  --checks all \
  --max-examples "${MAX_EXAMPLES:-50}" \
  --workers 1 \
  --request-timeout 10 \
  --seed "${SEED:-1}"
