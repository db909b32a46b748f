#!/usr/bin/env bash
# Benchmark (not a test): webhook 2xx → the Executions page in Chromium showing the new
# execution as RUNNING, over 50 pushes, against the release build on SQLite.
#   scripts/bench-live.sh [pushes=50]
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
build_site release
cargo build --quiet -p testkit --bin wharf-standins
cd end2end
PUSHES="${1:-50}" WHARF_BIN="$ROOT/target/release/wharf" npx playwright test -c bench.config.ts live-latency
