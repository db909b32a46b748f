#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, clippy (server and browser builds apart),
# every Rust test per package, then the Playwright suite against a freshly built server on a
# temporary database. Exits non-zero on the first failure.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$(date +%s)
# A test run builds every crate once: incremental caches would only fill the disk (they more
# than doubled target/ and ran CI's disk out of space), so they are off unless asked for.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

"$ROOT/scripts/setup.sh" --test

say "cargo fmt --check"
cargo fmt --all -- --check

say "clippy, server side (ssr)"
cargo clippy --quiet -p domain -p migrations -p backend -p server -p testkit --all-targets -- -D warnings
cargo clippy --quiet -p app --features ssr --all-targets -- -D warnings
say "clippy, browser side (hydrate, wasm32)"
cargo clippy --quiet -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# a test that hangs fails the run within 25 minutes instead of holding CI to its limit
run_tests() {
  say "cargo test $*"
  timeout --signal=KILL 25m cargo test --quiet "$@" 2>&1 | tee -a "$log"
}
run_tests -p domain
run_tests -p migrations
run_tests -p backend
run_tests -p app --features ssr
run_tests -p server

# every backend and server integration test again on PostgreSQL (testkit::database)
say "the backend and server tests on PostgreSQL"
pg_dir="$(mktemp -d)"
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'rm -f "$log"; "$ROOT/scripts/postgres.sh" stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
"$ROOT/scripts/postgres.sh" start "$pg_dir" "$pg_port"
(
  export WHARF_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port"
  run_tests -p backend --test integration
  run_tests -p server --test integration
)

# the REST API against its OpenAPI document, all of schemathesis's checks (scripts/schemathesis.toml)
"$ROOT/scripts/schemathesis.sh" 120

say "building the site for the end-to-end suite"
# debug, in its own site directory (target/site-debug): a release server never serves it
build_site debug 5
cargo build --quiet -p testkit --bin wharf-standins

say "Playwright (Debian's Chromium)"
results="$ROOT/end2end/test-results/results.json"
mkdir -p "$(dirname "$results")"
(cd end2end && PLAYWRIGHT_JSON_OUTPUT_NAME="$results" npx playwright test --reporter=list,json)

rust_passed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log")
rust_failed=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log")
read -r e2e_passed e2e_failed < <(node -e "const s=require('$results').stats; console.log(s.expected, s.unexpected + s.flaky)")
say "Rust: $rust_passed passed; Playwright: $e2e_passed passed; $(( $(date +%s) - started )) s in all"
echo "total: $((rust_passed + e2e_passed)) passed, $((rust_failed + e2e_failed)) failed"
