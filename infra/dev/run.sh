#!/usr/bin/env bash
# make run: database, migrations, demo data, then the web server on port 8000.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/dev/db.sh
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-concord.settings.development}"
py=.venv/bin/python
$py manage.py migrate_all
$py manage.py seed_demo
echo
echo "Serving on http://localhost:8000/ (platform) and http://<partnership>.localhost:8000/"
exec $py manage.py runserver 0.0.0.0:8000
