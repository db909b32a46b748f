#!/usr/bin/env bash
# Benchmark (not a test): sustained webhook ingest. wrk (Debian) posts Docker Hub's documented
# payload to a card that matches, 32 connections, on loopback, against the release build on
# SQLite; then the same with a wrong token. Prints accepted requests per second, p50/p99
# latency, and checks that the deliveries stored equal the 2xx answers counted.
#   scripts/bench-ingest.sh [seconds]
source "$(dirname "$0")/lib.sh"
apt_ensure wrk sqlite3 curl
secs="${1:-10}"
bin="$ROOT/target/release/wharf"
[ -x "$bin" ] || die "build the release first: cargo build --release -p server --bin wharf"
port=3978
data="$(mktemp -d)"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data" "$work"' EXIT
WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$ROOT/target/site-release" WHARF_LOG=error \
  WHARF_ADMIN_EMAIL=bench@example.com WHARF_ADMIN_PASSWORD='bench password 2026' "$bin" &
pid=$!
base="http://127.0.0.1:$port/pipelines/api"
until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.05; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
refresh=$(curl -fsS "$base/tokens" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password 2026","name":"bench"}' | json "['refreshToken']")
token=$(curl -fsS "$base/login" -H 'content-type: application/json' -d "{\"refreshToken\":\"$refresh\"}" | json "['token']")
call() { curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
project=$(call "$base/projects" -d '{"name":"bench"}' | json "['id']")
endpoint=$(call "$base/projects/$project/endpoints" -d '{"name":"hub","serverType":"docker_registry","url":"http://127.0.0.1:1"}' | json "['id']")
body=$(python3 -c 'import json; print(json.dumps({"yaml": """kind: PIPELINE
name: deploy
input: {DOCKER_EVENT_OWNER_NAME: x, DOCKER_IMAGE: x, DOCKER_REPO_NAME: x, DOCKER_REPO_NAMESPACE: x, DOCKER_TAG: x, DOCKER_DIGEST: x}
stageOrder: [Check]
stages:
  Check:
    taskOrder: [Tag]
    tasks:
      Tag: { type: Condition, input: { condition: '"'"'${input.DOCKER_TAG} matches "."'"'"' } }
"""}))')
pipeline=$(call "$base/projects/$project/pipelines" -d "$body" | json "['id']")
card=$(call "$base/projects/$project/docker-webhooks" -d "{\"name\":\"testhook\",\"endpointId\":$endpoint,\"pipelineId\":$pipeline,\"apiToken\":\"$refresh\",\"image\":\"svendowideit/testhook\"}" | json "['id']")
url=$(call "$base/docker-webhooks/$card/listener-url" | json "['url']" | sed 's/registry-webhooks/docker-hub-webhooks/')

cat > "$work/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY_FILE"), "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() ok = 0; refused = 0; other = 0 end
function response(status)
  if status >= 200 and status < 300 then ok = ok + 1
  elseif status == 401 then refused = refused + 1
  else other = other + 1 end
end
function done(summary, latency)
  local o, r, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other") end
  local s = summary.duration / 1e6
  io.write(string.format("RESULT ok=%d refused=%d other=%d errors=%d seconds=%.2f rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    o, r, x, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    s, (o + r + x) / s, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
stored() { sqlite3 "$data/wharf.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM webhook_deliveries;" | tail -1; }
export BODY_FILE="$ROOT/testkit/fixtures/docker_hub_example.json"

before=$(stored)
line=$(wrk -t2 -c32 -d"${secs}s" --latency -s "$work/post.lua" "$url" | grep '^RESULT')
sleep 1 # requests in flight when wrk stopped still complete (wrk does not count their answers)
after=$(stored)
echo "matching card, 32 connections, ${secs}s: $line"
ok=$(sed -E 's/.*ok=([0-9]+).*/\1/' <<<"$line")
extra=$((after - before - ok))
echo "deliveries stored: $((after - before)); 2xx answers counted by wrk: $ok; answered after wrk stopped counting: $extra"
if [ "$extra" -ge 0 ] && [ "$extra" -le 32 ]; then
  echo "check: every 2xx counted is a stored delivery (the difference is at most the 32 requests in flight at the end)"
else
  echo "CHECK FAILED: stored and 2xx differ by $extra"
fi
pending() { sqlite3 "$data/wharf.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM webhook_deliveries WHERE processed = 0;" | tail -1; }
backlog=$(pending); t0=$(date +%s.%N)
while [ "$(pending)" -gt 0 ]; do sleep 0.2; done
t1=$(date +%s.%N)
rows=$(sqlite3 "$data/wharf.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM webhook_activity;" | tail -1)
python3 -c "print(f'processor: {$backlog} deliveries still unprocessed when wrk stopped, drained in {$t1-$t0:.1f} s; Activity rows: {$rows}')"
sleep 1

wrong="http://127.0.0.1:$port/pipelines/api/docker-hub-webhooks?secureToken=wharf_wh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
before=$(stored)
line=$(wrk -t2 -c32 -d"${secs}s" --latency -s "$work/post.lua" "$wrong" | grep '^RESULT')
after=$(stored)
echo "wrong token, 32 connections, ${secs}s: $line"
echo "deliveries stored by the wrong-token run: $((after - before))"
