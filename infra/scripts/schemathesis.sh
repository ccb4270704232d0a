#!/usr/bin/env bash
# Fuzzes the dev server with schemathesis from its own OpenAPI document (/api/openapi.json):
# fails on any 5xx and on any response that breaks the documented status codes, content
# types or schemas. Runs on a throwaway embedded store, signed in as the bootstrap admin.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
st="${SCHEMATHESIS:-$root/.tools/venv/bin/schemathesis}"
[ -x "$st" ] || st="$(command -v schemathesis || true)"
[ -n "$st" ] || { echo "schemathesis is not installed (run infra/scripts/install-tools.sh)"; exit 1; }

port="${SCHEMATHESIS_PORT:-18765}"
data="$(mktemp -d)"
log="$data/server.log"
cargo build --quiet --bin antrean
DATA_DIR="$data" PORT="$port" BOOTSTRAP_ADMIN_PASSWORD="fuzz-admin-123" PLATFORM_TOKEN="fuzz-platform-token-0123456789" \
  RATE_LOGIN_PER_MINUTE=100000 RATE_API_KEY_PER_MINUTE=100000 RATE_PUBLIC_PER_MINUTE=100000 \
  "$root/target/debug/antrean" >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.2
done
token="$(curl -fs "http://127.0.0.1:$port/api/auth/login" -H 'content-type: application/json' \
  -d '{"username":"superadmin","password":"fuzz-admin-123"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')"

# Logout would end the fuzzer's own session; everything else is fair game.
status=0
"$st" run "http://127.0.0.1:$port/api/openapi.json" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/auth/logout \
  -H "Authorization: Bearer $token" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --seed 20261122 \
  --workers 2 \
  --warnings off || status=$?
if grep -q 'ERROR' "$log"; then
  echo "the server logged errors while fuzzed:"; grep 'ERROR' "$log" | head -20
  status=1
fi
exit $status
