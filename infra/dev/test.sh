#!/usr/bin/env bash
# make test: database, then the whole suite (pytest arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/dev/db.sh
bash infra/dev/browser.sh
# clamd for the malware scanning tests: installed here; each session starts its own (tests/clamav.py).
bash infra/dev/clamav.sh >/dev/null
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest "$@"
