#!/usr/bin/env bash
# Starts the built wharf binary on a fresh temporary database for the Playwright suite.
# Playwright's webServer runs it from end2end/ and stops it when the suite ends.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$(mktemp -d -t wharf-e2e.XXXXXX)"
trap 'rm -rf "$data"' EXIT
export WHARF_DATA_DIR="$data"
export WHARF_LISTEN="127.0.0.1:${WHARF_E2E_PORT:-3910}"
export WHARF_SITE_ROOT="$root/target/site"
export WHARF_LOG="${WHARF_LOG:-info,tower_http=warn,sea_orm_migration=warn}"
"$root/target/debug/wharf" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$data"' EXIT INT TERM
wait "$pid"
