#!/usr/bin/env bash
# Precompresses a built site's assets for content negotiation: NAME.br (brotli) and NAME.gz
# (gzip -9) beside every .wasm, .js and .css under SITE/pkg. The server sends a browser that
# accepts br or gzip the compressed file (leptos_axum serves the site through tower-http's
# ServeDir with precompressed br and gzip), with `Vary: Accept-Encoding`.
#   scripts/compress-site.sh SITE [BROTLI_QUALITY]    quality 11 (the default) for releases
source "$(dirname "$0")/lib.sh"
apt_ensure brotli gzip
site="${1:?usage: scripts/compress-site.sh SITE [BROTLI_QUALITY]}"
quality="${2:-11}"
[ -d "$site/pkg" ] || die "$site/pkg does not exist: build the site first"
find "$site/pkg" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -print0 |
  while IFS= read -r -d '' f; do
    brotli -q "$quality" -f -k -o "$f.br" "$f"
    gzip -9 -k -f "$f"
  done
