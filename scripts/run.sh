#!/usr/bin/env bash
# Entry point behind the root npm scripts: runs everything on the pinned Node (.nvmrc, Node 26).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
# A fresh clone (or a pull that changed the lock file) gets its dependencies first, for every command.
# npm writes node_modules/.package-lock.json after package-lock.json, so "older" means a stale install.
deps_stale() { [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }
if deps_stale; then
  reason="$( [ -d node_modules ] && echo 'older than package-lock.json' || echo 'missing')"
  echo "[run] node_modules is $reason: installing dependencies (npm ci)" >&2
  # Serialised with any other install on this machine; re-checked once the lock is held.
  exec 9>/tmp/flowline-npm.lock
  flock 9
  if deps_stale; then npm ci --no-audit --no-fund --loglevel=error >&2; fi
  flock -u 9
fi
# Nx: no background daemon (it would outlive the command), no cloud, no analytics prompt.
export NX_DAEMON=false NX_NO_CLOUD=true
cmd="${1:?usage: run.sh start|test|bench|lint|typecheck|build|proto-gen|import|dlq}"; shift || true
case "$cmd" in
  test)
    bash scripts/postgres.sh start
    bash scripts/kafka.sh start
    # The tracking board browser test drives Debian's Chromium, installed the way .ci/run does;
    # when that is impossible vitest reports the test as skipped with this reason (never as passed).
    if [ ! -x /usr/bin/chromium ] && [ -z "${FLOWLINE_NO_CHROMIUM_INSTALL:-}" ]; then
      echo "[run] installing chromium and fonts-wqy-microhei for the tracking board browser test (FLOWLINE_NO_CHROMIUM_INSTALL=1 skips)" >&2
      apt_get=(env DEBIAN_FRONTEND=noninteractive apt-get)
      if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then apt_get=(sudo -n "${apt_get[@]}"); fi
      { "${apt_get[@]}" update -qq && "${apt_get[@]}" install -y -qq chromium fonts-wqy-microhei; } >&2 \
        || echo "[run] could not install chromium (run: apt-get install chromium fonts-wqy-microhei); the board test will be reported as skipped" >&2
    fi
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
  # Public contracts (docs/adr/0009-api-contracts.md): regenerate every generated contract file, or check them.
  contracts-gen)
    bash scripts/proto-gen.sh
    node -r @swc-node/register scripts/contracts/openapi.ts "$@"
    exec node -r @swc-node/register scripts/contracts/asyncapi.ts ;;
  contracts-check) exec bash scripts/check-contracts.sh "$@" ;;
  # The import places orders through order-intake, which wants a token (#16): the person's, from the
  # local issuer `npm start` runs (OIDC_SCRIPT_USER, default admin; OIDC_SCRIPT_TOKEN for another issuer).
  import) OIDC_ISSUER="${OIDC_ISSUER:-http://127.0.0.1:$((4400 + ${FLOWLINE_PORT_OFFSET:-0}))}" exec node -r @swc-node/register -r ./scripts/oidc/bearer-preload.cjs scripts/import.ts "$@" ;;
  dlq) exec node -r @swc-node/register scripts/dlq.ts "$@" ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
