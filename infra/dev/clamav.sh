#!/usr/bin/env bash
# A project-owned ClamAV daemon (clamd) for development and tests.
#
#   bash infra/dev/clamav.sh [DIR]
#
# Installs Debian's clamav-daemon if clamd is missing (as browser.sh installs Chromium), then
# writes DIR/clamd.conf (DIR defaults to .build/clamav): a clamd in the foreground on the unix
# socket DIR/clamd.sock, reading only DIR/db, a copy of the signatures shipped in
# infra/clamav/ (the EICAR test file's). No freshclam: this machine cannot download signature
# databases, and development needs none but the test file's. Fast when already installed.
# The caller starts the daemon: clamd --config-file=DIR/clamd.conf (make run, tests/clamav.py).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${1:-$repo_root/.build/clamav}"

find_clamd() {
  command -v clamd 2>/dev/null || { [ -x /usr/sbin/clamd ] && echo /usr/sbin/clamd; } || true
}

if [ -z "$(find_clamd)" ]; then
  sudo=()
  if [ "$(id -u)" != "0" ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "concord: clamd is missing; install it with: apt-get install clamav-daemon" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "concord: installing ClamAV's daemon for malware scanning (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # No recommends: clamd and its library only; the signatures come from infra/clamav/.
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends clamav-daemon >/dev/null
fi

mkdir -p "$dir/db"
rm -f "$dir"/db/*
cp "$repo_root"/infra/clamav/*.ndb "$dir/db/"
cat >"$dir/clamd.conf" <<EOF
# Written by infra/dev/clamav.sh: a clamd of the project's own, for development and tests.
Foreground yes
LocalSocket $dir/clamd.sock
LocalSocketMode 600
FixStaleSocket yes
DatabaseDirectory $dir/db
LogFile $dir/clamd.log
LogTime yes
# Every verdict is logged ("stream(...): OK" too), so a developer sees that uploads are scanned.
LogClean yes
PidFile $dir/clamd.pid
# Uploads are streamed (INSTREAM) up to the upload limit (DOCUMENT_MAX_BYTES, 25 MB by default).
StreamMaxLength 100M
MaxThreads 4
# The signatures are a fixed copy: no database checks while running.
SelfCheck 0
EOF
echo "$(find_clamd)"
