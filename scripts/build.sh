#!/usr/bin/env bash
# Compiles every lib and service to dist/ with SWC: CommonJS, decorator metadata (NestJS DI,
# TypeORM, class-validator need it), `@flowline/*` aliases rewritten to relative requires.
# The output keeps the source layout, so `node dist/services/<name>/src/main.js` runs on plain
# Node (the .nvmrc pin) with only node_modules beside it, and paths computed from __dirname (proto/, assets)
# resolve the same way in both layouts: dist/proto mirrors proto/.
# Type checking is separate (`npm run typecheck`); SWC only strips types.
# Usage: scripts/build.sh [outDir]   (default dist)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
OUT="${1:-dist}"
started=$(date +%s%N)

config="$(mktemp --suffix=.swcrc.json)"
trap 'rm -f "$config"' EXIT
# SWC wants an absolute baseUrl; the aliases come from tsconfig.base.json so there is one list.
node -e '
const fs = require("node:fs");
const root = process.argv[1];
const paths = JSON.parse(fs.readFileSync(root + "/tsconfig.base.json", "utf8")).compilerOptions.paths;
console.log(JSON.stringify({
  $schema: "https://swc.rs/schema.json",
  sourceMaps: true,
  module: { type: "commonjs", strict: false, strictMode: true },
  jsc: {
    parser: { syntax: "typescript", decorators: true, dynamicImport: true },
    target: "es2023",
    keepClassNames: true,
    baseUrl: root,
    paths,
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: true },
  },
}, null, 2));
' "$ROOT" > "$config"

rm -rf "$OUT"
mkdir -p "$OUT"
dirs=()
for d in libs services; do [ -d "$d" ] && dirs+=("$d"); done
npx swc "${dirs[@]}" --config-file "$config" --no-swcrc -d "$OUT" -q \
  --ignore '**/*.spec.ts,**/*.int-spec.ts,**/*.e2e-spec.ts,**/test/**,**/*.d.ts,services/console/web/**'

# Runtime assets at the same relative place as in the sources (code finds them from __dirname):
# JSON / YAML / SQL / proto files anywhere in a lib or service (e.g. services/order-intake/rules/),
# except Nx/TS config and test data.
(find libs services -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' -o -name '*.sql' -o -name '*.proto' \) \
  -not -name project.json -not -name 'tsconfig*.json' -not -path '*/node_modules/*' \
  -not -path '*/test/*' -not -path '*/fixtures/*' -not -path '*/__fixtures__/*' 2>/dev/null || true) | while read -r f; do
  mkdir -p "$OUT/$(dirname "$f")"; cp "$f" "$OUT/$f"
done
[ -d proto ] && cp -r proto "$OUT/proto"
# The console's web app (React + Vite), next to its BFF: dist/services/console/web/dist. Cached by a
# hash of its sources, so an unchanged app is copied, not rebuilt (services/console/scripts/build-web.sh).
[ -f services/console/scripts/build-web.sh ] && bash services/console/scripts/build-web.sh "$OUT/services/console/web/dist"
# `node --import ./dist/enable-source-maps.mjs`: stack traces point at the .ts sources, for our code
# only (--enable-source-maps would also parse node_modules' maps: about +30 MB RSS per process).
cat > "$OUT/enable-source-maps.mjs" <<'JS'
import { setSourceMapsSupport } from 'node:module';
setSourceMapsSupport(true, { nodeModules: false, generatedCode: false });
JS

# Fail the build, not the first request, when an alias was left unrewritten.
if grep -rl --include='*.js' -E "require\\(\"@flowline/" "$OUT" >/dev/null 2>&1; then
  echo "build: unresolved @flowline/* require in:" >&2
  grep -rl --include='*.js' -E "require\\(\"@flowline/" "$OUT" >&2
  exit 1
fi
count=$(find "$OUT" -name '*.js' | wc -l)
echo "build: $count files -> $OUT/ in $(( ($(date +%s%N) - started) / 1000000 )) ms"
