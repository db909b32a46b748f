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
# each profile builds its own site (build_site in lib.sh). cargo-leptos re-runs wasm-opt
# (about 25 s) even when nothing changed: build only when a source is newer than this
# profile's last build
site="$ROOT/target/site-$profile"
stamp="$ROOT/target/.wharf-built-$profile"
changed="$(find Cargo.toml Cargo.lock .cargo app backend domain frontend migrations server style public \
  -newer "$stamp" -print -quit 2>/dev/null || echo missing)"
if [ ! -f "$stamp" ] || [ -n "$changed" ] || [ ! -x "$ROOT/target/$profile/wharf" ] \
  || [ "$(cat "$site/.wharf-profile" 2>/dev/null)" != "$profile" ]; then
  say "building ($profile)"
  build_site "$profile"
  touch "$stamp"
else
  say "build is up to date"
fi

# what is about to be served: the site this profile built, with its wasm
if [ -z "${WHARF_SITE_ROOT:-}" ]; then
  [ "$(cat "$site/.wharf-profile" 2>/dev/null)" = "$profile" ] \
    || die "$site was not built by a $profile build; remove $stamp and run again"
  wasm="$(find "$site/pkg" -name '*.wasm' -printf '%s\n' 2>/dev/null | awk '{ n++; s += $1 } END { if (n) print n " files, " s " bytes" }')"
  [ -n "$wasm" ] || die "$site/pkg holds no wasm; remove $stamp and run again"
  say "serving $site ($profile, wasm: $wasm)"
  export WHARF_SITE_ROOT="$site"
fi
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
