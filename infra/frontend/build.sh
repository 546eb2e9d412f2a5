#!/usr/bin/env bash
# Builds Concord's front end into .build/frontend (one of STATICFILES_DIRS):
#   concord/concord.css                      <- src/concord.scss + GOV.UK Frontend, compressed
#   govuk-frontend/govuk-frontend.min.js      <- GOV.UK Frontend's ES module (imported by concord/init.js)
#   govuk-frontend/assets/images/*            <- only the images concord.css refers to (today none)
#   htmx/htmx.min.js                          <- htmx (base.html loads it, deferred; configured by its meta tag)
# No fonts: Concord uses system fonts (GDS Transport is licensed for GOV.UK only).
#
# Idempotent and safe to run from any directory. npm ci runs only when
# package.json or package-lock.json changed since the last install.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
out="$repo_root/.build/frontend"
govuk="$here/node_modules/govuk-frontend/dist/govuk"

cd "$here"

command -v npm >/dev/null || { echo "concord: npm is not installed (apt-get install nodejs npm)" >&2; exit 1; }

# 1. Dependencies, exactly as locked. Install scripts are not needed (sass is
#    pure JavaScript) and optional packages are only for `sass --watch`.
lock_hash="$(cat package.json package-lock.json | sha1sum | cut -c1-16)"
stamp="node_modules/.concord-installed-$lock_hash"
if [ ! -f "$stamp" ]; then
  npm ci --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

# 2. Stylesheet. Written to a temporary file first so a failed build never
#    leaves a half-written concord.css behind.
mkdir -p "$out/concord"
node_modules/.bin/sass --load-path=node_modules --style=compressed --no-source-map --quiet-deps \
  src/concord.scss "$out/concord/concord.css.tmp"
mv -f "$out/concord/concord.css.tmp" "$out/concord/concord.css"

if grep -q "govuk-frontend/assets/fonts/" "$out/concord/concord.css"; then
  echo "concord: concord.css refers to GOV.UK fonts; keep \$govuk-include-default-font-face: false" >&2
  exit 1
fi

# 3. GOV.UK Frontend's script and the images the stylesheet names. The source
#    map comment is dropped: the map is not shipped, and Django's manifest
#    storage refuses to collect a file that points at a missing one.
rm -rf "$out/govuk-frontend"
mkdir -p "$out/govuk-frontend"
sed '/^\/\/# sourceMappingURL=/d; s|//# sourceMappingURL=[^ ]*$||' \
  "$govuk/govuk-frontend.min.js" >"$out/govuk-frontend/govuk-frontend.min.js"

{ grep -o 'govuk-frontend/assets/images/[A-Za-z0-9._-]*' "$out/concord/concord.css" || true; } | sort -u |
  while read -r ref; do
    mkdir -p "$out/govuk-frontend/assets/images"
    cp "$govuk/assets/images/${ref##*/}" "$out/govuk-frontend/assets/images/"
  done

# 4. htmx, for the fragments some forms fetch (the pages work without it).
rm -rf "$out/htmx"
mkdir -p "$out/htmx"
sed '/^\/\/# sourceMappingURL=/d; s|//# sourceMappingURL=[^ ]*$||' \
  node_modules/htmx.org/dist/htmx.min.js >"$out/htmx/htmx.min.js"

echo "concord: front end built in ${out#"$repo_root"/}" >&2
