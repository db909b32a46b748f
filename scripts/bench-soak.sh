#!/usr/bin/env bash
# Benchmark (not a test): a soak of mixed load on the release build on SQLite. For a while
# (600 s unless given): Docker Hub deliveries at a steady rate trigger pipelines that 4 workers
# run, a browser session follows the Executions stream (server-sent events), and executions
# are cancelled, paused and resumed over the API. Samples Wharf's resident memory every 10 s
# and prints the curve, the listener's p50/p99 and every error.
#   scripts/bench-soak.sh [seconds] [deliveries per second]
source "$(dirname "$0")/lib.sh"
apt_ensure curl python3
secs="${1:-600}"
rate="${2:-20}"
bin="$ROOT/target/release/wharf"
[ -x "$bin" ] || die "build the release first: cargo build --release -p server --bin wharf"
port=3979
data="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$ROOT/target/site-release" WHARF_LOG=warn \
  WHARF_WORKERS=4 WHARF_ADMIN_EMAIL=soak@example.com WHARF_ADMIN_PASSWORD='soak password 2026' "$bin" \
  2> "$data/wharf.log" &
pid=$!
until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.05; done
SOAK_PID=$pid SOAK_PORT=$port SOAK_SECONDS=$secs SOAK_RATE=$rate python3 - <<'PY'
import http.client, json, os, re, statistics, threading, time, urllib.parse

port = int(os.environ["SOAK_PORT"]); pid = int(os.environ["SOAK_PID"])
seconds = int(os.environ["SOAK_SECONDS"]); rate = float(os.environ["SOAK_RATE"])
host = "127.0.0.1"

def request(method, path, body=None, headers=None):
    c = http.client.HTTPConnection(host, port, timeout=30)
    h = {"content-type": "application/json"}
    h.update(headers or {})
    c.request(method, path, body=json.dumps(body) if isinstance(body, (dict, list)) else body, headers=h)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data, r

def api(method, path, body=None):
    status, data, _ = request(method, "/pipelines/api" + path, body, {"authorization": "Bearer " + token})
    return status, (json.loads(data) if data[:1] in (b"{", b"[") else data)

_, t, _ = request("POST", "/pipelines/api/tokens", {"email": "soak@example.com", "password": "soak password 2026", "name": "soak"})
refresh = json.loads(t)["refreshToken"]
_, l, _ = request("POST", "/pipelines/api/login", {"refreshToken": refresh})
token = json.loads(l)["token"]
_, p = api("POST", "/projects", {"name": "soak"})
project = p["id"]
_, e = api("POST", f"/projects/{project}/endpoints", {"name": "hub", "serverType": "docker_registry", "url": "http://127.0.0.1:1"})
yaml = """kind: PIPELINE
name: deploy
input: {DOCKER_EVENT_OWNER_NAME: x, DOCKER_IMAGE: x, DOCKER_REPO_NAME: x, DOCKER_REPO_NAMESPACE: x, DOCKER_TAG: x, DOCKER_DIGEST: x}
stageOrder: [Check, Again]
stages:
  Check:
    taskOrder: [Tag]
    tasks:
      Tag: { type: Condition, input: { condition: '${input.DOCKER_TAG} matches "."' } }
  Again:
    taskOrder: ["A,B"]
    tasks:
      A: { type: Condition, input: { condition: 'true' } }
      B: { type: Condition, input: { condition: '${executionIndex} >= 1' } }
"""
_, pl = api("POST", f"/projects/{project}/pipelines", {"yaml": yaml})
_, card = api("POST", f"/projects/{project}/docker-webhooks", {"name": "soak", "endpointId": e["id"], "pipelineId": pl["id"], "apiToken": refresh, "image": "acme/web"})
_, u = api("GET", f"/docker-webhooks/{card['id']}/listener-url")
listener = urllib.parse.urlparse(u["url"].replace("registry-webhooks", "docker-hub-webhooks"))
listener_path = listener.path + "?" + listener.query

