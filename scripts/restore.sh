#!/usr/bin/env bash
# Restores one database dump made by scripts/backup.sh into a NEW database (never over a live one).
#
#   scripts/restore.sh DUMP_FILE TARGET_DATABASE
#
# Server: PG_ADMIN_URL as for backup.sh. Checks the dump's sha256 against the MANIFEST next to it,
# refuses a target that exists, creates it, restores in one transaction (all or nothing) and prints
# the row count of every table. Then, for a service database: point the service at it (its
# DATABASE_URL), rebuild its projections from the log (k8s/README.md: projection rebuild), and
# replay what happened after the backup from Kafka (the service's consumer group resumes from its
# committed offsets; the inbox drops what the restored database already applied).
# Same cluster only as is: the event store orders its log by transaction id (xid8), so a log
# restored into ANOTHER cluster needs that cluster's transaction counter advanced past the log's
# first (libs/eventstore README; PostgresEventStore.create refuses to start otherwise).
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 DUMP_FILE TARGET_DATABASE" >&2; exit 2; }
dump="$1" target="$2"
[ -f "$dump" ] || { echo "restore: no such dump $dump" >&2; exit 1; }
[[ "$target" =~ ^[A-Za-z0-9_]+$ ]] || { echo "restore: bad database name $target" >&2; exit 2; }
ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
url_for() {
  local base="${ADMIN_URL%%\?*}" query=""
  [[ "$ADMIN_URL" == *\?* ]] && query="?${ADMIN_URL#*\?}"
  echo "${base%/*}/$1$query"
}

manifest="$(dirname "$dump")/MANIFEST"
if [ -f "$manifest" ]; then
  want="$(awk -v f="$(basename "$dump")" '$2 == f { print $1 }' "$manifest")"
  have="$(sha256sum "$dump" | cut -d' ' -f1)"
  [ -n "$want" ] || { echo "restore: $(basename "$dump") is not in $manifest" >&2; exit 1; }
  [ "$want" = "$have" ] || { echo "restore: checksum mismatch for $dump (manifest $want, file $have)" >&2; exit 1; }
else
  echo "restore: WARNING no MANIFEST next to $dump, checksum not verified" >&2
fi
exists="$(psql "$ADMIN_URL" -XAtc "SELECT 1 FROM pg_database WHERE datname = '$target'")"
[ -z "$exists" ] || { echo "restore: database $target exists; restore into a new one" >&2; exit 1; }
psql "$ADMIN_URL" -Xqc "CREATE DATABASE \"$target\""
if ! pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$(url_for "$target")" "$dump"; then
  psql "$ADMIN_URL" -Xqc "DROP DATABASE IF EXISTS \"$target\"" || true
  echo "restore: failed; $target dropped" >&2
  exit 1
fi
psql "$(url_for "$target")" -XAtc "ANALYZE" >/dev/null
echo "restore: $dump -> $target" >&2
psql "$(url_for "$target")" -XAt -F ' ' -c "SELECT schemaname || '.' || relname, n_live_tup FROM pg_stat_user_tables ORDER BY 1" >&2
