# Shared by the project's scripts: paths, logging, and the toolchain pins, which live in one
# place: [workspace.metadata.wharf.toolchain] in Cargo.toml.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# pin NAME: the version pinned for NAME in Cargo.toml's [workspace.metadata.wharf.toolchain]
pin() {
  awk -v key="$1" '
    /^\[/ { in_table = ($0 == "[workspace.metadata.wharf.toolchain]") ; next }
    in_table && $1 == key { gsub(/"/, "", $3); print $3; exit }
  ' "$ROOT/Cargo.toml"
}

CARGO_LEPTOS_VERSION="$(pin cargo-leptos)"
WASM_BINDGEN_VERSION="$(pin wasm-bindgen)"
BINARYEN_VERSION="$(pin binaryen)"
[ -n "$CARGO_LEPTOS_VERSION" ] && [ -n "$WASM_BINDGEN_VERSION" ] && [ -n "$BINARYEN_VERSION" ] \
  || die "Cargo.toml lacks [workspace.metadata.wharf.toolchain] pins"

# wasm-opt comes from npm's binaryen (Debian's is too old and breaks release hydration)
export PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

# apt_ensure PKG…: installs the Debian packages that are missing, and only those
apt_ensure() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build_site PROFILE [BROTLI_QUALITY]: cargo-leptos builds the server and its site for PROFILE
# (release | debug) into target/site-PROFILE, its own directory, so a release server never
# serves the test suite's debug wasm; then the site is precompressed and marked with PROFILE.
# Every build is split (--split): each page is a lazy route whose code is a WASM chunk of its
# own, and without the split the main module imports a chunk loader that does not exist.
# The splitter's producers/target_features sections, which no browser reads, are dropped from
# every .wasm first (site-tools' strip-wasm: ~200 bytes a file, 14 KB of a first visit to Home)
build_site() {
  local profile="$1" site="$ROOT/target/site-$1"
  if [ "$profile" = release ]; then
    (cd "$ROOT" && LEPTOS_SITE_ROOT="target/site-release" cargo leptos build --split --release)
  else
    (cd "$ROOT" && LEPTOS_SITE_ROOT="target/site-debug" cargo leptos build --split)
  fi
  (cd "$ROOT" && cargo run --quiet -p site-tools --bin strip-wasm -- "$site/pkg")
  "$ROOT/scripts/compress-site.sh" "$site" ${2:+"$2"}
  echo "$profile" > "$site/.wharf-profile"
}
