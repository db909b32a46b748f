#!/usr/bin/env bash
# Starts the built wharf binary on a fresh temporary database for the Playwright suite.
# Playwright's webServer runs it from end2end/ and stops it when the suite ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$(mktemp -d -t wharf-e2e.XXXXXX)"
trap 'rm -rf "$data"' EXIT
export WHARF_DATA_DIR="$data"
export WHARF_LISTEN="127.0.0.1:${WHARF_E2E_PORT:-3910}"
export WHARF_SITE_ROOT="${WHARF_SITE_ROOT:-$root/target/site-debug}"
export WHARF_LOG="${WHARF_LOG:-info,tower_http=warn,sea_orm_migration=warn}"
# the Kubernetes and Docker Hub stand-ins (test support, loopback); the tests read their URLs
standins="$root/target/e2e-standins.json"
rm -f "$standins"
"$root/target/debug/wharf-standins" "$standins" &
spid=$!
for _ in $(seq 1 100); do [ -s "$standins" ] && break; sleep 0.1; done
[ -s "$standins" ] || { echo "the stand-ins did not start" >&2; exit 1; }
export WHARF_DOCKER_HUB_API="$(sed -E 's/.*"hub":"([^"]+)".*/\1/' "$standins")"
# A test may restart Wharf while pages are open: it writes the restart flag and stops the
# process whose id is in the pid file; Wharf then starts again on the same data.
pidfile="$root/target/e2e-wharf.pid"
flag="$root/target/e2e-wharf.restart"
rm -f "$flag"
stopping=""
pid=""
# (errexit holds inside the trap: the kill of a process already gone, and the wait for one
# killed by a signal, fail; without `|| true` the trap ended there and left $data behind)
trap 'stopping=1; kill "$pid" "$spid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$pidfile" "$flag"' EXIT INT TERM
while :; do
  "${WHARF_BIN:-$root/target/debug/wharf}" &
  pid=$!
  echo "$pid" >"$pidfile"
  wait "$pid" || true
  [ -z "$stopping" ] && [ -f "$flag" ] || break
  rm -f "$flag"
done
