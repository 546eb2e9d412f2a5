#!/usr/bin/env bash
# make run: database, a development SMTP server, S3-compatible storage and a malware scanner
# (clamd), migrations, demo data, then the job worker and the web server on port 8000.
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/dev/db.sh
source infra/dev/app_login.sh  # the app logs in as concord_app; migrations run as the owner
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-concord.settings.development}"
py=.venv/bin/python

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
# E-mail: unless something already listens on EMAIL_PORT (default 1025), a local SMTP
# server prints every message here, so invitation and reset links show in this console.
mail_port="${EMAIL_PORT:-1025}"
if ! (exec 3<>"/dev/tcp/127.0.0.1/$mail_port") 2>/dev/null; then
    echo "E-mail: a development SMTP server on 127.0.0.1:$mail_port prints messages below."
    $py -m aiosmtpd -n -l "127.0.0.1:$mail_port" -c aiosmtpd.handlers.Debugging &
    pids+=($!)
fi
# Object storage: unless AWS_S3_ENDPOINT_URL names one, an S3-compatible server (moto) on
# 127.0.0.1:9000 holds documents, as S3 does in production; its contents last until it stops.
# The web server and the worker inherit the exported settings; the bucket is created here.
if [ -z "${AWS_S3_ENDPOINT_URL:-}" ]; then
    export AWS_S3_ENDPOINT_URL="http://127.0.0.1:9000"
    export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-development}"
    export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-development}"
    if ! (exec 3<>"/dev/tcp/127.0.0.1/9000") 2>/dev/null; then
        echo "Documents: an S3-compatible server (moto) on 127.0.0.1:9000 (in memory)."
        $py -m moto.server -H 127.0.0.1 -p 9000 >/dev/null 2>&1 &
        pids+=($!)
        for _ in $(seq 1 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/9000") 2>/dev/null && break
            sleep 0.1
        done
    fi
fi
# Malware scanning: unless CLAMAV_SOCKET or CLAMAV_HOST names a clamd, one of our own (Debian's
# clamd, installed by infra/dev/clamav.sh, with the EICAR test signature only) scans every upload
# on .build/clamav/clamd.sock. Uploads are refused while no scanner answers.
if [ -z "${CLAMAV_SOCKET:-}" ] && [ -z "${CLAMAV_HOST:-}" ]; then
    clamd_bin="$(bash infra/dev/clamav.sh)"
    export CLAMAV_SOCKET="$PWD/.build/clamav/clamd.sock"
    rm -f "$CLAMAV_SOCKET"
    echo "Malware scanning: clamd on $CLAMAV_SOCKET (the EICAR test signature only; log in .build/clamav/)."
    "$clamd_bin" --config-file=.build/clamav/clamd.conf >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do
        [ -S "$CLAMAV_SOCKET" ] && break
        sleep 0.1
    done
    [ -S "$CLAMAV_SOCKET" ] || { tail -n 5 .build/clamav/clamd.log >&2; echo "clamd did not start" >&2; exit 1; }
fi
$py manage.py ensure_bucket
$py manage.py migrate_all
$py manage.py seed_demo  # demo photos go to the storage server started above
echo
echo "Serving on http://localhost:8000/ (platform) and http://<partnership>.localhost:8000/"
echo "Background jobs: a worker runs beside the web server (restarted 5 s after it exits)."
# The worker reconnects by itself after a database fault (concord.worker); should it exit
# anyway, keep-running.sh starts it again, and the web server carries on meanwhile.
infra/dev/keep-running.sh "The job worker" 5 $py manage.py jobs_worker &
pids+=($!)
$py manage.py runserver 0.0.0.0:8000 &
pids+=($!)
wait -n "${pids[@]}"
