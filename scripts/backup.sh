#!/usr/bin/env bash
# Logical backup of Flowline's service databases: one pg_dump per database, custom format (-Fc:
# compressed, restorable table by table, in parallel), each a consistent snapshot of its database.
#
#   scripts/backup.sh [-o OUT_DIR] [DATABASE ...]
#
# Databases: the ones named, else every database called flowline_* on the server. Server: PG_ADMIN_URL
# (default postgres://postgres@127.0.0.1:5432/postgres; its database part is replaced by each one's).
# Writes OUT_DIR/<UTC time>/<database>.dump and MANIFEST (sha256, size, pg_dump version, server
# version), first under a .partial name, renamed when every dump succeeded: a directory without
# .partial is complete. Prints the backup directory on the last line.
#
# In Kubernetes with CloudNativePG the backups are physical (base backup + WAL, point in time):
# k8s/components/cloudnative-pg and k8s/README.md. This script is for local and external PostgreSQL,
# and for moving a single service's data. Restore: scripts/restore.sh.
set -euo pipefail
OUT="${BACKUP_DIR:-./backups}"
while getopts "o:" opt; do
  case "$opt" in
    o) OUT="$OPTARG" ;;
    *) echo "usage: $0 [-o OUT_DIR] [DATABASE ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
ADMIN_URL="${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
url_for() { # the admin URL with its database replaced (query string kept)
  local base="${ADMIN_URL%%\?*}" query=""
  [[ "$ADMIN_URL" == *\?* ]] && query="?${ADMIN_URL#*\?}"
  echo "${base%/*}/$1$query"
}

if [ $# -eq 0 ]; then
  mapfile -t DBS < <(psql "$ADMIN_URL" -XAtc "SELECT datname FROM pg_database WHERE datname LIKE 'flowline\_%' ORDER BY 1")
else
  DBS=("$@")
fi
[ ${#DBS[@]} -gt 0 ] || { echo "backup: no database to back up" >&2; exit 1; }

stamp="$(date -u +%Y-%m-%dT%H-%M-%SZ)"
dir="$OUT/$stamp"
mkdir -p "$dir.partial"
trap 'rm -rf "$dir.partial"' ERR
{
  echo "# flowline backup $stamp"
  echo "# $(pg_dump --version)"
  echo "# server $(psql "$ADMIN_URL" -XAtc 'SHOW server_version')"
} > "$dir.partial/MANIFEST"
for db in "${DBS[@]}"; do
  [[ "$db" =~ ^[A-Za-z0-9_]+$ ]] || { echo "backup: bad database name $db" >&2; exit 2; }
  started=$(date +%s%N)
  pg_dump --format=custom --compress=6 --no-owner --no-privileges --file "$dir.partial/$db.dump" --dbname "$(url_for "$db")"
  size=$(stat -c %s "$dir.partial/$db.dump")
  echo "$(sha256sum "$dir.partial/$db.dump" | cut -d' ' -f1)  $db.dump  $size" >> "$dir.partial/MANIFEST"
  echo "backup: $db -> $dir/$db.dump ($size bytes, $(( ($(date +%s%N) - started) / 1000000 )) ms)" >&2
done
mv "$dir.partial" "$dir"
echo "$dir"
