#!/usr/bin/env bash
# Benchmark (not a test): the engine's claim and the callback sender's look-up with a long
# queue. Makes a project with two pipelines over the REST API (one run each, then stopped),
# queues N more runs of the first behind a run that waits (as a User Operation would leave it),
# and prints SQLite's plan and time of the statements the engine asks (engine::Engine::claim,
# inbox::send_due_callbacks), beside those of the claim before pipeline heads (commit a5f950a's
# parent: the 16 oldest candidates, then one "is an older run active" look-up each).
#   scripts/bench-claim-plan.sh [N=10000]
source "$(dirname "$0")/lib.sh"
apt_ensure sqlite3 curl
n="${1:-10000}"
bin="$ROOT/target/release/wharf"
[ -x "$bin" ] || bin="$ROOT/target/debug/wharf"
[ -x "$bin" ] || die "build Wharf first: cargo build -p server (or scripts/run.sh)"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data="$(mktemp -d)"
pid=""
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$ROOT/target/site-release" WHARF_LOG=error \
  WHARF_ADMIN_EMAIL=bench@example.com WHARF_ADMIN_PASSWORD='bench password 2026' "$bin" &
pid=$!
until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.05; done
base="http://127.0.0.1:$port/pipelines/api"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
refresh=$(curl -fsS "$base/tokens" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"bench password 2026","name":"bench"}' | json "['refreshToken']")
token=$(curl -fsS "$base/login" -H 'content-type: application/json' -d "{\"refreshToken\":\"$refresh\"}" | json "['token']")
call() { curl -fsS -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
project=$(call "$base/projects" -d '{"name":"bench"}' | json "['id']")
pipeline() {
  python3 -c 'import json, sys; print(json.dumps({"yaml": "kind: PIPELINE\nname: %s\nstageOrder: [S]\nstages:\n  S: {taskOrder: [T], tasks: {T: {type: Condition, input: {condition: \"1 == 1\"}}}}\n" % sys.argv[1]}))' "$1"
}
gated=$(call "$base/projects/$project/pipelines" -d "$(pipeline gated)" | json "['id']")
other=$(call "$base/projects/$project/pipelines" -d "$(pipeline other)" | json "['id']")
first=$(call "$base/pipelines/$gated/executions" -d '{}' | json "['execution']['id']")
until [ "$(call "$base/executions/$first" | json "['status']")" = COMPLETED ]; do sleep 0.1; done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

say "queueing $n runs of 'gated' behind one that waits, and one run of 'other'"
python3 - "$data/wharf.db" "$n" "$first" "$other" <<'PY'
import sqlite3, sys
db, n, first, other = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c = sqlite3.connect(db)
cols = [r[1] for r in c.execute("PRAGMA table_info(executions)") if r[1] not in ("id", "run_index", "live_version")]
c.execute("BEGIN")
c.execute(f"UPDATE executions SET status = 'WAITING', lease_until = '2999-01-01T00:00:00Z' WHERE id = {first}")
c.execute(f"""WITH RECURSIVE k(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM k WHERE i < {n + 1})
  INSERT INTO executions (run_index, {', '.join(cols)})
  SELECT i, {', '.join(cols)} FROM k, executions WHERE executions.id = {first}""")
c.execute(f"""INSERT INTO executions (run_index, {', '.join(x for x in cols)})
  SELECT 1, {', '.join('{0}'.format(x) if x != 'pipeline_id' else str(other) for x in cols)}
  FROM executions WHERE id = {first}""")
c.execute(f"UPDATE executions SET status = 'QUEUED', lease_until = NULL WHERE id <> {first}")
c.execute("COMMIT")
print("  executions by status:", dict(c.execute("SELECT status, COUNT(*) FROM executions GROUP BY status").fetchall()),
      " heads:", c.execute("SELECT COUNT(*) FROM pipeline_slots").fetchone()[0])
PY

now="'2026-12-02T00:00:00Z'"
plan() {
  echo "  $1"
  sqlite3 "$data/wharf.db" "EXPLAIN QUERY PLAN $2" | sed 's/^/      /'
  python3 - "$data/wharf.db" "$2" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
rows = len(c.execute(sys.argv[2]).fetchall())
t0, n = time.perf_counter(), 200
for _ in range(n):
    c.execute(sys.argv[2]).fetchall()
print(f"      {rows} row(s), {(time.perf_counter() - t0) / n * 1000:.3f} ms per run (mean of {n})")
PY
}
active="'QUEUED','RUNNING','WAITING','PAUSED'"
candidates="status = 'QUEUED' OR (status = 'RUNNING' AND (lease_until IS NULL OR lease_until < $now)) OR (status = 'WAITING' AND lease_until < $now)"
say "before (the 16 oldest candidates, then a look-up each): all 16 are queued behind the waiting run"
plan "candidates" "SELECT id, pipeline_id FROM executions WHERE $candidates ORDER BY id LIMIT 16"
plan "older active run of the same pipeline (once per candidate)" \
  "SELECT id FROM executions WHERE pipeline_id = $gated AND id < $((first + 16)) AND status IN ($active) LIMIT 1"
say "after (engine::Engine::claim): the heads, then those of them that can run"
plan "heads" "SELECT head_id FROM pipeline_slots"
heads="$(sqlite3 "$data/wharf.db" "SELECT group_concat(head_id, ', ') FROM pipeline_slots")"
plan "claimable heads (their ids bound, as the engine sends them)" "SELECT * FROM executions WHERE id IN ($heads) AND ($candidates)"
plan "round-robin order" "SELECT * FROM project_claims"
say "callbacks due (inbox::send_due_callbacks), the oldest pending first"
plan "due" "SELECT * FROM webhook_activity WHERE callback_state = 'PENDING' AND (execution_id IS NULL OR execution_id NOT IN (SELECT id FROM executions WHERE status IN ($active))) ORDER BY id LIMIT 100"
