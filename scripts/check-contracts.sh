#!/usr/bin/env bash
# Checks Flowline's public contracts (docs/adr/0009-api-contracts.md); CI runs it from .ci/run.
#
#   bash scripts/check-contracts.sh                 every check, breaking changes against the base
#   bash scripts/check-contracts.sh --only proto    buf lint + buf breaking only
#   bash scripts/check-contracts.sh --root DIR      check the git repository at DIR (tools from here);
#                                                   the check script's own test uses a temp copy
#
# 1. buf lint: STANDARD rules over every proto under proto/ (exceptions in proto/buf.yaml, with reasons).
# 2. buf breaking: proto/ against the base revision (rule set FILE; packages still skeletons are
#    listed under breaking.ignore in proto/buf.yaml until their service releases them).
# 3. proto-gen --check: generated TypeScript and proto/descriptor-set.binpb match the protos.
# 4. OpenAPI: every service's document generated from its controllers equals docs/openapi/<svc>.json,
#    and no REST change against the base breaks clients unless the document's major version grew.
# 5. AsyncAPI: docs/asyncapi/*.yaml and docs/asyncapi/schemas are what the event contracts generate,
#    and each validates against the AsyncAPI 3.0 schema.
#
# The base: CONTRACTS_BASE when set (CI on a branch: the main branch, e.g. origin/main); on a branch
# other than main, its merge base with main; on main, the previous commit. No base (first commit,
# shallow clone): the breaking checks are skipped with a notice, the others still run.
set -euo pipefail
TOOLS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$TOOLS"
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$(cd "$2" && pwd)"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    *) echo "check-contracts: unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$TOOLS/scripts/node-env.sh"
BUF="$TOOLS/node_modules/.bin/buf"
[ -x "$BUF" ] || { echo "check-contracts: buf not installed (npm ci)" >&2; exit 1; }
cd "$ROOT"

base="${CONTRACTS_BASE:-}"
if [ -z "$base" ]; then
  branch="$(git rev-parse --abbrev-ref HEAD 2>/dev/null || echo HEAD)"
  if [ "$branch" != main ] && git rev-parse -q --verify main >/dev/null; then base="$(git merge-base HEAD main)"
  else base="HEAD~1"; fi
fi
base_sha="$(git rev-parse -q --verify "$base^{commit}" 2>/dev/null || true)"

failed=0
step() { echo "check-contracts: $*"; }
fail() { echo "check-contracts: FAILED: $*" >&2; failed=1; }

step "buf lint proto"
"$BUF" lint proto || fail "buf lint"

if [ -n "$base_sha" ] && git cat-file -e "$base_sha:proto" 2>/dev/null; then
  step "buf breaking proto against $base ($base_sha)"
  "$BUF" breaking proto --against ".git#ref=$base_sha,subdir=proto" || fail "buf breaking against $base: a published proto changed incompatibly (add a v2 package instead; docs/adr/0009-api-contracts.md)"
else
  step "buf breaking skipped: no base revision with proto/ ($base)"
fi

if [ "$ONLY" != proto ]; then
  step "proto-gen --check"
  bash "$TOOLS/scripts/proto-gen.sh" --check || fail "generated proto code or descriptor set stale (npm run proto:gen)"
  step "OpenAPI documents"
  node -r @swc-node/register "$TOOLS/scripts/contracts/openapi.ts" --check ${base_sha:+--against "$base_sha"} || fail "OpenAPI (npm run contracts:gen)"
  step "AsyncAPI documents and event JSON Schemas"
  node -r @swc-node/register "$TOOLS/scripts/contracts/asyncapi.ts" --check || fail "AsyncAPI (npm run contracts:gen)"
fi

[ "$failed" = 0 ] && step "all contract checks passed"
exit "$failed"
