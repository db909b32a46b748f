#!/usr/bin/env bash
# Starts Wharf on its embedded SQLite database: installs what is missing, builds, migrates
# (at start-up) and serves on http://127.0.0.1:3000 unless WHARF_LISTEN says otherwise.
#   scripts/run.sh            release build (the first build takes several minutes)
#   scripts/run.sh --debug    debug build, shares its cache with the test suite
# Every setting is a WHARF_* variable or a flag: see README.md or `target/release/wharf --help`.
source "$(dirname "$0")/lib.sh"

profile=release
if [ "${1:-}" = "--debug" ]; then profile=debug; shift; fi

"$ROOT/scripts/setup.sh"
cd "$ROOT"
say "building ($profile)"
if [ "$profile" = release ]; then cargo leptos build --release; else cargo leptos build; fi

export WHARF_SITE_ROOT="${WHARF_SITE_ROOT:-$ROOT/target/site}"
listen="${WHARF_LISTEN:-127.0.0.1:3000}"
url="${WHARF_PUBLIC_URL:-http://$listen}"
say "starting Wharf at $url (Ctrl-C stops it)"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null && [ -z "${WHARF_NO_BROWSER:-}" ]; then
  (for _ in $(seq 50); do
     if curl -fsS "http://$listen/readyz" >/dev/null 2>&1; then xdg-open "$url" >/dev/null 2>&1; break; fi
     sleep 0.2
   done) &
fi
exec "$ROOT/target/$profile/wharf" "$@"
