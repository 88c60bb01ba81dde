#!/usr/bin/env bash
# Measures what deploy/Dockerfile's runtime stage adds on top of its base image, without a Docker
# engine (none on the build machines): the build stage's commands are replayed in a scratch copy of
# the committed tree (npm ci, scripts/build.sh dist with the console's static build,
# scripts/image-slim.sh), then the three COPY --from=build paths (package.json, node_modules, dist)
# are sized as files (du) and as a layer would travel (tar | gzip -6).
# Then the staged layer is proven to run, as the image would run it (NODE_ENV=production, only
# package.json + node_modules + dist beside it, this checkout's Node): every production dependency
# imports; every service's `main.js migrate` (its whole module graph, every migration) exits 0
# against a throwaway database on the local PostgreSQL; order-intake boots fully (own database,
# topics prefix and free ports, local Kafka) until /health/ready, then SIGTERM must end it with
# exit 0 (scripts/image-boot-check.sh). IMAGE_SIZE_BOOT=0 sizes only.
# The base (node:<.nvmrc>-slim plus Debian's tini) cannot be pulled here; its published size is
# added by whoever builds the image for real: `docker image ls` there is the figure of record.
# Usage: scripts/image-size.sh [git-rev]   (default HEAD; ~4 minutes, network to the npm registry)
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
bash scripts/image-slim.sh >/dev/null
# What the runtime stage copies, alone: nothing of the build tree (sources, scripts) can be resolved.
STAGE="$WORK/stage"
mkdir -p "$STAGE" && mv package.json node_modules dist "$STAGE/" && cd "$STAGE"

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
du -sb node_modules/* node_modules/@*/* 2>/dev/null | grep -v '/@[^/]*$' | sort -rn | awk 'NR <= 8 { printf "    %6.1f MiB  %s\n", $1 / 1048576, $2 }'
printf '{"rev":"%s","appLayerBytes":%d,"appLayerGzipBytes":%d,"nodeModulesBytes":%d,"distBytes":%d}\n' \
  "$(git -C "$ROOT" rev-parse --short "$REV")" "$total" "$gzipped" "$nm" "$ds"

[ "${IMAGE_SIZE_BOOT:-1}" = 0 ] && exit 0
# The staged layer runs (scripts/image-boot-check.sh: imports, every service's migrate, order-intake).
bash "$ROOT/scripts/image-boot-check.sh" "$STAGE"
