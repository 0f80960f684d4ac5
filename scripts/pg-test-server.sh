#!/usr/bin/env bash
# Start a throwaway local PostgreSQL server for the store contract tests and print its DSN.
# Usage: eval "$(bash scripts/pg-test-server.sh)"   → exports COMMUNITOK_TEST_PG_DSN
# Installs Debian's postgresql package when the server binaries are missing (CI).
set -euo pipefail
PORT=${PGPORT_TEST:-54329}
DIR=${PGDATA_TEST:-/tmp/communitok-pg}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -q postgresql >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1)) || true
  fi
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
fi
[ -n "$bindir" ] && [ -x "$bindir/initdb" ] || { echo "echo 'no PostgreSQL server available' >&2"; exit 0; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! as_pg "$bindir/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  as_pg "$bindir/initdb" -D "$DIR" -A trust -U communitok >/dev/null
  as_pg "$bindir/pg_ctl" -D "$DIR" -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" -l "$DIR/log" -w start >/dev/null
  as_pg "$bindir/createdb" -h 127.0.0.1 -p "$PORT" -U communitok communitok_test
fi
echo "export COMMUNITOK_TEST_PG_DSN=postgresql://communitok@127.0.0.1:$PORT/communitok_test"
