#!/usr/bin/env bash
# Builds the console's web app (React + Vite) into <outDir> (default services/console/web/dist).
# Cached by a hash of the web sources, the generated clients and package-lock.json, so a build with
# nothing changed is a copy (about 0.1 s) instead of a Vite run.
# Usage: services/console/scripts/build-web.sh [outDir]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh >/dev/null
WEB=services/console/web
OUT="${1:-$WEB/dist}"
case "$OUT" in /*) ;; *) OUT="$ROOT/$OUT" ;; esac
# NODE_ENV is part of the key: Vite bundles React's and ECharts' development builds under NODE_ENV=test
# (vitest's browser tests) and the production ones otherwise; one key for both made a test run get
# whichever was built first.
hash=$( (find "$WEB/src" "$WEB/index.html" "$WEB/vite.config.mts" "$WEB/tsconfig.json" libs/clients/src/generated/openapi -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum package-lock.json; echo "NODE_ENV=${NODE_ENV:-}") | sha256sum | cut -c1-16)
cache="node_modules/.cache/flowline-console-web/$hash"
if [ ! -f "$cache/index.html" ]; then
  started=$(date +%s%N)
  # Per process: two builds at once (a test run and a developer) must not write into one folder.
  tmp="$cache.tmp.$$"
  rm -rf "$tmp"
  # Vite strips types without checking them: check first (the web app has its own tsconfig, DOM + JSX).
  # CONSOLE_WEB_TYPECHECK=0 skips it (the browser tests: they test behaviour; the build checks types).
  [ "${CONSOLE_WEB_TYPECHECK:-1}" = 0 ] || npx tsc -p "$WEB/tsconfig.json" --noEmit
  CONSOLE_WEB_OUT="$ROOT/$tmp" npx vite build --config "$WEB/vite.config.mts"
  rm -rf "$cache" && mv "$tmp" "$cache"
  echo "console web: built in $(( ($(date +%s%N) - started) / 1000000 )) ms"
fi
rm -rf "$OUT" && mkdir -p "$(dirname "$OUT")" && cp -r "$cache" "$OUT"
