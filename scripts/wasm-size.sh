#!/usr/bin/env bash
# The front end's WASM as a browser downloads it: the release build (profile wasm-release, as
# `cargo leptos build --release` makes it), through wasm-bindgen and wasm-opt -Oz (what
# cargo-leptos runs), then its size raw, with gzip -9 and with brotli -q 11. A benchmark, not a
# test: it prints figures and checks nothing.
#
#   scripts/wasm-size.sh [--matrix] [--profiles] [--site] [CHECKOUT]
#     --matrix     also each wasm-opt level on the same build (none, -O2, -O3, -Os, -Oz)
#     --profiles   also rebuilds with one release-profile setting changed at a time (opt-level
#                  s and 3, thin LTO, 16 codegen units), several minutes each
#     --site       also the release site as scripts/run.sh builds it (a main module and the
#                  pages' chunks, wasm-opt -Oz): each file, then what a first visit to each of
#                  six pages downloads, measured in Chromium (end2end/bench/first-load)
#     CHECKOUT     another working tree to measure (default: this one)
#   The figures above the --site ones are of the whole module, unsplit.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
matrix=0
profiles=0
site=0
while [ $# -gt 0 ]; do
  case "$1" in
    --matrix) matrix=1; shift ;;
    --profiles) profiles=1; shift ;;
    --site) site=1; shift ;;
    *) break ;;
  esac
done
tree="${1:-$here}"
command -v brotli >/dev/null || { echo "installing brotli (Debian's package) to measure with it"; sudo -n apt-get install -y brotli >/dev/null 2>&1 || apt-get install -y brotli >/dev/null; }
export PATH="$here/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
command -v wasm-opt >/dev/null || { echo "wasm-opt missing: run scripts/setup.sh first" >&2; exit 1; }
cd "$tree"
# another checkout builds in its own target directory: cargo names a workspace's own crates
# without their path, so two checkouts sharing one would reuse each other's artifacts
if [ "$tree" = "$here" ]; then target="${CARGO_TARGET_DIR:-$here/target}"; else target="${CARGO_TARGET_DIR:-$tree/target}"; fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# sizes LABEL FILE: one line of figures
sizes() {
  printf '%-44s raw %9d   gzip %8d   brotli %8d\n' "$1" "$(stat -c %s "$2")" \
    "$(gzip -9 -c "$2" | wc -c)" "$(brotli -q 11 -c "$2" | wc -c)"
}
# build NAME [ENV…]: builds the front end with the profile's settings changed by ENV, runs
# wasm-bindgen; leaves $out/NAME/wharf_bg.wasm
build() {
  local name="$1"; shift
  # a changed setting builds in a directory of its own, keeping the shipped build's cache
  local dir="$target"
  [ $# -eq 0 ] || dir="$target-profiles"
  env "$@" CARGO_TARGET_DIR="$dir" \
    cargo build -q -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
  wasm-bindgen --target web --no-typescript --out-dir "$out/$name" --out-name wharf \
    "$dir/wasm32-unknown-unknown/wasm-release/frontend.wasm"
}
# opt FILE LEVEL…: FILE through wasm-opt with cargo-leptos's features
opt() {
  local f="$1"; shift
  wasm-opt "$@" --enable-bulk-memory --enable-nontrapping-float-to-int "$f" -o "$f.opt"
  echo "$f.opt"
}

echo "tree: $tree ($(git -C "$tree" rev-parse --short HEAD))"
build shipped
sizes "wasm-release, before wasm-opt" "$out/shipped/wharf_bg.wasm"
sizes "wasm-release + wasm-opt -Oz (as shipped)" "$(opt "$out/shipped/wharf_bg.wasm" -Oz)"
if [ "$matrix" = 1 ]; then
  for level in -O2 -O3 -Os; do
    sizes "wasm-release + wasm-opt $level" "$(opt "$out/shipped/wharf_bg.wasm" "$level")"
  done
fi
if [ "$profiles" = 1 ]; then
  # the profile is opt-level z, fat LTO, one codegen unit, panic abort (Cargo.toml); unwinding
  # is not an option on wasm32-unknown-unknown without a rebuilt standard library
  while read -r label setting; do
    build "$label" "$setting"
    sizes "$label + wasm-opt -Oz" "$(opt "$out/$label/wharf_bg.wasm" -Oz)"
  done <<'VARIANTS'
opt-level-s CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=s
opt-level-3 CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL=3
thin-lto CARGO_PROFILE_WASM_RELEASE_LTO=thin
16-codegen-units CARGO_PROFILE_WASM_RELEASE_CODEGEN_UNITS=16
VARIANTS
fi
if [ "$site" = 1 ]; then
  (ROOT="$tree"; source "$here/scripts/lib.sh"; ROOT="$tree"; build_site release)
  pkg="$tree/target/site-release/pkg"
  printf '%-44s %s\n' "release site, file by file" "$pkg"
  # sed, not head: it reads to the end, so nothing upstream dies of a closed pipe (pipefail)
  find "$pkg" -name '*.wasm' -printf '%s %p\n' | sort -rn | sed -n '1,12p' | while read -r _ f; do
    sizes "$(basename "$f" | cut -c1-44)" "$f"
  done
  printf '%-44s %d files\n' "(all)" "$(find "$pkg" -name '*.wasm' | wc -l)"
  cargo build --quiet -p testkit --bin wharf-standins
  (cd "$tree/end2end" && WHARF_BIN="$target/release/wharf" WHARF_SITE_ROOT="$tree/target/site-release" \
    npx playwright test -c bench.config.ts first-load 2>&1 | sed -n '/RESULT/,/passed\|failed/p')
fi
