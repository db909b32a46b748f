#!/usr/bin/env bash
# Installs what building Wharf needs and is missing, and nothing else:
# Debian build packages, the wasm32 target, cargo-leptos and wasm-bindgen-cli at the pinned
# versions, and the npm packages (wasm-opt from binaryen, Playwright).
#   scripts/setup.sh           what building and running need
#   scripts/setup.sh --test    also what the test suite needs (Debian's Chromium, docker-registry, skopeo, htpasswd, openssl)
source "$(dirname "$0")/lib.sh"

with_tests=false
[ "${1:-}" = "--test" ] && with_tests=true

command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
command -v npm >/dev/null || die "npm not found: install Node.js 20 first"

apt_ensure pkg-config libssl-dev
$with_tests && apt_ensure chromium docker-registry skopeo apache2-utils openssl

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

installed_version() { "$@" --version 2>/dev/null | awk '{print $2}'; }

if [ "$(installed_version cargo-leptos)" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 12 minutes, once)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --quiet
fi
if [ "$(installed_version wasm-bindgen)" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --quiet
fi

# the crate and the CLI must agree, or hydration fails at run time
locked_wb="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' "$ROOT/Cargo.lock")"
[ "$locked_wb" = "$WASM_BINDGEN_VERSION" ] \
  || die "Cargo.lock has wasm-bindgen $locked_wb but the pin is $WASM_BINDGEN_VERSION"
locked_binaryen="$(node -e "console.log(require('$ROOT/end2end/package-lock.json').packages['node_modules/binaryen'].version)")"
[ "$locked_binaryen" = "$BINARYEN_VERSION" ] \
  || die "end2end/package-lock.json has binaryen $locked_binaryen but the pin is $BINARYEN_VERSION"

stamp="$ROOT/end2end/node_modules/.wharf-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/end2end/package-lock.json" -nt "$stamp" ]; then
  say "installing npm packages (no browser download: tests use Debian's Chromium)"
  (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
