#!/usr/bin/env bash
# Screenshots of the demo site in the active, fenced and failover states, against the
# in-memory stub of the browser tests: docs/screenshots/{active,fenced,failover}.png.
# Needs Node >= 20 and Debian's Chromium (apt-get install -y chromium) or $CHROMIUM.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/layers/tests/browser"

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "screenshots.sh: no Chromium at $CHROMIUM; install it (apt-get install -y chromium) or set CHROMIUM=/path/to/chromium" >&2
  exit 1
fi
export CHROMIUM
if [ ! -d "$dir/node_modules/playwright-core" ]; then
  (cd "$dir" && npm ci --no-audit --no-fund)
fi
node "$dir/screenshots.mjs" "${1:-$root/docs/screenshots}"
