#!/usr/bin/env bash
# make test: database, then the whole suite (pytest arguments pass through).
set -euo pipefail
cd "$(dirname "$0")/../.."
source infra/dev/db.sh
bash infra/dev/browser.sh
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest "$@"
