#!/usr/bin/env bash
# Source after db.sh: the three-role set-up of README "Database roles" on this machine. The URL that
# db.sh chose becomes the owner's (DATABASE_OWNER_URL: migrations, provisioning), and the web server
# and the worker log in as concord_app (DATABASE_URL), made here if missing: a login user that owns
# nothing and reaches a partnership only through its role. migrate_all grants it its memberships.
set -euo pipefail
if [ -z "${DATABASE_OWNER_URL:-}" ]; then
  eval "$("$repo_root/.venv/bin/python" - <<'PY'
import os, shlex
from urllib.parse import urlsplit, unquote
import psycopg
from psycopg import sql

owner = os.environ["DATABASE_URL"]
parts = urlsplit(owner)
with psycopg.connect(owner, autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'concord_app'").fetchone():
        conn.execute(sql.SQL("CREATE ROLE concord_app LOGIN NOINHERIT"))
        print("echo 'concord: created the login user concord_app (the app: it owns nothing)' >&2")
host = parts.netloc.rsplit("@", 1)[-1]
app = parts._replace(netloc=f"concord_app@{host}").geturl()
print(f"export DATABASE_OWNER_URL={shlex.quote(owner)}")
print(f"export DATABASE_URL={shlex.quote(app)}")
PY
)"
fi
