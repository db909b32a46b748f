#!/usr/bin/env bash
# Benchmark (not a test): time from process start to /readyz answering 200, on a fresh
# database (migrations included) and then on that existing database, and the server's
# resident memory once idle after one page. Uses the release build; prints figures, asserts
# nothing.
#   scripts/bench-startup.sh [runs]
# Environment: WHARF_BIN (default target/release/wharf).
source "$(dirname "$0")/lib.sh"
runs="${1:-10}"
bin="${WHARF_BIN:-$ROOT/target/release/wharf}"
[ -x "$bin" ] || die "build the release first: scripts/run.sh (it builds the server and its site)"
port=3977
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
# start N: starts wharf on $data, waits for /readyz; prints the milliseconds it took
start() {
  local t0 t1
  t0=$(date +%s%N)
  WHARF_DATA_DIR="$data" WHARF_LISTEN="127.0.0.1:$port" WHARF_SITE_ROOT="$ROOT/target/site-release" \
    WHARF_LOG=warn "$bin" &
  pid=$!
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.002; done
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 )) > "$data/.ms"
}
start; fresh=$(cat "$data/.ms"); kill "$pid"; wait "$pid" 2>/dev/null || true
times=()
for i in $(seq "$runs"); do
  start; times+=("$(cat "$data/.ms")")
  if [ "$i" -eq "$runs" ]; then
    curl -fsS "http://127.0.0.1:$port/login" >/dev/null 2>&1 || true
    sleep 2
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    anon=$(awk '/RssAnon/ {print $2}' "/proc/$pid/status")
    file=$(awk '/RssFile/ {print $2}' "/proc/$pid/status")
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
echo "start to /readyz 200, fresh database (migrations included): $fresh ms"
echo "start to /readyz 200, existing database, $runs runs: min ${sorted[0]} ms, median ${sorted[$((runs / 2))]} ms, max ${sorted[$((runs - 1))]} ms"
echo "resident memory idle after start and one page: $((rss / 1024)) MiB ($rss KiB)"
# the mapped part (the binary's code from the page cache) varies with how the kernel holds the
# file's pages (large folios are mapped whole): a binary just copied maps more than one linked
echo "  of which heap and stacks: $anon KiB; mapped files (the binary's code, libc): $file KiB"
