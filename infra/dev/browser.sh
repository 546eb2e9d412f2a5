#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests (tests/browser) if it is missing.
# Playwright drives /usr/bin/chromium; `playwright install` is never used (it
# downloads browsers from outside the Debian archive). Fast when already installed.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" != "0" ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "concord: /usr/bin/chromium is missing; install it with: apt-get install chromium (browser tests will be skipped)" >&2
    exit 0
  fi
  sudo=(sudo)
fi

echo "concord: installing Chromium for the browser tests (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq chromium >/dev/null
