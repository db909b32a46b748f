#!/usr/bin/env bash
# The REST API against its own OpenAPI document: schemathesis (PyPI, installed when missing)
# runs all its checks (server errors, undocumented statuses and content types, response
# schemas, negative and positive data, missing auth, undeclared methods, stateful links…)
# against a Wharf started on a temporary SQLite database, signed in as its administrator, and
# fails on any finding. The run is reproducible (fixed seed) and bounded in time. One worker:
# with two, hypothesis describes strategies from two threads at once and CPython 3.11's ast
# module races on its recursion counter ("AST constructor recursion depth mismatch"), which
# failed a CI run without any finding against Wharf.
#   scripts/schemathesis.sh [seconds=180]
source "$(dirname "$0")/lib.sh"
ST_VERSION="4.32.5"
budget="${1:-180}"
if [ "$(st --version 2>/dev/null | awk '{print $3}')" != "$ST_VERSION" ]; then
  say "installing schemathesis $ST_VERSION (PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==$ST_VERSION"
fi
bin="$ROOT/target/debug/wharf"
cargo build --quiet -p server --bin wharf
data="$(mktemp -d)"
pid=""
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
password='schemathesis password 2026'
WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$data/site" WHARF_LOG=warn \
  WHARF_ADMIN_EMAIL=st@example.com WHARF_ADMIN_PASSWORD="$password" "$bin" >"$data/wharf.log" 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
base="http://127.0.0.1:$port/pipelines/api"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
issued="$(curl -fsS "$base/tokens" -H 'content-type: application/json' \
  -d "{\"email\":\"st@example.com\",\"password\":\"$password\",\"name\":\"schemathesis\"}")"
refresh="$(echo "$issued" | json "['refreshToken']")"
token="$(curl -fsS "$base/login" -H 'content-type: application/json' -d "{\"refreshToken\":\"$refresh\"}" | json "['token']")"
export WHARF_ST_TOKEN_ID="$(echo "$issued" | json "['id']")"
export WHARF_ST_USER_ID="$(curl -fsS "$base/users" -H "authorization: Bearer $token" | json "['items'][0]['id']")"
export SCHEMATHESIS_HOOKS=schemathesis_hooks
export PYTHONPATH="$ROOT/scripts${PYTHONPATH:+:$PYTHONPATH}"
say "schemathesis $ST_VERSION, all checks, ${budget} s, against $base/openapi.json"
status=0
(cd "$data" && st --no-color --config-file "$ROOT/scripts/schemathesis.toml" run "$base/openapi.json" -H "Authorization: Bearer $token" \
  --checks all --seed 20261202 --max-time "$budget" --workers 1 --generation-database none) || status=$?
if [ "$status" -ne 0 ]; then
  say "the server's log:"; tail -50 "$data/wharf.log" >&2
fi
exit "$status"
