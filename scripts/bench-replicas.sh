#!/usr/bin/env bash
# Benchmark (not a test): Wharf replicas on one PostgreSQL database behind nginx, beside
# SQLite's single node, in one run. For each set-up, wrk posts Docker Hub's documented payload
# to a matching card through nginx (32 connections, loopback) and prints durable deliveries
# per second (2xx answers, each a committed row) and p50/p99; then a delivery is posted to
# replica 1 while a browser's live stream is open on the last replica, and the time from the
# 2xx to that replica's event showing the execution RUNNING (or past it) is measured, p50/p99.
# PostgreSQL runs with its durable defaults (fsync on, synchronous_commit on).
#   scripts/bench-replicas.sh [seconds]
source "$(dirname "$0")/lib.sh"
apt_ensure wrk nginx curl python3 sqlite3
secs="${1:-10}"
bin="$ROOT/target/release/wharf"
[ -x "$bin" ] || die "build the release first: cargo build --release -p server --bin wharf"
NGINX=/usr/sbin/nginx
work="$(mktemp -d)"; chmod 755 "$work"
pgdir="$work/pg"; pgport=55990
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  PG_DURABLE=1 "$ROOT/scripts/postgres.sh" stop "$pgdir" || true
  rm -rf "$work"
}
trap cleanup EXIT
PG_DURABLE=1 "$ROOT/scripts/postgres.sh" start "$pgdir" "$pgport"
PSQL="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql"
export BODY_FILE="$ROOT/testkit/fixtures/docker_hub_example.json"
cat > "$work/post.lua" <<'LUA'
local f = io.open(os.getenv("BODY_FILE"), "rb")
wrk.method = "POST"; wrk.body = f:read("*a"); f:close()
wrk.headers["Content-Type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init() ok = 0; other = 0 end
function response(status) if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end end
function done(summary, latency)
  local o, x = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); x = x + t:get("other") end
  local s = summary.duration / 1e6
  io.write(string.format("RESULT ok=%d other=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    o, x, o / s, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA

# start_replicas N URL DATA: N wharf processes on ports 4101.. sharing DATA (its key file)
start_replicas() {
  local n="$1" url="$2" data="$3"
  for i in $(seq 1 "$n"); do
    WHARF_DATA_DIR="$data" WHARF_DATABASE_URL="$url" WHARF_LISTEN="127.0.0.1:$((4100 + i))" \
      WHARF_SITE_ROOT="$ROOT/target/site-release" WHARF_LOG=error WHARF_DB_MAX_CONNECTIONS=16 \
      WHARF_ADMIN_EMAIL=bench@example.com WHARF_ADMIN_PASSWORD='bench password 2026' "$bin" &
    pids+=($!)
    until curl -fsS "http://127.0.0.1:$((4100 + i))/readyz" >/dev/null 2>&1; do sleep 0.05; done
  done
}
stop_replicas() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done; pids=(); }

# nginx N: a balancer on 4100 over replicas 1..N, server-sent events unbuffered
nginx_for() {
  local n="$1" servers=""
  for i in $(seq 1 "$n"); do servers+="server 127.0.0.1:$((4100 + i));"; done
  cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-body;
  upstream wharf { $servers keepalive 64; }
  server {
    listen 127.0.0.1:4100;
    client_max_body_size 1m;
    location /live/ {
      proxy_pass http://wharf; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_buffering off; proxy_cache off; proxy_read_timeout 1h;
    }
    location / {
      proxy_pass http://wharf; proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_next_upstream error timeout http_503; proxy_next_upstream_tries 3;
    }
  }
}
CONF
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null && sleep 0.3
  "$NGINX" -c "$work/nginx.conf" -p "$work" 2>/dev/null || "$NGINX" -c "$work/nginx.conf" -p "$work"
}

# stored URL: how many deliveries the database holds
stored() {
  case "$1" in
    sqlite://*) sqlite3 "${1#sqlite://}" "PRAGMA busy_timeout=5000; SELECT count(*) FROM webhook_deliveries;" | tail -1 ;;
    *) "$PSQL" -d "$1" -tAc "SELECT count(*) FROM webhook_deliveries" ;;
  esac
}

# run LABEL N URL: the set-up, the ingest run and the cross-replica latency
run() {
  local label="$1" n="$2" url="$3"
  local data; data="$(mktemp -d -p "$work")"
  start_replicas "$n" "$url" "$data"
  nginx_for "$n"
  python3 "$ROOT/scripts/bench_replicas.py" setup http://127.0.0.1:4100 > "$work/setup.json"
  listener=$(python3 -c "import json; print(json.load(open('$work/setup.json'))['listener'])")
  line=$(wrk -t2 -c32 -d"${secs}s" --latency -s "$work/post.lua" "$listener" | grep '^RESULT')
  sleep 1 # requests in flight when wrk stopped still complete (wrk does not count their answers)
  local ok; ok=$(sed -E 's/.*ok=([0-9]+).*/\1/' <<<"$line")
  local kept; kept=$(stored "$url")
  if [ "$kept" -lt "$ok" ] || [ "$kept" -gt $((ok + 32)) ]; then
    echo "CHECK FAILED ($label): $ok answered 2xx, $kept stored" >&2
  else
    echo "check ($label): $ok answered 2xx, $kept stored (at most 32 more: answered after wrk stopped counting)" >&2
  fi
  lat=$(python3 "$ROOT/scripts/bench_replicas.py" latency "$work/setup.json" \
    "http://127.0.0.1:4101" "http://127.0.0.1:$((4100 + n))")
  printf '| %s | %s | %s | %s | %s |\n' "$label" \
    "$(sed -E 's/.*rps=([0-9]+).*/\1/' <<<"$line")" \
    "$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$line")" \
    "$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$line")" "$lat" >> "$work/table"
  echo "$label: $line; 2xx → RUNNING on replica $n: $lat" >&2
  stop_replicas
}

: > "$work/table"
run "SQLite, 1 node" 1 "sqlite://$work/data-sqlite.db"
for n in 1 2 3; do
  db="bench_$n"
  as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  as_owner "$PSQL" -h 127.0.0.1 -p "$pgport" -U postgres -qc "CREATE DATABASE $db" >/dev/null
  run "PostgreSQL, $n replica(s)" "$n" "postgres://postgres@127.0.0.1:$pgport/$db"
done
echo
echo "wrk -t2 -c32 -d${secs}s through nginx; PostgreSQL $("$PSQL" --version | awk '{print $3}') fsync on, synchronous_commit on; $(nproc) cores"
echo "| set-up | durable deliveries/s | p50 ms | p99 ms | 2xx → RUNNING on the last replica, p50 / p99 ms |"
echo "|---|---|---|---|---|"
cat "$work/table"
