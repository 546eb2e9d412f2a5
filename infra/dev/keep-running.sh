#!/usr/bin/env bash
# keep-running.sh NAME DELAY COMMAND...: run COMMAND and, whenever it exits, say so on stderr
# and start it again after DELAY seconds (make run keeps the job worker up this way, beside
# the web server). TERM or INT stops it: passed on to COMMAND, which is waited for, then 0.
set -uo pipefail
name=$1 delay=$2
shift 2
child=""
stop() {
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
    fi
    exit 0
}
trap stop TERM INT
while true; do
    "$@" &
    child=$!
    wait "$child"
    status=$?
    child=""
    echo "$name exited (status $status); starting it again in $delay s." >&2
    sleep "$delay" &
    child=$!
    wait "$child"
    child=""
done
