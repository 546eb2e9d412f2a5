#!/usr/bin/env bash
# Source this file: it exports DATABASE_URL for the project.
#   1. DATABASE_URL if set and answering;
#   2. else the PostgreSQL on 127.0.0.1:5432 if it answers;
#   3. else a private cluster under .data/pg, made with initdb and started with pg_ctl.
# It also creates the database named in the URL if it is missing.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

find_pg_bin() {
  local name="$1"
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  local candidate
  candidate="$(ls -d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)"
  [ -n "$candidate" ] && echo "$candidate"
}

answers() { # host port
  "$(find_pg_bin pg_isready)" -q -h "$1" -p "$2" -t 2
}

if [ -n "${DATABASE_URL:-}" ]; then
  echo "concord: using DATABASE_URL from the environment" >&2
elif answers 127.0.0.1 5432; then
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/concord"
  echo "concord: using the PostgreSQL on 127.0.0.1:5432" >&2
else
  data="$repo_root/.data/pg"
  port=54329
  initdb="$(find_pg_bin initdb)"; pg_ctl="$(find_pg_bin pg_ctl)"
  if [ -z "$initdb" ] || [ -z "$pg_ctl" ]; then
    echo "concord: no PostgreSQL answers and initdb/pg_ctl are not installed (apt-get install postgresql)" >&2
    exit 1
  fi
  run_as=()
  if [ "$(id -u)" = "0" ]; then  # initdb refuses to run as root
    id concordpg >/dev/null 2>&1 || useradd --system --no-create-home concordpg
    run_as=(runuser -u concordpg --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "${#run_as[@]}" -gt 0 ] && chown concordpg "$data"
    "${run_as[@]}" "$initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! answers 127.0.0.1 "$port"; then
    "${run_as[@]}" "$pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -h 127.0.0.1 -k $data -c max_locks_per_transaction=512" start >/dev/null
    echo "concord: no PostgreSQL answered, so a private cluster was started under .data/pg on port $port" >&2
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/concord"
fi

# Create the database if it is missing.
"$repo_root/.venv/bin/python" - <<'PY'
import os
from urllib.parse import urlsplit, unquote
import psycopg
from psycopg import sql

url = urlsplit(os.environ["DATABASE_URL"])
name = unquote(url.path.lstrip("/"))
admin = url._replace(path="/postgres").geturl()
with psycopg.connect(admin, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"concord: created database {name}")
PY
