#!/usr/bin/env bash
# Benchmark (not a test): the front end's WebAssembly as browsers download it.
#
#   scripts/wasm-size.sh             the release site as scripts/run.sh builds it (a main module
#                                    and a chunk per page, wasm-opt -Oz): each file raw, gzip -9
#                                    and brotli -q 11, then what a first visit to each of six
#                                    pages downloads, measured in Chromium (end2end/bench)
#   scripts/wasm-size.sh --profiles  the whole, unsplit module under each release-profile choice
#                                    (opt-level, LTO, codegen units, panic strategy, wasm-opt)
source "$(dirname "$0")/lib.sh"
apt_ensure brotli gzip
cd "$ROOT"

sizes() { # FILE: raw, gzip -9 and brotli -q 11 bytes
  printf '%9d %9d %9d' "$(stat -c %s "$1")" "$(gzip -9 -c "$1" | wc -c)" "$(brotli -q 11 -c "$1" | wc -c)"
}

if [ "${1:-}" = "--profiles" ]; then
  out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
  # variant NAME OPT LTO CGU PANIC: builds frontend.wasm with those settings, then wasm-bindgen
  variant() {
    local name="$1"
    CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL="$2" CARGO_PROFILE_WASM_RELEASE_LTO="$3" \
      CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS="$4" CARGO_PROFILE_WASM_RELEASE_PANIC="$5" \
      CARGO_TARGET_DIR="$ROOT/target/wasm-size" \
      cargo build -q -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
    wasm-bindgen --target web --no-typescript --out-dir "$out/$name" --out-name wharf \
      "$ROOT/target/wasm-size/wasm32-unknown-unknown/wasm-release/frontend.wasm"
    printf '%-44s %s\n' "$name, no wasm-opt" "$(sizes "$out/$name/wharf_bg.wasm")"
    for o in -Os -Oz; do
      wasm-opt "$o" --enable-bulk-memory --enable-nontrapping-float-to-int \
        "$out/$name/wharf_bg.wasm" -o "$out/$name/opt.wasm"
      printf '%-44s %s\n' "$name, wasm-opt $o" "$(sizes "$out/$name/opt.wasm")"
    done
  }
  printf '%-44s %9s %9s %9s\n' "profile (unsplit module)" raw gzip brotli
  variant "opt z, fat LTO, 1 unit, abort (chosen)" z fat 1 abort
  variant "opt s, fat LTO, 1 unit, abort" s fat 1 abort
  variant "opt z, thin LTO, 16 units, abort" z thin 16 abort
  variant "opt z, fat LTO, 1 unit, unwind" z fat 1 unwind
  variant "opt 3, fat LTO, 1 unit, abort" 3 fat 1 abort
  exit 0
fi

build_site release
pkg="$ROOT/target/site-release/pkg"
echo "release site: $pkg ($(git rev-parse --short HEAD))"
printf '%-56s %9s %9s %9s\n' file raw gzip brotli
find "$pkg" -name '*.wasm' -printf '%s %p\n' | sort -rn | while read -r _ f; do
  printf '%-56s %s\n' "$(basename "$f")" "$(sizes "$f")"
done
cargo build --quiet -p testkit --bin wharf-standins
(cd end2end && WHARF_BIN="$ROOT/target/release/wharf" WHARF_SITE_ROOT="$ROOT/target/site-release" \
  npx playwright test -c bench.config.ts first-load 2>&1 | sed -n '/RESULT/,/passed\|failed/p')
