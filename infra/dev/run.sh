#!/usr/bin/env bash
# make run: database, migrations, demo data, then the job worker and the web server on port 8000.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/dev/db.sh
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-concord.settings.development}"
py=.venv/bin/python
$py manage.py migrate_all
$py manage.py seed_demo
echo
echo "Serving on http://localhost:8000/ (platform) and http://<partnership>.localhost:8000/"
echo "Background jobs: a procrastinate worker runs beside the web server (e-mail goes to EMAIL_HOST:EMAIL_PORT)."

# The worker and the web server run side by side; whichever way this script ends (Ctrl-C,
# TERM, either process stopping), both are stopped: TERM lets the worker finish its job.
pids=()
stop_all() {
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
$py manage.py procrastinate worker &
pids+=($!)
$py manage.py runserver 0.0.0.0:8000 &
pids+=($!)
wait -n "${pids[@]}"
