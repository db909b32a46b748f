#!/usr/bin/env bash
# Benchmark (not a test): the Executions list with many executions stored. Makes a pipeline of
# three stages over the REST API, runs it once, copies that execution (its stages and tasks)
# until N executions are stored, then times the server render of /executions (signed in as the
# administrator, and filtered to the project and to a status) and prints SQLite's query plans
# of the list's statements. Release build, SQLite.
#   scripts/bench-executions-list.sh [N=100000] [requests=50]
source "$(dirname "$0")/lib.sh"
apt_ensure sqlite3 curl
n="${1:-100000}"
requests="${2:-50}"
bin="$ROOT/target/release/wharf"
[ -x "$bin" ] || die "build the release first: scripts/run.sh (it builds the server and its site)"
port=3979
data="$(mktemp -d)"
jar="$data/cookies"
pid=""
# the server is already stopped when pid is empty; kill would fail and, under errexit, end the trap before rm
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$data"' EXIT
start() {
  WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$ROOT/target/site-release" WHARF_LOG=error \
    WHARF_ADMIN_EMAIL=bench@example.com WHARF_ADMIN_PASSWORD='bench password 2026' "$bin" &
  pid=$!
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.05; done
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

start
site="http://127.0.0.1:$port"
base="$site/pipelines/api"
refresh=$(curl -fsS "$base/tokens" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password 2026","name":"bench"}' | json "['refreshToken']")
token=$(curl -fsS "$base/login" -H 'content-type: application/json' -d "{\"refreshToken\":\"$refresh\"}" | json "['token']")
call() { curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
project=$(call "$base/projects" -d '{"name":"bench"}' | json "['id']")
body=$(python3 -c 'import json; print(json.dumps({"yaml": """kind: PIPELINE
name: deploy-web
input: {TAG: v1}
stageOrder: [Build, Test, Deploy]
stages:
  Build: {taskOrder: [Tag], tasks: {Tag: {type: Condition, input: {condition: "${input.TAG} matches \\"^v\\""}}}}
  Test: {taskOrder: [Check], tasks: {Check: {type: Condition, input: {condition: "${input.TAG} matches \\".\\""}}}}
  Deploy: {taskOrder: [Ship], tasks: {Ship: {type: Condition, input: {condition: "${input.TAG} matches \\"1$\\""}}}}
"""}))')
pipeline=$(call "$base/projects/$project/pipelines" -d "$body" | json "['id']")
first=$(call "$base/pipelines/$pipeline/executions" -d '{"input":{"TAG":"v1"}}' | json "['execution']['id']")
until [ "$(call "$base/executions/$first" | json "['status']")" = COMPLETED ]; do sleep 0.1; done
stop

say "copying the execution until $n are stored"
python3 - "$data/wharf.db" "$n" <<'EOF'
import sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db)
cols = lambda t: [r[1] for r in c.execute(f"PRAGMA table_info({t})")]
first = c.execute("SELECT id FROM executions ORDER BY id LIMIT 1").fetchone()[0]
t0 = time.time()
ex = [x for x in cols("executions") if x not in ("id", "run_index", "live_version")]
st = [x for x in cols("stage_runs") if x not in ("id", "execution_id")]
tk = [x for x in cols("task_runs") if x not in ("id", "execution_id")]
c.execute("BEGIN")
c.execute(f"""WITH RECURSIVE k(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
  INSERT INTO executions (run_index, {', '.join(ex)})
  SELECT i, {', '.join(ex)} FROM k, executions WHERE executions.id = {first}""")
c.execute(f"""INSERT INTO stage_runs (execution_id, {', '.join(st)})
  SELECT e.id, {', '.join('s.' + x for x in st)} FROM executions e, stage_runs s
  WHERE s.execution_id = {first} AND e.id <> {first}""")
c.execute(f"""INSERT INTO task_runs (execution_id, {', '.join(tk)})
  SELECT e.id, {', '.join('t.' + x for x in tk)} FROM executions e, task_runs t
  WHERE t.execution_id = {first} AND e.id <> {first}""")
c.execute("COMMIT")
print(f"  {c.execute('SELECT count(*) FROM executions').fetchone()[0]} executions, "
      f"{c.execute('SELECT count(*) FROM stage_runs').fetchone()[0]} stage runs, "
      f"{c.execute('SELECT count(*) FROM task_runs').fetchone()[0]} task runs in {time.time() - t0:.1f} s")
EOF

start
# sign in as a browser does: the sign-in form's server function, with the page's Origin
action=$(curl -fsS "$site/login" | grep -o 'action="/api/sign_in[^"]*"' | head -1 | cut -d'"' -f2)
curl -fsS -o /dev/null -c "$jar" -H "origin: $site" --data-urlencode email=bench@example.com \
  --data-urlencode 'password=bench password 2026' "$site$action"
page() {
  local url="$1" label="$2" times
  curl -fsS -o "$data/page.html" -b "$jar" "$site$url"
  grep -q 'data-testid="execution-list"' "$data/page.html" || die "$url did not render the list"
  times=$(for _ in $(seq 1 "$requests"); do curl -fsS -o /dev/null -b "$jar" -w '%{time_total}\n' "$site$url"; done)
  printf '%s\n' "$times" | python3 -c "
import sys
t = sorted(float(x) * 1000 for x in sys.stdin if x.strip())
print(f'  {sys.argv[1]:<34} p50 {t[len(t) // 2]:7.1f} ms   p99 {t[min(len(t) - 1, int(len(t) * 0.99))]:7.1f} ms   ({len(t)} renders, 25 rows each)')" "$label"
}
say "server render of the Executions list, $n executions stored"
page "/executions" "all executions"
page "/executions?project=$project" "one project"
page "/executions?project=$project&status=COMPLETED" "one project, status COMPLETED"
page "/executions?before=50000" "a page in the middle (keyset)"
page "/" "home dashboard (counts, 10 rows)"
stop

say "query plans (SQLite), as the list and the dashboard ask"
plan() { echo "  $1"; sqlite3 "$data/wharf.db" "EXPLAIN QUERY PLAN $1" | sed 's/^/      /'; }
plan "SELECT * FROM executions ORDER BY id DESC LIMIT 26"
plan "SELECT * FROM executions WHERE project_id IN ($project) ORDER BY id DESC LIMIT 26"
plan "SELECT * FROM executions WHERE project_id = $project AND status = 'COMPLETED' AND id < 50000 ORDER BY id DESC LIMIT 26"
plan "SELECT MAX(live_version) FROM executions"
plan "SELECT * FROM stage_runs WHERE execution_id IN (1, 2, 3) ORDER BY position"
plan "SELECT * FROM task_runs WHERE execution_id IN (1, 2, 3) ORDER BY stage_position, group_position, id"
plan "SELECT * FROM webhook_activity WHERE execution_id IN (1, 2, 3)"
plan "SELECT status, SUM(CASE WHEN created_at >= '2026-06-01' THEN 1 ELSE 0 END), COUNT(id) FROM executions WHERE project_id = $project AND created_at >= '2026-01-01' GROUP BY status"
