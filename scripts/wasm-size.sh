#!/usr/bin/env bash
# The front end's WASM as a browser downloads it: the release build (profile wasm-release, as
# `cargo leptos build --release` makes it), through wasm-bindgen, then its size raw, with
# gzip -9 and with brotli -q 11. A benchmark, not a test: it prints figures and checks nothing.
#
#   scripts/wasm-size.sh [CHECKOUT]     # CHECKOUT: another working tree to measure (default: this one)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
tree="${1:-$here}"
command -v brotli >/dev/null || { echo "installing brotli (Debian's package) to measure with it"; sudo -n apt-get install -y brotli >/dev/null 2>&1 || apt-get install -y brotli >/dev/null; }
export PATH="$HOME/.cargo/bin:$PATH"
cd "$tree"
# another checkout builds in its own target directory: cargo names a workspace's own crates
# without their path, so two checkouts sharing one would reuse each other's artifacts
if [ "$tree" = "$here" ]; then target="${CARGO_TARGET_DIR:-$here/target}"; else target="${CARGO_TARGET_DIR:-$tree/target}"; fi
CARGO_TARGET_DIR="$target" cargo build -q -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name wharf \
  "$target/wasm32-unknown-unknown/wasm-release/frontend.wasm"
f="$out/wharf_bg.wasm"
raw=$(stat -c %s "$f")
gz=$(gzip -9 -c "$f" | wc -c)
br=$(brotli -q 11 -c "$f" | wc -c)
echo "tree:   $tree ($(git -C "$tree" rev-parse --short HEAD))"
printf 'raw:    %9d bytes\ngzip:   %9d bytes\nbrotli: %9d bytes\n' "$raw" "$gz" "$br"