# a browser session following the Executions stream
_, page, _ = request("GET", "/login")
sign_in = re.search(rb'action="(/api/sign_in[0-9]*)"', page).group(1).decode()
form = urllib.parse.urlencode({"email": "soak@example.com", "password": "soak password 2026"})
_, _, r = request("POST", sign_in, form, {"content-type": "application/x-www-form-urlencoded", "origin": f"http://{host}:{port}"})
cookie = r.getheader("set-cookie").split(";")[0]

stop = threading.Event()
counts = {"webhook_non_2xx": 0, "webhook_failed": 0, "action_5xx": 0, "sse_events": 0, "sse_drops": 0}
latencies = []

def follow():
    while not stop.is_set():
        try:
            c = http.client.HTTPConnection(host, port, timeout=30)
            c.request("GET", "/live/executions", headers={"cookie": cookie})
            r = c.getresponse()
            while not stop.is_set():
                line = r.fp.readline()
                if not line:
                    break
                if line.startswith(b"event: execution"):
                    counts["sse_events"] += 1
            c.close()
        except Exception:
            pass
        if not stop.is_set():
            counts["sse_drops"] += 1
            time.sleep(1)

def push():
    n = 0; start = time.time()
    while not stop.is_set():
        n += 1
        body = {"push_data": {"pushed_at": n, "pusher": "soak", "tag": f"v{n}"},
                "repository": {"repo_name": "acme/web", "namespace": "acme", "name": "web"}}
        t0 = time.perf_counter()
        try:
            status, _, _ = request("POST", listener_path, body)
            latencies.append((time.perf_counter() - t0) * 1000)
            if not 200 <= status < 300:
                counts["webhook_non_2xx"] += 1
        except Exception:
            counts["webhook_failed"] += 1
        delay = start + n / rate - time.time()
        if delay > 0:
            time.sleep(delay)

def act():
    i = 0
    while not stop.is_set():
        time.sleep(2)
        i += 1
        status, page = api("GET", f"/projects/{project}/executions?pageSize=5")
        if status >= 500:
            counts["action_5xx"] += 1; continue
        for x in page.get("items", [])[:2]:
            action = ["cancel", "pause", "resume"][i % 3]
            s, _ = api("POST", f"/executions/{x['id']}/actions", {"action": action})
            if s >= 500:
                counts["action_5xx"] += 1

def rss():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

threads = [threading.Thread(target=f, daemon=True) for f in (follow, push, act)]
for t in threads:
    t.start()
samples = []
begin = time.time()
while time.time() - begin < seconds:
    samples.append((round(time.time() - begin), rss()))
    time.sleep(min(10, max(0.0, seconds - (time.time() - begin))))
samples.append((round(time.time() - begin), rss()))
stop.set()
time.sleep(1)
status, execs = api("GET", f"/projects/{project}/executions?pageSize=1")
half = [m for s, m in samples if s >= seconds / 2]
growth = (half[-1] - half[0]) / half[0] * 100 if half and half[0] else 0
lat = sorted(latencies)
print("RSS MiB every 10 s:", " ".join(f"{m:.1f}" for _, m in samples))
print(f"RSS start {samples[0][1]:.1f} MiB, middle {samples[len(samples)//2][1]:.1f}, end {samples[-1][1]:.1f}; second half growth {growth:+.1f}%")
print(f"deliveries: {len(lat)} at {rate}/s; listener p50 {statistics.median(lat):.2f} ms, p99 {lat[int(len(lat)*0.99)-1]:.2f} ms")
print(f"executions: {execs.get('total')}; live events seen by the browser session: {counts['sse_events']}")
print("errors:", {k: v for k, v in counts.items() if k != 'sse_events'})
PY
errors=$(grep -c -E " ERROR " "$data/wharf.log" || true)
echo "ERROR lines in Wharf's log: $errors"
grep -E " ERROR " "$data/wharf.log" | head -5 || true
