#!/usr/bin/env bash
# Measures what deploy/Dockerfile's runtime stage adds on top of its base image, without a Docker
# engine (none on the build machines): the build stage's commands are replayed in a scratch copy of
# the committed tree (npm ci, scripts/build.sh dist with the console's static build, npm prune
# --omit=dev, node_modules/.cache removed), then the three COPY --from=build paths (package.json,
# node_modules, dist) are sized as files (du) and as a layer would travel (tar | gzip -6).
# The base (node:<.nvmrc>-slim plus Debian's tini) cannot be pulled here; its published size is
# added by whoever builds the image for real: `docker image ls` there is the figure of record.
# Usage: scripts/image-size.sh [git-rev]   (default HEAD; ~3 minutes, network to the npm registry)
# Prints one line per part and a JSON line: {"rev":..,"appLayerBytes":..,"appLayerGzipBytes":..,...}
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REV="${1:-HEAD}"
WORK="$(mktemp -d /tmp/flowline-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cd "$ROOT"
source scripts/node-env.sh >/dev/null
git archive "$REV" | tar -x -C "$WORK"
cd "$WORK"
# The build stage, command for command (deploy/Dockerfile).
npm ci --no-audit --no-fund --loglevel=error >/dev/null
# node-env.sh inside the copy would fetch Node again: reuse this checkout's runtime.
mkdir -p .tools && cp -a "$ROOT/.tools/." .tools/
bash scripts/build.sh dist >/dev/null
if [ -d services/console ] && [ ! -f dist/services/console/web/dist/index.html ]; then
  echo "image-size: the console's static build is missing from dist/" >&2; exit 1
fi
npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null
rm -rf node_modules/.cache

bytes() { du -sb "$@" | awk '{s+=$1} END {print s}'; }
gz() { tar -cf - "$@" | gzip -6 | wc -c; }
nm=$(bytes node_modules); ds=$(bytes dist); pj=$(bytes package.json)
total=$((nm + ds + pj)); gzipped=$(gz package.json node_modules dist)
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "image-size ($REV, $(git -C "$ROOT" rev-parse --short "$REV")): app layers on top of the base image"
echo "  node_modules (production only)  $(mib "$nm")"
echo "  dist (services, libs, console web build, proto)  $(mib "$ds")"
echo "  total  $(mib "$total") on disk, $(mib "$gzipped") as gzip layers"
echo "  largest packages:"
du -sb node_modules/* node_modules/@*/* 2>/dev/null | grep -v '/@[^/]*$' | sort -rn | head -8 | awk '{ printf "    %6.1f MiB  %s\n", $1 / 1048576, $2 }'
printf '{"rev":"%s","appLayerBytes":%d,"appLayerGzipBytes":%d,"nodeModulesBytes":%d,"distBytes":%d}\n' \
  "$(git -C "$ROOT" rev-parse --short "$REV")" "$total" "$gzipped" "$nm" "$ds"
