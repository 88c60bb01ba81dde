#!/usr/bin/env bash
# Entry point behind the root npm scripts: runs everything on the pinned Node 24.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
# Nx: no background daemon (it would outlive the command), no cloud, no analytics prompt.
export NX_DAEMON=false NX_NO_CLOUD=true
cmd="${1:?usage: run.sh start|test|bench|lint|typecheck|build|proto-gen|import}"; shift || true
case "$cmd" in
  test)
    bash scripts/postgres.sh start
    bash scripts/kafka.sh start
    exec npx vitest run "$@" ;;
  typecheck) exec npx tsc -p tsconfig.json --noEmit "$@" ;;
  lint)
    # @nx/enforce-module-boundaries reads the cached project graph: refresh it, or the rule skips.
    npx nx show projects >/dev/null
    exec npx eslint "$@" . ;;
  build) exec bash scripts/build.sh "$@" ;;
  start) exec node -r @swc-node/register scripts/start.ts "$@" ;;
  bench) exec node -r @swc-node/register bench/run.ts "$@" ;;
  proto-gen) exec bash scripts/proto-gen.sh "$@" ;;
  import) exec node -r @swc-node/register scripts/import.ts "$@" ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
