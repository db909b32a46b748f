#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, clippy (server and browser builds apart),
# every Rust test (the server side in one cargo invocation), then the Playwright suite against
# a freshly built server on a temporary database. Exits non-zero on the first failure.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$(date +%s)
# A test run builds every crate once: incremental caches would only fill the disk (they more
# than doubled target/ and ran CI's disk out of space), so they are off unless asked for.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

"$ROOT/scripts/setup.sh" --test

say "cargo fmt --check"
cargo fmt --all -- --check

# The server-side crates are checked, and below tested, in one cargo invocation each: cargo
# unifies the features of the packages it builds together, so one invocation compiles every
# shared dependency once, where one invocation per package compiled sea-orm, sqlx and their
# kin up to four times over (676 distinct libraries against 436; CI starts from a cold cache)
server_side=(-p domain -p migrations -p backend -p app -p server --features app/ssr)
say "clippy, server side (ssr)"
cargo clippy --quiet "${server_side[@]}" -p testkit -p site-tools --all-targets -- -D warnings
say "clippy, browser side (hydrate, wasm32)"
cargo clippy --quiet -p app -p frontend --features app/hydrate --target wasm32-unknown-unknown -- -D warnings

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# a test that hangs fails the run within 30 minutes instead of holding CI to its limit
run_tests() {
  say "cargo test $*"
  timeout --signal=KILL 30m cargo test --quiet "$@" 2>&1 | tee -a "$log"
}
run_tests "${server_side[@]}"

# every backend and server integration test again on PostgreSQL (testkit::database)
say "the backend and server tests on PostgreSQL"
pg_dir="$(mktemp -d)"
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
trap 'rm -f "$log"; "$ROOT/scripts/postgres.sh" stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
"$ROOT/scripts/postgres.sh" start "$pg_dir" "$pg_port"
(
  export WHARF_TEST_POSTGRES="postgres://postgres@127.0.0.1:$pg_port"
  run_tests "${server_side[@]}" --test integration
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
