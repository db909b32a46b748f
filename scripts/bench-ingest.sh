#!/usr/bin/env bash
# Benchmark (not a test): webhook ingest beside its peers, in one run, with one payload and one
# wrk setting (2 threads, 32 connections, the seeds' Docker Hub payload, loopback):
#   1. nginx `return 200` (the ceiling: answers without reading anything);
#   2. adnanh/webhook (Debian `webhook`) with a secure-token rule running /bin/true, storing nothing;
#   3. Wharf, release build on SQLite, a matching card: every 2xx is a durably stored delivery
#      (checked: deliveries stored = 2xx counted), and the processor drains what was accepted;
#   4. Wharf with a wrong token (refused with 401, nothing stored).
# Each runs alone on the machine, one after the other; the table at the end gives the ratios.
#   scripts/bench-ingest.sh [seconds]
# Environment: WHARF_BIN (default target/release/wharf); BENCH_PEERS=0 skips nginx and webhook
# (while iterating); BENCH_PERF=DIR records where Wharf's time goes (perf record -g, on the
# server process, during each Wharf run) into DIR/durable.data and DIR/wrong.data, and prints
# the top symbols of each.
source "$(dirname "$0")/lib.sh"
apt_ensure wrk sqlite3 curl nginx-light webhook
secs="${1:-10}"
bin="${WHARF_BIN:-$ROOT/target/release/wharf}"
[ -x "$bin" ] || die "build the release first: cargo build --release -p server --bin wharf"
work="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work" "${data:-}"' EXIT
export BODY_FILE="$ROOT/testkit/fixtures/docker_hub_example.json"
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
# run_wrk URL [PERF_NAME]: wrk's RESULT line for URL (recording perf as PERF_NAME if asked)
run_wrk() {
  local perf_pid=""
  if [ -n "${BENCH_PERF:-}" ] && [ -n "${2:-}" ]; then
    mkdir -p "$BENCH_PERF"
    perf record -F 999 ${BENCH_PERF_CALLGRAPH:--g} -p "${pids[-1]}" -o "$BENCH_PERF/$2.data" -- sleep "$secs" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  wrk -t2 -c32 -d"${secs}s" --latency -s "$work/post.lua" "$1" | grep '^RESULT'
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    perf report -i "$BENCH_PERF/$2.data" --no-children --sort dso,symbol -g none 2>/dev/null \
      | grep -v '^#' | grep '%' | head -25 | cut -c1-150 >&2 || true
  fi
}
field() { sed -E "s/.* $1=([0-9.]+).*/\1/" <<<"$2"; }
wait_port() { until curl -s -o /dev/null "http://127.0.0.1:$1/"; do sleep 0.05; done; }
stop_last() { local p="${pids[-1]}"; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; unset 'pids[-1]'; }

peers=${BENCH_PEERS:-1}
nginx_line="RESULT rps=0 p50_ms=0 p99_ms=0"; webhook_line="$nginx_line"
if [ "$peers" = 1 ]; then
# 1. nginx return 200
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  server { listen 127.0.0.1:3981; location / { return 200; } }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" & pids+=($!)
wait_port 3981
nginx_line=$(run_wrk "http://127.0.0.1:3981/hooks/deploy")
stop_last
echo "nginx return 200: $nginx_line"

# 2. adnanh/webhook: the token as a rule, /bin/true as the command
cat > "$work/hooks.json" <<'JSON'
[{"id": "deploy", "execute-command": "/bin/true",
  "trigger-rule": {"match": {"type": "value", "value": "wharf_wh_benchtoken",
                             "parameter": {"source": "url", "name": "secureToken"}}}}]
JSON
webhook -hooks "$work/hooks.json" -ip 127.0.0.1 -port 3982 >/dev/null 2>&1 & pids+=($!)
until curl -s -o /dev/null "http://127.0.0.1:3982/hooks/deploy"; do sleep 0.05; done
webhook_line=$(run_wrk "http://127.0.0.1:3982/hooks/deploy?secureToken=wharf_wh_benchtoken")
stop_last
echo "adnanh/webhook, token rule, /bin/true: $webhook_line"
fi

# 3 and 4. Wharf
port=3978
data="$(mktemp -d)"
WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$ROOT/target/site-release" WHARF_LOG=error \
  WHARF_ADMIN_EMAIL=bench@example.com WHARF_ADMIN_PASSWORD='bench password 2026' "$bin" &
pids+=($!)
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

stored() { sqlite3 "$data/wharf.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM webhook_deliveries;" | tail -1; }

before=$(stored)
line=$(run_wrk "$url" durable)
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
# the engine runs what the processor started: the next run starts on an idle server
unfinished() { sqlite3 "$data/wharf.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM executions WHERE status IN ('QUEUED','RUNNING','WAITING');" | tail -1; }
while [ "$(unfinished)" -gt 0 ]; do sleep 0.2; done
t2=$(date +%s.%N)
runs=$(sqlite3 "$data/wharf.db" "PRAGMA busy_timeout=5000; SELECT count(*) FROM executions;" | tail -1)
python3 -c "print(f'engine: {$runs} executions started, all finished {$t2-$t1:.1f} s after the processor drained; from wrk stopping to all done: {$t2-$t0:.1f} s')"
sleep 1

wrong="http://127.0.0.1:$port/pipelines/api/docker-hub-webhooks?secureToken=wharf_wh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
before=$(stored)
wrong_line=$(run_wrk "$wrong" wrong)
after=$(stored)
echo "wrong token, 32 connections, ${secs}s: $wrong_line"
durable_line="$line"
echo "deliveries stored by the wrong-token run: $((after - before))"

# the side-by-side table and its ratios
python3 - "$nginx_line" "$webhook_line" "$durable_line" "$wrong_line" <<'PY'
import re, sys
def parse(line):
    return {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}
nginx, hook, durable, wrong = (parse(l) for l in sys.argv[1:5])
print()
print(f"{'what':<58} {'requests/s':>11} {'p50 ms':>7} {'p99 ms':>7}")
for name, r in [("nginx return 200 (the ceiling)", nginx),
                ("adnanh/webhook 2.8, token rule + /bin/true, stores nothing", hook),
                ("Wharf, matching card, stored durably (SQLite)", durable),
                ("Wharf, wrong token (401)", wrong)]:
    if r['rps'] > 0:  # the peers are left out with BENCH_PEERS=0
        print(f"{name:<58} {r['rps']:>11,.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f}")
if hook['rps'] == 0: sys.exit(0)
print(f"Wharf durable / webhook: {durable['ok'] / durable['seconds'] / hook['rps']:.2f}x (2xx only; target 3x)")
print(f"Wharf wrong token / nginx: {100 * wrong['rps'] / nginx['rps']:.0f}% (target 50%)")
PY
